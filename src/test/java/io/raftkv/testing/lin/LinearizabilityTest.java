package io.raftkv.testing.lin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The generic search, against a tiny register model: writes, reads and compare-and-set. */
@Timeout(60)
class LinearizabilityTest {
  static final Duration BUDGET = Duration.ofSeconds(10);

  /** A register op on register {@code reg}: write v, read (expects v), or cas from→v. */
  record Reg(String reg, char kind, int from, int v) {
    static Reg w(int v) {
      return new Reg("r", 'w', 0, v);
    }

    static Reg r(int v) {
      return new Reg("r", 'r', 0, v);
    }

    static Reg cas(int from, int to) {
      return new Reg("r", 'c', from, to);
    }

    Reg on(String reg) {
      return new Reg(reg, kind, from, v);
    }
  }

  /**
   * Integer registers starting at 0, one partition per register. Outputs are Booleans: whether a
   * cas succeeded; null (never returned) means either.
   */
  static final Model<Integer, Reg, Boolean> REGISTER =
      new Model<>() {
        @Override
        public Integer init() {
          return 0;
        }

        @Override
        public List<Integer> step(Integer s, Reg in, Boolean out) {
          return switch (in.kind()) {
            case 'w' -> List.of(in.v());
            case 'r' -> s == in.v() ? List.of(s) : List.of();
            case 'c' -> {
              if (out == null) yield s == in.from() ? List.of(in.v(), s) : List.of(s);
              yield out == (s == in.from()) ? List.of(out ? in.v() : s) : List.of();
            }
            default -> throw new IllegalArgumentException("kind " + in.kind());
          };
        }

        @Override
        public List<List<Operation<Reg, Boolean>>> partition(List<Operation<Reg, Boolean>> h) {
          Map<String, List<Operation<Reg, Boolean>>> parts = new TreeMap<>();
          for (Operation<Reg, Boolean> op : h) {
            parts.computeIfAbsent(op.input().reg(), k -> new ArrayList<>()).add(op);
          }
          return List.copyOf(parts.values());
        }
      };

  static Operation<Reg, Boolean> op(long call, long ret, Reg in) {
    return new Operation<>(0, in, call, in.kind() == 'c' ? Boolean.TRUE : null, ret);
  }

  static Operation<Reg, Boolean> failedCas(long call, long ret, Reg in) {
    return new Operation<>(0, in, call, Boolean.FALSE, ret);
  }

  @SafeVarargs
  static CheckResult check(Operation<Reg, Boolean>... ops) {
    return Linearizability.check(REGISTER, List.of(ops), BUDGET);
  }

  @Test
  void emptyHistoryIsLinearizable() {
    assertEquals(CheckResult.OK, check());
  }

  @Test
  void sequentialHistoryFollowsTheModel() {
    assertEquals(CheckResult.OK, check(op(0, 1, Reg.w(1)), op(2, 3, Reg.r(1)), op(4, 5, Reg.r(1))));
    assertEquals(CheckResult.ILLEGAL, check(op(0, 1, Reg.w(1)), op(2, 3, Reg.r(0))));
  }

  @Test
  void concurrentOperationsMayGoInEitherOrder() {
    // The read overlaps the write, so it may see the old or the new value.
    assertEquals(CheckResult.OK, check(op(0, 10, Reg.w(1)), op(5, 6, Reg.r(0))));
    assertEquals(CheckResult.OK, check(op(0, 10, Reg.w(1)), op(5, 6, Reg.r(1))));
    // ...but once a read has seen the new value, a later read cannot see the old one.
    assertEquals(
        CheckResult.ILLEGAL,
        check(op(0, 10, Reg.w(1)), op(1, 2, Reg.r(1)), op(3, 4, Reg.r(0))));
  }

  @Test
  void touchingIntervalsAreConcurrentButDisjointOnesAreOrdered() {
    // The read is called at the instant the write returns: calls sort before returns, so the
    // read may still precede the write.
    assertEquals(CheckResult.OK, check(op(0, 5, Reg.w(1)), op(5, 9, Reg.r(0))));
    assertEquals(CheckResult.ILLEGAL, check(op(0, 5, Reg.w(1)), op(6, 9, Reg.r(0))));
    // A zero-length interval is fine too.
    assertEquals(CheckResult.OK, check(op(3, 3, Reg.w(1)), op(3, 3, Reg.r(1))));
  }

  @Test
  void searchBacktracksOutOfAWrongEarlyChoice() {
    // w1 and w2 overlap; reading 1 then 2 forces w1 first, though the search tries w2 first
    // when its call comes first.
    assertEquals(
        CheckResult.OK,
        check(op(0, 10, Reg.w(2)), op(1, 10, Reg.w(1)), op(2, 20, Reg.r(1)), op(21, 22, Reg.r(2))));
    assertEquals(
        CheckResult.ILLEGAL,
        check(
            op(0, 10, Reg.w(2)),
            op(1, 10, Reg.w(1)),
            op(11, 12, Reg.r(1)),
            op(13, 14, Reg.r(2))));
  }

  @Test
  void neverReturnedOperationMayTakeEffectAfterItsCallOrNotAtAll() {
    Operation<Reg, Boolean> pendingWrite = Operation.pending(1, Reg.w(7), 5);
    assertEquals(CheckResult.OK, check(pendingWrite, op(100, 101, Reg.r(7))));
    assertEquals(CheckResult.OK, check(pendingWrite, op(100, 101, Reg.r(0))));
    assertEquals(
        CheckResult.OK, check(pendingWrite, op(10, 11, Reg.r(0)), op(100, 101, Reg.r(7))));
    // Not before its call, though, and once seen it stays.
    assertEquals(CheckResult.ILLEGAL, check(pendingWrite, op(0, 4, Reg.r(7))));
    assertEquals(
        CheckResult.ILLEGAL,
        check(pendingWrite, op(10, 11, Reg.r(7)), op(100, 101, Reg.r(0))));
  }

  @Test
  void nondeterministicOutcomesAreEachTried() {
    // A cas that never returned either happened or not; the reads decide which.
    Operation<Reg, Boolean> cas = new Operation<>(0, Reg.cas(0, 3), 0, null, Operation.NEVER);
    assertEquals(CheckResult.OK, check(cas, op(5, 6, Reg.r(0)), op(7, 8, Reg.r(3))));
    assertEquals(CheckResult.ILLEGAL, check(cas, op(5, 6, Reg.r(3)), op(7, 8, Reg.r(0))));
    // A failed cas must see a different value at some instant in its interval.
    assertEquals(
        CheckResult.OK,
        check(op(0, 10, Reg.w(1)), failedCas(5, 20, Reg.cas(0, 9)), op(21, 22, Reg.r(1))));
    assertEquals(
        CheckResult.ILLEGAL, check(failedCas(5, 20, Reg.cas(0, 9)), op(21, 22, Reg.r(0))));
  }

  @Test
  void illegalInAnyPartitionMakesTheHistoryIllegal() {
    List<Operation<Reg, Boolean>> history =
        List.of(
            op(0, 1, Reg.w(1).on("a")),
            op(0, 1, Reg.w(1).on("b")),
            op(2, 3, Reg.r(1).on("a")),
            op(2, 3, Reg.r(0).on("b")));
    CheckReport<Reg, Boolean> report = Linearizability.checkDetailed(REGISTER, history, BUDGET);
    assertEquals(CheckResult.ILLEGAL, report.result());
    assertEquals(2, report.partitions().size());
    assertEquals(CheckResult.OK, report.partitions().get(0).result());
    assertEquals(1, report.illegal().size());
    CheckReport.PartitionReport<Reg, Boolean> bad = report.illegal().get(0);
    assertEquals(1, bad.index());
    assertEquals(1, bad.deepest());
    assertEquals(List.of(history.get(1)), bad.lastLinearized());
    assertEquals(List.of(history.get(3)), bad.stuck());
    assertEquals("1", bad.stuckState());
  }

  @Test
  void manyPartitionsGiveTheSameAnswerEveryTime() {
    List<Operation<Reg, Boolean>> history = new ArrayList<>();
    for (int p = 0; p < 50; p++) {
      String reg = "r" + p;
      for (int i = 0; i < 20; i++) {
        history.add(op(10 * i, 10 * i + 15, Reg.w(i + 1).on(reg)));
        history.add(op(10 * i + 16, 10 * i + 17, Reg.r(i + 1).on(reg)));
      }
    }
    history.add(op(1000, 1001, Reg.r(42).on("r17")));
    for (int round = 0; round < 5; round++) {
      CheckReport<Reg, Boolean> report = Linearizability.checkDetailed(REGISTER, history, BUDGET);
      assertEquals(CheckResult.ILLEGAL, report.result());
      assertEquals(1, report.illegal().size());
      assertEquals("r17", report.illegal().get(0).history().get(0).input().reg());
    }
  }

  @Test
  void exhaustedBudgetGivesUnknown() {
    // 40 concurrent writes of distinct values, then reads of every value in turn: no order of
    // writes explains them, and the search has to learn that the hard way.
    List<Operation<Reg, Boolean>> history = new ArrayList<>();
    for (int i = 1; i <= 40; i++) history.add(op(0, 100, Reg.w(i)));
    for (int i = 1; i <= 40; i++) history.add(op(100 + 2 * i, 101 + 2 * i, Reg.r(i % 2 + 1)));
    long start = System.nanoTime();
    CheckResult result = Linearizability.check(REGISTER, history, Duration.ofMillis(100));
    long ms = (System.nanoTime() - start) / 1_000_000;
    assertEquals(CheckResult.UNKNOWN, result);
    assertTrue(ms < 5_000, "took " + ms + " ms for a 100 ms budget");
  }

  @Test
  void anEnormousBudgetMeansNoLimit() {
    assertEquals(
        CheckResult.OK,
        Linearizability.check(REGISTER, List.of(op(0, 1, Reg.w(1))), Duration.ofSeconds(Long.MAX_VALUE)));
  }

  @Test
  void returnBeforeCallIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> op(5, 4, Reg.w(1)));
  }

  @Test
  void modelFailureSurfaces() {
    List<Operation<Reg, Boolean>> history = List.of(op(0, 1, new Reg("r", '?', 0, 0)));
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class, () -> Linearizability.check(REGISTER, history, BUDGET));
    assertTrue(e.getCause() instanceof IllegalArgumentException);
  }
}
