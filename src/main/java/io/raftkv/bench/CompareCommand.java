package io.raftkv.bench;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code raftkv bench compare FILE.csv...}: the CSV files of several {@code bench load} runs as
 * one Markdown table: per workload and number of clients, each target's median ops/s, p50 and p99
 * over its runs, and the ratio of two targets. {@code bench/compare-etcd.sh} ends with it.
 */
@Command(
    name = "compare",
    mixinStandardHelpOptions = true,
    description = "Median ops/s, p50 and p99 per target from `bench load --csv` files, with the ratio of two targets.")
final class CompareCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(arity = "1..*", paramLabel = "FILE", description = "CSV files written by `raftkv bench load --csv`.")
  List<Path> files;

  @Option(names = "--targets", split = ",", paramLabel = "T", description = "Columns, in this order (default: every target found, in the order found).")
  List<String> targets;

  @Option(names = "--ratio", split = ",", defaultValue = "raftkv-http/etcd-grpc,raftkv-http/etcd-http", paramLabel = "A/B", description = "Ratio columns: A's median over B's (default: ${DEFAULT-VALUE}).")
  List<String> ratio;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    List<String[]> ratios = new ArrayList<>();
    for (String q : ratio) {
      String[] ab = q.split("/");
      if (ab.length != 2 || ab[0].isBlank() || ab[1].isBlank()) throw new ParameterException(spec.commandLine(), "--ratio is A/B, e.g. raftkv-http/etcd-grpc");
      ratios.add(new String[] {ab[0].strip(), ab[1].strip()});
    }
    List<Map<String, String>> rows = LoadReport.readCsv(files);
    List<String> columns = targets;
    if (columns == null) {
      columns = new ArrayList<>();
      for (Map<String, String> r : rows) if (!columns.contains(r.get("target"))) columns.add(r.get("target"));
    }
    out.printf("%nMedians over the runs of each target (latencies of acknowledged requests in ms; gen cpu: the load generator's own CPU use in cores; %d rows from %d files).%n%n", rows.size(), files.size());
    out.print(LoadReport.compare(rows, columns, ratios));
    out.flush();
    return rows.isEmpty() ? 1 : 0;
  }
}
