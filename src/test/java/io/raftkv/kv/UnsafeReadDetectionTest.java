package io.raftkv.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.client.KvClient;
import io.raftkv.testing.KvLabCluster;
import io.raftkv.testing.UnsafeLocalReadKvServer;
import io.raftkv.testing.lin.CheckReport;
import io.raftkv.testing.lin.CheckResult;
import io.raftkv.testing.lin.KvInput;
import io.raftkv.testing.lin.KvModel;
import io.raftkv.testing.lin.KvOutput;
import io.raftkv.testing.lin.Linearizability;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * End to end: the linearizability checker catches a KV service that serves stale reads.
 *
 * <p>The scenario, on 5 servers and a reliable network: put "k" = v1; isolate the leader with one
 * follower in a minority ({@code MakePartition}); the majority elects a new leader and writes v2,
 * v3, v4, one after the other; after each write returns, a clerk that can reach only the old
 * leader reads "k". Then heal.
 *
 * <p>With {@link UnsafeLocalReadKvServer} (KvServer's wiring, Gets answered from the replica's own
 * shards; a test class: the product has no such mode) the old leader answers from its
 * own state, which cannot have seen the majority's writes, so each such read returns v1 although it
 * began after a later write had returned: the history is certainly not linearizable, and the
 * checker must say ILLEGAL (not UNKNOWN: the history is a dozen operations). With reads through
 * the log, those reads cannot complete in the minority; they finish after the heal, and the same
 * history is linearizable.
 */
@Timeout(240)
class UnsafeReadDetectionTest {
  static final ActorTestKit testKit = ActorTestKit.create();
  static final Duration BUDGET = Duration.ofSeconds(30);

  @AfterAll
  static void done() {
    testKit.shutdownTestKit();
  }

  @Test
  void staleReadsFromAnIsolatedLeaderAreIllegal() {
    CheckReport<KvInput, KvOutput> report = run(true);
    assertEquals(CheckResult.ILLEGAL, report.result());
    assertEquals(1, report.illegal().size(), "only key k was read stale");
  }

  @Test
  void theSameScenarioWithReadsThroughTheLogIsLinearizable() {
    CheckReport<KvInput, KvOutput> report = run(false);
    assertEquals(CheckResult.OK, report.result());
  }

  static CheckReport<KvInput, KvOutput> run(boolean unsafeReads) {
    try (KvLabCluster ts = new KvLabCluster(testKit, 5, true, -1, unsafeReads)) {
      ts.begin("Test: reads from an isolated leader (unsafe local reads: " + unsafeReads + ")");
      KvLabCluster.Clerk ck = ts.makeClerk();
      long ver = ts.putAtLeastOnce(ck, "k", "v1", 0);
      int leader = ts.checkOneLeader();
      int[][] p = ts.group().makePartition(leader);
      ts.group().partition(p[0], p[1]);
      KvLabCluster.Clerk majority = ts.makeClerkTo(p[0]);
      KvLabCluster.Clerk stale = ts.makeClerkTo(new int[] {leader});
      List<CompletableFuture<KvClient.Result>> reads = new ArrayList<>();
      for (int i = 2; i <= 4; i++) {
        ver = ts.putAtLeastOnce(majority, "k", "v" + i, ver);
        reads.add(ts.async(() -> stale.get("k")));
      }
      if (unsafeReads) {
        // the old leader answers at once, from its own state: v1 (or nothing, had it lost its
        // leadership before applying v1), never the majority's writes
        for (CompletableFuture<KvClient.Result> r : reads) {
          String v = join(r).value();
          assertTrue(v.equals("v1") || v.isEmpty(), "the isolated server read " + v);
        }
      } else {
        for (CompletableFuture<KvClient.Result> r : reads) assertTrue(!r.isDone() || r.join().value().equals("v4"));
      }
      ts.group().connectAll();
      stale.connectAll();
      for (CompletableFuture<KvClient.Result> r : reads) {
        KvClient.Result res = join(r);
        if (!unsafeReads) assertEquals("v4", res.value(), "a read through the log, served after the heal");
      }
      if (!unsafeReads) ts.checkGet(ck, "k", "v4", ver); // an unsafe read might still be stale here
      CheckReport<KvInput, KvOutput> report =
          Linearizability.checkDetailed(KvModel.lab(), ts.history().history(), BUDGET);
      System.out.printf("  %d ops: %s in %d ms%n", ts.history().size(), report.result(), report.elapsed().toMillis());
      ts.end();
      return report;
    }
  }

  static <T> T join(CompletableFuture<T> f) {
    try {
      return f.get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
