package io.raftkv.bench;

import io.raftkv.bench.RecoveryBenchmark.Row;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code raftkv bench recovery}: three {@code raftkv node} processes on loopback (FileStorage), a
 * client writing every 50 ms through all three HTTP endpoints, and for each fault the time to the
 * first acknowledged write; the median of {@code --runs} runs, printed as a table next to the
 * targets. With {@code --etcd BINARY}, the same probes against a three-member etcd, side by side.
 */
@Command(
    name = "recovery",
    mixinStandardHelpOptions = true,
    description = {
      "Time from each fault (start, kill -9, SIGSTOP/SIGCONT, SIGTERM of all) to the first acknowledged write,",
      "on 3 local node processes; the median of --runs runs, next to the targets."
    })
final class RecoveryCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--runs", defaultValue = "3", description = "Runs per service; the table shows medians (default: ${DEFAULT-VALUE}).")
  int runs;

  @Option(names = "--etcd", paramLabel = "BINARY", description = "Also measure etcd, started from this binary (e.g. etcd).")
  String etcd;

  @Option(names = "--raftkv", negatable = true, defaultValue = "true", fallbackValue = "true", description = "Measure raftkv (--no-raftkv: only etcd).")
  boolean raftkv;

  @Option(names = "--cap-seconds", defaultValue = "60", description = "Longest wait for one figure; beyond it the figure is 'never' (default: ${DEFAULT-VALUE}).")
  int capSeconds;

  @Option(names = "--dir", paramLabel = "DIR", description = "Where data and node logs go (default: a new temporary directory, deleted afterwards).")
  Path dir;

  @Option(names = "--check", description = "Exit 1 if a raftkv median misses its target.")
  boolean check;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintStream progress = System.err;
    Path root = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("raftkv-bench-recovery");
    RecoveryBenchmark.Settings s = RecoveryBenchmark.Settings.defaults();
    s = new RecoveryBenchmark.Settings(s.interval(), s.requestTimeout(), Duration.ofSeconds(capSeconds), s.killRestartDelay(), s.pause());
    try {
      List<String> names = new ArrayList<>();
      List<List<Map<Row, Double>>> results = new ArrayList<>();
      if (raftkv) {
        names.add("raftkv");
        results.add(measure(() -> new RaftKvService(3), root.resolve("raftkv"), s, progress));
      }
      if (etcd != null) {
        names.add("etcd");
        results.add(measure(() -> new EtcdService(etcd, 3), root.resolve("etcd"), s, progress));
      }
      if (names.isEmpty()) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "nothing to measure: --no-raftkv and no --etcd");
      print(out, names, results);
      boolean met = true;
      if (raftkv) for (Row r : Row.values()) met &= RecoveryBenchmark.median(results.get(0), r) <= r.targetSeconds; // NaN: missed
      return check && !met ? 1 : 0;
    } finally {
      if (dir == null) deleteTree(root);
    }
  }

  private List<Map<Row, Double>> measure(Supplier<ServiceUnderTest> service, Path root, RecoveryBenchmark.Settings s, PrintStream progress) throws InterruptedException {
    List<Map<Row, Double>> results = new ArrayList<>();
    for (int run = 1; run <= runs; run++) {
      ServiceUnderTest svc = service.get();
      progress.printf("%s run %d of %d%n", svc.name(), run, runs);
      results.add(RecoveryBenchmark.run(svc, root.resolve("run-" + run), s, progress));
    }
    return results;
  }

  /** One table: a column per service, the ratio of the first to the second, then each run. */
  private void print(PrintWriter out, List<String> names, List<List<Map<Row, Double>>> results) {
    out.printf("%nRecovery, median of %d runs (\"never\": not within %d s; \"n/a\": not measured; each run in brackets)%n%n", runs, capSeconds);
    StringBuilder head = new StringBuilder("| fault | target |");
    for (String n : names) head.append(' ').append(n).append(" |");
    if (names.size() == 2) head.append(' ').append(names.get(0)).append(" / ").append(names.get(1)).append(" |");
    for (String n : names) head.append(' ').append(n).append(" runs |");
    out.println(head);
    out.println(head.toString().replaceAll("[^|]+", "---"));
    for (Row r : Row.values()) {
      StringBuilder line = new StringBuilder("| " + r.label + String.format(" | <= %.1f s |", r.targetSeconds));
      double[] m = new double[names.size()];
      for (int i = 0; i < names.size(); i++) {
        m[i] = RecoveryBenchmark.median(results.get(i), r);
        line.append(' ').append(RecoveryBenchmark.format(m[i]));
        if (i == 0 && names.get(0).equals("raftkv") && !(m[i] <= r.targetSeconds)) line.append(" (missed)");
        line.append(" |");
      }
      if (names.size() == 2) {
        line.append(!Double.isFinite(m[0]) || !Double.isFinite(m[1]) || m[1] <= 0 ? " - |" : String.format(" %.1fx |", m[0] / m[1]));
      }
      for (List<Map<Row, Double>> res : results) line.append(' ').append(RecoveryBenchmark.runs(res, r)).append(" |");
      out.println(line);
    }
    out.flush();
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) return;
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }
}
