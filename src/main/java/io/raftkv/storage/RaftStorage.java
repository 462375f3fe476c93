package io.raftkv.storage;

import io.raftkv.raft.PersistentState;
import io.raftkv.raft.Ready;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Where one Raft peer keeps its persistent state: term, vote, log and snapshot.
 *
 * <p>Contract: {@link #persist} makes the persistent parts of a {@link Ready} durable before it
 * returns, in the order snapshot (compacting the log up to it: the log keeps its suffix after the
 * snapshot point only if it holds a matching entry there), entries (the first one may overwrite
 * and truncate the stored suffix), hard state. Calls come from one thread at a time (the peer's
 * actor); size queries may come from any thread. Implementations may block in {@link #persist}.
 */
public interface RaftStorage {
  /** What was persisted so far; {@link PersistentState#EMPTY} for a new peer. */
  PersistentState load();

  /** Makes the persistent effects of {@code ready} durable. */
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

  /** Bytes of the encoded raft state (term, vote, log), as the lab's RaftStateSize. */
  long raftStateSize();

  /** Bytes of the stored snapshot data. */
  long snapshotSize();
}
