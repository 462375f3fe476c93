package io.raftkv.server;

import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The connection slots of one HTTP server, shared by its connections' {@link ConnectionGuard}s: at
 * most {@code max} connections are served. A new connection beyond that takes the slot of the
 * connection that has waited longest for a request head (idle since it connected, or trickling
 * one), which is closed; only when every connection is busy with a request is the new one
 * refused, at once. So slow clients cannot hold a node: each new client pushes one out.
 * Thread-safe.
 */
final class ConnectionSlots {
  /** A connection that can be told to close (from any thread). */
  interface Evictable {
    void evict();
  }

  private final int max;
  private final AtomicInteger open = new AtomicInteger();
  private final AtomicLong order = new AtomicLong();
  /** Connections waiting for a request head, oldest first. */
  private final ConcurrentSkipListMap<Long, Evictable> waiting = new ConcurrentSkipListMap<>();

  ConnectionSlots(int max) {
    if (max < 1) throw new IllegalArgumentException("max must be positive");
    this.max = max;
  }

  /**
   * Whether a new connection may be served: a free slot, or one taken from the connection waiting
   * longest for a head (told to close). On true the caller must call {@link #release} when it ends.
   */
  boolean admit() {
    while (true) {
      int n = open.get();
      if (n < max) {
        if (open.compareAndSet(n, n + 1)) return true;
        continue;
      }
      Map.Entry<Long, Evictable> oldest = waiting.pollFirstEntry();
      if (oldest == null) return false;
      oldest.getValue().evict(); // its release() frees a slot soon; this one is served meanwhile
      open.incrementAndGet();
      return true;
    }
  }

  void release() {
    open.decrementAndGet();
  }

  /** {@code c} starts waiting for a request head; returns the ticket to {@link #stopWaiting} with. */
  long startWaiting(Evictable c) {
    long ticket = order.incrementAndGet();
    waiting.put(ticket, c);
    return ticket;
  }

  void stopWaiting(long ticket) {
    waiting.remove(ticket);
  }

  int open() {
    return open.get();
  }
}
