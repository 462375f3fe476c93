package io.raftkv.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.raftkv.client.KvClient;
import io.raftkv.client.KvLock;
import io.raftkv.testing.KvLabCluster;
import io.raftkv.testing.LabGroup;
import io.raftkv.testing.LockClients;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The lab's lock tests (kvsrv1/lock, spec §8.5–8.6) for {@link KvLock}.
 *
 * <p>The lab runs them against its single server, here a one-node group as in {@link
 * KvSrvLab2Test}; the four client tests run again against a five-node group ({@code
 * ...FiveServers}), each on its own network (the {@code Unreliable} ones on the lab's unreliable
 * network). The clients follow the lab's 2026 oneClient script (two lock names, random for each
 * run, held together first; then the loop on the first), plus CS162's in-process "in critical
 * section" counter (see {@link LockClients}); the lab's NCLNT = 10 and NSEC = 2 s.
 *
 * <p>{@link #reliableBasic} and {@link #reliableNested} are the 2026 additions. {@link
 * #releaseByADeadlineClerkOutlastsAnOutage} is the regression test for a KvLock bug: with a
 * deadline clerk, a release whose read timed out returned as if the lock were not held.
 */
@Timeout(240)
class KvLockLabTest {
  static final ActorTestKit testKit = ActorTestKit.create();
  static final int NCLNT = 10;
  static final Duration NSEC = Duration.ofSeconds(2);
  /** kvtest.RandValue(12): the lock names of the 2026 tests. */
  static final int NAME_LENGTH = 12;

  @AfterAll
  static void done() {
    testKit.shutdownTestKit();
  }

  static KvLabCluster cluster(int nservers, boolean reliable) {
    // one node: the lab's server keeps only its map, so bound the log as KvSrvLab2Test does
    return new KvLabCluster(testKit, nservers, reliable, nservers == 1 ? KvSrvLab2Test.MAXRAFTSTATE : -1);
  }

  static void runClients(int nservers, boolean reliable, int nclnt) {
    try (KvLabCluster ts = cluster(nservers, reliable)) {
      ts.begin("Test: " + nclnt + " lock clients");
      // the 2026 script: two random lock names for the run; every client holds both at first
      String name1 = ts.group().randString(NAME_LENGTH);
      String name2 = ts.group().randString(NAME_LENGTH);
      int[] iterations = LockClients.run(ts, nclnt, NSEC, name1, name2, "l0", LockClients.Setup.EACH_CLIENT_CREATES);
      System.out.println("  iterations per client: " + Arrays.toString(iterations));
      ts.end();
    }
  }

  @Test
  void oneClientReliable() {
    runClients(1, true, 1);
  }

  @Test
  void manyClientsReliable() {
    runClients(1, true, NCLNT);
  }

  @Test
  void oneClientUnreliable() {
    runClients(1, false, 1);
  }

  @Test
  void manyClientsUnreliable() {
    runClients(1, false, NCLNT);
  }

  @Test
  void oneClientReliableFiveServers() {
    runClients(5, true, 1);
  }

  @Test
  void manyClientsReliableFiveServers() {
    runClients(5, true, NCLNT);
  }

  @Test
  void oneClientUnreliableFiveServers() {
    runClients(5, false, 1);
  }

  @Test
  void manyClientsUnreliableFiveServers() {
    runClients(5, false, NCLNT);
  }

  /** A single Acquire and Release on a random lock name; the key shows the lock held, then free. */
  @Test
  void reliableBasic() {
    try (KvLabCluster ts = cluster(1, true)) {
      ts.begin("Test: a single Acquire and Release");
      KvLabCluster.Clerk ck = ts.makeClerk();
      String name = ts.group().randString(NAME_LENGTH);
      KvLock lk = new KvLock(ck.raw(), name);
      lk.acquire();
      assertHeld(ck, name);
      lk.release();
      assertFree(ck, name);
      ts.end();
    }
  }

  /** One clerk, two locks with random names: differently named locks are held at the same time. */
  @Test
  void reliableNested() {
    try (KvLabCluster ts = cluster(1, true)) {
      ts.begin("Test: one client, two locks");
      KvLabCluster.Clerk ck = ts.makeClerk();
      String a = ts.group().randString(NAME_LENGTH);
      String b = ts.group().randString(NAME_LENGTH);
      KvLock la = new KvLock(ck.raw(), a);
      KvLock lb = new KvLock(ck.raw(), b);
      la.acquire();
      lb.acquire();
      assertHeld(ck, a);
      assertHeld(ck, b);
      lb.release();
      assertFree(ck, b);
      la.release();
      assertFree(ck, a);

      lb.acquire();
      la.acquire();
      la.release();
      la.acquire();
      assertHeld(ck, a);
      assertHeld(ck, b);
      lb.release();
      la.release();
      assertFree(ck, a);
      assertFree(ck, b);
      ts.end();
    }
  }

  /**
   * A clerk with a deadline holds a lock when the server goes down; its release keeps trying
   * (every read times out) and finishes once the server is back, after which another client gets
   * the lock. Reproduces a KvLock bug: release took a timed-out read for "not held" and returned
   * at once, leaving the lock held for ever.
   */
  @Test
  void releaseByADeadlineClerkOutlastsAnOutage() throws Exception {
    try (KvLabCluster ts = cluster(1, true)) {
      ts.begin("Test: release by a clerk with a deadline outlasts an outage");
      KvLabCluster.Clerk ck = ts.makeClerk(new KvClient.Settings(Duration.ofMillis(20), Duration.ofMillis(200)));
      String name = ts.group().randString(8);
      KvLock lk = new KvLock(ck.raw(), name);
      lk.acquire();
      ts.group().shutdownServer(0);
      CompletableFuture<Void> release = ts.async(() -> {
        lk.release();
        return null;
      });
      // an observation window several deadlines long: the release must not give up meanwhile
      LabGroup.sleep(1000);
      assertFalse(release.isDone(), "release returned while every read timed out");
      ts.group().startServer(0);
      ts.group().connectAll();
      release.get(30, TimeUnit.SECONDS);
      KvLabCluster.Clerk other = ts.makeClerk();
      assertFree(other, name);
      KvLock lk2 = new KvLock(other.raw(), name);
      lk2.acquire();
      lk2.release();
      ts.end();
    }
  }

  static void assertHeld(KvLabCluster.Clerk ck, String lock) {
    KvClient.Result r = ck.get(lock);
    assertEquals(KvErr.OK, r.err(), "lock " + lock + " held: its key exists");
    assertNotEquals("", r.value(), "lock " + lock + " held: its key names the holder");
  }

  static void assertFree(KvLabCluster.Clerk ck, String lock) {
    KvClient.Result r = ck.get(lock);
    assertEquals(KvErr.OK, r.err(), "lock " + lock + " released: its key exists");
    assertEquals("", r.value(), "lock " + lock + " released: its key is empty");
  }
}
