package io.raftkv.server;

import io.raftkv.client.KvClient;
import io.raftkv.client.ServerCall;
import io.raftkv.kv.KvServer;
import io.raftkv.raft.PeerSettings;
import io.raftkv.raft.PeerTransport;
import io.raftkv.raft.RaftPeer;
import io.raftkv.rsm.Rsm;
import io.raftkv.storage.MemoryStorage;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * A KV group of {@code n} replicas in one ActorTestKit over a direct in-memory transport (as in
 * KvServerTest), each with its own Clerk and an {@link HttpApi} bound to a free loopback port.
 */
public final class HttpTestGroup {
  public final int n;
  private final ActorTestKit testKit;
  private final ActorRef<KvServer.Command>[] servers;
  private final ActorRef<RaftPeer.Command>[] rafts;
  private final HttpApi[] apis;
  private final HttpApi.Binding[] bindings;
  private final ServerCall call;

  /**
   * @param deadline each node's Clerk deadline and HTTP request deadline
   */
  public HttpTestGroup(ActorTestKit testKit, int n, HttpApi.Limits limits, Duration deadline) {
    this(testKit, n, limits, deadline, HttpApi.Connections.fromConfig(testKit.system().settings().config()));
  }

  /**
   * @param connections each node's HTTP connection limits and timeouts
   */
  @SuppressWarnings("unchecked")
  public HttpTestGroup(ActorTestKit testKit, int n, HttpApi.Limits limits, Duration deadline, HttpApi.Connections connections) {
    this.n = n;
    this.testKit = testKit;
    this.servers = new ActorRef[n];
    this.rafts = new ActorRef[n];
    this.apis = new HttpApi[n];
    this.bindings = new HttpApi.Binding[n];
    AtomicReferenceArray<ActorRef<RaftPeer.Command>> directory = new AtomicReferenceArray<>(n);
    PeerTransport transport =
        e -> {
          ActorRef<RaftPeer.Command> to = directory.get(e.to());
          if (to != null) to.tell(new RaftPeer.Inbound(e.from(), e.message()));
        };
    TestProbe<ActorRef<Rsm.Command>> rsmProbe = testKit.createTestProbe();
    TestProbe<ActorRef<RaftPeer.Command>> raftProbe = testKit.createTestProbe();
    for (int i = 0; i < n; i++) {
      servers[i] =
          testKit.spawn(
              KvServer.create(KvServer.Settings.of(PeerSettings.of(i, n), -1), new MemoryStorage(), transport));
      servers[i].tell(new KvServer.GetRsm(rsmProbe.getRef()));
      rsmProbe.receiveMessage().tell(new Rsm.GetRaft(raftProbe.getRef()));
      rafts[i] = raftProbe.receiveMessage();
      directory.set(i, rafts[i]);
    }
    // a lost ask (dead or partitioned replica) must not eat the whole deadline
    Duration perAttempt = deadline.dividedBy(3);
    this.call =
        (server, op) ->
            AskPattern.<KvServer.Command, Rsm.Result>ask(
                servers[server], r -> new KvServer.Request(op, r), perAttempt, testKit.scheduler());
    for (int i = 0; i < n; i++) {
      KvClient clerk = new KvClient(call, n, new KvClient.Settings(Duration.ofMillis(20), deadline));
      ActorRef<RaftPeer.Command> raft = rafts[i];
      apis[i] = new HttpApi(clerk, () -> askState(raft, deadline), limits, deadline, new Metrics());
      bindings[i] = apis[i].bind(testKit.system(), "127.0.0.1", 0, connections).toCompletableFuture().join();
    }
  }

  private CompletionStage<RaftPeer.State> askState(ActorRef<RaftPeer.Command> raft, Duration timeout) {
    return AskPattern.ask(raft, RaftPeer.GetState::new, timeout, testKit.scheduler());
  }

  /** How the nodes' Clerks reach the replicas (one ask per attempt). */
  public ServerCall serverCall() {
    return call;
  }

  public String endpoint(int i) {
    return "http://127.0.0.1:" + bindings[i].localAddress().getPort();
  }

  public HttpApi api(int i) {
    return apis[i];
  }

  /** Stops replica {@code i} and waits until it is gone (its HTTP API stays up). */
  public void kill(int i) {
    TestProbe<Object> probe = testKit.createTestProbe();
    servers[i].tell(KvServer.Stop.INSTANCE);
    probe.expectTerminated(servers[i], Duration.ofSeconds(10));
  }

  public void unbind() {
    for (HttpApi.Binding b : bindings) {
      if (b != null) b.unbind().toCompletableFuture().join();
    }
  }
}
