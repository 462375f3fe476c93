package io.raftkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The node's budget of log lines about misbehaving clients, on a hand-driven clock. */
class LogLimiterTest {
  static final long MS = 1_000_000;

  @Test
  void aBurstOfTheRateThenOnePerIntervalAndTheSuppressedAreCounted() {
    AtomicLong now = new AtomicLong(0);
    LogLimiter limiter = new LogLimiter(3, now::get);
    assertEquals(0, limiter.tryAcquire());
    assertEquals(0, limiter.tryAcquire());
    assertEquals(0, limiter.tryAcquire());
    for (int i = 0; i < 100; i++) assertEquals(-1, limiter.tryAcquire(), "over the burst");
    assertEquals(100, limiter.suppressed());
    now.addAndGet(200 * MS); // 0.6 of a token
    assertEquals(-1, limiter.tryAcquire());
    now.addAndGet(200 * MS); // 1.2 tokens
    assertEquals(101, limiter.tryAcquire(), "the next line says how many were held back");
    assertEquals(0, limiter.suppressed());
    now.addAndGet(10_000 * MS); // a long quiet: the bucket refills to the rate, no more
    for (int i = 0; i < 3; i++) assertEquals(0, limiter.tryAcquire());
    assertEquals(-1, limiter.tryAcquire());
  }
}
