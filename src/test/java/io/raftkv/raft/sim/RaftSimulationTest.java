package io.raftkv.raft.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Thousands of seeded schedules of 3-5 {@code RaftCore}s under faults, checked after every step.
 *
 * <ul>
 *   <li>{@code -Draftkv.sim.seed=S} replays schedule S alone, printing its trace if it fails.
 *   <li>{@code -Draftkv.sim.schedules=N} (default 1000) and {@code -Draftkv.sim.base=B} (default
 *       1) choose the seeds B .. B+N-1, to explore beyond what CI runs.
 * </ul>
 */
class RaftSimulationTest {
  static final int TRACE_LINES = 200_000;

  @Test
  void randomSchedulesKeepRaftSafe() {
    String only = System.getProperty("raftkv.sim.seed");
    if (only != null && !only.isBlank()) {
      replay(Long.parseLong(only.trim()), SimCore.Factory.CORRECT);
      return;
    }
    int count = Integer.getInteger("raftkv.sim.schedules", 1000);
    long base = Long.getLong("raftkv.sim.base", 1L);
    long start = System.nanoTime();
    long events = 0;
    long committed = 0;
    long crashes = 0;
    long installs = 0;
    long reads = 0;
    for (long seed = base; seed < base + count; seed++) {
      Simulation.Stats st;
      try {
        st = new Simulation(seed, SimCore.Factory.CORRECT).run();
      } catch (Throwable t) {
        throw new AssertionError(
            "schedule with seed " + seed + " failed: " + t + "\n  replay it with -Draftkv.sim.seed=" + seed, t);
      }
      events += st.events();
      committed += st.committed();
      crashes += st.crashes();
      installs += st.snapshotsInstalled();
      reads += st.readsServed();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    System.out.printf(
        "raft simulation: %d schedules (seeds %d..%d) in %.1f s, %.0f schedules/s, %.0f events/s;"
            + " on average %.1f entries committed, %.1f crashes, %.1f snapshots installed, %.1f reads served per schedule%n",
        count, base, base + count - 1, seconds, count / seconds, events / seconds,
        (double) committed / count, (double) crashes / count, (double) installs / count, (double) reads / count);
    // the schedules must exercise something: commits, crashes and snapshot installs happen
    assertTrue(committed / count >= 20, "too few commits per schedule: " + (double) committed / count);
    assertTrue(crashes > 0 && installs > 0, "crashes " + crashes + ", snapshot installs " + installs);
    assertTrue(reads / count >= 5, "too few linearizable reads served per schedule: " + (double) reads / count);
  }

  @Test
  void aSeedReplaysTheSameSchedule() {
    for (long seed : new long[] {7, 99, 12345}) {
      assertEquals(
          new Simulation(seed, SimCore.Factory.CORRECT).run(),
          new Simulation(seed, SimCore.Factory.CORRECT).run());
    }
  }

  /** Runs one schedule with a trace; on failure prints the trace's tail and rethrows. */
  static Simulation.Stats replay(long seed, SimCore.Factory factory) {
    Simulation sim = new Simulation(seed, factory, TRACE_LINES);
    System.out.println("replaying seed " + seed + ": " + sim.params);
    try {
      Simulation.Stats st = sim.run();
      System.out.println("seed " + seed + " passed: " + st);
      return st;
    } catch (Throwable t) {
      System.out.println("seed " + seed + " failed: " + t + "\ntrace:");
      sim.trace().forEach(System.out::println);
      throw t;
    }
  }
}
