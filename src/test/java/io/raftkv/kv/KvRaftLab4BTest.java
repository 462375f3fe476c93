package io.raftkv.kv;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import io.raftkv.client.KvClient;
import io.raftkv.testing.KvLabCluster;
import io.raftkv.testing.KvLabScenarios;
import io.raftkv.testing.LabGroup;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The lab's fault-tolerant KV tests, part 4B (spec §12.5–12.6). */
@Timeout(240)
class KvRaftLab4BTest {
  static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void done() {
    testKit.shutdownTestKit();
  }

  @Test
  void basic4B() {
    KvLabScenarios.generic(testKit, "4B basic", 1, 5, true, false, false, -1, false);
  }

  @Test
  void speed4B() {
    KvLabScenarios.speed(testKit, "4B speed", -1);
  }

  @Test
  void concurrent4B() {
    KvLabScenarios.generic(testKit, "4B many clients", 5, 5, true, false, false, -1, false);
  }

  @Test
  void unreliable4B() {
    KvLabScenarios.generic(testKit, "4B many clients", 5, 5, false, false, false, -1, false);
  }

  @Test
  void onePartition4B() throws Exception {
    try (KvLabCluster ts = new KvLabCluster(testKit, 5, false, -1)) {
      ts.begin("Test: one client (4B progress in majority)");
      KvLabCluster.Clerk ck = ts.makeClerk();
      long ver0 = ts.putAtLeastOnce(ck, "1", "13", 0);
      int l = -1;
      while (l < 0) {
        l = ts.leader();
        if (l < 0) LabGroup.sleep(50);
      }
      int[][] p = ts.group().makePartition(l);
      ts.group().partition(p[0], p[1]);
      KvLabCluster.Clerk ckp1 = ts.makeClerkTo(p[0]);
      KvLabCluster.Clerk ckp2a = ts.makeClerkTo(p[1]);
      KvLabCluster.Clerk ckp2b = ts.makeClerkTo(p[1]);
      long ver1 = ts.putAtLeastOnce(ckp1, "1", "14", ver0);
      ts.checkGet(ckp1, "1", "14", ver1);
      ts.end();

      ts.begin("Test: no progress in minority (4B)");
      CompletableFuture<Long> put = ts.async(() -> ts.putAtLeastOnce(ckp2a, "1", "15", ver1));
      CompletableFuture<KvClient.Result> get = ts.async(() -> ckp2b.get("1"));
      LabGroup.sleep(1000);
      assertFalse(put.isDone(), "Put in minority completed");
      assertFalse(get.isDone(), "Get in minority completed");
      ts.checkGet(ckp1, "1", "14", ver1);
      long ver2 = ts.putAtLeastOnce(ckp1, "1", "16", ver1);
      ts.checkGet(ckp1, "1", "16", ver2);
      ts.end();

      ts.begin("Test: completion after heal (4B)");
      ts.group().connectAll();
      ckp2a.connectAll();
      ckp2b.connectAll();
      LabGroup.sleep(1000);
      long ver15;
      try {
        ver15 = put.get(3, TimeUnit.SECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        fail("Put did not complete");
        return;
      }
      // the lab polls the minority Get without waiting for it
      ts.checkGet(ck, "1", "15", ver15);
      ts.end();
    }
  }

  @Test
  void manyPartitionsOneClient4B() {
    KvLabScenarios.generic(testKit, "4B partitions, one client", 1, 5, true, false, true, -1, false);
  }

  @Test
  void manyPartitionsManyClients4B() {
    KvLabScenarios.generic(testKit, "4B partitions, many clients (4B)", 5, 5, true, false, true, -1, false);
  }

  @Test
  void persistOneClient4B() {
    KvLabScenarios.generic(testKit, "4B restarts, one client 4B", 1, 5, true, true, false, -1, false);
  }

  @Test
  void persistConcurrent4B() {
    KvLabScenarios.generic(testKit, "4B restarts, many clients", 5, 5, true, true, false, -1, false);
  }

  @Test
  void persistConcurrentUnreliable4B() {
    KvLabScenarios.generic(testKit, "4B restarts, many clients", 5, 5, false, true, false, -1, false);
  }

  @Test
  void persistPartition4B() {
    KvLabScenarios.generic(testKit, "4B restarts, partitions, many clients", 5, 5, true, true, true, -1, false);
  }

  @Test
  void persistPartitionUnreliable4B() {
    KvLabScenarios.generic(testKit, "4B restarts, partitions, many clients", 5, 5, false, true, true, -1, false);
  }

  @Test
  void persistPartitionUnreliableLinearizable4B() {
    KvLabScenarios.generic(
        testKit, "4B restarts, partitions, random keys, many clients", 15, 7, false, true, true, -1, true);
  }
}
