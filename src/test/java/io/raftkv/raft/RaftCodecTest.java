package io.raftkv.raft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.raftkv.codec.CorruptDataException;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Configurations and typed entries in Raft's wire and persisted formats. */
class RaftCodecTest {
  static final Configuration JOINT = new Configuration(Set.of(1, 2, 4), Set.of(1, 2, 3), Set.of(7), Set.of(3), true);

  @Test
  void aConfigurationRoundTrips() {
    for (Configuration c : List.of(Configuration.ofVoters(1), Configuration.ofVoters(5), JOINT, Configuration.of(Set.of(0), Set.of(9)))) {
      assertEquals(c, RaftCodec.decodeConfiguration(RaftCodec.encodeConfiguration(c)));
    }
  }

  @Test
  void addressesRoundTripAndAConfigurationWithoutThemKeepsItsBytes() {
    Configuration base = Configuration.of(Set.of(0, 1, 2), Set.of());
    byte[] v1 = RaftCodec.encodeConfiguration(base);
    assertEquals(1, v1[0], "no addresses: the format of before addresses");
    Configuration joined =
        base.apply(List.of(new Configuration.SetAddress(3, "10.0.0.9:2552:8080"), new Configuration.AddLearner(3)), Configuration.Transition.AUTO);
    assertEquals(java.util.Map.of(3, "10.0.0.9:2552:8080"), joined.addresses());
    byte[] v2 = RaftCodec.encodeConfiguration(joined);
    assertEquals(2, v2[0]);
    assertEquals(joined, RaftCodec.decodeConfiguration(v2));
    Configuration removed = joined.apply(List.of(new Configuration.Remove(3)), Configuration.Transition.AUTO);
    assertEquals(joined.addresses(), removed.addresses(), "kept after removal: the id is never given again");
    assertThrows(IllegalArgumentException.class, () -> new Configuration.SetAddress(4, "has space"));
    assertThrows(IllegalArgumentException.class, () -> new Configuration.SetAddress(4, "x".repeat(Configuration.MAX_ADDRESS_LENGTH + 1)));
    byte[] control = v2.clone();
    control[control.length - 1] = 0x07; // a control character inside the address
    assertThrows(CorruptDataException.class, () -> RaftCodec.decodeConfiguration(control));
    assertThrows(CorruptDataException.class, () -> RaftCodec.decodeConfiguration(java.util.Arrays.copyOf(v2, v2.length - 2)));
  }

  @Test
  void bytesBreakingAConfigurationsRulesAreCorrupt() {
    byte[] good = RaftCodec.encodeConfiguration(Configuration.of(Set.of(1), Set.of(2)));
    // voters {1}, learners {1}: one id in two roles
    byte[] bad = good.clone();
    bad[bad.length - 3] = 1; // the learner id 2 becomes 1
    assertThrows(CorruptDataException.class, () -> RaftCodec.decodeConfiguration(bad));
    byte[] truncated = java.util.Arrays.copyOf(good, good.length - 1);
    assertThrows(CorruptDataException.class, () -> RaftCodec.decodeConfiguration(truncated));
  }

  @Test
  void appendEntriesWithAConfigurationEntryRoundTripAndCommandsAloneKeepTheirBytes() {
    LogEntry cmd = new LogEntry(5, 2, new byte[] {1, 2, 3});
    LogEntry conf = new LogEntry(6, 2, RaftCodec.encodeConfiguration(JOINT), LogEntry.Type.CONFIGURATION);
    RaftMessage.AppendEntries typed = new RaftMessage.AppendEntries(2, 4, 1, List.of(cmd, conf), 3, 0);
    RaftMessage.AppendEntries back = (RaftMessage.AppendEntries) RaftCodec.decodeMessage(RaftCodec.encode(typed));
    assertEquals(2, back.entries().size());
    assertEquals(LogEntry.Type.COMMAND, back.entries().get(0).type());
    assertEquals(LogEntry.Type.CONFIGURATION, back.entries().get(1).type());
    assertEquals(JOINT, RaftCodec.decodeConfiguration(back.entries().get(1).command()));
    assertEquals(3, back.leaderCommit());
    // a message of commands only: tag 3, as before configuration entries existed
    byte[] plain = RaftCodec.encode(new RaftMessage.AppendEntries(2, 4, 1, List.of(cmd), 3));
    assertEquals(3, plain[1]);
  }

  @Test
  void aRaftStateWithAConfigurationEntryRoundTrips() {
    List<LogEntry> entries =
        List.of(new LogEntry(1, 1, new byte[0]), new LogEntry(2, 1, RaftCodec.encodeConfiguration(JOINT), LogEntry.Type.CONFIGURATION));
    RaftCodec.RaftState s = RaftCodec.decodeRaftState(RaftCodec.encodeRaftState(new HardState(3, 1), 0, 0, entries));
    assertEquals(LogEntry.Type.CONFIGURATION, s.entries().get(1).type());
    assertArrayEquals(entries.get(1).command(), s.entries().get(1).command());
    assertEquals(1, RaftCodec.encodeRaftState(new HardState(3, 1), 0, 0, entries.subList(0, 1))[0], "commands only: version 1");
  }
}
