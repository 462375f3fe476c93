package io.raftkv.raft.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Test;

/**
 * The checker bites: a Raft without the election restriction, and one whose leader serves reads
 * without confirming its leadership, are each caught within a few schedules.
 */
class BrokenCoreDetectionTest {
  static final int WITHIN = 200;

  @Test
  void theSimulatorCatchesAVoterThatIgnoresTheElectionRestriction() {
    for (long seed = 1; seed <= WITHIN; seed++) {
      try {
        new Simulation(seed, BrokenRaftCore::new).run();
      } catch (SafetyViolation v) {
        System.out.println("broken core caught by schedule " + seed + " of " + WITHIN + ": " + v.getMessage());
        assertTrue(v.getMessage().matches("(leader completeness|state machine safety|log matching|election safety).*"), v.getMessage());
        return;
      } catch (IllegalStateException e) {
        // the core's own defensive checks (e.g. "asked to overwrite committed entry") may fire
        // first in some schedules; the checker must still be the one to catch it in another
      }
    }
    fail("no schedule of " + WITHIN + " caught a Raft without the election restriction");
  }

  @Test
  void theSimulatorCatchesALeaderThatServesReadsWithoutConfirmingItLeads() {
    for (long seed = 1; seed <= WITHIN; seed++) {
      try {
        new Simulation(seed, StaleReadRaftCore::new).run();
      } catch (SafetyViolation v) {
        System.out.println("stale-read core caught by schedule " + seed + " of " + WITHIN + ": " + v.getMessage());
        assertTrue(v.getMessage().startsWith("linearizable read"), v.getMessage());
        return;
      }
    }
    fail("no schedule of " + WITHIN + " caught a leader serving reads without confirmation");
  }
}
