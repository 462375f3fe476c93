package io.raftkv.raft.sim;

import io.raftkv.raft.HardState;
import io.raftkv.raft.LogEntry;
import io.raftkv.raft.PersistentState;
import io.raftkv.raft.Ready;
import io.raftkv.raft.Snapshot;
import java.util.ArrayList;
import java.util.List;

/**
 * What one simulated peer has made durable: the only thing that survives its crash. Follows the
 * {@code RaftStorage} contract (snapshot, then entries, then hard state), and can be told to stop
 * after the entries, as a crash between two writes would.
 */
final class SimStorage {
  HardState hardState = HardState.INITIAL;
  Snapshot snapshot = Snapshot.EMPTY;
  /** Entries {@code snapshot.index()+1 ..} without gaps. */
  final ArrayList<LogEntry> entries = new ArrayList<>();

  PersistentState load() {
    return new PersistentState(hardState, snapshot, entries);
  }

  void persist(Ready r, boolean withHardState) {
    Snapshot s = r.snapshot();
    if (s != null && s.index() > snapshot.index()) {
      boolean matches = s.index() <= lastIndex() && term(s.index()) == s.term();
      int drop = matches ? (int) (s.index() - snapshot.index()) : entries.size();
      entries.subList(0, drop).clear();
      snapshot = s;
    }
    List<LogEntry> add = r.entries();
    if (!add.isEmpty()) {
      long first = add.get(0).index();
      if (first <= snapshot.index() || first > lastIndex() + 1)
        throw new SafetyViolation("persisted entries from " + first + " do not fit the log (" + snapshot.index() + ", " + lastIndex() + "]");
      truncateFrom(first);
      long expected = first;
      for (LogEntry e : add) {
        if (e.index() != expected++) throw new SafetyViolation("a Ready's entries have a gap at " + e.index());
        entries.add(e);
      }
    }
    if (withHardState && r.hardState() != null) hardState = r.hardState();
  }

  /** Removes entries {@code from..}; returns how many were removed. */
  int truncateFrom(long from) {
    int keep = (int) (from - snapshot.index() - 1);
    int removed = entries.size() - keep;
    if (removed > 0) entries.subList(keep, entries.size()).clear();
    return Math.max(removed, 0);
  }

  long lastIndex() {
    return snapshot.index() + entries.size();
  }

  long lastTerm() {
    return entries.isEmpty() ? snapshot.term() : entries.get(entries.size() - 1).term();
  }

  /** The term at {@code index}, or -1 if not held. */
  long term(long index) {
    if (index == snapshot.index()) return snapshot.term();
    if (index < snapshot.index() || index > lastIndex()) return -1;
    return entries.get((int) (index - snapshot.index() - 1)).term();
  }

  LogEntry entry(long index) {
    return entries.get((int) (index - snapshot.index() - 1));
  }
}
