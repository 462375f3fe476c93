package io.raftkv.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.client.KvClient;
import io.raftkv.client.ServerCall;
import io.raftkv.raft.PeerSettings;
import io.raftkv.raft.PeerTransport;
import io.raftkv.raft.RaftPeer;
import io.raftkv.rsm.Rsm;
import io.raftkv.storage.MemoryStorage;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Failover as the node's Clerk sees it: a per-try timeout well below the deadline and leader hints
 * from the survivors, so a dead leader costs one election, not the whole deadline.
 */
@Timeout(60)
class KvFailoverTest {
  static final ActorTestKit testKit = ActorTestKit.create();
  static final Duration PER_TRY = Duration.ofMillis(300);

  @AfterAll
  static void done() {
    testKit.shutdownTestKit();
  }

  @Test
  void theFirstWriteAfterTheLeaderDiesSucceedsWithinAnElectionAndAFewTries() {
    int n = 3;
    AtomicReferenceArray<ActorRef<RaftPeer.Command>> rafts = new AtomicReferenceArray<>(n);
    PeerTransport transport =
        e -> {
          ActorRef<RaftPeer.Command> to = rafts.get(e.to());
          if (to != null) to.tell(new RaftPeer.Inbound(e.from(), e.message()));
        };
    @SuppressWarnings("unchecked")
    ActorRef<KvServer.Command>[] servers = new ActorRef[n];
    TestProbe<ActorRef<Rsm.Command>> rsmProbe = testKit.createTestProbe();
    TestProbe<ActorRef<RaftPeer.Command>> raftProbe = testKit.createTestProbe();
    for (int i = 0; i < n; i++) {
      servers[i] = testKit.spawn(KvServer.create(KvServer.Settings.of(PeerSettings.of(i, n), -1), new MemoryStorage(), transport));
      servers[i].tell(new KvServer.GetRsm(rsmProbe.getRef()));
      rsmProbe.receiveMessage().tell(new Rsm.GetRaft(raftProbe.getRef()));
      rafts.set(i, raftProbe.receiveMessage());
    }
    AtomicInteger tries = new AtomicInteger();
    ServerCall call =
        (server, op) -> {
          tries.incrementAndGet();
          return AskPattern.<KvServer.Command, Rsm.Result>ask(
              servers[server], r -> new KvServer.Request(op, r), PER_TRY, testKit.scheduler());
        };
    KvClient clerk = new KvClient(call, n, new KvClient.Settings(Duration.ofMillis(100), Duration.ofSeconds(5)));
    assertEquals(KvErr.OK, clerk.appendSync("k", "a").err());

    TestProbe<RaftPeer.State> state = testKit.createTestProbe();
    int leader = -1;
    for (int i = 0; i < n; i++) {
      rafts.get(i).tell(new RaftPeer.GetState(state.getRef()));
      if (state.receiveMessage().isLeader()) leader = i;
    }
    assertTrue(leader >= 0);
    // the Clerk last heard from the leader, so its next try goes to the dead one first
    servers[leader].tell(KvServer.Stop.INSTANCE);
    testKit.createTestProbe().expectTerminated(servers[leader], Duration.ofSeconds(5));
    rafts.set(leader, null);

    tries.set(0);
    long start = System.nanoTime();
    KvClient.Result r = clerk.appendSync("k", "b");
    long ms = (System.nanoTime() - start) / 1_000_000;
    System.out.println("failover: first write " + ms + " ms after the leader stopped, " + tries.get() + " tries");
    assertEquals(KvErr.OK, r.err());
    // election timeout 400-800 ms, one per-try timeout on the dead leader, a little slack
    assertTrue(ms < 2000, "first write after " + ms + " ms");
    assertTrue(tries.get() < 20, "no tight loop: " + tries.get() + " tries");
    assertEquals("ab", clerk.getSync("k").value());
  }
}
