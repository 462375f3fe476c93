package io.raftkv.testing.lin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Large generated histories must check OK; the times are printed, never asserted (the machine is
 * shared). Sizes can be raised with {@code -Draftkv.lin.benchOps=N}.
 */
@Timeout(300)
class LinearizabilityBenchmarkTest {
  static final int SCALE = Integer.getInteger("raftkv.lin.benchOps", 100_000);
  static final Duration BUDGET = Duration.ofSeconds(60);

  static void run(String what, KvModel model, KvHistoryGenerator.Config config, long seed) {
    long g0 = System.nanoTime();
    List<Operation<KvInput, KvOutput>> h = KvHistoryGenerator.generate(config, new SplittableRandom(seed));
    long g1 = System.nanoTime();
    CheckReport<KvInput, KvOutput> report = Linearizability.checkDetailed(model, h, BUDGET);
    System.out.printf(
        "%s: %d ops in %d partitions checked %s in %d ms (generated in %d ms)%n",
        what,
        h.size(),
        report.partitions().size(),
        report.result(),
        report.elapsed().toMillis(),
        (g1 - g0) / 1_000_000);
    assertEquals(CheckResult.OK, report.result(), what + ", seed " + seed + ", " + config);
  }

  @Test
  void labStyleOneKey() {
    // The lab's GenericTest without random keys: clients racing OnePut loops on "k".
    run("lab-style, 1 key, 10 clients", KvModel.lab(),
        new KvHistoryGenerator.Config(10, 1, SCALE / 5, 20, true, 0.05, 0, 0), 1);
  }

  @Test
  void labStyleTenKeys() {
    run("lab-style, 10 keys, 15 clients", KvModel.lab(),
        new KvHistoryGenerator.Config(15, 10, SCALE, 20, true, 0.05, 0, 0), 2);
  }

  @Test
  void mixedOperationsTenKeys() {
    // Appends, deletes, ErrMaybe and a few timeouts and clients that vanish.
    run("mixed, 10 keys, 10 clients", KvModel.strict(),
        new KvHistoryGenerator.Config(10, 10, SCALE, 20, false, 0.05, 0.0005, 0.0002), 3);
  }
}
