package io.raftkv.rsm;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.LongPredicate;
import java.util.function.Predicate;

/**
 * The RSM's submits in flight and its admission control: each submit is admitted or refused (see
 * {@link Rsm.Admission}), waits for Raft's {@link io.raftkv.raft.Proposal} (Raft answers Starts in order), then for the
 * entry at the index Raft gave it, until it is applied or given up on. Pure bookkeeping: the RSM
 * talks to Raft and answers the submits this class hands back.
 *
 * @param <T> where a submit's answer goes
 */
final class PendingSubmits<T> {
  /** Pending submit {@code id}, proposed in {@code term} (0 until Raft answered), {@code bytes} of op. */
  record Pending<T>(long id, long term, int bytes, T replyTo) {}

  private final Rsm.Admission admission;
  /** Submits whose Start is out, in the order sent. */
  private final ArrayDeque<Pending<T>> starting = new ArrayDeque<>();
  /** Submits Raft accepted, by the index it gave them. */
  private final Map<Long, Pending<T>> waiting = new HashMap<>();
  /** Bytes of the ops in {@code starting} and {@code waiting}. */
  private long bytes;

  PendingSubmits(Rsm.Admission admission) {
    this.admission = admission;
  }

  /**
   * Admits submit {@code id} of {@code opBytes} bytes (it waits for Raft's answer), or refuses it
   * (false: too much in flight). A single op over the byte limit is admitted when nothing else is
   * in flight, so no op is refused forever.
   */
  boolean admit(long id, int opBytes, T replyTo) {
    int inflight = starting.size() + waiting.size();
    if (inflight >= admission.maxProposals() || (inflight > 0 && bytes + opBytes > admission.maxBytes())) return false;
    starting.addLast(new Pending<>(id, 0, opBytes, replyTo));
    bytes += opBytes;
    return true;
  }

  /**
   * Raft answered the oldest Start out: returns that submit (null if none), which no longer
   * counts as in flight unless the caller hands it back to {@link #accepted}.
   */
  Pending<T> started() {
    Pending<T> p = starting.pollFirst();
    if (p != null) bytes -= p.bytes();
    return p;
  }

  /**
   * Raft accepted {@code p} at {@code index} in {@code term}: it waits for that entry. Returns the
   * submit that waited at that index before (a later term reused it), no longer in flight, or null.
   */
  Pending<T> accepted(Pending<T> p, long index, long term) {
    bytes += p.bytes();
    Pending<T> old = waiting.put(index, new Pending<>(p.id(), term, p.bytes(), p.replyTo()));
    if (old != null) bytes -= old.bytes();
    return old;
  }

  /** The entry at {@code index} is applied: the submit that waited for it, no longer in flight, or null. */
  Pending<T> applied(long index) {
    Pending<T> p = waiting.remove(index);
    if (p != null) bytes -= p.bytes();
    return p;
  }

  /** Gives up on the waiting submits at an index {@code where} accepts that {@code which} accepts. */
  List<Pending<T>> giveUp(LongPredicate where, Predicate<Pending<T>> which) {
    List<Pending<T>> given = new ArrayList<>();
    Iterator<Map.Entry<Long, Pending<T>>> it = waiting.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<Long, Pending<T>> e = it.next();
      if (where.test(e.getKey()) && which.test(e.getValue())) {
        bytes -= e.getValue().bytes();
        given.add(e.getValue());
        it.remove();
      }
    }
    return given;
  }

  /** Every submit in flight (the RSM stops): those starting in order, then the waiting ones. */
  List<Pending<T>> drain() {
    List<Pending<T>> all = new ArrayList<>(starting);
    all.addAll(waiting.values());
    starting.clear();
    waiting.clear();
    bytes = 0;
    return all;
  }

  /** How many are in flight (starting or waiting). */
  int size() {
    return starting.size() + waiting.size();
  }

  /** Bytes of their ops. */
  long bytes() {
    return bytes;
  }
}
