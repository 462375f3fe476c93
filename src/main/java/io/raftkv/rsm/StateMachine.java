package io.raftkv.rsm;

/**
 * The deterministic service a replicated state machine drives: the port {@link Rsm} applies
 * committed ops through (wrapped by {@link ReplicatedService#of}), kept with the RSM so that the
 * services ({@code io.raftkv.kv}) depend on it and not the reverse.
 *
 * <p><b>Threading.</b> One caller at a time: the RSM's actor. An implementation needs no locks of
 * its own as long as nothing else touches its state.
 *
 * <p><b>Blocking.</b> Nothing here may block or touch the outside world (no I/O, clocks, threads
 * or randomness): the calls run inside the RSM's actor, and every replica must compute the same.
 *
 * <p><b>Determinism.</b> {@link #apply} runs on every replica for every committed op, in log
 * order, and must give the same result and state on every replica for the same sequence.
 *
 * <p><b>Durability.</b> None of its own: the state lives in memory and is rebuilt after a restart
 * by {@link #restore} from Raft's stored snapshot and by applying the log after it again.
 *
 * <p><b>Failures.</b> {@link #apply} must not throw, not even for an op it cannot decode: it
 * answers such an op with a result of its own (every replica gives the same one). An exception
 * would stop the RSM, on every replica at the same entry. {@link #restore} may throw an unchecked
 * exception for a snapshot it cannot read; the RSM then stops, since starting from a state other
 * replicas do not share would break safety.
 *
 * <p><b>Idempotence.</b> {@link #apply} is not idempotent: the RSM applies each committed op
 * exactly once per replica (exactly-once effects for a client's retries are the service's own
 * business, e.g. sessions). {@link #snapshot} changes nothing; {@link #restore} replaces the whole
 * state, so restoring the same snapshot twice is the same as once.
 */
public interface StateMachine {
  /** Executes one committed op and returns its result. */
  byte[] apply(byte[] op);

  /** The whole state as bytes, covering every op applied so far. */
  byte[] snapshot();

  /** Replaces the whole state with one taken by {@link #snapshot} (possibly on another replica). */
  void restore(byte[] snapshot);
}
