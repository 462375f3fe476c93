package io.raftkv.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The load benchmark's outputs: a table for people, CSV and JSON (one row or object per run) for
 * tools, and the comparison of several CSV files (median of each figure over the runs of the same
 * target, workload and number of clients, with the ratio of two targets).
 */
public final class LoadReport {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private LoadReport() {}

  /** The runs as a fixed-width table, then the errors of each run that had any, by kind. */
  public static String table(List<LoadResult> runs) {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "%-12s %-7s %7s %10s %7s %9s %9s %9s %9s %9s %8s%n",
        "target", "op", "clients", "ops/s", "errors", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "gen cpu"));
    for (LoadResult r : runs) {
      LoadResult.Latencies l = r.latencies();
      b.append(String.format(Locale.ROOT, "%-12s %-7s %7d %10.1f %7d %9s %9s %9s %9s %9s %8s%n",
          r.target(), r.workload(), r.clients(), r.opsPerSecond(), r.errors(),
          ms(l.p50Ms()), ms(l.p90Ms()), ms(l.p99Ms()), ms(l.p999Ms()), ms(l.maxMs()), ms(r.generatorCpu())));
    }
    b.append("(latencies of acknowledged requests; gen cpu: the load generator's own CPU use, in cores)\n");
    for (LoadResult r : runs) {
      if (r.errorKinds().isEmpty()) continue;
      b.append(String.format(Locale.ROOT, "errors of %s %s x%d:", r.target(), r.workload(), r.clients()));
      new TreeMap<>(r.errorKinds()).forEach((kind, n) -> b.append(' ').append(kind).append(" (").append(n).append(')'));
      b.append('\n');
    }
    return b.toString();
  }

  private static String ms(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.2f", v) : "-";
  }

  /** A header line and one line per run; the error kinds go in the last column as "kind=n; ...". */
  public static String csv(List<LoadResult> runs) {
    StringBuilder b = new StringBuilder();
    List<String> header = new ArrayList<>(columns());
    header.add("error_kinds");
    b.append(String.join(",", header)).append('\n');
    for (LoadResult r : runs) {
      List<String> cells = new ArrayList<>();
      for (Object v : r.fields().values()) cells.add(csvCell(cell(v)));
      StringBuilder kinds = new StringBuilder();
      new TreeMap<>(r.errorKinds()).forEach((k, n) -> kinds.append(kinds.length() == 0 ? "" : "; ").append(k).append('=').append(n));
      cells.add(csvCell(kinds.toString()));
      b.append(String.join(",", cells)).append('\n');
    }
    return b.toString();
  }

  private static List<String> columns() {
    return List.copyOf(new LoadResult("", "", 0, 0, 0, 0, 0, 0, 0, 0, 0, LoadResult.Latencies.NONE, 0, Map.of(), "").fields().keySet());
  }

  private static String cell(Object v) {
    if (v instanceof Double d) return Double.isFinite(d) ? LoadResult.round(d, 3) + "" : "";
    return String.valueOf(v);
  }

  static String csvCell(String s) {
    if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0) return s;
    return '"' + s.replace("\"", "\"\"") + '"';
  }

  /** A JSON array with one object per run, the fields of the CSV plus {@code error_kinds}. */
  public static String json(List<LoadResult> runs) {
    ArrayNode a = JSON.createArrayNode();
    for (LoadResult r : runs) {
      ObjectNode o = a.addObject();
      r.fields().forEach((k, v) -> {
        if (v instanceof Double d) {
          if (Double.isFinite(d)) o.put(k, d);
          else o.putNull(k);
        } else if (v instanceof Integer i) o.put(k, i);
        else if (v instanceof Long l) o.put(k, l);
        else o.put(k, String.valueOf(v));
      });
      ObjectNode kinds = o.putObject("error_kinds");
      new TreeMap<>(r.errorKinds()).forEach(kinds::put);
    }
    try {
      return JSON.writeValueAsString(a) + "\n";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Parses {@link #csv} output: one map of column to cell per row. */
  public static List<Map<String, String>> parseCsv(String text) {
    List<List<String>> rows = csvRows(text);
    List<Map<String, String>> out = new ArrayList<>();
    if (rows.isEmpty()) return out;
    List<String> header = rows.get(0);
    for (List<String> row : rows.subList(1, rows.size())) {
      if (row.size() == 1 && row.get(0).isEmpty()) continue;
      Map<String, String> m = new LinkedHashMap<>();
      for (int i = 0; i < header.size(); i++) m.put(header.get(i), i < row.size() ? row.get(i) : "");
      out.add(m);
    }
    return out;
  }

  private static List<List<String>> csvRows(String text) {
    List<List<String>> rows = new ArrayList<>();
    List<String> row = new ArrayList<>();
    StringBuilder cell = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (quoted) {
        if (c == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') {
          cell.append('"');
          i++;
        } else if (c == '"') quoted = false;
        else cell.append(c);
      } else if (c == '"') quoted = true;
      else if (c == ',') {
        row.add(cell.toString());
        cell.setLength(0);
      } else if (c == '\n') {
        row.add(cell.toString());
        cell.setLength(0);
        rows.add(row);
        row = new ArrayList<>();
      } else if (c != '\r') cell.append(c);
    }
    if (cell.length() > 0 || !row.isEmpty()) {
      row.add(cell.toString());
      rows.add(row);
    }
    return rows;
  }

  /** Reads and parses the CSV files. */
  public static List<Map<String, String>> readCsv(List<Path> files) {
    List<Map<String, String>> rows = new ArrayList<>();
    for (Path f : files) {
      try {
        rows.addAll(parseCsv(Files.readString(f)));
      } catch (IOException e) {
        throw new UncheckedIOException("reading " + f, e);
      }
    }
    return rows;
  }

  /**
   * The comparison table (Markdown): for each workload and number of clients, each target's median
   * ops/s, p50 and p99 over its runs, each ratio {@code numerator / denominator} of those medians
   * ({@code ratios}: pairs of target names), the medians of the generator's CPU use, and the
   * number of runs per target. Targets appear in the order given; a missing figure shows "-".
   */
  public static String compare(List<Map<String, String>> rows, List<String> targets, List<String[]> ratios) {
    Map<String, Map<String, List<Map<String, String>>>> byShape = new LinkedHashMap<>(); // "op\tclients" -> target -> runs
    for (Map<String, String> r : rows) {
      String shape = r.get("workload") + "\t" + r.get("clients");
      byShape.computeIfAbsent(shape, s -> new LinkedHashMap<>()).computeIfAbsent(r.get("target"), t -> new ArrayList<>()).add(r);
    }
    List<String> shapes = new ArrayList<>(byShape.keySet());
    shapes.sort((a, b) -> {
      String[] x = a.split("\t");
      String[] y = b.split("\t");
      int c = workloadOrder(x[0]) - workloadOrder(y[0]);
      if (c == 0) c = x[0].compareTo(y[0]);
      return c != 0 ? c : Integer.compare(Integer.parseInt(x[1]), Integer.parseInt(y[1]));
    });
    List<String> head = new ArrayList<>(List.of("op", "clients"));
    for (String[] metric : METRICS) {
      for (String t : targets) head.add(t + " " + metric[1]);
      for (String[] q : ratios) head.add(q[0] + " / " + q[1] + " " + metric[1]);
    }
    for (String t : targets) head.add(t + " gen cpu");
    head.add("runs");
    StringBuilder b = new StringBuilder();
    b.append("| ").append(String.join(" | ", head)).append(" |\n");
    b.append("|").append("---|".repeat(head.size())).append('\n');
    for (String shape : shapes) {
      String[] s = shape.split("\t");
      Map<String, List<Map<String, String>>> perTarget = byShape.get(shape);
      List<String> line = new ArrayList<>(List.of(s[0], s[1]));
      for (String[] metric : METRICS) {
        for (String t : targets) line.add(format(median(perTarget.get(t), metric[0]), metric[2]));
        for (String[] q : ratios) {
          double n = median(perTarget.get(q[0]), metric[0]);
          double d = median(perTarget.get(q[1]), metric[0]);
          line.add(Double.isFinite(n) && Double.isFinite(d) && d > 0 ? String.format(Locale.ROOT, "%.2f", n / d) : "-");
        }
      }
      for (String t : targets) line.add(format(median(perTarget.get(t), "generator_cpu"), "%.2f"));
      List<String> counts = new ArrayList<>();
      for (String t : targets) counts.add(String.valueOf(perTarget.getOrDefault(t, List.of()).size()));
      line.add(String.join("/", counts));
      b.append("| ").append(String.join(" | ", line)).append(" |\n");
    }
    return b.toString();
  }

  /** column, heading, format */
  private static final String[][] METRICS = {
    {"ops_per_s", "ops/s", "%.0f"}, {"p50_ms", "p50 ms", "%.2f"}, {"p99_ms", "p99 ms", "%.2f"},
  };

  private static int workloadOrder(String w) {
    int i = List.of("put", "get", "mixed", "append").indexOf(w);
    return i < 0 ? 99 : i;
  }

  private static String format(double v, String fmt) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, fmt, v) : "-";
  }

  /** The median of a column over runs (NaN if none has a number there). */
  static double median(List<Map<String, String>> runs, String column) {
    if (runs == null) return Double.NaN;
    double[] v = runs.stream().map(r -> r.getOrDefault(column, "")).filter(s -> !s.isEmpty()).mapToDouble(Double::parseDouble).filter(Double::isFinite).sorted().toArray();
    if (v.length == 0) return Double.NaN;
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  /** Writes {@code text} to {@code file} (replacing it), creating parent directories. */
  static void write(Path file, String text) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) Files.createDirectories(parent);
      Files.writeString(file, text);
    } catch (IOException e) {
      throw new UncheckedIOException("writing " + file, e);
    }
  }

  static List<String> split(String commaList) {
    return Arrays.stream(commaList.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  }
}
