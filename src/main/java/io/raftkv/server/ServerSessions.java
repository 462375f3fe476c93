package io.raftkv.server;

import io.raftkv.kv.KvOp;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Sessions for writes that come without one. The store keeps one seq per session and takes any
 * op at or below it for a retransmission, so a session serves one write at a time: a write
 * borrows an idle session (or a new one) and gives it back once answered. A write that timed
 * out may still commit later; if the session has moved on by then, its seq is below the
 * session's newest and the store refuses it as stale, which its 504 answer allowed.
 *
 * <p>Thread-safe and lock-free; there are as many sessions as the most writes ever in flight at once.
 */
final class ServerSessions {
  /** One session; {@code seq} is the last seq handed out. */
  record Session(long clientId, AtomicLong seq) {
    long nextSeq() {
      return seq.incrementAndGet();
    }
  }

  private final ConcurrentLinkedDeque<Session> idle = new ConcurrentLinkedDeque<>();

  /** An idle session, or a new one with a random non-zero client id. */
  Session borrow() {
    Session s = idle.pollFirst();
    if (s != null) return s;
    long id;
    do {
      id = ThreadLocalRandom.current().nextLong();
    } while (id == KvOp.NO_CLIENT);
    return new Session(id, new AtomicLong());
  }

  /** Most recently used first, so a quiet node keeps using few sessions. */
  void giveBack(Session s) {
    idle.offerFirst(s);
  }
}
