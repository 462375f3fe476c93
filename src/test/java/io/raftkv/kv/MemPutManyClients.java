package io.raftkv.kv;

import io.raftkv.client.KvClient;
import io.raftkv.testing.KvLabCluster;
import java.util.SplittableRandom;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;

/**
 * The body of TestMemPutManyClientsReliable (spec §8.4), run in a JVM of its own so that the heap
 * it measures is the service's. Prints PASS or FAIL with the figures; exit code 0 either way unless
 * something broke.
 */
public final class MemPutManyClients {
  public static void main(String[] args) throws Exception {
    int nclients = Integer.parseInt(args[0]);
    ActorTestKit kit = ActorTestKit.create();
    long t0 = System.nanoTime();
    try (KvLabCluster ts = new KvLabCluster(kit, 1, true, KvSrvLab2Test.MAXRAFTSTATE)) {
      // The clerks' first puts are independent of each other: issue them from several threads.
      KvClient[] clerks = new KvClient[nclients];
      java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(32);
      java.util.List<java.util.concurrent.Future<?>> started = new java.util.ArrayList<>();
      for (int t = 0; t < 32; t++) {
        int first = t;
        started.add(
            pool.submit(
                () -> {
                  for (int i = first; i < nclients; i += 32) {
                    KvClient ck = ts.makeClerk().raw();
                    KvClient.Result r = ck.putSync("k", "", 1);
                    if (r.err() != KvErr.ErrNoKey) throw new AssertionError("first put: " + r);
                    clerks[i] = ck;
                  }
                }));
      }
      for (java.util.concurrent.Future<?> f : started) f.get();
      pool.shutdown();
      ts.begin("Test: memory use many put clients");
      Thread.sleep(1000);
      long m0 = heapInUse();
      SplittableRandom rnd = new SplittableRandom(1);
      for (int i = 0; i < nclients; i++) {
        KvClient.Result r = clerks[i].putSync("k", randValue(rnd, 1000), i);
        if (r.err() != KvErr.OK) throw new AssertionError("put " + i + ": " + r);
      }
      System.gc();
      Thread.sleep(1000);
      long m1 = heapInUse();
      long allowed = (long) nclients * 200;
      long secs = (System.nanoTime() - t0) / 1_000_000_000L;
      System.out.printf("m0 %d bytes, m1 %d bytes, growth %d (allowed %d), %d s%n", m0, m1, m1 - m0, allowed, secs);
      System.out.println(m1 <= m0 + allowed && secs <= 120 ? "PASS" : "FAIL");
      ts.end();
    } finally {
      kit.shutdownTestKit();
    }
    System.exit(0);
  }

  private static long heapInUse() {
    Runtime rt = Runtime.getRuntime();
    System.gc();
    System.gc();
    return rt.totalMemory() - rt.freeMemory();
  }

  private static String randValue(SplittableRandom rnd, int n) {
    StringBuilder b = new StringBuilder(n);
    for (int i = 0; i < n; i++) b.append((char) ('a' + rnd.nextInt(26)));
    return b.toString();
  }
}
