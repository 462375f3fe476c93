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
 * {@link Rsm.Admission}), waits for Raft's StartResult (Raft answers Starts in order), then for the
 * entry at the index Raft gave it, until it is applied or given up on. Pure bookkeeping: the RSM
 * talks to Raft and answers the proposals this class hands back.
 *
 * @param <T> where a proposal's answer goes
 */
final class Proposals<T> {
  /** Submit {@code id}, proposed in {@code term} (0 until Raft answered), {@code bytes} of op. */
  record Proposal<T>(long id, long term, int bytes, T replyTo) {}

  private final Rsm.Admission admission;
  /** Submits whose Start is out, in the order sent. */
  private final ArrayDeque<Proposal<T>> starting = new ArrayDeque<>();
  /** Submits Raft accepted, by the index it gave them. */
  private final Map<Long, Proposal<T>> waiting = new HashMap<>();
  /** Bytes of the ops in {@code starting} and {@code waiting}. */
  private long bytes;

  Proposals(Rsm.Admission admission) {
    this.admission = admission;
  }

  /**
   * Admits submit {@code id} of {@code opBytes} bytes (it waits for its StartResult), or refuses it
   * (false: too much in flight). A single op over the byte limit is admitted when nothing else is
   * in flight, so no op is refused forever.
   */
  boolean admit(long id, int opBytes, T replyTo) {
    int inflight = starting.size() + waiting.size();
    if (inflight >= admission.maxProposals() || (inflight > 0 && bytes + opBytes > admission.maxBytes())) return false;
    starting.addLast(new Proposal<>(id, 0, opBytes, replyTo));
    bytes += opBytes;
    return true;
  }

  /**
   * Raft answered the oldest Start out: returns that proposal (null if none), which no longer
   * counts as in flight unless the caller hands it back to {@link #accepted}.
   */
  Proposal<T> started() {
    Proposal<T> p = starting.pollFirst();
    if (p != null) bytes -= p.bytes();
    return p;
  }

  /**
   * Raft accepted {@code p} at {@code index} in {@code term}: it waits for that entry. Returns the
   * proposal that waited at that index before (a later term reused it), no longer in flight, or null.
   */
  Proposal<T> accepted(Proposal<T> p, long index, long term) {
    bytes += p.bytes();
    Proposal<T> old = waiting.put(index, new Proposal<>(p.id(), term, p.bytes(), p.replyTo()));
    if (old != null) bytes -= old.bytes();
    return old;
  }

  /** The entry at {@code index} is applied: the proposal that waited for it, no longer in flight, or null. */
  Proposal<T> applied(long index) {
    Proposal<T> p = waiting.remove(index);
    if (p != null) bytes -= p.bytes();
    return p;
  }

  /** Gives up on the waiting proposals at an index {@code where} accepts that {@code which} accepts. */
  List<Proposal<T>> giveUp(LongPredicate where, Predicate<Proposal<T>> which) {
    List<Proposal<T>> given = new ArrayList<>();
    Iterator<Map.Entry<Long, Proposal<T>>> it = waiting.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<Long, Proposal<T>> e = it.next();
      if (where.test(e.getKey()) && which.test(e.getValue())) {
        bytes -= e.getValue().bytes();
        given.add(e.getValue());
        it.remove();
      }
    }
    return given;
  }

  /** Every proposal in flight (the RSM stops): those starting in order, then the waiting ones. */
  List<Proposal<T>> drain() {
    List<Proposal<T>> all = new ArrayList<>(starting);
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
