package io.raftkv.rsm;

import java.util.function.Consumer;

/**
 * What an {@link Rsm} drives: a {@link StateMachine} that may hand its work to other actors (the KV
 * store's shards). The port the RSM applies through, kept with it so that the services depend on
 * the RSM and not the reverse.
 *
 * <p><b>Threading and order.</b> Calls come from the RSM's actor only, one at a time, in log order,
 * and their effects must take place in that order (actor mailboxes give this when each call is one
 * tell). The callbacks ({@code result}, {@code done}) may run on any thread; the RSM's own
 * callbacks only tell actors, so calling them from anywhere is safe.
 *
 * <p><b>Blocking.</b> Nothing blocks: a call returns at once and the answer comes through its
 * callback. Each callback is called exactly once per call (the RSM waits for it: a service that
 * never calls back leaves the client's request unanswered).
 *
 * <p><b>Determinism and durability.</b> As for {@link StateMachine}: the same committed ops give
 * the same results and state on every replica; the state is rebuilt from Raft's snapshot and log
 * after a restart, the service keeps nothing durable itself.
 *
 * <p><b>Failures.</b> {@link #apply} and {@link #snapshot} must not throw (an op it cannot decode
 * gets a result of its own); {@link #restore} may throw an unchecked exception for a snapshot it
 * cannot read, which stops the RSM.
 *
 * <p><b>Idempotence.</b> {@link #apply} is not idempotent (each committed index is applied once
 * per replica); {@link #query} and {@link #snapshot} change nothing; {@link #restore} replaces the
 * whole state.
 */
public interface ReplicatedService {
  /** Applies the op committed at {@code index}; {@code result} receives its result once. */
  void apply(long index, byte[] op, Consumer<byte[]> result);

  /**
   * Runs the read-only {@code op} against the state after every op applied so far; {@code result}
   * receives its result once. Only services that offer linearizable reads ({@link Rsm.Read})
   * implement it.
   */
  default void query(byte[] op, Consumer<byte[]> result) {
    throw new UnsupportedOperationException("this service takes no reads outside the log");
  }

  /** The state after every op applied so far (a barrier at {@code index}), given to {@code done}. */
  void snapshot(long index, Consumer<byte[]> done);

  /** Replaces the whole state; later applies see the restored state. */
  void restore(byte[] snapshot);

  /** Runs a synchronous state machine on the RSM's own thread. */
  static ReplicatedService of(StateMachine sm) {
    return new ReplicatedService() {
      @Override
      public void apply(long index, byte[] op, Consumer<byte[]> result) {
        result.accept(sm.apply(op));
      }

      @Override
      public void snapshot(long index, Consumer<byte[]> done) {
        done.accept(sm.snapshot());
      }

      @Override
      public void restore(byte[] snapshot) {
        sm.restore(snapshot);
      }
    };
  }
}
