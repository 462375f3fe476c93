package io.raftkv.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.storage.MemoryStorage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The actor shell over a direct in-JVM transport: elections happen and commands commit everywhere. */
@Timeout(60)
class RaftPeerTest {
  static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void done() {
    testKit.shutdownTestKit();
  }

  @Test
  void threePeersElectALeaderAndApplyEveryCommandInOrder() {
    int n = 3;
    AtomicReferenceArray<ActorRef<RaftPeer.Command>> peers = new AtomicReferenceArray<>(n);
    PeerTransport transport = e -> {
      ActorRef<RaftPeer.Command> to = peers.get(e.to());
      if (to != null) to.tell(new RaftPeer.Inbound(e.from(), e.message()));
    };
    List<TestProbe<ApplyMsg>> applied = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      TestProbe<ApplyMsg> probe = testKit.createTestProbe();
      applied.add(probe);
      peers.set(i, testKit.spawn(RaftPeer.create(PeerSettings.of(i, n), new MemoryStorage(), transport, probe.getRef())));
    }
    int leader = awaitLeader(peers, n);
    for (int c = 1; c <= 20; c++) {
      TestProbe<Proposal> started = testKit.createTestProbe();
      peers.get(leader).tell(new RaftPeer.Start(("cmd" + c).getBytes(StandardCharsets.UTF_8), started.getRef()));
      Proposal r = started.receiveMessage();
      assertTrue(r.isLeader());
      assertEquals(c, r.index());
    }
    for (TestProbe<ApplyMsg> probe : applied) {
      for (int c = 1; c <= 20; c++) {
        ApplyMsg.Command cmd = nextCommand(probe);
        assertEquals(c, cmd.index());
        assertEquals("cmd" + c, new String(cmd.command(), StandardCharsets.UTF_8));
      }
    }
  }

  static ApplyMsg.Command nextCommand(TestProbe<ApplyMsg> probe) {
    while (true) {
      ApplyMsg m = probe.receiveMessage(Duration.ofSeconds(5));
      if (m instanceof ApplyMsg.Command c) return c;
    }
  }

  static int awaitLeader(AtomicReferenceArray<ActorRef<RaftPeer.Command>> peers, int n) {
    TestProbe<RaftPeer.State> state = testKit.createTestProbe();
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (System.nanoTime() < deadline) {
      for (int i = 0; i < n; i++) {
        peers.get(i).tell(new RaftPeer.GetState(state.getRef()));
        if (state.receiveMessage().isLeader()) return i;
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
    throw new AssertionError("no leader within 5 s");
  }
}
