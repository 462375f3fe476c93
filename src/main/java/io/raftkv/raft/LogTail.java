package io.raftkv.raft;

import java.util.List;

/**
 * A log after its snapshot point: the point itself ({@link #snapshotIndex}, known only by its
 * term), then the entries {@code snapshotIndex+1 .. lastIndex} in order without gaps. This class is
 * the one copy of how a snapshot and a batch of entries change such a log, the rule {@link
 * RaftStorage} states and {@link RaftCore}'s own log follows; subclasses keep as much of each entry
 * as they need (the core's log and MemoryStorage whole entries, FileStorage only terms and encoded
 * sizes, since its commands live on disk), and hear every change through the hooks below, so that
 * their own accounting (sizes) follows it.
 *
 * <p>Not thread-safe: the owner guards it.
 */
public abstract class LogTail {
  private long snapshotIndex; // every entry up to here is in the snapshot; lastIndex() >= snapshotIndex
  private long snapshotTerm; // the term of the entry at snapshotIndex; 0 with no snapshot

  protected LogTail() {}

  // ---------------------------------------------------------------- what a subclass holds
  // Position i is the entry at index snapshotIndex + 1 + i; every n passed is within [0, count()].

  /** How many entries are held. */
  protected abstract int count();

  /** The term of the entry at position {@code i}. */
  protected abstract long termAt(int i);

  /** Adds {@code e} after the last entry; its index has been checked where that matters. */
  protected abstract void addLast(LogEntry e);

  /** Keeps the first {@code n} entries and drops the rest. */
  protected abstract void keepFirst(int n);

  /** Drops the first {@code n} entries. */
  protected abstract void dropFirst(int n);

  /** Drops every entry. */
  protected abstract void dropAll();

  // ---------------------------------------------------------------- queries

  public final long snapshotIndex() {
    return snapshotIndex;
  }

  public final long snapshotTerm() {
    return snapshotTerm;
  }

  public final long lastIndex() {
    return snapshotIndex + count();
  }

  public final long lastTerm() {
    int n = count();
    return n == 0 ? snapshotTerm : termAt(n - 1);
  }

  /** The term of the entry at {@code index}, or -1 when it is compacted away or beyond the end. */
  public final long term(long index) {
    if (index == snapshotIndex) return snapshotTerm;
    if (index < snapshotIndex || index > lastIndex()) return -1;
    return termAt((int) (index - snapshotIndex - 1));
  }

  /**
   * Whether the log holds an entry of {@code term} at {@code index}: then a snapshot there keeps
   * the suffix after it, otherwise the snapshot replaces the whole log (§7).
   */
  public final boolean holds(long index, long term) {
    return term(index) == term;
  }

  // ---------------------------------------------------------------- changes

  /** Replaces the whole log by an empty one after the snapshot point ({@code index}, {@code term}). */
  public final void resetTo(long index, long term) {
    dropAll();
    snapshotIndex = index;
    snapshotTerm = term;
  }

  /**
   * Makes ({@code index}, {@code term}) the snapshot point: drops the entries it covers, and keeps
   * those after it only if the log {@link #holds} a matching entry there. Ignored when {@code index}
   * is not beyond the current snapshot point (an older snapshot tells nothing new).
   */
  public final void compactTo(long index, long term) {
    if (index <= snapshotIndex) return;
    if (holds(index, term)) dropFirst((int) (index - snapshotIndex));
    else dropAll();
    snapshotIndex = index;
    snapshotTerm = term;
  }

  public final void append(LogEntry e) {
    if (e.index() != lastIndex() + 1)
      throw new IllegalStateException("append at " + e.index() + " but last index is " + lastIndex());
    addLast(e);
  }

  /** Removes every entry at index {@code from} and after. */
  public final void truncateFrom(long from) {
    if (from <= snapshotIndex) throw new IllegalStateException("cannot truncate into the snapshot at " + from);
    keepFirst((int) Math.min(count(), from - snapshotIndex - 1));
  }

  /**
   * Why {@code entries} cannot be persisted after snapshot {@code s} (null: none) as {@link #apply}
   * would, or null if they can: once the snapshot is applied, the first entry must lie in (snapshot
   * point, last index + 1], and the entries must be consecutive. Changes nothing, so that a caller
   * can check a whole Ready before it changes anything.
   */
  public final String misfit(Snapshot s, List<LogEntry> entries) {
    if (entries.isEmpty()) return null;
    long base = snapshotIndex;
    long last = lastIndex();
    if (s != null && s.index() > base) {
      if (!holds(s.index(), s.term())) last = s.index();
      base = s.index();
    }
    long first = entries.get(0).index();
    if (first <= base || first > last + 1) {
      return "entries from " + first + " do not fit the log (" + base + ", " + last + "]";
    }
    for (int i = 1; i < entries.size(); i++) {
      if (entries.get(i).index() != first + i) return "entries are not consecutive at index " + entries.get(i).index();
    }
    return null;
  }

  /**
   * The log part of a Ready, in the order {@link RaftStorage}'s contract gives: snapshot {@code s}
   * (null: none; see {@link #compactTo}), then {@code entries}, the first of which overwrites the
   * log from its index on. Throws {@link IllegalStateException} with the {@link #misfit} reason,
   * changing nothing, if the entries do not fit.
   *
   * <p>This is a storage's rule, not a follower's: the core, stepping an AppendEntries, keeps
   * the entries it already holds and truncates only at the first conflict (§5.3), so that a stale
   * AppendEntries never cuts off entries a newer one brought. The entries of its Ready are those
   * it appended since the last Ready, so the first of them is where its own log was cut, which is
   * what makes overwriting from the first entry right here.
   */
  public final void apply(Snapshot s, List<LogEntry> entries) {
    String problem = misfit(s, entries);
    if (problem != null) throw new IllegalStateException(problem);
    if (s != null) compactTo(s.index(), s.term());
    if (entries.isEmpty()) return;
    truncateFrom(entries.get(0).index());
    for (LogEntry e : entries) addLast(e);
  }
}
