package io.raftkv.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RaftLogTest {

  /** A log after a snapshot at (snapIndex, snapTerm) holding one entry per given term. */
  static RaftLog log(long snapIndex, long snapTerm, long... terms) {
    List<LogEntry> entries = new ArrayList<>();
    for (int k = 0; k < terms.length; k++) entries.add(entry(snapIndex + 1 + k, terms[k]));
    return new RaftLog(snapIndex, snapTerm, entries);
  }

  static LogEntry entry(long index, long term) {
    return new LogEntry(index, term, new byte[] {(byte) index});
  }

  static LogEntry entry(long index, long term, int bytes) {
    return new LogEntry(index, term, new byte[bytes]);
  }

  @Test
  void emptyLogStartsAtIndexZeroTermZero() {
    RaftLog l = log(0, 0);
    assertEquals(0, l.lastIndex());
    assertEquals(0, l.lastTerm());
    assertEquals(0, l.term(0));
    assertEquals(-1, l.term(1));
  }

  @ParameterizedTest(name = "term({0}) = {1}")
  @CsvSource({
    // snapshot at 3 (term 2), entries 4..7 with terms 2 2 3 5
    "2, -1", // compacted away
    "3, 2", // the snapshot point keeps its term
    "4, 2",
    "6, 3",
    "7, 5",
    "8, -1", // beyond the end
  })
  void termAfterASnapshot(long index, long expected) {
    RaftLog l = log(3, 2, 2, 2, 3, 5);
    assertEquals(expected, l.term(index));
  }

  @Test
  void entryOutsideTheRetainedRangeThrows() {
    RaftLog l = log(3, 2, 2, 2);
    assertEquals(4, l.entry(4).index());
    assertThrows(IndexOutOfBoundsException.class, () -> l.entry(3));
    assertThrows(IndexOutOfBoundsException.class, () -> l.entry(6));
  }

  @Test
  void appendMustContinueTheLogWithoutGaps() {
    RaftLog l = log(0, 0, 1, 1);
    l.append(entry(3, 2));
    assertEquals(3, l.lastIndex());
    assertEquals(2, l.lastTerm());
    assertThrows(IllegalStateException.class, () -> l.append(entry(5, 2)));
    assertThrows(IllegalStateException.class, () -> l.append(entry(3, 2)));
  }

  @Test
  void constructorSkipsEntriesCoveredByTheSnapshotAndRejectsGaps() {
    RaftLog l = new RaftLog(2, 1, List.of(entry(1, 1), entry(2, 1), entry(3, 1), entry(4, 2)));
    assertEquals(List.of(3L, 4L), l.entriesCopy().stream().map(LogEntry::index).toList());
    assertThrows(IllegalStateException.class, () -> new RaftLog(2, 1, List.of(entry(4, 1))));
  }

  @Test
  void truncateFromRemovesTheSuffixButNeverTheSnapshot() {
    RaftLog l = log(2, 1, 1, 2, 2, 3);
    l.truncateFrom(5);
    assertEquals(4, l.lastIndex());
    assertEquals(2, l.lastTerm());
    l.truncateFrom(3);
    assertEquals(2, l.lastIndex());
    assertEquals(1, l.lastTerm());
    assertThrows(IllegalStateException.class, () -> l.truncateFrom(2));
  }

  @ParameterizedTest(name = "firstIndexOfTermAt({0}) = {1}")
  @CsvSource({
    // snapshot at 2 (term 1), entries 3..8 with terms 1 1 2 2 2 4
    "3, 3", // the run of term 1 continues into the snapshot: stop at the first retained entry
    "4, 3",
    "5, 5",
    "7, 5",
    "8, 8",
  })
  void firstIndexOfTermAt(long index, long expected) {
    RaftLog l = log(2, 1, 1, 1, 2, 2, 2, 4);
    assertEquals(expected, l.firstIndexOfTermAt(index));
  }

  @ParameterizedTest(name = "lastIndexOfTerm({0}) = {1}")
  @CsvSource({
    // snapshot at 2 (term 1), entries 3..8 with terms 1 1 2 2 2 4
    "1, 4",
    "2, 7",
    "3, -1", // a term the log skipped
    "4, 8",
    "5, -1", // newer than anything held
  })
  void lastIndexOfTerm(long term, long expected) {
    RaftLog l = log(2, 1, 1, 1, 2, 2, 2, 4);
    assertEquals(expected, l.lastIndexOfTerm(term));
  }

  @Test
  void lastIndexOfTermDoesNotLookIntoTheSnapshot() {
    RaftLog l = log(4, 1, 2, 2);
    assertEquals(-1, l.lastIndexOfTerm(1));
  }

  @Test
  void compactToAMatchingEntryKeepsTheSuffix() {
    RaftLog l = log(0, 0, 1, 1, 2, 2);
    l.compactTo(3, 2);
    assertEquals(3, l.snapshotIndex());
    assertEquals(2, l.snapshotTerm());
    assertEquals(4, l.lastIndex());
    assertEquals(List.of(4L), l.entriesCopy().stream().map(LogEntry::index).toList());
  }

  @Test
  void compactToAConflictingOrMissingEntryDiscardsTheWholeLog() {
    RaftLog conflicting = log(0, 0, 1, 1, 2, 2);
    conflicting.compactTo(3, 3);
    assertEquals(3, conflicting.lastIndex());
    assertEquals(3, conflicting.lastTerm());
    assertEquals(List.of(), conflicting.entriesCopy());

    RaftLog shorter = log(0, 0, 1);
    shorter.compactTo(5, 2);
    assertEquals(5, shorter.lastIndex());
    assertEquals(2, shorter.lastTerm());
    assertEquals(-1, shorter.term(1));
  }

  @Test
  void compactToAnOlderPointIsIgnored() {
    RaftLog l = log(3, 2, 2, 2);
    l.compactTo(2, 1);
    assertEquals(3, l.snapshotIndex());
    assertEquals(5, l.lastIndex());
  }

  @Test
  void sliceStopsAtTheByteLimitButAlwaysTakesOneEntry() {
    RaftLog l =
        new RaftLog(0, 0, List.of(entry(1, 1, 10), entry(2, 1, 10), entry(3, 1, 10), entry(4, 1, 100)));
    assertEquals(4, l.slice(1, 4, 1000).size());
    assertEquals(2, l.slice(1, 4, 25).size());
    assertEquals(3, l.slice(1, 4, 30).size());
    assertEquals(1, l.slice(4, 4, 5).size()); // one oversized entry still goes
    assertEquals(2, l.slice(2, 3, 1000).size());
  }
}
