package io.raftkv.raft.sim;

/** One of Raft's safety properties (or the simulator's liveness check after healing) failed. */
final class SafetyViolation extends AssertionError {
  SafetyViolation(String message) {
    super(message);
  }
}
