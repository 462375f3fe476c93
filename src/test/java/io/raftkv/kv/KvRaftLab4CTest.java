package io.raftkv.kv;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.testing.KvLabCluster;
import io.raftkv.testing.KvLabScenarios;
import io.raftkv.testing.LabGroup;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The lab's fault-tolerant KV tests, part 4C: snapshots (spec §12.5, §12.7–12.8). */
@Timeout(240)
class KvRaftLab4CTest {
  static final ActorTestKit testKit = ActorTestKit.create();
  static final int MAXRAFTSTATE = 1000;

  @AfterAll
  static void done() {
    testKit.shutdownTestKit();
  }

  @Test
  void snapshotRPC4C() {
    try (KvLabCluster ts = new KvLabCluster(testKit, 3, true, MAXRAFTSTATE)) {
      ts.begin("Test: snapshots, one client (4C SnapshotsRPC)");
      KvLabCluster.Clerk ck = ts.makeClerk();
      ts.end();
      ts.begin("Test: InstallSnapshot RPC (4C)");
      long vera = ts.putAtLeastOnce(ck, "a", "A", 0);
      ts.checkGet(ck, "a", "A", vera);

      ts.group().partition(new int[] {0, 1}, new int[] {2});
      KvLabCluster.Clerk ck1 = ts.makeClerkTo(new int[] {0, 1});
      for (int i = 0; i < 50; i++) ts.putAtLeastOnce(ck1, Integer.toString(i), Integer.toString(i), 0);
      LabGroup.sleep(1000);
      long verb = ts.putAtLeastOnce(ck1, "b", "B", 0);

      long sz = ts.group().logSize();
      assertTrue(sz <= 8L * MAXRAFTSTATE, "logs were not trimmed (" + sz + " > 8*" + MAXRAFTSTATE + ")");

      ts.group().partition(new int[] {0, 2}, new int[] {1});
      KvLabCluster.Clerk ck2 = ts.makeClerkTo(new int[] {0, 2});
      long verc = ts.putAtLeastOnce(ck2, "c", "C", 0);
      ts.putAtLeastOnce(ck2, "d", "D", 0);
      ts.checkGet(ck2, "a", "A", vera);
      ts.checkGet(ck2, "b", "B", verb);
      ts.checkGet(ck2, "1", "1", 1);
      ts.checkGet(ck2, "49", "49", 1);

      ts.group().partition(new int[] {0, 1, 2}, new int[] {});
      long vere = ts.putAtLeastOnce(ck, "e", "E", 0);
      ts.checkGet(ck, "c", "C", verc);
      ts.checkGet(ck, "e", "E", vere);
      ts.checkGet(ck, "1", "1", 1);
      ts.end();
    }
  }

  @Test
  void snapshotSize4C() {
    try (KvLabCluster ts = new KvLabCluster(testKit, 3, true, MAXRAFTSTATE)) {
      ts.begin("Test: snapshots, one client (4C snapshot size is reasonable)");
      KvLabCluster.Clerk ck = ts.makeClerk();
      long ver = 0;
      for (int i = 0; i < 200; i++) {
        ver = ts.putAtLeastOnce(ck, "x", "0", ver);
        ts.checkGet(ck, "x", "0", ver);
        ver = ts.putAtLeastOnce(ck, "x", "1", ver);
        ts.checkGet(ck, "x", "1", ver);
      }
      long log = ts.group().logSize();
      assertTrue(log <= 8L * MAXRAFTSTATE, "logs were not trimmed (" + log + " > 8*" + MAXRAFTSTATE + ")");
      long snap = ts.group().snapshotSize();
      assertTrue(snap <= 500, "snapshot too large (" + snap + " > 500)");
      System.out.printf("  log %d bytes, snapshot %d bytes%n", log, snap);
      ts.end();
    }
  }

  @Test
  void speed4C() {
    KvLabScenarios.speed(testKit, "4C speed", MAXRAFTSTATE);
  }

  @Test
  void snapshotRecover4C() {
    KvLabScenarios.generic(testKit, "4C restarts, snapshots, one client", 1, 5, true, true, false, MAXRAFTSTATE, false);
  }

  @Test
  void snapshotRecoverManyClients4C() {
    KvLabScenarios.generic(
        testKit, "4C restarts, snapshots, many clients", 20, 5, true, true, false, MAXRAFTSTATE, false);
  }

  @Test
  void snapshotUnreliable4C() {
    KvLabScenarios.generic(
        testKit, "4C unreliable net, snapshots, many clients", 5, 5, false, false, false, MAXRAFTSTATE, false);
  }

  @Test
  void snapshotUnreliableRecover4C() {
    KvLabScenarios.generic(
        testKit, "4C unreliable net, restarts, snapshots, many clients", 5, 5, false, true, false, MAXRAFTSTATE, false);
  }

  @Test
  void snapshotUnreliableRecoverConcurrentPartition4C() {
    KvLabScenarios.generic(
        testKit,
        "4C unreliable net, restarts, partitions, snapshots, many clients",
        5,
        5,
        false,
        true,
        true,
        MAXRAFTSTATE,
        false);
  }

  @Test
  void snapshotUnreliableRecoverConcurrentPartitionLinearizable4C() {
    KvLabScenarios.generic(
        testKit,
        "4C unreliable net, restarts, partitions, snapshots, random keys, many clients",
        15,
        7,
        false,
        true,
        true,
        MAXRAFTSTATE,
        true);
  }
}
