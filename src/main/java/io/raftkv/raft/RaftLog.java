package io.raftkv.raft;

import java.util.ArrayList;
import java.util.List;

/**
 * The core's in-memory log after the last snapshot, holding whole entries. How snapshots,
 * truncation and appends change it is {@link LogTail}'s, shared with the storages; what is here is
 * what only the protocol asks (entries to send, the terms fast backtracking looks for).
 */
final class RaftLog extends ListLogTail {

  RaftLog(long snapshotIndex, long snapshotTerm, List<LogEntry> tail) {
    resetTo(snapshotIndex, snapshotTerm);
    for (LogEntry e : tail) {
      if (e.index() <= lastIndex()) continue; // already covered by the snapshot
      if (e.index() != lastIndex() + 1)
        throw new IllegalStateException("log has a gap: expected index " + (lastIndex() + 1) + ", got " + e.index());
      addLast(e);
    }
  }

  LogEntry entry(long index) {
    if (index <= snapshotIndex() || index > lastIndex())
      throw new IndexOutOfBoundsException("no entry at " + index + " in (" + snapshotIndex() + ", " + lastIndex() + "]");
    return entries.get((int) (index - snapshotIndex() - 1));
  }

  /** Entries {@code from..to} inclusive, stopping early once {@code maxBytes} of commands are taken. */
  List<LogEntry> slice(long from, long to, long maxBytes) {
    List<LogEntry> out = new ArrayList<>();
    long bytes = 0;
    for (long i = from; i <= to; i++) {
      LogEntry e = entry(i);
      if (!out.isEmpty() && bytes + e.command().length > maxBytes) break;
      bytes += e.command().length;
      out.add(e);
    }
    return out;
  }

  /** The first index of the run of entries with the same term as the entry at {@code index}. */
  long firstIndexOfTermAt(long index) {
    long t = term(index);
    long i = index;
    while (i - 1 > snapshotIndex() && term(i - 1) == t) i--;
    return i;
  }

  /** The last index holding {@code term}, or -1 when no retained entry has it. */
  long lastIndexOfTerm(long term) {
    for (long i = lastIndex(); i > snapshotIndex(); i--) {
      long t = term(i);
      if (t == term) return i;
      if (t < term) return -1;
    }
    return -1;
  }

  List<LogEntry> entriesCopy() {
    return List.copyOf(entries);
  }
}
