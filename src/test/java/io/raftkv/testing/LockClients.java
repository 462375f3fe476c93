package io.raftkv.testing;

import static org.junit.jupiter.api.Assertions.fail;

import io.raftkv.client.KvClient;
import io.raftkv.client.KvLock;
import io.raftkv.kv.KvErr;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Lock clients contending for one {@link KvLock}: the lab's oneClient script (spec §8.6, 2026)
 * merged with CS162's lock_worker (spec §14.2). Each client has its own clerk; with a second lock
 * (the 2026 script) it first acquires the run's lock and the second one, then releases both, which
 * every client does with the same two names at the same time. Then it loops until told to stop:
 *
 * <ol>
 *   <li>acquire;
 *   <li>an in-process "in critical section" counter must go from 0 to 1 (CS162);
 *   <li>Get(checkKey) must be OK and "" ("two clients acquired lock");
 *   <li>Put(checkKey, own id, its version) must be OK or ErrMaybe;
 *   <li>sleep 10 ms; the counter must still be 1 (CS162);
 *   <li>Put(checkKey, "", version+1) must be OK or ErrMaybe (the lab's rule; CS162 also lets
 *       ErrVersion pass, which a correct lock never produces here);
 *   <li>leave the critical section, release.
 * </ol>
 *
 * <p>The clients start together; the run lasts {@code duration} from the moment all have started
 * (CS162 waits for them), then each finishes the iteration it is in, which is the lab's implicit
 * liveness check. Every client must complete at least one iteration. The first failure stops
 * everyone and is rethrown. The check key's Gets and Puts are recorded in the cluster's history;
 * the lock's own traffic is not (KvLock drives the raw KvClient).
 */
public final class LockClients {
  private LockClients() {}

  /** How long clients may take to finish their last iteration once told to stop. */
  static final Duration FINISH_BUDGET = Duration.ofSeconds(120);

  /** How the check key comes to exist. */
  public enum Setup {
    /** Each client first does Put(checkKey, "", 0) and ignores the answer (the lab). */
    EACH_CLIENT_CREATES,
    /** One PutAtLeastOnce(checkKey, "", 0) before the clients start (CS162). */
    CREATED_ONCE
  }

  /** Runs {@code nclients} lock clients; returns the iterations each completed. */
  public static int[] run(
      KvLabCluster ts, int nclients, Duration duration, String lockName, String checkKey, Setup setup) {
    return run(ts, nclients, duration, lockName, null, checkKey, setup);
  }

  /**
   * Runs {@code nclients} lock clients that each first hold {@code lockName} and {@code otherLock}
   * together (unless {@code otherLock} is null); returns the iterations each completed.
   */
  public static int[] run(
      KvLabCluster ts,
      int nclients,
      Duration duration,
      String lockName,
      String otherLock,
      String checkKey,
      Setup setup) {
    if (setup == Setup.CREATED_ONCE) {
      KvLabCluster.Clerk ck = ts.makeClerk();
      ts.putAtLeastOnce(ck, checkKey, "", 0);
      ck.delete();
    }
    AtomicBoolean done = new AtomicBoolean();
    AtomicInteger inCs = new AtomicInteger();
    CompletableFuture<Void> failed = new CompletableFuture<>(); // completes with the first failure
    AtomicInteger starting = new AtomicInteger(nclients);
    CompletableFuture<Void> allStarted = new CompletableFuture<>();
    int[] completed = new int[nclients];
    ExecutorService pool = Executors.newFixedThreadPool(nclients);
    List<CompletableFuture<Void>> clients = new ArrayList<>();
    try {
      for (int i = 0; i < nclients; i++) {
        int me = i;
        KvLabCluster.Clerk ck = ts.makeClerk();
        clients.add(
            CompletableFuture.runAsync(
                () -> {
                  try {
                    KvLock lk = new KvLock(ck.raw(), lockName);
                    if (otherLock != null) {
                      KvLock lk2 = new KvLock(ck.raw(), otherLock);
                      lk.acquire();
                      lk2.acquire();
                      lk.release();
                      lk2.release();
                    }
                    if (setup == Setup.EACH_CLIENT_CREATES) ck.put(checkKey, "", 0);
                    if (starting.decrementAndGet() == 0) allStarted.complete(null);
                    while (!done.get()) {
                      oneIteration(me, ck, lk, checkKey, inCs);
                      completed[me]++;
                    }
                  } catch (Throwable t) {
                    done.set(true);
                    failed.completeExceptionally(t);
                  } finally {
                    ck.delete();
                  }
                },
                pool));
      }
      // the run lasts `duration` once every client has started, or until one fails
      long t0 = System.nanoTime();
      waitFor(CompletableFuture.anyOf(allStarted, failed), FINISH_BUDGET, "lock clients did not start");
      System.out.printf("  %d lock clients ready after %d ms%n", nclients, (System.nanoTime() - t0) / 1_000_000);
      if (!failed.isDone()) waitFor(failed, duration, null);
      done.set(true);
      CompletableFuture<Void> all = CompletableFuture.allOf(clients.toArray(CompletableFuture[]::new));
      waitFor(CompletableFuture.anyOf(all, failed), FINISH_BUDGET, "lock clients did not finish their iterations");
      failed.complete(null); // no failure: now nothing can fail any more
      failed.join(); // rethrows a failure
    } catch (CompletionException e) {
      if (e.getCause() instanceof AssertionError a) throw a;
      throw e;
    } finally {
      done.set(true);
      pool.shutdownNow(); // after a failure: wake clients spinning in acquire
    }
    for (int i = 0; i < nclients; i++) {
      if (completed[i] < 1) fail("lock client " + i + " completed no iteration");
    }
    return completed;
  }

  /** Waits for {@code f} up to {@code d}; on timeout fails with {@code message}, or returns if none. */
  private static void waitFor(CompletableFuture<?> f, Duration d, String message) {
    try {
      f.get(d.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      if (message != null) fail(message + " within " + d.toSeconds() + " s");
    } catch (ExecutionException e) {
      throw new CompletionException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static void oneIteration(int me, KvLabCluster.Clerk ck, KvLock lk, String checkKey, AtomicInteger inCs) {
    lk.acquire();
    int prev = inCs.getAndIncrement();
    if (prev != 0) fail(me + ": entered critical section with " + prev + " holder(s)");
    KvClient.Result r = ck.get(checkKey);
    if (r.err() != KvErr.OK) fail(me + ": get(" + checkKey + ") failed: " + r.err());
    if (!r.value().isEmpty()) fail(me + ": two clients acquired lock, value " + r.value());
    String id = Integer.toString(me);
    KvErr err = ck.put(checkKey, id, r.version());
    if (err != KvErr.OK && err != KvErr.ErrMaybe) fail(me + ": put failed: " + err);
    LabGroup.sleep(10);
    int mid = inCs.get();
    if (mid != 1) fail(me + ": another client entered the critical section (" + mid + " inside)");
    err = ck.put(checkKey, "", r.version() + 1);
    if (err != KvErr.OK && err != KvErr.ErrMaybe) fail(me + ": clear failed: " + err);
    inCs.decrementAndGet();
    lk.release();
  }
}
