package io.raftkv.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.kv.KvErr;
import io.raftkv.kv.KvOp;
import io.raftkv.kv.KvResult;
import io.raftkv.kv.KvCodec;
import io.raftkv.kv.KvStore;
import io.raftkv.rsm.Rsm;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The Clerk against scripted servers: session order, leader hints, backoff, deadlines, Busy. */
@Timeout(60)
class KvClientTest {

  /** One store behind every server; the test decides how each server answers. */
  static final class Servers {
    final KvStore store = new KvStore(100);
    final AtomicIntegerArray tries;

    Servers(int n) {
      tries = new AtomicIntegerArray(n);
    }

    synchronized Rsm.Result execute(KvOp op) {
      return new Rsm.Result.Ok(0, KvCodec.encode(store.apply(op)));
    }

    int total() {
      int t = 0;
      for (int i = 0; i < tries.length(); i++) t += tries.get(i);
      return t;
    }
  }

  private static Executor after(long ms) {
    return CompletableFuture.delayedExecutor(ms, TimeUnit.MILLISECONDS);
  }

  private static KvClient.Result join(CompletionStage<KvClient.Result> s) {
    return s.toCompletableFuture().join();
  }

  @Test
  void concurrentWritesOnOneClientAreAllAppliedOnce() {
    // The first transmission is lost (its server never executes it) and fails after 50 ms; the
    // other write of the same client meanwhile commits. Its retry must not be taken for a copy.
    Servers servers = new Servers(1);
    AtomicBoolean lostOne = new AtomicBoolean();
    ServerCall call =
        (server, op) -> {
          servers.tries.incrementAndGet(server);
          if (op instanceof KvOp.Append && lostOne.compareAndSet(false, true)) {
            return CompletableFuture.supplyAsync(
                () -> {
                  throw new IllegalStateException("lost");
                },
                after(50));
          }
          return CompletableFuture.completedFuture(servers.execute(op));
        };
    KvClient client = new KvClient(call, 1, new KvClient.Settings(Duration.ofMillis(10), Duration.ofSeconds(5)));
    List<CompletableFuture<KvClient.Result>> calls = new ArrayList<>();
    for (int i = 0; i < 8; i++) calls.add(client.append("k", Integer.toString(i)).toCompletableFuture());
    for (CompletableFuture<KvClient.Result> c : calls) assertEquals(KvErr.OK, c.join().err());
    KvClient.Result read = client.getSync("k");
    assertEquals("01234567", read.value(), "each acknowledged append applied once, in call order");
    assertEquals(8, read.version());
  }

  @Test
  void aHintSendsTheNextTryStraightToTheLeader() {
    int n = 5;
    int theLeader = 3;
    Servers servers = new Servers(n);
    ServerCall call =
        (server, op) -> {
          servers.tries.incrementAndGet(server);
          if (server != theLeader) return CompletableFuture.completedFuture(new Rsm.Result.WrongLeader(theLeader));
          return CompletableFuture.completedFuture(servers.execute(op));
        };
    KvClient client = new KvClient(call, n, new KvClient.Settings(Duration.ofMillis(100), Duration.ofSeconds(5)));
    for (int i = 0; i < 20; i++) assertEquals(KvErr.OK, client.appendSync("k", "x").err());
    assertTrue(servers.total() <= 21, "at most one try elsewhere, then the leader: " + servers.total());
    assertEquals(20, servers.tries.get(theLeader));
  }

  @Test
  void withoutAHintItRotatesAndAfterEachFullRoundItBacksOffUntilTheDeadline() {
    int n = 3;
    Servers servers = new Servers(n);
    // no leader anywhere; server 0 and 1 point at each other (stale hints), server 2 is down
    ServerCall call =
        (server, op) -> {
          servers.tries.incrementAndGet(server);
          if (server == 2) return CompletableFuture.failedFuture(new IllegalStateException("down"));
          return CompletableFuture.completedFuture(new Rsm.Result.WrongLeader(1 - server));
        };
    KvClient client =
        new KvClient(
            call, n, new KvClient.Settings(Duration.ofMillis(20), Duration.ofMillis(1000), Duration.ofMillis(200)));
    long start = System.nanoTime();
    KvClient.Result r = join(client.get("k"));
    long ms = (System.nanoTime() - start) / 1_000_000;
    assertEquals(KvErr.Timeout, r.err());
    assertTrue(ms >= 950 && ms < 1500, "the deadline holds: " + ms + " ms");
    // pauses of 20, 40, 80, 160, 200, 200 ... ms (at least half each, with jitter): ~15 rounds
    assertTrue(servers.total() <= 3 * 20, "no tight loop: " + servers.total() + " tries in " + ms + " ms");
    assertTrue(servers.total() >= 3 * 4, "it keeps trying: " + servers.total());
  }

  @Test
  void aTryThatTimedOutOnASlowLeaderIsRetriedAndExecutesOnce() {
    int n = 3;
    Servers servers = new Servers(n);
    AtomicBoolean slowOnce = new AtomicBoolean();
    ServerCall call =
        (server, op) -> {
          servers.tries.incrementAndGet(server);
          if (server != 0) return CompletableFuture.completedFuture(new Rsm.Result.WrongLeader(0));
          if (op instanceof KvOp.Append && slowOnce.compareAndSet(false, true)) {
            // the leader executes it after 150 ms; the per-try timeout gives up at 50 ms
            CompletableFuture.runAsync(() -> servers.execute(op), after(150));
            return CompletableFuture.supplyAsync(
                () -> {
                  throw new IllegalStateException("per-try timeout");
                },
                after(50));
          }
          return CompletableFuture.completedFuture(servers.execute(op));
        };
    KvClient client = new KvClient(call, n, new KvClient.Settings(Duration.ofMillis(100), Duration.ofSeconds(5)));
    assertEquals(KvErr.OK, client.appendSync("k", "x").err());
    assertEquals(KvErr.OK, client.appendSync("k", "y").err());
    assertEquals("xy", client.getSync("k").value());
  }

  @Test
  void busyIsReportedAtOnceWithADeadlineAndRetriedLaterWithout() {
    Servers servers = new Servers(1);
    AtomicInteger busyFor = new AtomicInteger(Integer.MAX_VALUE);
    ServerCall call =
        (server, op) -> {
          servers.tries.incrementAndGet(server);
          if (busyFor.getAndDecrement() > 0) return CompletableFuture.completedFuture(Rsm.Result.Busy.INSTANCE);
          return CompletableFuture.completedFuture(servers.execute(op));
        };
    KvClient withDeadline = new KvClient(call, 1, new KvClient.Settings(Duration.ofMillis(10), Duration.ofSeconds(5)));
    long start = System.nanoTime();
    assertEquals(KvErr.Busy, withDeadline.appendSync("k", "x").err());
    assertEquals(KvErr.Busy, withDeadline.getSync("k").err());
    assertTrue(System.nanoTime() - start < Duration.ofSeconds(1).toNanos(), "a fast answer");
    assertEquals(2, servers.total(), "one try each");
    assertEquals(KvResult.noKey(), servers.store.apply(KvOp.get("k")), "nothing executed");

    // the lab's Clerk (no deadline) waits it out
    busyFor.set(3);
    KvClient forever = new KvClient(call, 1, new KvClient.Settings(Duration.ofMillis(10), null));
    assertEquals(KvErr.OK, forever.appendSync("k", "x").err());
    assertEquals(2 + 4, servers.total());
  }

  @Test
  void busyAfterATryOfUnknownFateIsNotReportedAsBusy() {
    Servers servers = new Servers(1);
    AtomicInteger step = new AtomicInteger();
    ServerCall call =
        (server, op) -> {
          int s = step.getAndIncrement();
          if (s == 0) {
            servers.execute(op); // executed, but the reply is lost
            return CompletableFuture.failedFuture(new IllegalStateException("reply lost"));
          }
          if (s == 1) return CompletableFuture.completedFuture(Rsm.Result.Busy.INSTANCE);
          return CompletableFuture.completedFuture(servers.execute(op));
        };
    KvClient client = new KvClient(call, 1, new KvClient.Settings(Duration.ofMillis(10), Duration.ofSeconds(5)));
    KvClient.Result r = client.appendSync("k", "x");
    assertEquals(KvErr.OK, r.err(), "Busy would tell the caller it did not execute");
    assertEquals("x", client.getSync("k").value());
  }

  @Test
  void aStoppedReplicaIsOneThatKnowsNoLeaderSoTheNextIsTriedAtOnce() {
    // server 0's Raft has stopped; the retry delay is long, so only an immediate next try is fast
    Servers servers = new Servers(2);
    ServerCall call =
        (server, op) -> {
          servers.tries.incrementAndGet(server);
          if (server == 0) return CompletableFuture.completedFuture(Rsm.Result.Stopped.INSTANCE);
          return CompletableFuture.completedFuture(servers.execute(op));
        };
    KvClient client = new KvClient(call, 2, new KvClient.Settings(Duration.ofSeconds(2), Duration.ofSeconds(10)));
    long start = System.nanoTime();
    for (int i = 0; i < 10; i++) assertEquals(KvErr.OK, client.appendSync("k", "x").err());
    assertTrue(System.nanoTime() - start < Duration.ofSeconds(1).toNanos(), "no pause after Stopped");
    assertTrue(servers.tries.get(0) <= 1, "once answered by 1, it stays there: " + servers.tries.get(0));
    assertEquals(10, servers.tries.get(1));
  }

  @Test
  void anOkThatIsNoKvResultCountsAsNoAnswer() {
    Servers servers = new Servers(1);
    AtomicBoolean garbledOnce = new AtomicBoolean();
    ServerCall call =
        (server, op) -> {
          servers.tries.incrementAndGet(server);
          if (garbledOnce.compareAndSet(false, true)) return CompletableFuture.completedFuture(new Rsm.Result.Ok(1, new byte[0]));
          return CompletableFuture.completedFuture(servers.execute(op));
        };
    KvClient client = new KvClient(call, 1, new KvClient.Settings(Duration.ofMillis(10), Duration.ofSeconds(5)));
    assertEquals(KvErr.ErrNoKey, client.getSync("k").err());
    assertEquals(2, servers.total(), "retried once");
  }
}
