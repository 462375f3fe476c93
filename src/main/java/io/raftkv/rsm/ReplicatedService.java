package io.raftkv.rsm;

import org.apache.pekko.actor.typed.ActorRef;

/**
 * What an {@link Rsm} drives: a {@link StateMachine} that may hand its work to other actors (the KV
 * store's shards). The port the RSM applies through, kept with it so that the services depend on
 * the RSM and not the reverse.
 *
 * <p><b>Threading and order.</b> Calls come from the RSM's actor only, one at a time, in log order,
 * and their effects must take place in that order (actor mailboxes give this when each call is one
 * tell). Answers are messages: whichever actor does the work tells the reply-to it was given, from
 * any thread.
 *
 * <p><b>Blocking.</b> Nothing blocks: a call returns at once. Every call that asks for an answer
 * gets exactly one (the RSM waits for it: a service that never answers leaves the client's request
 * unanswered).
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
  /**
   * Applies the op committed at {@code index} and answers {@code replyTo} with {@link
   * Rsm.Result.Ok} ({@code index} and the op's result).
   */
  void apply(long index, byte[] op, ReplyTo replyTo);

  /**
   * Runs the read-only {@code op} against the state after every op applied so far and answers
   * {@code replyTo} with {@link Rsm.Result.Ok} ({@code readPoint} and the op's result). Only
   * services that offer linearizable reads ({@link Rsm.Read}) implement it.
   */
  default void query(long readPoint, byte[] op, ReplyTo replyTo) {
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
      public void apply(long index, byte[] op, ReplyTo replyTo) {
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
