package io.raftkv.storage;

import io.raftkv.raft.PersistentState;
import io.raftkv.raft.Ready;

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

  /** Bytes of the encoded raft state (term, vote, log), as the lab's RaftStateSize. */
  long raftStateSize();

  /** Bytes of the stored snapshot data. */
  long snapshotSize();
}
