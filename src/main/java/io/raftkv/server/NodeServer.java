package io.raftkv.server;

import com.typesafe.config.Config;
import io.raftkv.client.KvClient;
import io.raftkv.client.Stages;
import io.raftkv.kv.KvServer;
import io.raftkv.raft.PeerSettings;
import io.raftkv.raft.Configuration;
import io.raftkv.raft.RaftPeer;
import io.raftkv.raft.RaftStorage;
import io.raftkv.storage.FileStorage;
import io.raftkv.transport.NodePaths;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.eventstream.EventStream;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.remote.artery.ThisActorSystemQuarantinedEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running raftkv node as a process sees it: a clustered ActorSystem, the node's {@link
 * RaftKvNode} over {@link FileStorage} in its data directory, and the HTTP API. {@link #stop} hands
 * leadership on, leaves the cluster gracefully and closes the storage; {@link #failed} tells when
 * the node stopped serving by itself. The membership, downing and transport choices are explained in
 * docs/cluster.md.
 */
public final class NodeServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(NodeServer.class);

  /** Where one node of the group lives: its cluster (Artery) address and its HTTP address. */
  public record Member(String host, int port, String httpHost, int httpPort) {
    public Member {
      Objects.requireNonNull(host, "host");
      Objects.requireNonNull(httpHost, "httpHost");
      if (port < 0 || port > 65535 || httpPort < 0 || httpPort > 65535) throw new IllegalArgumentException("bad port");
    }

    /** {@code host:clusterPort:httpPort}, the HTTP API on the same host. */
    public static Member parse(String spec) {
      String[] p = spec.strip().split(":");
      if (p.length != 3) throw new IllegalArgumentException("a member is host:clusterPort:httpPort, not " + spec);
      if (!p[0].matches("[A-Za-z0-9.-]{1,253}")) throw new IllegalArgumentException("bad member " + spec + ": a host name or IPv4 address");
      try {
        return new Member(p[0], Integer.parseInt(p[1]), p[0], Integer.parseInt(p[2]));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("bad member " + spec + ": " + e.getMessage());
      }
    }

    /** This member as {@link #parse} reads it: the address others know it by. */
    public String spec() {
      return host + ":" + port + ":" + httpPort;
    }

    /** The same member, its HTTP API bound to {@code httpHost}. */
    public Member bindingHttpTo(String httpHost) {
      return new Member(host, port, httpHost, httpPort);
    }

    public String seedAddress() {
      return "pekko://" + NodeConfig.SYSTEM_NAME + "@" + host + ":" + port;
    }

    public String httpEndpoint() {
      return httpEndpoint(false);
    }

    /** {@code https://host:port} when {@code tls}, else {@code http://host:port}. */
    public String httpEndpoint(boolean tls) {
      return (tls ? "https://" : "http://") + httpHost + ":" + httpPort;
    }
  }

  /**
   * @param group the Raft group's name
   * @param id this node's index in {@code members}
   * @param members every node of the group, in id order (the same list on every node)
   * @param dataDir where this node's Raft log, hard state and snapshots live
   * @param maxRaftState snapshot when the log reaches this many bytes
   * @param tls null: plain HTTP and Artery TCP; else HTTPS only and Artery over mutual TLS
   * @param auth null: no tokens needed; else the HTTP API's bearer tokens
   * @param voters the group's voters when it starts (null: every member); the other members start
   *     as their own learners, outside the group until a membership change adds them
   *     (docs/membership.md). A node's log and snapshots record the membership from then on.
   */
  public record Settings(
      String group,
      int id,
      List<Member> members,
      Path dataDir,
      int maxRaftState,
      HttpApi.Limits limits,
      TlsSettings tls,
      HttpAuth auth,
      Set<Integer> voters) {
    public Settings {
      members = List.copyOf(members);
      if (id < 0 || id >= members.size()) throw new IllegalArgumentException("node id " + id + " is not one of the " + members.size() + " members");
      if (voters != null) {
        voters = Set.copyOf(voters);
        if (voters.isEmpty()) throw new IllegalArgumentException("no voter");
        for (int v : voters) {
          if (v < 0 || v >= members.size()) throw new IllegalArgumentException("voter " + v + " is not one of the " + members.size() + " members");
        }
      }
    }

    /** Without TLS and tokens. */
    public Settings(String group, int id, List<Member> members, Path dataDir, int maxRaftState, HttpApi.Limits limits) {
      this(group, id, members, dataDir, maxRaftState, limits, null, null, null);
    }

    public Settings withTls(TlsSettings tls) {
      return new Settings(group, id, members, dataDir, maxRaftState, limits, tls, auth, voters);
    }

    public Settings withAuth(HttpAuth auth) {
      return new Settings(group, id, members, dataDir, maxRaftState, limits, tls, auth, voters);
    }

    public Settings withVoters(Set<Integer> voters) {
      return new Settings(group, id, members, dataDir, maxRaftState, limits, tls, auth, voters);
    }

    /** The membership this node starts with while its storage records none. */
    Configuration initialConfiguration() {
      if (voters == null) return Configuration.ofVoters(members.size());
      return voters.contains(id) ? Configuration.of(voters, Set.of()) : Configuration.of(Set.of(), Set.of(id));
    }

    public Member self() {
      return members.get(id);
    }

    /** This node's HTTP endpoint, https when TLS is on. */
    public String httpEndpoint() {
      return self().httpEndpoint(tls != null);
    }
  }

  private final ActorSystem<Void> system;
  private final FileStorage storage;
  private final ActorRef<RaftKvNode.Command> node;
  private final HttpApi.Binding binding;
  private final Settings settings;
  private final StopWatch watch;
  private final NodeTimeouts timeouts;

  private NodeServer(
      Settings settings,
      ActorSystem<Void> system,
      FileStorage storage,
      ActorRef<RaftKvNode.Command> node,
      HttpApi.Binding binding,
      StopWatch watch,
      NodeTimeouts timeouts) {
    this.settings = settings;
    this.timeouts = timeouts;
    this.system = system;
    this.storage = storage;
    this.node = node;
    this.binding = binding;
    this.watch = watch;
  }

  /** The actor path of node {@code id}'s {@link RaftKvNode} actor, as NodeServer spawns it. */
  public static String nodePath(Member m, int id) {
    return m.seedAddress() + "/system/" + nodeActorName(id);
  }

  private static String nodeActorName(int id) {
    return "raftkv-node-" + id;
  }

  /**
   * Starts the node and returns once its HTTP API listens (the group may still be electing). Raft
   * and the node's Clerk address the other members by their fixed actor paths, so the node serves as
   * soon as a majority of members runs, whether or not the Pekko cluster has formed.
   */
  public static NodeServer start(Settings s) {
    long t0 = System.nanoTime();
    warmUpTls();
    // The storage recovers (reads and checks the log) on a thread of its own while this one starts
    // the ActorSystem: on a free core the two overlap.
    CompletableFuture<FileStorage> opening = new CompletableFuture<>();
    Thread opener =
        new Thread(
            () -> {
              try {
                opening.complete(FileStorage.open(s.dataDir()));
              } catch (Throwable e) { // CorruptStorageException, UncheckedIOException, a held lock
                opening.completeExceptionally(e);
              }
            },
            "raftkv-storage-open-" + s.id());
    opener.start();
    ActorSystem<Void> system = null;
    FileStorage storage = null;
    try {
      List<String> seeds = new ArrayList<>();
      List<String> paths = new ArrayList<>();
      List<String> specs = new ArrayList<>();
      for (int i = 0; i < s.members().size(); i++) {
        seeds.add(s.members().get(i).seedAddress());
        paths.add(nodePath(s.members().get(i), i));
        specs.add(s.members().get(i).spec());
      }
      // nodes that join later are found at the addresses the configuration records for them
      NodePaths nodePaths = NodePaths.growing(paths, (id, address) -> nodePath(Member.parse(address), id));
      Config clusterConfig = NodeConfig.cluster(s.self().host(), s.self().port(), seeds);
      NodeConfig.checkLimitsFitFrames(s.limits(), clusterConfig);
      // read before the system starts: bad key material fails the start with the file's name
      SSLContext tls = s.tls() == null ? null : s.tls().sslContext();
      system =
          tls == null
              ? ActorSystem.create(Behaviors.empty(), NodeConfig.SYSTEM_NAME, clusterConfig)
              : ActorSystem.create(Behaviors.empty(), NodeConfig.SYSTEM_NAME, ArteryTls.setup(clusterConfig, tls));
      long tSystem = System.nanoTime();
      try {
        storage = opening.join();
      } catch (CompletionException e) {
        throw new StorageUnusable(e.getCause());
      }
      long tStorage = System.nanoTime();
      int n = s.members().size();
      Config conf = system.settings().config();
      NodeTimeouts timeouts = NodeTimeouts.fromConfig(conf);
      PeerSettings raft = RaftKvNode.productionRaft(s.id(), n, timeouts.raftTick());
      RaftKvNode.Settings ns =
          new RaftKvNode.Settings(s.group(), KvServer.Settings.of(raft.withInitial(s.initialConfiguration()), s.maxRaftState()), nodePaths);
      ActorRef<RaftKvNode.Command> node = system.systemActorOf(RaftKvNode.create(ns, storage), nodeActorName(s.id()), Props.empty());
      StopWatch watch = new StopWatch(s.id());
      system.systemActorOf(watch.behavior(node), nodeActorName(s.id()) + "-watch", Props.empty());
      StopWatch w = watch;
      system.getWhenTerminated().thenRun(() -> w.failed("its ActorSystem terminated"));
      KvClient clerk = RaftKvNode.client(system, nodePaths, timeouts);
      ActorSystem<Void> sys = system;
      HttpApi api =
          new HttpApi(
                  clerk,
                  () -> AskPattern.<RaftKvNode.Command, RaftPeer.State>ask(node, RaftKvNode.GetStatus::new, timeouts.statusTimeout(), sys.scheduler()),
                  s.limits(),
                  timeouts.requestDeadline(),
                  new Metrics())
              .withLeaderTransfer(to -> askTransfer(sys, node, to, timeouts.requestDeadline()))
              .withAuth(s.auth())
              .withHttps(tls)
              .withMembership(MemberRoutes.of(sys, node, specs, timeouts));
      HttpApi.Binding binding =
          api.bind(system, s.self().httpHost(), s.self().httpPort()).toCompletableFuture().get(30, TimeUnit.SECONDS);
      long tHttp = System.nanoTime();
      LOG.info(
          "n{} serves {} on {} (data in {}); started in {} ms: ActorSystem {} ms, then storage {} ms more, node and HTTP {} ms;"
              + " process CPU so far {} ms",
          s.id(), (tls == null ? "HTTP" : "HTTPS") + (s.auth() == null ? "" : " with tokens"), binding.localAddress(), s.dataDir(), ms(tHttp - t0), ms(tSystem - t0), ms(tStorage - tSystem), ms(tHttp - tStorage),
          ProcessHandle.current().info().totalCpuDuration().map(Duration::toMillis).orElse(-1L));
      return new NodeServer(s, system, storage, node, binding, watch, timeouts);
    } catch (Exception e) {
      if (system != null) {
        system.terminate();
        system.getWhenTerminated().toCompletableFuture().join();
      }
      if (storage == null) storage = opening.exceptionally(x -> null).join();
      if (storage != null) storage.close();
      if (e instanceof StorageUnusable u) {
        throw new IllegalStateException("node " + s.id() + " cannot use " + s.dataDir() + ": " + u.getCause().getMessage(), u.getCause());
      }
      throw new IllegalStateException("node " + s.id() + " failed to start: " + e.getMessage(), e);
    }
  }

  /** The storage could not be opened; carries its reason. */
  private static final class StorageUnusable extends RuntimeException {
    StorageUnusable(Throwable cause) {
      super(cause.getMessage(), cause, false, false);
    }
  }

  /**
   * Starts initializing the JDK's default SSLContext on a daemon thread. pekko-http's plain-HTTP
   * server needs it (pekko-stream's TLSPlacebo takes a dummy session from it), and its set-up
   * (the JSSE provider, cipher suites, the CA certificates) is about 0.2 s of one core; begun here,
   * it overlaps the ActorSystem's start. JDK classes only: nothing here can wait for a class the
   * starting thread is initializing. A failure is left for pekko-http to report.
   */
  private static void warmUpTls() {
    Thread t =
        new Thread(
            () -> {
              try {
                SSLContext.getDefault().createSSLEngine().getSession();
              } catch (Exception | LinkageError e) {
                // pekko-http fails the bind with the same error
              }
            },
            "raftkv-tls-warm-up");
    t.setDaemon(true);
    t.start();
  }

  private static long ms(long nanos) {
    return nanos / 1_000_000;
  }

  public InetSocketAddress httpAddress() {
    return binding.localAddress();
  }

  public Settings settings() {
    return settings;
  }

  public ActorSystem<Void> system() {
    return system;
  }

  public CompletionStage<RaftPeer.State> status() {
    return AskPattern.ask(node, RaftKvNode.GetStatus::new, timeouts.statusTimeout(), system.scheduler());
  }

  /**
   * Completes, with the reason, when this node stops serving without {@link #stop} having been
   * called: its {@link RaftKvNode} stopped (a persist failed, a fatal error), another node
   * quarantined this ActorSystem, or the ActorSystem terminated. A process should then exit so that
   * its supervisor restarts it. Never completes after {@link #stop}.
   */
  public CompletionStage<String> failed() {
    return watch.failure;
  }

  /**
   * Asks this node's Raft peer to hand leadership to node {@code to} (-1: the most up-to-date
   * follower). The answer says whether it happened; no answer within {@code timeout} becomes a
   * transfer not done.
   */
  public CompletionStage<RaftPeer.TransferResult> transferLeader(int to, Duration timeout) {
    return transferLeader(system, node, to, timeout);
  }

  private static CompletionStage<RaftPeer.TransferResult> transferLeader(
      ActorSystem<?> system, ActorRef<RaftKvNode.Command> node, int to, Duration timeout) {
    return Stages.direct(askTransfer(system, node, to, timeout))
        .exceptionally(e -> new RaftPeer.TransferResult(false, -1, 0, "no answer within " + timeout.toMillis() + " ms"));
  }

  private static CompletionStage<RaftPeer.TransferResult> askTransfer(
      ActorSystem<?> system, ActorRef<RaftKvNode.Command> node, int to, Duration timeout) {
    return AskPattern.ask(node, replyTo -> new RaftKvNode.TransferLeader(to, replyTo), timeout, system.scheduler());
  }

  /**
   * Hands leadership to an up-to-date follower if this node leads (waiting at most {@link
   * NodeTimeouts#stopTransferTimeout}), then stops serving HTTP, leaves the cluster, stops the actors and
   * closes the storage. Idempotent; a second caller waits for the first to finish.
   */
  public synchronized void stop() {
    watch.stopRequested = true;
    boolean serving = !watch.failure.isDone();
    if (!system.getWhenTerminated().toCompletableFuture().isDone()) {
      if (serving) {
        try {
          RaftPeer.TransferResult r =
              transferLeader(-1, timeouts.stopTransferTimeout())
                  .toCompletableFuture()
                  .get(timeouts.stopTransferTimeout().toMillis() + 500, TimeUnit.MILLISECONDS);
          if (r.done()) LOG.info("n{} handed leadership to n{} at term {} before stopping", settings.id(), r.leader(), r.term());
          else LOG.info("n{} stops without a leadership transfer: {}", settings.id(), r.error());
        } catch (Exception e) {
          LOG.info("n{} stops without a leadership transfer: {}", settings.id(), e.toString());
        }
      }
      try {
        binding.unbind().toCompletableFuture().get(2, TimeUnit.SECONDS);
      } catch (Exception e) {
        LOG.warn("n{}: unbinding HTTP failed: {}", settings.id(), e.toString());
      }
    }
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().join();
    storage.close();
  }

  @Override
  public void close() {
    stop();
  }

  /**
   * Stops this node (as {@link #stop()} does), then runs {@code then}, when the JVM shuts down
   * (SIGTERM, Ctrl-C). The hook goes through the ActorSystem's {@link CoordinatedShutdown}: Artery's
   * own JVM hook waits for such hooks before it closes the transport, so the leadership transfer and
   * the cluster leave still reach the other nodes. (A plain JVM hook races Artery's, which closed the
   * transport at once: the transfer never arrived and the stopping node stayed a member, Up.)
   */
  public void stopOnJvmShutdown(Runnable then) {
    CoordinatedShutdown.get(system).addJvmShutdownHook(() -> {
      stop();
      then.run();
    });
  }

  /**
   * Watches the node's actor and this system's standing with the other nodes, and tells {@link
   * #failure} when the node stops serving without a requested stop.
   */
  private static final class StopWatch {
    final int id;
    final CompletableFuture<String> failure = new CompletableFuture<>();
    volatile boolean stopRequested;

    StopWatch(int id) {
      this.id = id;
    }

    void failed(String reason) {
      if (stopRequested || failure.isDone()) return;
      LOG.error("n{} no longer serves: {}", id, reason);
      failure.complete(reason);
    }

    Behavior<Object> behavior(ActorRef<RaftKvNode.Command> node) {
      return Behaviors.setup(
          ctx -> {
            ctx.watch(node);
            ctx.getSystem()
                .eventStream()
                .tell(new EventStream.Subscribe<>(ThisActorSystemQuarantinedEvent.class, ctx.getSelf().narrow()));
            return Behaviors.receive(Object.class)
                .onMessage(
                    ThisActorSystemQuarantinedEvent.class,
                    q -> {
                      // The peer refuses this incarnation for good; only a new one (a restart) can talk to it.
                      failed("quarantined by " + q.remoteAddress().address() + "; a restart gives it a new incarnation");
                      ctx.getSystem().terminate();
                      return Behaviors.same();
                    })
                .onSignal(
                    Terminated.class,
                    t -> {
                      failed("its Raft node stopped");
                      return Behaviors.stopped();
                    })
                .build();
          });
    }
  }
}
