package io.raftkv.rsm;

import java.util.function.Consumer;

/**
 * What an {@link Rsm} drives: a {@link StateMachine} that may hand its work to other actors (the KV
 * store's shards). Contract: calls come from the RSM's actor only, in log order, and their effects
 * must take place in that order (actor mailboxes give this when each call is one tell); the
 * callbacks may run on any thread and only tell actors; nothing blocks.
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
