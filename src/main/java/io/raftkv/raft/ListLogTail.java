package io.raftkv.raft;

import java.util.ArrayList;

/**
 * A {@link LogTail} that keeps every entry whole, in a list: the core's own log and the
 * simulator's durable copy. (A storage that keeps less of each entry, or counts bytes as they
 * change, extends LogTail itself.)
 */
public abstract class ListLogTail extends LogTail {
  /** Entries {@code snapshotIndex()+1 .. lastIndex()}, in order, without gaps. */
  protected final ArrayList<LogEntry> entries = new ArrayList<>();

  protected ListLogTail() {}

  @Override
  protected final int count() {
    return entries.size();
  }

  @Override
  protected final long termAt(int i) {
    return entries.get(i).term();
  }

  @Override
  protected final void addLast(LogEntry e) {
    entries.add(e);
  }

  @Override
  protected final void keepFirst(int n) {
    entries.subList(n, entries.size()).clear();
  }

  @Override
  protected final void dropFirst(int n) {
    entries.subList(0, n).clear();
  }

  @Override
  protected final void dropAll() {
    entries.clear();
  }
}
