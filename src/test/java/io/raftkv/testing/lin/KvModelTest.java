package io.raftkv.testing.lin;

import static io.raftkv.testing.lin.KvOutput.ERR_MAYBE;
import static io.raftkv.testing.lin.KvOutput.ERR_NO_KEY;
import static io.raftkv.testing.lin.KvOutput.ERR_VERSION;
import static io.raftkv.testing.lin.KvOutput.OK;
import static io.raftkv.testing.lin.KvOutput.TIMEOUT;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.raftkv.testing.lin.KvModel.State;
import java.util.List;
import org.junit.jupiter.api.Test;

/** One step of the key/value models, case by case. */
class KvModelTest {
  static final State ABSENT = State.ABSENT;
  static final State A1 = new State("a", 1);
  static final State B2 = new State("b", 2);

  /** One row: in state {@code s}, {@code in} answered {@code out} may leave {@code lab}/{@code strict}. */
  record Row(State s, KvInput in, KvOutput out, List<State> lab, List<State> strict) {}

  static Row row(State s, KvInput in, KvOutput out, List<State> both) {
    return new Row(s, in, out, both, both);
  }

  static final List<State> ILLEGAL = List.of();

  static final List<Row> ROWS =
      List.of(
          // GET: the lab checks the value only; strict checks version and ErrNoKey too.
          row(A1, KvInput.get("k"), KvOutput.value("a", 1), List.of(A1)),
          new Row(A1, KvInput.get("k"), KvOutput.value("a", 7), List.of(A1), ILLEGAL),
          row(A1, KvInput.get("k"), KvOutput.value("b", 1), ILLEGAL),
          row(ABSENT, KvInput.get("k"), KvOutput.noKey(), List.of(ABSENT)),
          new Row(ABSENT, KvInput.get("k"), KvOutput.value("", 0), List.of(ABSENT), ILLEGAL),
          new Row(new State("", 1), KvInput.get("k"), KvOutput.noKey(), List.of(new State("", 1)), ILLEGAL),
          row(A1, KvInput.get("k"), KvOutput.noKey(), ILLEGAL),
          row(A1, KvInput.get("k"), KvOutput.err(TIMEOUT), List.of(A1)),
          row(A1, KvInput.get("k"), null, List.of(A1)),
          // Conditional PUT.
          row(ABSENT, KvInput.put("k", "a", 0), KvOutput.ok(), List.of(A1)),
          row(A1, KvInput.put("k", "b", 1), KvOutput.ok(), List.of(B2)),
          row(A1, KvInput.put("k", "b", 0), KvOutput.ok(), ILLEGAL),
          row(A1, KvInput.put("k", "b", 0), KvOutput.err(ERR_VERSION), List.of(A1)),
          row(A1, KvInput.put("k", "b", 1), KvOutput.err(ERR_VERSION), ILLEGAL),
          row(A1, KvInput.put("k", "b", 1), KvOutput.err(ERR_MAYBE), List.of(B2)),
          row(A1, KvInput.put("k", "b", 5), KvOutput.err(ERR_MAYBE), List.of(A1)),
          row(A1, KvInput.put("k", "b", 1), KvOutput.err(TIMEOUT), List.of(B2, A1)),
          row(A1, KvInput.put("k", "b", 5), KvOutput.err(TIMEOUT), List.of(A1)),
          row(A1, KvInput.put("k", "b", 1), null, List.of(B2, A1)),
          // The lab never accepts a Put answered ErrNoKey; the server says ErrNoKey, not
          // ErrVersion, for an absent key and a nonzero version.
          new Row(ABSENT, KvInput.put("k", "a", 1), KvOutput.err(ERR_NO_KEY), ILLEGAL, List.of(ABSENT)),
          new Row(ABSENT, KvInput.put("k", "a", 1), KvOutput.err(ERR_VERSION), List.of(ABSENT), ILLEGAL),
          row(A1, KvInput.put("k", "a", 2), KvOutput.err(ERR_NO_KEY), ILLEGAL),
          row(A1, KvInput.put("k", "b", 1), KvOutput.err("ErrWrongLeader"), ILLEGAL),
          // Unconditional PUT and APPEND.
          row(A1, KvInput.put("k", "b"), KvOutput.ok(), List.of(B2)),
          row(A1, KvInput.put("k", "b"), KvOutput.err(ERR_MAYBE), List.of(B2, A1)),
          row(A1, KvInput.put("k", "b"), KvOutput.err(ERR_VERSION), ILLEGAL),
          row(ABSENT, KvInput.append("k", "a"), KvOutput.ok(), List.of(A1)),
          row(A1, KvInput.append("k", "b"), KvOutput.ok(), List.of(new State("ab", 2))),
          row(A1, KvInput.append("k", "b"), KvOutput.err(ERR_MAYBE), List.of(new State("ab", 2), A1)),
          row(A1, KvInput.append("k", "b"), KvOutput.err(TIMEOUT), List.of(new State("ab", 2), A1)),
          row(A1, KvInput.append("k", "b"), KvOutput.err(ERR_NO_KEY), ILLEGAL),
          // DELETE.
          row(A1, KvInput.delete("k"), KvOutput.ok(), List.of(ABSENT)),
          row(A1, KvInput.delete("k"), KvOutput.err(ERR_NO_KEY), ILLEGAL),
          row(A1, KvInput.delete("k"), KvOutput.err(TIMEOUT), List.of(ABSENT, A1)),
          row(ABSENT, KvInput.delete("k"), KvOutput.err(ERR_NO_KEY), List.of(ABSENT)),
          row(ABSENT, KvInput.delete("k"), KvOutput.ok(), ILLEGAL),
          row(ABSENT, KvInput.delete("k"), KvOutput.err(TIMEOUT), List.of(ABSENT)),
          row(ABSENT, KvInput.delete("k", 0), KvOutput.err(ERR_NO_KEY), List.of(ABSENT)),
          row(B2, KvInput.delete("k", 2), KvOutput.ok(), List.of(ABSENT)),
          row(B2, KvInput.delete("k", 1), KvOutput.ok(), ILLEGAL),
          row(B2, KvInput.delete("k", 1), KvOutput.err(ERR_VERSION), List.of(B2)),
          row(B2, KvInput.delete("k", 2), KvOutput.err(ERR_VERSION), ILLEGAL),
          row(B2, KvInput.delete("k", 2), KvOutput.err(ERR_MAYBE), List.of(ABSENT)),
          row(B2, KvInput.delete("k", 1), KvOutput.err(ERR_MAYBE), List.of(B2)),
          row(B2, KvInput.delete("k", 2), null, List.of(ABSENT, B2)),
          // A deleted key starts again from version 0.
          row(ABSENT, KvInput.put("k", "a", 0), KvOutput.err(OK), List.of(A1)));

  @Test
  void stepsFollowTheTable() {
    for (Row r : ROWS) {
      String what = r.s() + " " + r.in() + " -> " + r.out();
      assertEquals(r.lab(), KvModel.lab().step(r.s(), r.in(), r.out()), "lab: " + what);
      assertEquals(r.strict(), KvModel.strict().step(r.s(), r.in(), r.out()), "strict: " + what);
    }
  }

  @Test
  void partitionsByKeyInKeyOrderKeepingHistoryOrder() {
    var h =
        List.of(
            new Operation<>(0, KvInput.put("b", "1", 0), 0, KvOutput.ok(), 1),
            new Operation<>(0, KvInput.get("a"), 2, KvOutput.noKey(), 3),
            new Operation<>(1, KvInput.get("b"), 4, KvOutput.value("1", 1), 5),
            new Operation<>(1, KvInput.get("a"), 6, KvOutput.noKey(), 7));
    assertEquals(
        List.of(List.of(h.get(1), h.get(3)), List.of(h.get(0), h.get(2))),
        KvModel.lab().partition(h));
  }

  @Test
  void timeoutLeavesTheIntervalOpen() {
    var timedOut = new Operation<>(0, KvInput.put("k", "a", 0), 0, KvOutput.err(TIMEOUT), 5);
    var part = KvModel.lab().partition(List.of(timedOut)).get(0).get(0);
    assertEquals(Operation.NEVER, part.ret());
    assertEquals(timedOut.output(), part.output());
  }

  @Test
  void getsWithoutADefiniteAnswerAreLeftOut() {
    var put = new Operation<>(0, KvInput.put("k", "a", 0), 0, KvOutput.ok(), 5);
    var timedOut = new Operation<>(1, KvInput.get("k"), 0, KvOutput.err(TIMEOUT), 5);
    var maybe = new Operation<>(1, KvInput.get("k"), 6, KvOutput.err(ERR_MAYBE), 7);
    var open = Operation.<KvInput, KvOutput>pending(2, KvInput.get("k"), 0);
    assertEquals(List.of(List.of(put)), KvModel.lab().partition(List.of(put, timedOut, maybe, open)));
  }

  @Test
  void describesOperationsAndStatesReadably() {
    KvModel m = KvModel.lab();
    assertEquals(
        "put(\"k\", \"v\", v3) -> ErrVersion",
        m.describeOperation(KvInput.put("k", "v", 3), KvOutput.err(ERR_VERSION)));
    assertEquals(
        "get(\"k\") -> OK \"a\\\"b\" v2", m.describeOperation(KvInput.get("k"), KvOutput.value("a\"b", 2)));
    assertEquals(
        "delete(\"k\") -> (never returned)", m.describeOperation(KvInput.delete("k"), null));
    assertEquals("(absent)", m.describeState(ABSENT));
    assertEquals("(\"a\", v1)", m.describeState(A1));
    String longValue = "x".repeat(100);
    assertEquals(
        "\"" + "x".repeat(40) + "\"…(100 chars)", KvModel.quote(longValue));
  }
}
