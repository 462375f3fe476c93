package io.raftkv.testing.lin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Histories from a real sequential execution with random overlapping intervals must check OK;
 * corrupting one output in a way no execution could produce must make them ILLEGAL.
 *
 * <p>The base seed is random per run and printed; replay with {@code -Draftkv.lin.seed=N}.
 */
@Timeout(120)
class RandomHistoryTest {
  static final Duration BUDGET = Duration.ofSeconds(20);
  static final int ROUNDS = 150;
  static final long BASE_SEED = Long.getLong("raftkv.lin.seed", new SplittableRandom().nextLong());

  static {
    System.out.println("RandomHistoryTest base seed " + BASE_SEED + " (-Draftkv.lin.seed to replay)");
  }

  record Case(long seed, KvHistoryGenerator.Config config, List<Operation<KvInput, KvOutput>> history) {
    String what() {
      return "seed " + seed + " (base " + BASE_SEED + "), " + config;
    }

    /** The history without Puts answered ErrNoKey, which only {@link KvModel#strict()} accepts. */
    List<Operation<KvInput, KvOutput>> forLab() {
      return history.stream().filter(op -> !putNoKey(op)).toList();
    }
  }

  static boolean putNoKey(Operation<KvInput, KvOutput> op) {
    return op.input().kind() == KvInput.Kind.PUT
        && op.output() != null
        && op.output().err().equals(KvOutput.ERR_NO_KEY);
  }

  static Case mixed(int round) {
    long seed = BASE_SEED + round;
    SplittableRandom r = new SplittableRandom(seed);
    var config =
        new KvHistoryGenerator.Config(
            1 + r.nextInt(5), 1 + r.nextInt(3), 40 + r.nextInt(120), 1 + r.nextInt(20), false,
            0.05, 0.02, 0.01);
    return new Case(seed, config, KvHistoryGenerator.generate(config, r));
  }

  static Case labStyle(int round) {
    long seed = BASE_SEED + 1_000_000 + round;
    SplittableRandom r = new SplittableRandom(seed);
    var config =
        new KvHistoryGenerator.Config(
            1 + r.nextInt(8), 1, 100 + r.nextInt(300), 1 + r.nextInt(20), true, 0.1, 0.0, 0.0);
    return new Case(seed, config, KvHistoryGenerator.generate(config, r));
  }

  static CheckResult check(KvModel model, List<Operation<KvInput, KvOutput>> history) {
    return Linearizability.check(model, history, BUDGET);
  }

  /** A copy of {@code history} with op {@code i}'s output replaced. */
  static List<Operation<KvInput, KvOutput>> withOutput(
      List<Operation<KvInput, KvOutput>> history, int i, Function<KvOutput, KvOutput> change) {
    List<Operation<KvInput, KvOutput>> copy = new ArrayList<>(history);
    Operation<KvInput, KvOutput> op = copy.get(i);
    copy.set(i, new Operation<>(op.clientId(), op.input(), op.call(), change.apply(op.output()), op.ret()));
    return copy;
  }

  /** Indices of answered Gets (not Timeout), chosen among with {@code random}. */
  static int pickAnsweredGet(List<Operation<KvInput, KvOutput>> h, SplittableRandom random, boolean okOnly) {
    List<Integer> gets = new ArrayList<>();
    for (int i = 0; i < h.size(); i++) {
      Operation<KvInput, KvOutput> op = h.get(i);
      if (op.input().kind() == KvInput.Kind.GET && op.returned() && !op.output().uncertain()
          && (!okOnly || op.output().err().equals(KvOutput.OK))) {
        gets.add(i);
      }
    }
    return gets.isEmpty() ? -1 : gets.get(random.nextInt(gets.size()));
  }

  @Test
  void generatedHistoriesAreLinearizable() {
    for (int round = 0; round < ROUNDS; round++) {
      Case c = mixed(round);
      assertEquals(CheckResult.OK, check(KvModel.strict(), c.history()), c.what());
      assertEquals(CheckResult.OK, check(KvModel.lab(), c.forLab()), c.what());
      Case l = labStyle(round);
      assertEquals(CheckResult.OK, check(KvModel.lab(), l.history()), l.what());
      assertEquals(CheckResult.OK, check(KvModel.strict(), l.history()), l.what());
    }
  }

  @Test
  void aReadOfAValueNeverWrittenIsIllegal() {
    int corrupted = 0;
    for (int round = 0; round < ROUNDS; round++) {
      Case c = round % 2 == 0 ? mixed(round) : labStyle(round);
      List<Operation<KvInput, KvOutput>> h = c.forLab();
      int i = pickAnsweredGet(h, new SplittableRandom(c.seed()), false);
      if (i < 0) continue;
      var bad = withOutput(h, i, out -> KvOutput.value("[never written]", Math.max(1, out.version())));
      assertEquals(CheckResult.ILLEGAL, check(KvModel.lab(), bad), c.what() + ", op " + i);
      assertEquals(CheckResult.ILLEGAL, check(KvModel.strict(), bad), c.what() + ", op " + i);
      corrupted++;
    }
    assertTrue(corrupted > ROUNDS / 2, "only " + corrupted + " histories had a Get to corrupt");
  }

  @Test
  void aReadOfAVersionNeverReachedIsIllegalOnlyUnderStrict() {
    int corrupted = 0;
    for (int round = 0; round < ROUNDS; round++) {
      Case c = round % 2 == 0 ? mixed(round) : labStyle(round);
      List<Operation<KvInput, KvOutput>> h = c.forLab();
      int i = pickAnsweredGet(h, new SplittableRandom(c.seed()), true);
      if (i < 0) continue;
      var bad = withOutput(h, i, out -> KvOutput.value(out.value(), out.version() + 1_000_000));
      assertEquals(CheckResult.OK, check(KvModel.lab(), bad), c.what() + ", op " + i);
      assertEquals(CheckResult.ILLEGAL, check(KvModel.strict(), bad), c.what() + ", op " + i);
      corrupted++;
    }
    assertTrue(corrupted > ROUNDS / 2, "only " + corrupted + " histories had a Get to corrupt");
  }

  /**
   * A conditional Put answered OK whose (unique) value some Get later saw is turned into
   * ErrVersion: it now cannot have written that value, so nothing explains the read.
   */
  @Test
  void aWriteThatWasReadCannotHaveFailed() {
    int corrupted = 0;
    for (int round = 0; round < ROUNDS; round++) {
      Case c = round % 2 == 0 ? mixed(round) : labStyle(round);
      List<Operation<KvInput, KvOutput>> h = c.forLab();
      List<Integer> candidates = new ArrayList<>();
      for (int i = 0; i < h.size(); i++) {
        Operation<KvInput, KvOutput> op = h.get(i);
        if (op.input().kind() == KvInput.Kind.PUT && op.input().conditional() && op.returned()
            && op.output().err().equals(KvOutput.OK) && readBySomeGet(h, op.input())) {
          candidates.add(i);
        }
      }
      if (candidates.isEmpty()) continue;
      int i = candidates.get(new SplittableRandom(c.seed()).nextInt(candidates.size()));
      var bad = withOutput(h, i, out -> KvOutput.err(KvOutput.ERR_VERSION));
      assertEquals(CheckResult.ILLEGAL, check(KvModel.lab(), bad), c.what() + ", op " + i);
      assertEquals(CheckResult.ILLEGAL, check(KvModel.strict(), bad), c.what() + ", op " + i);
      corrupted++;
    }
    assertTrue(corrupted > ROUNDS / 2, "only " + corrupted + " histories had a Put to corrupt");
  }

  static boolean readBySomeGet(List<Operation<KvInput, KvOutput>> h, KvInput put) {
    for (Operation<KvInput, KvOutput> op : h) {
      if (op.input().kind() == KvInput.Kind.GET && op.input().key().equals(put.key())
          && op.returned() && !op.output().uncertain() && op.output().value().contains(put.value())) {
        return true;
      }
    }
    return false;
  }
}
