package io.raftkv.rsm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The RSM's submits in flight and its admission control. */
class PendingSubmitsTest {
  /** Admission: (limits, ops already in flight by size, next op's size) -> admitted? */
  @Test
  void admission() {
    record Row(int maxProposals, long maxBytes, List<Integer> inFlight, int next, boolean admitted) {}
    List<Row> rows =
        List.of(
            new Row(2, 100, List.of(), 10, true),
            new Row(2, 100, List.of(10), 10, true),
            new Row(2, 100, List.of(10, 10), 10, false), // too many
            new Row(3, 100, List.of(60), 40, true), // exactly at the byte limit
            new Row(3, 100, List.of(60), 41, false), // over it
            new Row(3, 100, List.of(), 500, true)); // alone: never refused forever
    for (Row r : rows) {
      PendingSubmits<String> p = new PendingSubmits<>(new Rsm.Admission(r.maxProposals(), r.maxBytes()));
      long id = 0;
      for (int b : r.inFlight()) p.admit(id++, b, "x");
      assertEquals(r.admitted(), p.admit(id, r.next(), "next"), r.toString());
    }
  }

  @Test
  void aProposalCountsUntilAppliedOrGivenUp() {
    PendingSubmits<String> p = new PendingSubmits<>(new Rsm.Admission(10, 1000));
    p.admit(0, 10, "a");
    p.admit(1, 20, "b");
    p.admit(2, 30, "c");
    assertEquals(60, p.bytes());
    PendingSubmits.Pending<String> a = p.started();
    assertEquals("a", a.replyTo());
    assertNull(p.accepted(a, 5, 2));
    PendingSubmits.Pending<String> b = p.started(); // Raft says: not the leader
    assertEquals("b", b.replyTo());
    assertEquals(2, p.size());
    assertEquals(40, p.bytes());
    PendingSubmits.Pending<String> c = p.started();
    PendingSubmits.Pending<String> old = p.accepted(c, 5, 3); // the index reused by a later term
    assertEquals("a", old.replyTo());
    assertEquals(1, p.size());
    assertEquals(30, p.bytes());
    assertEquals(3, p.applied(5).term());
    assertNull(p.applied(5));
    assertEquals(0, p.size());
    assertEquals(0, p.bytes());
  }

  @Test
  void giveUpTakesWhatBothTestsAccept() {
    PendingSubmits<String> p = new PendingSubmits<>(new Rsm.Admission(10, 1000));
    for (int i = 0; i < 3; i++) {
      p.admit(i, 1, "op" + i);
      p.accepted(p.started(), 10 + i, 1 + i); // op0 at 10 in term 1, op1 at 11 in term 2, ...
    }
    List<PendingSubmits.Pending<String>> given = p.giveUp(index -> index >= 11, q -> q.term() < 3);
    assertEquals(List.of("op1"), given.stream().map(PendingSubmits.Pending::replyTo).toList());
    assertEquals(2, p.size());
    assertEquals(2, p.drain().size());
    assertEquals(0, p.bytes());
  }
}
