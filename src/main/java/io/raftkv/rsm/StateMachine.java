package io.raftkv.rsm;

/**
 * The deterministic service a replicated state machine drives. Contract: one caller at a time (the
 * RSM's applier); {@link #apply} runs on every replica for every committed op, in log order, and
 * must give the same result and state on every replica for the same sequence; nothing here may
 * block or touch the outside world.
 */
public interface StateMachine {
  /** Executes one committed op and returns its result. */
  byte[] apply(byte[] op);

  /** The whole state as bytes, covering every op applied so far. */
  byte[] snapshot();

  /** Replaces the whole state with one taken by {@link #snapshot} (possibly on another replica). */
  void restore(byte[] snapshot);
}
