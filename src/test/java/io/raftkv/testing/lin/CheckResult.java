package io.raftkv.testing.lin;

/** The verdict of a linearizability check. */
public enum CheckResult {
  /** Some order of the operations respects real time and is accepted by the model. */
  OK,
  /** No such order exists (in at least one partition). */
  ILLEGAL,
  /** The time budget ran out before the search could decide; the lab treats this as a pass. */
  UNKNOWN
}
