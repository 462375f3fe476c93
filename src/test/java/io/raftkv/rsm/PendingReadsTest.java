package io.raftkv.rsm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The RSM's read bookkeeping, as scripts: add; ask; answer; apply. */
class PendingReadsTest {
  private static List<String> due(PendingReads<String> reads, long applied) {
    return reads.due(applied).stream().map(d -> d.read() + "@" + d.index()).toList();
  }

  @Test
  void readsArrivingWhileAPointIsFetchedShareTheNextOne() {
    PendingReads<String> reads = new PendingReads<>();
    assertTrue(reads.add("a"), "nothing under way: ask");
    reads.asking(1);
    assertFalse(reads.add("b"), "one under way: wait");
    assertFalse(reads.add("c"));
    assertEquals(List.of(), reads.answer(1, true, 5));
    assertTrue(reads.hasNext());
    reads.asking(2);
    assertEquals(List.of(), reads.answer(2, true, 7));
    assertFalse(reads.hasNext());
    assertEquals(List.of(), due(reads, 4));
    assertEquals(List.of("a@5"), due(reads, 6));
    assertEquals(List.of("b@7", "c@7"), due(reads, 9));
    assertEquals(List.of(), due(reads, 9), "served once");
  }

  @Test
  void aReadPointAlreadyAppliedIsDueAtOnce() {
    PendingReads<String> reads = new PendingReads<>();
    reads.add("a");
    reads.asking(1);
    reads.answer(1, true, 3);
    assertEquals(List.of("a@3"), due(reads, 3));
  }

  @Test
  void noReadPointFailsTheAskedReadsOnly() {
    PendingReads<String> reads = new PendingReads<>();
    reads.add("a");
    reads.asking(1);
    reads.add("b");
    assertEquals(List.of("a"), reads.answer(1, false, 0));
    assertTrue(reads.hasNext());
    assertTrue(reads.add("c"), "nothing under way any more");
  }

  @Test
  void anAnswerToAnotherContextIsNotOurs() {
    PendingReads<String> reads = new PendingReads<>();
    reads.add("a");
    reads.asking(2);
    assertNull(reads.answer(1, true, 5));
    assertEquals(List.of(), reads.answer(2, true, 5));
  }

  @Test
  void drainHandsBackEveryRead() {
    PendingReads<String> reads = new PendingReads<>();
    reads.add("a");
    reads.asking(1);
    reads.answer(1, true, 9);
    reads.add("b");
    reads.asking(2);
    reads.add("c");
    assertEquals(List.of("b", "a", "c"), reads.drain());
    assertEquals(List.of(), reads.drain());
    assertTrue(reads.add("d"), "nothing under way after a drain");
  }
}
