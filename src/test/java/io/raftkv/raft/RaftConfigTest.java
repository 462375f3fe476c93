package io.raftkv.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RaftConfigTest {

  @Test
  void aLongerTickKeepsEveryTimeoutsLengthInTime() {
    RaftConfig at10 = RaftConfig.production();
    RaftConfig at50 = at10.forTickMillis(50);
    // 400-800 ms elections, 100 ms heartbeats, 20 ms commit news (rounded to one tick), 300 ms resends
    assertEquals(8, at50.electionTicksMin());
    assertEquals(16, at50.electionTicksMax());
    assertEquals(2, at50.heartbeatTicks());
    assertEquals(1, at50.commitNotifyTicks());
    assertEquals(6, at50.snapshotResendTicks());
    // what is not a duration stays
    assertEquals(at10.preVote(), at50.preVote());
    assertEquals(at10.checkQuorum(), at50.checkQuorum());
    assertEquals(at10.maxInflight(), at50.maxInflight());
    assertEquals(at10.maxBytesPerMessage(), at50.maxBytesPerMessage());
    assertEquals(at10.snapshotChunkBytes(), at50.snapshotChunkBytes());
  }

  @Test
  void theTenMillisecondTickIsTheSettingsThemselves() {
    RaftConfig c = RaftConfig.defaults();
    assertEquals(c, c.forTickMillis(10));
  }

  @Test
  void aTickLongerThanTheTimeoutsStillLeavesAValidOrder() {
    RaftConfig c = RaftConfig.defaults().forTickMillis(1000);
    assertEquals(1, c.heartbeatTicks());
    assertTrue(c.electionTicksMin() > c.heartbeatTicks());
    assertTrue(c.electionTicksMax() > c.electionTicksMin());
  }

  @Test
  void aTickOfZeroIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> RaftConfig.defaults().forTickMillis(0));
  }
}
