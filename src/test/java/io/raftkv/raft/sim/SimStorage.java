package io.raftkv.raft.sim;

import io.raftkv.raft.HardState;
import io.raftkv.raft.LogEntry;
import io.raftkv.raft.ListLogTail;
import io.raftkv.raft.LogTail;
import io.raftkv.raft.PersistentState;
import io.raftkv.raft.Ready;
import io.raftkv.raft.Snapshot;

/**
 * What one simulated peer has made durable: the only thing that survives its crash. Follows the
 * {@code RaftStorage} contract through {@link LogTail#apply} (snapshot, then entries, then hard
 * state), and can be told to stop after the entries, as a crash between two writes would.
 */
final class SimStorage extends ListLogTail {
  HardState hardState = HardState.INITIAL;
  Snapshot snapshot = Snapshot.EMPTY; // its index and term are the log's snapshot point

  PersistentState load() {
    return new PersistentState(hardState, snapshot, entries);
  }

  void persist(Ready r, boolean withHardState) {
    Snapshot s = r.snapshot();
    String misfit = misfit(s, r.entries());
    if (misfit != null) throw new SafetyViolation("persisted " + misfit);
    if (s != null && s.index() > snapshot.index()) snapshot = s;
    apply(s, r.entries());
    if (withHardState && r.hardState() != null) hardState = r.hardState();
  }

  LogEntry entry(long index) {
    return entries.get((int) (index - snapshot.index() - 1));
  }
}
