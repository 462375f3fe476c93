package io.raftkv.rsm;

import org.apache.pekko.actor.typed.ActorRef;

/**
 * What an {@link Rsm} drives: a {@link StateMachine} that may hand its work to other actors (the KV
 * store's shards). Contract: calls come from the RSM's actor only, in log order, and their effects
 * must take place in that order (actor mailboxes give this when each call is one tell); nothing
 * blocks. Every call that asks for an answer gets exactly one, as a message: whichever actor does
 * the work tells it to the reply-to it was given, from any thread.
 */
public interface ReplicatedService {
  /**
   * Applies the op committed at {@code index} and answers {@code replyTo} with {@link
   * Rsm.Result.Ok} ({@code index} and the op's result).
   */
  void apply(long index, byte[] op, Rsm.ReplyTo replyTo);

  /**
   * Runs the read-only {@code op} against the state after every op applied so far and answers
   * {@code replyTo} with {@link Rsm.Result.Ok} ({@code readPoint} and the op's result). Only
   * services that offer linearizable reads ({@link Rsm.Read}) implement it.
   */
  default void query(long readPoint, byte[] op, Rsm.ReplyTo replyTo) {
    throw new UnsupportedOperationException("this service takes no reads outside the log");
  }

  /**
   * Answers {@code replyTo} with a {@link Rsm.SnapshotReady} for {@code index}: the state after
   * every op applied so far (a barrier at {@code index}).
   */
  void snapshot(long index, ActorRef<Rsm.SnapshotReady> replyTo);

  /** Replaces the whole state; later applies see the restored state. */
  void restore(byte[] snapshot);

  /** Runs a synchronous state machine on the RSM's own thread. */
  static ReplicatedService of(StateMachine sm) {
    return new ReplicatedService() {
      @Override
      public void apply(long index, byte[] op, Rsm.ReplyTo replyTo) {
        replyTo.tell(new Rsm.Result.Ok(index, sm.apply(op)));
      }

      @Override
      public void snapshot(long index, ActorRef<Rsm.SnapshotReady> replyTo) {
        replyTo.tell(new Rsm.SnapshotReady(index, sm.snapshot()));
      }

      @Override
      public void restore(byte[] snapshot) {
        sm.restore(snapshot);
      }
    };
  }
}
