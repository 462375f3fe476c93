package io.raftkv.rsm;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The RSM's linearizable reads on their way to an answer: waiting for a read point, waiting while
 * Raft fetches one, then waiting until the log is applied up to it. Reads that arrive while a read
 * point is being fetched share the next one, so at most one ReadIndex is under way. Pure
 * bookkeeping: the RSM asks Raft and answers the reads this class hands back.
 *
 * @param <T> a read (its op and where its answer goes)
 */
final class PendingReads<T> {
  /** A read whose read point {@code index} is applied: serve it now. */
  record Due<T>(long index, T read) {}

  /** Reads waiting for the next read point. */
  private List<T> next = new ArrayList<>();
  /** Reads whose read point Raft is fetching, under {@code ctx} (0: none under way). */
  private List<T> asked = new ArrayList<>();
  private long ctx;
  /** Reads with a read point not yet applied, by read point. */
  private final TreeMap<Long, List<T>> ready = new TreeMap<>();

  /** Queues {@code read}; true when no read point is under way, so one must be asked for now. */
  boolean add(T read) {
    next.add(read);
    return ctx == 0;
  }

  /** True when reads wait for a read point that has not been asked for yet. */
  boolean hasNext() {
    return !next.isEmpty();
  }

  /** The waiting reads are to be served at the read point Raft fetches under {@code ctx} (not 0). */
  void asking(long ctx) {
    this.ctx = ctx;
    List<T> a = next;
    next = asked;
    asked = a;
  }

  /**
   * Raft's answer to the read point asked under {@code ctx}: null when that is not the one under
   * way (asked before a restart of the RSM); else the reads to fail (every one asked under it when
   * {@code ok} is false, no read point; none when it is true: they wait for {@code index}, see
   * {@link #due}).
   */
  List<T> answer(long ctx, boolean ok, long index) {
    if (ctx != this.ctx) return null;
    this.ctx = 0;
    List<T> failed = List.of();
    if (!ok) failed = List.copyOf(asked);
    else ready.computeIfAbsent(index, k -> new ArrayList<>()).addAll(asked);
    asked.clear();
    return failed;
  }

  /** The reads whose read point is at most {@code applied}, in read-point order; no longer kept. */
  List<Due<T>> due(long applied) {
    if (ready.isEmpty() || ready.firstKey() > applied) return List.of();
    List<Due<T>> due = new ArrayList<>();
    while (!ready.isEmpty() && ready.firstKey() <= applied) {
      Map.Entry<Long, List<T>> e = ready.pollFirstEntry();
      for (T r : e.getValue()) due.add(new Due<>(e.getKey(), r));
    }
    return due;
  }

  /** Every read still here (the RSM stops), none kept. */
  List<T> drain() {
    List<T> all = new ArrayList<>(asked);
    ready.values().forEach(all::addAll);
    all.addAll(next);
    asked.clear();
    ready.clear();
    next.clear();
    ctx = 0;
    return all;
  }
}
