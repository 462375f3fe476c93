package io.raftkv.bench;

import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One run of the recovery benchmark: a fresh group of local processes, a {@link WriteProbe}
 * writing through every member, and the faults of {@link Row} in turn, each timed from the fault
 * to the first acknowledged write (or read) that shows the service is back.
 */
public final class RecoveryBenchmark {
  /** What is measured, with the target each figure should meet (seconds). */
  public enum Row {
    FRESH_START("first start of 3 nodes (process start -> first ack)", 5.0),
    KILL_LEADER("kill -9 of the leader (restarted 3 s later) -> first ack", 1.5),
    NODE_RESTART("one node restarted into a running cluster -> its GET answers", 3.0),
    STOP_LEADER("SIGSTOP of the leader for 8 s -> first ack", 1.5),
    RESUMED_NODE("paused node after SIGCONT -> a write through it is acked", 1.5),
    RESTART_ALL("SIGTERM of all three, then start all -> first ack", 5.0);

    public final String label;
    public final double targetSeconds;

    Row(String label, double targetSeconds) {
      this.label = label;
      this.targetSeconds = targetSeconds;
    }
  }

  /**
   * @param interval between the probe's writes
   * @param requestTimeout of each probe request
   * @param cap the longest wait for any one figure (beyond it the figure is "never")
   * @param killRestartDelay how long the killed leader stays down
   * @param pause how long the leader stays stopped
   */
  public record Settings(Duration interval, Duration requestTimeout, Duration cap, Duration killRestartDelay, Duration pause) {
    public static Settings defaults() {
      return new Settings(Duration.ofMillis(50), Duration.ofSeconds(1), Duration.ofSeconds(60), Duration.ofSeconds(3), Duration.ofSeconds(8));
    }
  }

  private final ServiceUnderTest service;
  private final Settings settings;
  private final PrintStream log;
  private final NodeProcesses procs;
  private final WriteProbe probe;
  private final Map<Row, Double> figures = new EnumMap<>(Row.class);

  private RecoveryBenchmark(ServiceUnderTest service, Path dir, Settings settings, PrintStream log) {
    this.service = service;
    this.settings = settings;
    this.log = log;
    this.procs = new NodeProcesses(service.size(), service.command(dir.resolve("data")), dir.resolve("logs"));
    this.probe = new WriteProbe(service, procs, settings.interval(), settings.requestTimeout());
  }

  /**
   * Runs every row once on a new group of {@code service}'s processes in {@code dir} and returns
   * the figures in seconds ({@link Double#POSITIVE_INFINITY}: not within the cap). If the group
   * does not become whole again after a fault (a member never serves, even after a restart), the
   * run ends there and the later rows are missing. Every process started is gone when this
   * returns.
   */
  public static Map<Row, Double> run(ServiceUnderTest service, Path dir, Settings settings, PrintStream log) throws InterruptedException {
    RecoveryBenchmark b = new RecoveryBenchmark(service, dir, settings, log);
    try {
      b.runRows();
    } catch (NotWhole e) {
      b.note(e.getMessage() + "; the later rows of this run are not measured");
    } finally {
      b.probe.close();
      b.procs.close();
    }
    return b.figures;
  }

  private void runRows() throws InterruptedException, NotWhole {
    int n = service.size();

    long t = System.nanoTime();
    for (int i = 0; i < n; i++) procs.start(i);
    probe.start();
    record(Row.FRESH_START, probe.firstAck(t, -1, deadline()), t);
    settle();

    int leader = leader();
    t = System.nanoTime();
    procs.kill(leader);
    note("killed leader n" + leader);
    record(Row.KILL_LEADER, probe.firstAck(t, -1, deadline()), t);
    sleepUntil(t + settings.killRestartDelay().toNanos());
    procs.start(leader);
    settle();

    int follower = (leader() + 1) % n;
    procs.kill(follower);
    note("killed follower n" + follower);
    long killed = System.nanoTime();
    if (probe.firstAck(killed, -1, deadline()) < 0) note("no write acknowledged with n" + follower + " down");
    t = System.nanoTime();
    procs.start(follower);
    int f = follower;
    record(Row.NODE_RESTART, probe.firstSuccess(() -> service.read(f, WriteProbe.KEY, settings.requestTimeout()), t, deadline()), t);
    settle();

    leader = leader();
    t = System.nanoTime();
    procs.pause(leader);
    note("stopped leader n" + leader);
    long resumeAt = t + settings.pause().toNanos();
    long early = probe.firstAck(t, -1, resumeAt);
    sleepUntil(resumeAt);
    probe.focus(leader);
    long resumed = System.nanoTime();
    procs.resume(leader);
    note("resumed n" + leader);
    record(Row.STOP_LEADER, early >= 0 ? early : probe.firstAck(t, -1, deadline()), t);
    record(Row.RESUMED_NODE, probe.firstAck(resumed, leader, resumed + settings.cap().toNanos()), resumed);
    probe.focus(-1);
    settle();

    for (int i = 0; i < n; i++) procs.terminate(i);
    for (int i = 0; i < n; i++) {
      try {
        procs.awaitExit(i, 30);
      } catch (IllegalStateException e) {
        note("n" + i + " did not stop within 30 s of SIGTERM; killed");
        procs.kill(i);
      }
    }
    t = System.nanoTime();
    for (int i = 0; i < n; i++) procs.start(i);
    record(Row.RESTART_ALL, probe.firstAck(t, -1, deadline()), t);
  }

  private long deadline() {
    return System.nanoTime() + settings.cap().toNanos();
  }

  private void record(Row row, long nanos, long since) {
    double s = nanos < 0 ? Double.POSITIVE_INFINITY : nanos / 1e9;
    figures.put(row, s);
    log.printf("  %-8s %-64s %s%n", service.name(), row.label, format(s));
  }

  private void note(String what) {
    log.printf("  %-8s   (%s)%n", service.name(), what);
  }

  /**
   * Waits until a write through every member has been acknowledged; a member that does not get
   * there within the cap is killed and started again (noted), so that later rows start from a
   * whole group.
   */
  private void settle() throws InterruptedException, NotWhole {
    for (int i = 0; i < service.size(); i++) {
      if (probe.firstAck(System.nanoTime(), i, deadline()) >= 0) continue;
      note("n" + i + " did not serve within " + settings.cap().toSeconds() + " s: restarting it; " + procs.tailLogs(5));
      procs.kill(i);
      procs.start(i);
      if (probe.firstAck(System.nanoTime(), i, deadline()) < 0) throw new NotWhole("n" + i + " does not serve even after a restart");
    }
  }

  /** The group did not become whole again. */
  private static final class NotWhole extends Exception {
    NotWhole(String message) {
      super(message);
    }
  }

  /** The member that says it leads in the highest term. */
  private int leader() throws InterruptedException, NotWhole {
    long deadline = deadline();
    while (System.nanoTime() < deadline) {
      int best = -1;
      long bestTerm = -1;
      for (int i = 0; i < service.size(); i++) {
        if (!procs.isServing(i)) continue;
        try {
          HttpResponse<String> r = probe.http().send(service.status(i, settings.requestTimeout()), HttpResponse.BodyHandlers.ofString());
          long term = service.leaderTerm(r);
          if (term > bestTerm) {
            best = i;
            bestTerm = term;
          }
        } catch (java.io.IOException e) {
          // not answering: not the leader we want
        }
      }
      if (best >= 0) return best;
      Thread.sleep(100);
    }
    throw new NotWhole("no leader within " + settings.cap().toSeconds() + " s");
  }

  private static void sleepUntil(long nanoTime) throws InterruptedException {
    long left = nanoTime - System.nanoTime();
    if (left > 0) TimeUnit.NANOSECONDS.sleep(left);
  }

  /** Seconds with two decimals, "never" past the cap, "n/a" if not measured. */
  public static String format(double seconds) {
    if (Double.isNaN(seconds)) return "n/a";
    return Double.isInfinite(seconds) ? "never" : String.format("%.2f s", seconds);
  }

  /**
   * The median of the runs' figures for {@code row} (infinite figures sort last; runs that did not
   * get to the row are left out; NaN if none did).
   */
  public static double median(java.util.List<Map<Row, Double>> runs, Row row) {
    double[] v = runs.stream().filter(m -> m.containsKey(row)).mapToDouble(m -> m.get(row)).sorted().toArray();
    if (v.length == 0) return Double.NaN;
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  static String runs(java.util.List<Map<Row, Double>> runs, Row row) {
    return Arrays.toString(runs.stream().map(m -> format(m.getOrDefault(row, Double.NaN))).toArray());
  }
}
