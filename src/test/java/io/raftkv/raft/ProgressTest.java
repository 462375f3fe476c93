package io.raftkv.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ProgressTest {

  static Progress progress(long match, long next, String inflight) {
    Progress p = new Progress(next);
    p.match = match;
    for (long i : parse(inflight)) p.inflight.addLast(i);
    return p;
  }

  static List<Long> parse(String list) {
    List<Long> out = new ArrayList<>();
    if (list == null || list.isBlank()) return out;
    for (String s : list.trim().split(" +")) out.add(Long.parseLong(s));
    return out;
  }

  @ParameterizedTest(name = "match {0} next {1} inflight [{2}], ack {3} -> moved {4}, match {5} next {6} inflight [{7}]")
  @CsvSource({
    // match, next, inflight, ack, moved, match', next', inflight'
    "0, 1, '', 0, false, 0, 1, ''", // nothing new
    "0, 1, '', 5, true, 5, 6, ''", // an ack beyond next pulls next along
    "3, 10, '5 7 9', 5, true, 5, 10, '7 9'", // frees the oldest message
    "3, 10, '5 7 9', 8, true, 8, 10, '9'", // frees every message it covers
    "3, 10, '5 7 9', 9, true, 9, 10, ''",
    "5, 10, '7 9', 4, false, 5, 10, '7 9'", // a stale ack changes nothing
    "5, 10, '7 9', 5, false, 5, 10, '7 9'", // a duplicate ack changes nothing
  })
  void maybeUpdate(
      long match,
      long next,
      String inflight,
      long ack,
      boolean moved,
      long match2,
      long next2,
      String inflight2) {
    Progress p = progress(match, next, inflight);
    assertEquals(moved, p.maybeUpdate(ack));
    assertEquals(match2, p.match);
    assertEquals(next2, p.next);
    assertEquals(parse(inflight2), new ArrayList<>(p.inflight));
    assertTrue(p.match < p.next, "match < next");
  }

  @ParameterizedTest(name = "{0} inflight of at most {1} -> full {2}")
  @CsvSource({"'', 1, false", "'4', 1, true", "'4', 2, false", "'4 6', 2, true", "'4 6 8', 2, true"})
  void inflightFull(String inflight, int max, boolean full) {
    assertEquals(full, progress(0, 9, inflight).inflightFull(max));
  }

  @ParameterizedTest(name = "{0} with match {1} next {2} -> next {3}")
  @CsvSource({
    // becomeProbe and becomeReplicate keep next above match, and forget the window
    "PROBE, 4, 9, 9",
    "PROBE, 4, 3, 5",
    "REPLICATE, 4, 9, 9",
    "REPLICATE, 4, 2, 5",
  })
  void becomeProbeOrReplicate(Progress.State to, long match, long next, long next2) {
    Progress p = progress(match, next, "7 8");
    p.probeSent = true;
    if (to == Progress.State.PROBE) {
      p.becomeProbe();
      assertTrue(p.inflight.isEmpty());
    } else {
      p.becomeReplicate();
    }
    assertEquals(to, p.state);
    assertEquals(next2, p.next);
    assertFalse(p.probeSent);
  }

  @ParameterizedTest(name = "becomeSnapshot({0})")
  @CsvSource({"10", "42"})
  void becomeSnapshotRemembersTheIndexAndRestartsItsTimer(long index) {
    Progress p = progress(2, 5, "3 4");
    p.snapshotTicks = 17;
    p.becomeSnapshot(index);
    assertEquals(Progress.State.SNAPSHOT, p.state);
    assertEquals(index, p.pendingSnapshot);
    assertEquals(0, p.snapshotTicks);
    assertTrue(p.inflight.isEmpty());
  }
}
