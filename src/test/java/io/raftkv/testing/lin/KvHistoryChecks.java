package io.raftkv.testing.lin;

import static org.junit.jupiter.api.Assertions.fail;

import io.raftkv.testing.lin.CheckReport.PartitionReport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The lab's "check porcupine" step for key/value tests: ILLEGAL fails the test with a readable
 * excerpt, UNKNOWN (budget exhausted) prints a notice and passes, as in the lab.
 *
 * <p>With {@code -Draftkv.history.dir=DIR}, every checked history is also written to {@code DIR}
 * as JSON lines ({@link HistoryJson}), one file per check: {@code <label>.jsonl}, then {@code
 * <label>-2.jsonl}, ... for later checks with the same label in the same JVM.
 */
public final class KvHistoryChecks {
  /** The system property naming the directory for history dumps. */
  public static final String HISTORY_DIR_PROPERTY = "raftkv.history.dir";

  private static final Map<String, Integer> checksPerLabel = new ConcurrentHashMap<>();

  private KvHistoryChecks() {}

  /** Checks the recorded history against {@link KvModel#lab()}. */
  public static void assertLinearizable(String label, HistoryRecorder rec, Duration budget) {
    assertLinearizable(label, rec.history(), budget, KvModel.lab());
  }

  /** Checks the recorded history against {@code model}. */
  public static void assertLinearizable(
      String label, HistoryRecorder rec, Duration budget, KvModel model) {
    assertLinearizable(label, rec.history(), budget, model);
  }

  /** Checks {@code history} against {@code model}; see the class comment. */
  public static void assertLinearizable(
      String label,
      List<Operation<KvInput, KvOutput>> history,
      Duration budget,
      KvModel model) {
    String dir = System.getProperty(HISTORY_DIR_PROPERTY);
    if (dir != null && !dir.isBlank()) dump(Path.of(dir), label, history);
    CheckReport<KvInput, KvOutput> report = Linearizability.checkDetailed(model, history, budget);
    switch (report.result()) {
      case OK -> {}
      case UNKNOWN -> System.out.println(
          label + ": linearizability check timed out, assuming history is ok");
      case ILLEGAL -> fail(describeIllegal(label, history, report, model));
    }
  }

  /**
   * Writes {@code history} to a new file in {@code dir} named after {@code label} and returns its
   * path.
   */
  public static Path dump(Path dir, String label, List<Operation<KvInput, KvOutput>> history) {
    String base = label.replaceAll("[^A-Za-z0-9._-]", "_");
    if (base.isEmpty()) base = "history";
    int n = checksPerLabel.merge(dir.toAbsolutePath() + "/" + base, 1, Integer::sum);
    Path file = dir.resolve(n == 1 ? base + ".jsonl" : base + "-" + n + ".jsonl");
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("creating " + dir, e);
    }
    HistoryJson.write(file, history);
    return file;
  }

  /** The failure message for an ILLEGAL report: each bad key with where its search got stuck. */
  static String describeIllegal(
      String label,
      List<Operation<KvInput, KvOutput>> history,
      CheckReport<KvInput, KvOutput> report,
      KvModel model) {
    long origin = history.stream().mapToLong(Operation::call).min().orElse(0);
    StringBuilder b = new StringBuilder();
    b.append(label).append(": history is not linearizable (").append(history.size());
    b.append(" ops; times in ns after the first call)");
    for (PartitionReport<KvInput, KvOutput> p : report.illegal()) {
      String key = p.history().isEmpty() ? "?" : p.history().get(0).input().key();
      b.append("\n  key ").append(KvModel.quote(key)).append(" (").append(p.history().size());
      b.append(" ops): linearized ").append(p.deepest()).append(" in a row, reaching state ");
      b.append(p.stuckState()).append(", then none of these could go next:");
      for (Operation<KvInput, KvOutput> op : p.stuck()) b.append(line(op, origin, model));
      if (!p.lastLinearized().isEmpty()) {
        b.append("\n   after these, the last linearized:");
        for (Operation<KvInput, KvOutput> op : p.lastLinearized()) {
          b.append(line(op, origin, model));
        }
      }
    }
    return b.toString();
  }

  private static String line(Operation<KvInput, KvOutput> op, long origin, KvModel model) {
    String ret = op.returned() ? Long.toString(op.ret() - origin) : "never";
    return "\n    [" + (op.call() - origin) + " .. " + ret + "] client " + op.clientId()
        + ": " + model.describeOperation(op.input(), op.output());
  }
}
