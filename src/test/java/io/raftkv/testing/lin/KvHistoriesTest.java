package io.raftkv.testing.lin;

import static io.raftkv.testing.lin.KvOutput.ERR_MAYBE;
import static io.raftkv.testing.lin.KvOutput.ERR_NO_KEY;
import static io.raftkv.testing.lin.KvOutput.ERR_VERSION;
import static io.raftkv.testing.lin.KvOutput.TIMEOUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.opentest4j.AssertionFailedError;

/** Small hand-written key/value histories with known answers. */
@Timeout(60)
class KvHistoriesTest {
  static final Duration BUDGET = Duration.ofSeconds(10);

  static Operation<KvInput, KvOutput> op(int client, long call, long ret, KvInput in, KvOutput out) {
    return new Operation<>(client, in, call, out, ret);
  }

  static KvOutput err(String err) {
    return KvOutput.err(err);
  }

  @SafeVarargs
  static CheckResult lab(Operation<KvInput, KvOutput>... ops) {
    return Linearizability.check(KvModel.lab(), List.of(ops), BUDGET);
  }

  @SafeVarargs
  static CheckResult strict(Operation<KvInput, KvOutput>... ops) {
    return Linearizability.check(KvModel.strict(), List.of(ops), BUDGET);
  }

  @Test
  void theLabsReliablePutRun() {
    var put = op(0, 0, 1, KvInput.put("k", "6.5840", 0), KvOutput.ok());
    var get = op(0, 2, 3, KvInput.get("k"), KvOutput.value("6.5840", 1));
    var stalePut = op(0, 4, 5, KvInput.put("k", "x", 0), err(ERR_VERSION));
    var putMissing = op(0, 6, 7, KvInput.put("y", "x", 1), err(ERR_NO_KEY));
    var getMissing = op(0, 8, 9, KvInput.get("y"), KvOutput.noKey());
    assertEquals(CheckResult.OK, lab(put, get, stalePut, getMissing));
    assertEquals(CheckResult.OK, strict(put, get, stalePut, putMissing, getMissing));
    // The lab's model never accepts a Put answered ErrNoKey (the lab never records one).
    assertEquals(CheckResult.ILLEGAL, lab(put, get, stalePut, putMissing, getMissing));
  }

  @Test
  void staleReadAfterWriteIsIllegal() {
    var put1 = op(0, 0, 10, KvInput.put("k", "a", 0), KvOutput.ok());
    var put2 = op(0, 20, 30, KvInput.put("k", "b", 1), KvOutput.ok());
    var staleGet = op(1, 40, 50, KvInput.get("k"), KvOutput.value("a", 1));
    assertEquals(CheckResult.ILLEGAL, lab(put1, put2, staleGet));
    // Overlapping the second put, the same read is fine.
    var concurrentGet = op(1, 25, 50, KvInput.get("k"), KvOutput.value("a", 1));
    assertEquals(CheckResult.OK, lab(put1, put2, concurrentGet));
  }

  @Test
  void lostUpdateIsIllegal() {
    // Two appends both acknowledged, but a later read shows only one of them.
    var a = op(0, 0, 10, KvInput.append("k", "x"), KvOutput.ok());
    var b = op(1, 0, 10, KvInput.append("k", "y"), KvOutput.ok());
    assertEquals(CheckResult.ILLEGAL, lab(a, b, op(2, 20, 30, KvInput.get("k"), KvOutput.value("y", 1))));
    assertEquals(CheckResult.OK, lab(a, b, op(2, 20, 30, KvInput.get("k"), KvOutput.value("yx", 2))));
    // Two conditional puts at the same version cannot both succeed.
    var p = op(0, 0, 10, KvInput.put("k", "p", 0), KvOutput.ok());
    var q = op(1, 0, 10, KvInput.put("k", "q", 0), KvOutput.ok());
    assertEquals(CheckResult.ILLEGAL, lab(p, q));
  }

  @Test
  void concurrentPutsLinearizeInEitherOrder() {
    var p = op(0, 0, 10, KvInput.put("k", "p", 0), KvOutput.ok());
    var q = op(1, 1, 11, KvInput.put("k", "q", 0), err(ERR_VERSION));
    var r = op(2, 2, 12, KvInput.put("k", "r"), KvOutput.ok());
    assertEquals(CheckResult.OK, strict(p, q, r, op(3, 20, 21, KvInput.get("k"), KvOutput.value("r", 2))));
    // A read in the middle may see p's write (p, then the read, then r)...
    assertEquals(CheckResult.OK, strict(p, q, r, op(3, 5, 6, KvInput.get("k"), KvOutput.value("p", 1))));
    // ...but p, conditional on version 0, must precede r, so r's value is the last.
    assertEquals(
        CheckResult.ILLEGAL, strict(p, q, r, op(3, 20, 21, KvInput.get("k"), KvOutput.value("p", 2))));
  }

  @Test
  void errMaybeMayHaveHappenedOrNot() {
    var base = op(0, 0, 1, KvInput.put("k", "a", 0), KvOutput.ok());
    // A resend met ErrVersion because the first copy did execute...
    var maybe = op(0, 2, 10, KvInput.put("k", "b", 1), err(ERR_MAYBE));
    assertEquals(CheckResult.OK, lab(base, maybe, op(1, 11, 12, KvInput.get("k"), KvOutput.value("b", 2))));
    // ...or because a competing writer got there first.
    var rival = op(1, 3, 4, KvInput.put("k", "c", 1), KvOutput.ok());
    assertEquals(
        CheckResult.OK, lab(base, maybe, rival, op(1, 11, 12, KvInput.get("k"), KvOutput.value("c", 2))));
    // With no rival, a matching version means it did happen (the lab's ErrMaybe rule).
    assertEquals(
        CheckResult.ILLEGAL, lab(base, maybe, op(1, 11, 12, KvInput.get("k"), KvOutput.value("a", 1))));
    // An unconditional write answered ErrMaybe may simply not have happened.
    var maybeAppend = op(0, 2, 10, KvInput.append("k", "z"), err(ERR_MAYBE));
    assertEquals(CheckResult.OK, lab(base, maybeAppend, op(1, 11, 12, KvInput.get("k"), KvOutput.value("a", 1))));
    assertEquals(CheckResult.OK, lab(base, maybeAppend, op(1, 11, 12, KvInput.get("k"), KvOutput.value("az", 2))));
    // But it happens inside its interval, not after the reply.
    assertEquals(
        CheckResult.ILLEGAL,
        lab(
            base,
            maybeAppend,
            op(1, 11, 12, KvInput.get("k"), KvOutput.value("a", 1)),
            op(1, 13, 14, KvInput.get("k"), KvOutput.value("az", 2))));
  }

  @Test
  void timeoutMayTakeEffectEvenAfterTheReply() {
    var base = op(0, 0, 1, KvInput.put("k", "a", 0), KvOutput.ok());
    var timedOut = op(0, 2, 10, KvInput.append("k", "z"), err(TIMEOUT));
    assertEquals(
        CheckResult.OK,
        lab(
            base,
            timedOut,
            op(1, 11, 12, KvInput.get("k"), KvOutput.value("a", 1)),
            op(1, 13, 14, KvInput.get("k"), KvOutput.value("az", 2))));
    // Never before its call.
    assertEquals(
        CheckResult.ILLEGAL, lab(base, timedOut, op(1, 0, 1, KvInput.get("k"), KvOutput.value("az", 2))));
    // A Get that timed out says nothing.
    assertEquals(CheckResult.OK, strict(base, op(1, 5, 6, KvInput.get("k"), new KvOutput("zzz", 9, TIMEOUT))));
  }

  @Test
  void neverReturnedOperations() {
    var base = op(0, 0, 1, KvInput.put("k", "a", 0), KvOutput.ok());
    var pending = Operation.<KvInput, KvOutput>pending(1, KvInput.put("k", "b", 1), 5);
    var seen = op(2, 100, 101, KvInput.get("k"), KvOutput.value("b", 2));
    var notSeen = op(2, 100, 101, KvInput.get("k"), KvOutput.value("a", 1));
    assertEquals(CheckResult.OK, strict(base, pending, seen));
    assertEquals(CheckResult.OK, strict(base, pending, notSeen));
    assertEquals(CheckResult.OK, strict(base, pending, notSeen, op(2, 102, 103, KvInput.get("k"), KvOutput.value("b", 2))));
    assertEquals(CheckResult.ILLEGAL, strict(base, pending, seen, op(2, 102, 103, KvInput.get("k"), KvOutput.value("a", 1))));
    assertEquals(CheckResult.ILLEGAL, strict(base, pending, op(2, 2, 4, KvInput.get("k"), KvOutput.value("b", 2))));
    // A pending Get constrains nothing; a pending delete may or may not have happened.
    var pendingGet = Operation.<KvInput, KvOutput>pending(3, KvInput.get("k"), 2);
    var pendingDelete = Operation.<KvInput, KvOutput>pending(3, KvInput.delete("k"), 2);
    assertEquals(CheckResult.OK, strict(base, pendingGet, notSeen));
    assertEquals(CheckResult.OK, strict(base, pendingDelete, notSeen));
    assertEquals(CheckResult.OK, strict(base, pendingDelete, op(2, 100, 101, KvInput.get("k"), KvOutput.noKey())));
  }

  @Test
  void appendAndDelete() {
    var a = op(0, 0, 1, KvInput.append("k", "a"), KvOutput.ok());
    var b = op(0, 2, 3, KvInput.append("k", "b"), KvOutput.ok());
    var del = op(0, 4, 5, KvInput.delete("k"), KvOutput.ok());
    var c = op(0, 6, 7, KvInput.append("k", "c"), KvOutput.ok());
    assertEquals(
        CheckResult.OK,
        strict(a, b, op(1, 3, 4, KvInput.get("k"), KvOutput.value("ab", 2)), del,
            op(1, 5, 6, KvInput.get("k"), KvOutput.noKey()), c,
            op(1, 8, 9, KvInput.get("k"), KvOutput.value("c", 1))));
    // Appends apply in real-time order.
    assertEquals(CheckResult.ILLEGAL, strict(a, b, op(1, 4, 5, KvInput.get("k"), KvOutput.value("ba", 2))));
    // Deleting a missing key answers ErrNoKey, not OK; a deleted key reads as missing.
    assertEquals(CheckResult.ILLEGAL, strict(op(0, 0, 1, KvInput.delete("k"), KvOutput.ok())));
    assertEquals(CheckResult.OK, strict(op(0, 0, 1, KvInput.delete("k"), err(ERR_NO_KEY))));
    assertEquals(CheckResult.ILLEGAL, strict(a, del, op(1, 6, 7, KvInput.get("k"), KvOutput.value("a", 1))));
    // A conditional delete checks the version like a put; the key comes back at version 1.
    var put = op(0, 0, 1, KvInput.put("k", "x", 0), KvOutput.ok());
    assertEquals(
        CheckResult.OK,
        strict(put, op(0, 2, 3, KvInput.delete("k", 5), err(ERR_VERSION)),
            op(0, 4, 5, KvInput.delete("k", 1), KvOutput.ok()),
            op(0, 6, 7, KvInput.put("k", "y", 0), KvOutput.ok()),
            op(0, 8, 9, KvInput.get("k"), KvOutput.value("y", 1))));
    assertEquals(CheckResult.ILLEGAL, strict(put, op(0, 2, 3, KvInput.delete("k", 5), KvOutput.ok())));
  }

  @Test
  void touchingIntervalsAreConcurrent() {
    var put = op(0, 0, 10, KvInput.put("k", "a", 0), KvOutput.ok());
    assertEquals(CheckResult.OK, strict(put, op(1, 10, 20, KvInput.get("k"), KvOutput.noKey())));
    assertEquals(CheckResult.ILLEGAL, strict(put, op(1, 11, 20, KvInput.get("k"), KvOutput.noKey())));
  }

  @Test
  void strictChecksWhatTheLabIgnores() {
    var put = op(0, 0, 1, KvInput.put("k", "a", 0), KvOutput.ok());
    var wrongVersion = op(1, 2, 3, KvInput.get("k"), KvOutput.value("a", 5));
    var emptyButPresent = op(0, 0, 1, KvInput.put("e", "", 0), KvOutput.ok());
    var saysMissing = op(1, 2, 3, KvInput.get("e"), KvOutput.noKey());
    assertEquals(CheckResult.OK, lab(put, wrongVersion, emptyButPresent, saysMissing));
    assertEquals(CheckResult.ILLEGAL, strict(put, wrongVersion));
    assertEquals(CheckResult.ILLEGAL, strict(emptyButPresent, saysMissing));
  }

  @Test
  void keysAreIndependent() {
    var putA = op(0, 0, 1, KvInput.put("a", "1", 0), KvOutput.ok());
    var putB = op(0, 2, 3, KvInput.put("b", "1", 0), KvOutput.ok());
    // "a" read as missing after its put: illegal whatever "b" does.
    var badA = op(1, 4, 5, KvInput.get("a"), KvOutput.noKey());
    var goodB = op(1, 4, 5, KvInput.get("b"), KvOutput.value("1", 1));
    assertEquals(CheckResult.OK, strict(putA, putB, goodB));
    CheckReport<KvInput, KvOutput> report =
        Linearizability.checkDetailed(KvModel.strict(), List.of(putA, putB, badA, goodB), BUDGET);
    assertEquals(CheckResult.ILLEGAL, report.result());
    assertEquals(List.of(CheckResult.ILLEGAL, CheckResult.OK),
        report.partitions().stream().map(CheckReport.PartitionReport::result).toList());
  }

  @Test
  void failureMessageNamesTheKeyAndTheStuckOperations() {
    var put1 = op(3, 1000, 2000, KvInput.put("acct", "a", 0), KvOutput.ok());
    var put2 = op(4, 3000, 4000, KvInput.put("acct", "b", 1), KvOutput.ok());
    var stale = op(5, 5000, 6000, KvInput.get("acct"), KvOutput.value("a", 1));
    var other = op(6, 1000, 1500, KvInput.get("zzz"), KvOutput.noKey());
    AssertionFailedError e =
        assertThrows(
            AssertionFailedError.class,
            () ->
                KvHistoryChecks.assertLinearizable(
                    "msg-test", List.of(put1, other, put2, stale), BUDGET, KvModel.lab()));
    String m = e.getMessage();
    assertTrue(m.startsWith("msg-test: history is not linearizable (4 ops"), m);
    assertTrue(m.contains("key \"acct\" (3 ops): linearized 2 in a row, reaching state (\"b\", v2)"), m);
    assertTrue(m.contains("[4000 .. 5000] client 5: get(\"acct\") -> OK \"a\" v1"), m);
    assertTrue(m.contains("[2000 .. 3000] client 4: put(\"acct\", \"b\", v1) -> OK"), m);
    assertTrue(!m.contains("zzz"), m);
  }
}
