package io.raftkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConnectionSlotsTest {
  @Test
  void aNewConnectionBeyondTheLimitTakesTheSlotOfTheOneWaitingLongestOrIsRefused() {
    ConnectionSlots slots = new ConnectionSlots(2);
    List<String> evicted = new ArrayList<>();
    assertTrue(slots.admit());
    long first = slots.startWaiting(() -> evicted.add("first"));
    assertTrue(slots.admit());
    slots.startWaiting(() -> evicted.add("second"));
    assertTrue(slots.admit(), "full: the longest-waiting connection gives up its slot");
    assertEquals(List.of("first"), evicted);
    slots.release(); // the first one closed
    assertEquals(2, slots.open());
    assertTrue(slots.admit());
    assertEquals(List.of("first", "second"), evicted);
    slots.release();
    // nobody is waiting for a head any more: a new connection is refused, nothing is evicted
    assertFalse(slots.admit());
    assertEquals(2, evicted.size());
    // a connection that stopped waiting (its head arrived) is never evicted
    slots.release();
    assertTrue(slots.admit());
    long t = slots.startWaiting(() -> evicted.add("served"));
    slots.stopWaiting(t);
    slots.stopWaiting(first); // a stale ticket is harmless
    assertFalse(slots.admit());
    assertEquals(2, evicted.size());
  }
}
