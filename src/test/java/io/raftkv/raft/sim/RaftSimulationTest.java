package io.raftkv.raft.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Ten thousand seeded schedules of 3-5 {@code RaftCore}s under faults, checked after every step,
 * spread over the machine's cores (a schedule is a pure function of its seed, so the order does
 * not matter). Every seed draws PreVote and CheckQuorum on or off; all four combinations must
 * have run. A third of the seeds change the membership as they go (a group that starts with 1 to
 * n voters, adds voters and learners, promotes, demotes and removes, the leader too, in all
 * transitions), and stop the peers a committed change removed.
 *
 * <ul>
 *   <li>{@code -Draftkv.sim.seed=S} replays schedule S alone, printing its trace if it fails; with
 *       {@code -Draftkv.sim.trace=true} also when it passes (to see what a fix changed).
 *   <li>{@code -Draftkv.sim.schedules=N} (default {@value #DEFAULT_SCHEDULES}) and {@code
 *       -Draftkv.sim.base=B} (default 1) choose the seeds B .. B+N-1, e.g. a soak of a million.
 *   <li>{@code -Draftkv.sim.threads=T} (default: the available processors) runs them on T threads.
 * </ul>
 */
class RaftSimulationTest {
  static final int TRACE_LINES = 200_000;
  static final int DEFAULT_SCHEDULES = 10_000;
  /** Seeds per task: big enough that handing out work costs nothing, small enough to balance. */
  static final int BATCH = 250;

  /** What a batch of schedules did; merged in seed order. */
  static final class Totals {
    long schedules;
    long events;
    long committed;
    long crashes;
    long installs;
    long reads;
    long membershipChanges;
    /** Schedules by (PreVote, CheckQuorum): index 2 * preVote + checkQuorum. */
    final long[] byMode = new long[4];
    /** The lowest failing seed, or 0, and its failure. */
    long failedSeed;
    Throwable failure;
    /** Every failing seed, in seed order (a batch goes on after a failure, so a soak finds them all). */
    final List<Long> failedSeeds = new ArrayList<>();

    void add(Totals o) {
      schedules += o.schedules;
      events += o.events;
      committed += o.committed;
      crashes += o.crashes;
      installs += o.installs;
      reads += o.reads;
      membershipChanges += o.membershipChanges;
      for (int i = 0; i < 4; i++) byMode[i] += o.byMode[i];
      failedSeeds.addAll(o.failedSeeds);
      if (o.failure != null && (failure == null || o.failedSeed < failedSeed)) {
        failedSeed = o.failedSeed;
        failure = o.failure;
      }
    }
  }

  static Totals runBatch(long from, long to) {
    Totals t = new Totals();
    for (long seed = from; seed < to; seed++) {
      Simulation sim = new Simulation(seed, SimCore.Factory.CORRECT);
      Simulation.Stats st;
      try {
        st = sim.run();
      } catch (Throwable e) {
        if (t.failure == null) {
          t.failedSeed = seed;
          t.failure = e;
        }
        t.failedSeeds.add(seed);
        continue;
      }
      t.schedules++;
      t.events += st.events();
      t.committed += st.committed();
      t.crashes += st.crashes();
      t.installs += st.snapshotsInstalled();
      t.reads += st.readsServed();
      t.membershipChanges += st.membershipChanges();
      t.byMode[(sim.params.config().preVote() ? 2 : 0) + (sim.params.config().checkQuorum() ? 1 : 0)]++;
    }
    return t;
  }

  @Test
  void randomSchedulesKeepRaftSafe() throws Exception {
    String only = System.getProperty("raftkv.sim.seed");
    if (only != null && !only.isBlank()) {
      replay(Long.parseLong(only.trim()), SimCore.Factory.CORRECT);
      return;
    }
    int count = Integer.getInteger("raftkv.sim.schedules", DEFAULT_SCHEDULES);
    long base = Long.getLong("raftkv.sim.base", 1L);
    int threads = Integer.getInteger("raftkv.sim.threads", Runtime.getRuntime().availableProcessors());
    long start = System.nanoTime();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    Totals all = new Totals();
    try {
      List<Future<Totals>> batches = new ArrayList<>();
      for (long from = base; from < base + count; from += BATCH) {
        long f = from;
        long to = Math.min(from + BATCH, base + count);
        batches.add(pool.submit(() -> runBatch(f, to)));
      }
      for (Future<Totals> b : batches) all.add(b.get());
    } finally {
      pool.shutdownNow();
    }
    if (all.failure != null) {
      throw new AssertionError(
          all.failedSeeds.size() + " schedules failed (seeds " + all.failedSeeds + "); seed " + all.failedSeed + ": "
              + all.failure + "\n  replay it with -Draftkv.sim.seed=" + all.failedSeed,
          all.failure);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    System.out.printf(
        "raft simulation: %d schedules (seeds %d..%d) on %d threads in %.1f s, %.0f schedules/s, %.0f events/s;"
            + " on average %.1f entries committed, %.1f crashes, %.1f snapshots installed, %.1f reads served per schedule;"
            + " %.2f membership changes proposed per schedule;"
            + " PreVote/CheckQuorum off/off %d, off/on %d, on/off %d, on/on %d%n",
        count, base, base + count - 1, threads, seconds, count / seconds, all.events / seconds,
        (double) all.committed / count, (double) all.crashes / count, (double) all.installs / count,
        (double) all.reads / count, (double) all.membershipChanges / count, all.byMode[0], all.byMode[1], all.byMode[2], all.byMode[3]);
    assertEquals(count, all.schedules);
    // the schedules must exercise something: commits, crashes and snapshot installs happen
    assertTrue(all.committed / count >= 20, "too few commits per schedule: " + (double) all.committed / count);
    assertTrue(all.crashes > 0 && all.installs > 0, "crashes " + all.crashes + ", snapshot installs " + all.installs);
    assertTrue(all.reads / count >= 5, "too few linearizable reads served per schedule: " + (double) all.reads / count);
    assertTrue(all.membershipChanges * 2 >= count, "too few membership changes: " + all.membershipChanges + " in " + count + " schedules");
    for (int mode = 0; mode < 4; mode++) {
      assertTrue(all.byMode[mode] >= count / 8, "PreVote/CheckQuorum mode " + mode + " ran " + all.byMode[mode] + " times");
    }
  }

  @Test
  void aSeedReplaysTheSameSchedule() {
    for (long seed : new long[] {7, 99, 12345}) {
      assertEquals(
          new Simulation(seed, SimCore.Factory.CORRECT).run(),
          new Simulation(seed, SimCore.Factory.CORRECT).run());
    }
  }

  /**
   * Seeds that million-schedule soaks found failing, replayed on every build. 154340: a peer being
   * removed deposed the new configuration's leader by campaigning without PreVote (fixed in
   * RaftCore). 483603, 681057, 704104, 973372: the simulator did not stop an initial voter that the
   * first committed change removed (it knew only the members of committed configuration entries):
   * that peer went on campaigning at ever higher terms with its initial configuration, deposing
   * leaders (704104), and three seeds then re-added it as one of two voters, where it refused
   * every vote having always just voted for itself.
   */
  @Test
  void seedsThatSoaksFoundFailingPass() {
    for (long seed : new long[] {154340, 483603, 681057, 704104, 973372}) {
      try {
        new Simulation(seed, SimCore.Factory.CORRECT).run();
      } catch (SafetyViolation e) {
        throw new AssertionError("seed " + seed + ": " + e.getMessage() + "; replay it with -Draftkv.sim.seed=" + seed, e);
      }
    }
  }

  /** Runs one schedule with a trace; on failure prints the trace's tail and rethrows. */
  static Simulation.Stats replay(long seed, SimCore.Factory factory) {
    Simulation sim = new Simulation(seed, factory, TRACE_LINES);
    System.out.println("replaying seed " + seed + ": " + sim.params);
    try {
      Simulation.Stats st = sim.run();
      System.out.println("seed " + seed + " passed: " + st);
      if (Boolean.getBoolean("raftkv.sim.trace")) sim.trace().forEach(System.out::println);
      return st;
    } catch (Throwable t) {
      System.out.println("seed " + seed + " failed: " + t + "\ntrace:");
      sim.trace().forEach(System.out::println);
      throw t;
    }
  }
}
