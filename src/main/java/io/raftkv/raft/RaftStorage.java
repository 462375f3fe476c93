package io.raftkv.raft;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Where one Raft peer keeps its persistent state: term, vote, log and snapshot. The port {@link
 * RaftPeer} drives, kept beside it so that the core's package owns the contract it depends on (as
 * etcd's raft package owns its {@code Storage}); the implementations ({@code io.raftkv.storage})
 * depend on Raft, not the other way round.
 *
 * <p><b>What is persisted, in which order.</b> {@link #persist} and {@link #persistAsync} carry out
 * the persistent parts of a {@link Ready} in this order: the snapshot (compacting the log up to
 * it: the log keeps its suffix after the snapshot point only if it holds an entry of the
 * snapshot's term there, and a snapshot not newer than the stored one is ignored), then the
 * entries (the first one may overwrite and truncate the stored suffix from its index on), then the
 * hard state. {@link LogTail#apply} is that rule for the log, shared by the implementations.
 *
 * <p><b>Threading.</b> {@link #load}, {@link #persist} and {@link #persistAsync} are called by one
 * thread at a time (the peer's actor) and never concurrently with each other; {@link
 * #raftStateSize} and {@link #snapshotSize} may be called from any thread at any time.
 *
 * <p><b>Blocking.</b> {@link #load} and {@link #persist} may block for as long as the I/O takes;
 * {@link #persistAsync} must not block beyond taking a short lock (the peer calls it inside its
 * actor); the size queries never wait for I/O.
 *
 * <p><b>Durability.</b> When {@link #persist} returns, or the stage of {@link #persistAsync}
 * completes normally, the Ready's effects (and those of every earlier call) survive a crash of
 * the process, with the one exception {@link #persistAsync} names. A crash in between leaves the
 * effects of some prefix of the calls, plus possibly part of the next one (its hard state and
 * snapshot without its entries): never a later call's effects without an earlier one's.
 *
 * <p><b>Failures.</b> A Ready whose entries do not fit the log (they start past its end, or inside
 * the snapshot) is the caller's bug: {@link IllegalStateException}. A failure to make things
 * durable (I/O error, full disk) is an unchecked exception ({@link java.io.UncheckedIOException}
 * or another {@link RuntimeException}); after one, an implementation may refuse every later call,
 * since what it holds can no longer be trusted, and the peer must stop. {@link #load} throws an
 * unchecked exception when the stored state cannot be read or trusted; the peer must not start
 * from it then.
 *
 * <p><b>Idempotence.</b> {@link #load} and the size queries change nothing. Persisting the latest
 * Ready again leaves the state as it was (same hard state, the same entries overwritten by
 * themselves, a snapshot not newer than the stored one ignored); persisting an older Ready again
 * is not harmless: its entries would cut off the suffix stored after them.
 */
public interface RaftStorage {
  /**
   * What was persisted so far; {@link PersistentState#EMPTY} for a new peer. Called once when a
   * replica starts (by the RSM, which restores the stored snapshot and hands the state to its peer,
   * or by a peer started on its own); reflects every call that returned or
   * whose stage completed.
   */
  PersistentState load();

  /** Makes the persistent effects of {@code ready} durable before returning (see the class comment). */
  void persist(Ready ready);

  /**
   * Like {@link #persist}, but returns at once: the stage completes once the effects of {@code
   * ready} (and of every earlier call) are durable, or completes exceptionally if they cannot be
   * made so (after which the storage accepts nothing more). Stages complete in call order, so the
   * caller may send the messages of a Ready as soon as its stage completes. Calls still come from
   * one thread at a time; size queries reflect every call made so far, durable or not.
   *
   * <p>One exception, which nothing sent on the strength of a stage depends on: a snapshot that
   * keeps the log's matching suffix (the log holds an entry of the snapshot's term at its index,
   * as when the service compacts its log) may become durable after the stage completes. Until it
   * is, the storage keeps every entry it covers, so a crash in between reopens to the older
   * snapshot and a longer log holding the same entries. A snapshot that replaces the log is
   * durable before the stage completes. A failure to write such a later snapshot fails every
   * later call.
   *
   * <p>Completion may run on a thread of the storage's own: callbacks must not block (an actor
   * should {@code pipeToSelf}). The stage must support {@code toCompletableFuture()} (the peer
   * checks whether it is already complete, to go on without a mailbox hop). The default persists
   * synchronously on the caller's thread and returns a completed stage.
   */
  default CompletionStage<Void> persistAsync(Ready ready) {
    try {
      persist(ready);
      return CompletableFuture.completedFuture(null);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * Bytes of the encoded raft state (term, vote, log), as the lab's RaftStateSize: {@link
   * RaftCodec#raftStateSize}, whatever the implementation's own format, so that the snapshot
   * policy sees the same numbers on every storage. Reflects every persist call, durable or not.
   */
  long raftStateSize();

  /** Bytes of the stored snapshot data. */
  long snapshotSize();
}
