package io.raftkv.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.client.KvClient;
import io.raftkv.kv.KvErr;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;

/** The kvraft drivers GenericTest (spec §12.3) and GenericTestSpeed (§12.4). */
public final class KvLabScenarios {
  private KvLabScenarios() {}

  static final int NITER = 3;
  static final Duration T = Duration.ofSeconds(1);
  static final int NKEYS = 100;

  public static void generic(
      ActorTestKit kit,
      String part,
      int nclients,
      int nservers,
      boolean reliable,
      boolean crash,
      boolean partitions,
      int maxRaftState,
      boolean randomKeys) {
    try (KvLabCluster ts = new KvLabCluster(kit, nservers, reliable, maxRaftState)) {
      ts.begin(KvLabCluster.title(part, nclients, crash, partitions, maxRaftState, randomKeys));
      KvLabCluster.Clerk ck = ts.makeClerk();
      List<String> keys = new ArrayList<>();
      if (randomKeys) {
        for (int i = 0; i < NKEYS; i++) keys.add("k" + i);
      } else {
        keys.add("k");
      }
      int[] acc = new int[2];
      boolean reliableMode = reliable && !crash && !partitions;
      for (int iter = 0; iter < NITER; iter++) {
        CompletableFuture<Void> clients =
            ts.async(
                () -> {
                  List<KvLabCluster.ClntRes> res =
                      ts.spawnClientsAndWait(nclients, T, (me, c, done) -> ts.oneClientPut(me, c, keys, randomKeys, done));
                  if (!randomKeys) ts.checkPutConcurrent(ck, "k", res, acc, reliableMode);
                  return null;
                });
        KvLabCluster.Partitioner partitioner = null;
        if (partitions) {
          LabGroup.sleep(1000);
          partitioner = ts.startPartitioner();
        }
        KvLabCluster.join(clients);
        ts.checkPorcupine(part + "-iter" + iter, Duration.ofSeconds(1));
        if (partitions) {
          partitioner.stop();
          ts.group().connectAll();
          LabGroup.sleep(1000);
        }
        if (crash) {
          for (int i = 0; i < nservers; i++) ts.group().shutdownServer(i);
          LabGroup.sleep(1000);
          for (int i = 0; i < nservers; i++) ts.group().startServer(i);
          ts.group().connectAll();
        }
        if (maxRaftState > 0) {
          long sz = ts.group().logSize();
          assertTrue(sz <= 8L * maxRaftState, "logs were not trimmed (" + sz + " > 8*" + maxRaftState + ")");
        }
        if (maxRaftState < 0) {
          assertEquals(0, ts.group().snapshotSize(), "snapshot used when maxraftstate = -1");
        }
      }
      ts.end();
    }
  }

  /** 1000 sequential Puts; returns the mean latency per op in ms. */
  public static double speed(ActorTestKit kit, String part, int maxRaftState) {
    try (KvLabCluster ts = new KvLabCluster(kit, 3, true, maxRaftState)) {
      ts.begin("Test: one client (" + part + ")");
      KvLabCluster.Clerk ck = ts.makeClerk();
      ck.get("x"); // waits for a leader
      int nops = 1000;
      long t0 = System.nanoTime();
      for (int i = 0; i < nops; i++) {
        KvErr err = ck.put("k", Integer.toString(i), i);
        assertEquals(KvErr.OK, err, "put " + i);
      }
      long elapsed = System.nanoTime() - t0;
      KvClient.Result r = ck.get("k");
      assertEquals(KvErr.OK, r.err());
      assertEquals(nops, r.version());
      double perOp = elapsed / 1e6 / nops;
      System.out.printf("  %s: %d puts in %.1f s, %.2f ms/op%n", part, nops, elapsed / 1e9, perOp);
      assertTrue(elapsed <= Duration.ofMillis(nops * 100L / 3).toNanos(), "Operations completed too slowly");
      ts.end();
      return perOp;
    }
  }
}
