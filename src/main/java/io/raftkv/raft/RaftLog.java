package io.raftkv.raft;

import java.util.ArrayList;
import java.util.List;

/**
 * The in-memory log after the last snapshot. Index {@code snapshotIndex} is represented only by its
 * term; entries {@code snapshotIndex+1 .. lastIndex} are held in order without gaps.
 */
final class RaftLog {
  private final ArrayList<LogEntry> entries = new ArrayList<>();
  private long snapshotIndex;
  private long snapshotTerm;

  RaftLog(long snapshotIndex, long snapshotTerm, List<LogEntry> tail) {
    this.snapshotIndex = snapshotIndex;
    this.snapshotTerm = snapshotTerm;
    long expected = snapshotIndex + 1;
    for (LogEntry e : tail) {
      if (e.index() < expected) continue; // already covered by the snapshot
      if (e.index() != expected)
        throw new IllegalStateException("log has a gap: expected index " + expected + ", got " + e.index());
      entries.add(e);
      expected++;
    }
  }

  long snapshotIndex() {
    return snapshotIndex;
  }

  long snapshotTerm() {
    return snapshotTerm;
  }

  long lastIndex() {
    return snapshotIndex + entries.size();
  }

  long lastTerm() {
    return entries.isEmpty() ? snapshotTerm : entries.get(entries.size() - 1).term();
  }

  /** The term of the entry at {@code index}, or -1 when it is compacted away or beyond the end. */
  long term(long index) {
    if (index == snapshotIndex) return snapshotTerm;
    if (index < snapshotIndex || index > lastIndex()) return -1;
    return entries.get((int) (index - snapshotIndex - 1)).term();
  }

  LogEntry entry(long index) {
    if (index <= snapshotIndex || index > lastIndex())
      throw new IndexOutOfBoundsException("no entry at " + index + " in (" + snapshotIndex + ", " + lastIndex() + "]");
    return entries.get((int) (index - snapshotIndex - 1));
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

  void append(LogEntry e) {
    if (e.index() != lastIndex() + 1)
      throw new IllegalStateException("append at " + e.index() + " but last index is " + lastIndex());
    entries.add(e);
  }

  /** Removes every entry at index {@code from} and after. */
  void truncateFrom(long from) {
    if (from <= snapshotIndex) throw new IllegalStateException("cannot truncate into the snapshot at " + from);
    int keep = (int) (from - snapshotIndex - 1);
    entries.subList(keep, entries.size()).clear();
  }

  /** The first index of the run of entries with the same term as the entry at {@code index}. */
  long firstIndexOfTermAt(long index) {
    long t = term(index);
    long i = index;
    while (i - 1 > snapshotIndex && term(i - 1) == t) i--;
    return i;
  }

  /** The last index holding {@code term}, or -1 when no retained entry has it. */
  long lastIndexOfTerm(long term) {
    for (long i = lastIndex(); i > snapshotIndex; i--) {
      long t = term(i);
      if (t == term) return i;
      if (t < term) return -1;
    }
    return -1;
  }

  /**
   * Drops everything up to and including {@code index}, which becomes the new snapshot point. If
   * the log does not hold a matching entry there, the whole log is discarded.
   */
  void compactTo(long index, long term) {
    if (index <= snapshotIndex) return;
    if (index <= lastIndex() && term(index) == term) {
      entries.subList(0, (int) (index - snapshotIndex)).clear();
    } else {
      entries.clear();
    }
    snapshotIndex = index;
    snapshotTerm = term;
  }

  List<LogEntry> entriesCopy() {
    return List.copyOf(entries);
  }
}
