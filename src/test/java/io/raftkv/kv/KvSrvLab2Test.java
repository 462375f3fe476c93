package io.raftkv.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.raftkv.client.KvClient;
import io.raftkv.testing.KvLabCluster;
import io.raftkv.testing.LabGroup;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Lab 2's KV tests (kvsrv1, spec §8.4). The lab's single server becomes a one-node replicated group,
 * which snapshots so that its log stays small like the lab server's state.
 */
@Timeout(240)
class KvSrvLab2Test {
  static final ActorTestKit testKit = ActorTestKit.create();
  /** A one-node group with a bounded log: the lab's server keeps only the map. */
  static final int MAXRAFTSTATE = 64 * 1024;

  @AfterAll
  static void done() {
    testKit.shutdownTestKit();
  }

  @Test
  void reliablePut() {
    try (KvLabCluster ts = new KvLabCluster(testKit, 1, true, MAXRAFTSTATE)) {
      ts.begin("One client and reliable Put");
      KvLabCluster.Clerk ck = ts.makeClerk();
      assertEquals(KvErr.OK, ck.put("k", "6.5840", 0));
      ts.checkGet(ck, "k", "6.5840", 1);
      assertEquals(KvErr.ErrVersion, ck.put("k", "6.5840", 0));
      assertEquals(KvErr.ErrNoKey, ck.put("y", "6.5840", 1));
      assertEquals(KvErr.ErrNoKey, ck.get("y").err());
      ts.end();
    }
  }

  @Test
  void putConcurrentReliable() {
    try (KvLabCluster ts = new KvLabCluster(testKit, 1, true, MAXRAFTSTATE)) {
      ts.begin("Test: many clients racing to put values to the same key");
      List<KvLabCluster.ClntRes> res =
          ts.spawnClientsAndWait(10, Duration.ofSeconds(1), (me, ck, done) -> ts.oneClientPut(me, ck, List.of("k"), false, done));
      KvLabCluster.Clerk ck = ts.makeClerk();
      ts.checkPutConcurrent(ck, "k", res, new int[2], true);
      ts.checkPorcupine("putConcurrentReliable", Duration.ofSeconds(10));
      ts.end();
    }
  }

  @Test
  void unreliableNet() {
    try (KvLabCluster ts = new KvLabCluster(testKit, 1, false, MAXRAFTSTATE)) {
      ts.begin("One client");
      KvLabCluster.Clerk ck = ts.makeClerk();
      boolean retried = false;
      for (int attempt = 0; attempt < 100; attempt++) {
        for (int i = 0; ; i++) {
          KvErr err = ck.put("k", Integer.toString(i), attempt);
          if (err != KvErr.ErrMaybe) {
            if (i > 0 && err != KvErr.ErrVersion) fail("Put shouldn't have happened more than once " + err);
            break;
          }
          retried = true; // the put may or may not have happened; retrying at this version must see ErrVersion
        }
        KvClient.Result r = ck.get("k");
        assertEquals(KvErr.OK, r.err());
        assertEquals(attempt + 1, r.version(), "version after try " + attempt);
        assertEquals("0", r.value(), "only the first attempt's write survives");
      }
      assertTrue(retried, "Clerk.Put never returned ErrMaybe");
      ts.checkPorcupine("unreliableNet", Duration.ofSeconds(1));
      ts.end();
    }
  }

  /**
   * TestMemPutManyClientsReliable: 100,000 clerks each put once; the server may grow by at most 200
   * bytes per client. Heap is measured in a JVM of its own ({@link MemPutManyClients}), where
   * nothing else allocates.
   */
  @Test
  @Timeout(300)
  void memPutManyClientsReliable() throws Exception {
    Process p =
        new ProcessBuilder(
                ProcessHandle.current().info().command().orElse("java"),
                "-Xmx1g",
                "-Djava.util.concurrent.ForkJoinPool.common.parallelism=4",
                "-cp",
                System.getProperty("java.class.path"),
                MemPutManyClients.class.getName(),
                "100000")
            .redirectErrorStream(true)
            .start();
    StringBuilder out = new StringBuilder();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        System.out.println("  [mem] " + line);
        out.append(line).append('\n');
      }
    } finally {
      if (!p.waitFor(280, TimeUnit.SECONDS)) p.destroyForcibly();
    }
    assertEquals(0, p.exitValue(), "memory test child failed:\n" + out);
    assertTrue(out.toString().contains("PASS"), out.toString());
  }

  static void sleep(long ms) {
    LabGroup.sleep(ms);
  }
}
