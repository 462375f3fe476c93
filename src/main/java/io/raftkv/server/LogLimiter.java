package io.raftkv.server;

import java.util.function.LongSupplier;

/**
 * A token bucket for log lines: at most {@code perSecond} lines a second (and as many in a burst),
 * counting the lines it turned away so that the next line it lets through can say how many there
 * were. One per node, shared by all its connections: a flood of misbehaving clients costs the log a
 * few lines a second, not one line each.
 *
 * <p>Thread-safe (connections log from any thread); the clock is injected for tests.
 */
final class LogLimiter {
  private final int perSecond;
  private final LongSupplier nanoTime;
  private double tokens; // guarded by this
  private long lastRefill; // guarded by this
  private long suppressed; // guarded by this; lines refused since the last one let through

  LogLimiter(int perSecond, LongSupplier nanoTime) {
    if (perSecond < 1) throw new IllegalArgumentException("perSecond must be positive: " + perSecond);
    this.perSecond = perSecond;
    this.nanoTime = nanoTime;
    this.tokens = perSecond;
    this.lastRefill = nanoTime.getAsLong();
  }

  LogLimiter(int perSecond) {
    this(perSecond, System::nanoTime);
  }

  /**
   * Asks to log one line.
   *
   * @return -1 if the line must not be logged; otherwise how many lines were refused since the last
   *     one let through (to be mentioned in this one)
   */
  synchronized long tryAcquire() {
    long now = nanoTime.getAsLong();
    tokens = Math.min(perSecond, tokens + (now - lastRefill) * perSecond / 1e9);
    lastRefill = now;
    if (tokens < 1) {
      suppressed++;
      return -1;
    }
    tokens -= 1;
    long s = suppressed;
    suppressed = 0;
    return s;
  }

  /** Lines refused since the last one let through. */
  synchronized long suppressed() {
    return suppressed;
  }
}
