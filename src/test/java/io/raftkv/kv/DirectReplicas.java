package io.raftkv.kv;

import io.raftkv.client.ServerCall;
import io.raftkv.raft.PeerSettings;
import io.raftkv.raft.PeerTransport;
import io.raftkv.raft.RaftPeer;
import io.raftkv.rsm.Rsm;
import io.raftkv.storage.MemoryStorage;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.IntFunction;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * {@link KvServer} replicas spawned in an {@link ActorTestKit}, their Raft peers linked by a direct
 * in-memory transport (a message is told straight to the receiving peer), each on its own {@link
 * MemoryStorage}: the group {@link KvServerTest} and {@link KvMembershipTest} drive.
 */
final class DirectReplicas {
  final ActorRef<KvServer.Command>[] servers;
  final MemoryStorage[] storages;
  /** Replica {@code i}'s Raft peer. */
  final AtomicReferenceArray<ActorRef<RaftPeer.Command>> rafts;
  private final ActorTestKit testKit;

  /** {@code n} replicas, replica {@code i} with the Raft settings {@code raft(i)}. */
  @SuppressWarnings("unchecked")
  DirectReplicas(ActorTestKit testKit, int n, IntFunction<PeerSettings> raft, int maxRaftState) {
    this.testKit = testKit;
    this.servers = new ActorRef[n];
    this.storages = new MemoryStorage[n];
    this.rafts = new AtomicReferenceArray<>(n);
    PeerTransport transport =
        e -> {
          ActorRef<RaftPeer.Command> to = rafts.get(e.to());
          if (to != null) to.tell(new RaftPeer.Inbound(e.from(), e.message()));
        };
    TestProbe<ActorRef<Rsm.Command>> rsmProbe = testKit.createTestProbe();
    TestProbe<ActorRef<RaftPeer.Command>> raftProbe = testKit.createTestProbe();
    for (int i = 0; i < n; i++) {
      storages[i] = new MemoryStorage();
      servers[i] = testKit.spawn(KvServer.create(KvServer.Settings.of(raft.apply(i), maxRaftState), storages[i], transport));
      servers[i].tell(new KvServer.GetRsm(rsmProbe.getRef()));
      rsmProbe.receiveMessage().tell(new Rsm.GetRaft(raftProbe.getRef()));
      rafts.set(i, raftProbe.receiveMessage());
    }
  }

  /** Asks replica {@code server}'s {@link KvServer} directly; a try gives up after {@code timeout}. */
  ServerCall call(Duration timeout) {
    return (server, op) ->
        AskPattern.<KvServer.Command, Rsm.Result>ask(servers[server], r -> new KvServer.Request(op, r), timeout, testKit.scheduler());
  }
}
