package io.raftkv.server;

import io.raftkv.client.KvClient;
import io.raftkv.raft.RaftPeer;
import io.raftkv.storage.FileStorage;
import io.raftkv.storage.RaftStorage;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running raftkv node as a process sees it: a clustered ActorSystem, the node's {@link
 * RaftKvNode} over {@link FileStorage} in its data directory, and the HTTP API. {@link #stop} leaves
 * the cluster gracefully and closes the storage.
 */
public final class NodeServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NodeServer.class);

  /** Where one node of the group lives: its cluster (Artery) address and its HTTP address. */
  public record Member(String host, int port, String httpHost, int httpPort) {
    public Member {
      Objects.requireNonNull(host, "host");
      Objects.requireNonNull(httpHost, "httpHost");
      if (port < 0 || port > 65535 || httpPort < 0 || httpPort > 65535) throw new IllegalArgumentException("bad port");
    }

    public String seedAddress() {
      return "pekko://" + NodeConfig.SYSTEM_NAME + "@" + host + ":" + port;
    }

    public String httpEndpoint() {
      return "http://" + httpHost + ":" + httpPort;
    }
  }

  /**
   * @param group the Raft group's name
   * @param id this node's index in {@code members}
   * @param members every node of the group, in id order (the same list on every node)
   * @param dataDir where this node's Raft log, hard state and snapshots live
   * @param maxRaftState snapshot when the log reaches this many bytes
   */
  public record Settings(String group, int id, List<Member> members, Path dataDir, int maxRaftState, HttpApi.Limits limits) {
    public Settings {
      members = List.copyOf(members);
      if (id < 0 || id >= members.size()) throw new IllegalArgumentException("node id " + id + " is not one of the " + members.size() + " members");
    }

    public Member self() {
      return members.get(id);
    }
  }

  private final ActorSystem<Void> system;
  private final FileStorage storage;
  private final ActorRef<RaftKvNode.Command> node;
  private final ServerBinding binding;
  private final Settings settings;

  private NodeServer(Settings settings, ActorSystem<Void> system, FileStorage storage, ActorRef<RaftKvNode.Command> node, ServerBinding binding) {
    this.settings = settings;
    this.system = system;
    this.storage = storage;
    this.node = node;
    this.binding = binding;
  }

  /** Starts the node and returns once its HTTP API listens (the group may still be electing). */
  public static NodeServer start(Settings s) {
    FileStorage storage;
    try {
      storage = FileStorage.open(s.dataDir());
    } catch (RuntimeException e) { // CorruptStorageException, UncheckedIOException, a held lock
      throw new IllegalStateException("node " + s.id() + " cannot use " + s.dataDir() + ": " + e.getMessage(), e);
    }
    ActorSystem<Void> system = null;
    try {
      List<String> seeds = new ArrayList<>();
      for (Member m : s.members()) seeds.add(m.seedAddress());
      system = ActorSystem.create(Behaviors.empty(), NodeConfig.SYSTEM_NAME, NodeConfig.cluster(s.self().host(), s.self().port(), seeds));
      int n = s.members().size();
      RaftKvNode.Settings ns = RaftKvNode.Settings.of(s.group(), s.id(), n);
      ns = new RaftKvNode.Settings(ns.group(), ns.id(), ns.n(), io.raftkv.kv.KvServer.Settings.of(ns.kv().raft(), s.maxRaftState()));
      ActorRef<RaftKvNode.Command> node = system.systemActorOf(RaftKvNode.create(ns, storage), "raftkv-node-" + s.id(), Props.empty());
      KvClient clerk = RaftKvNode.client(system, s.group(), n, HttpApi.DEFAULT_DEADLINE);
      ActorSystem<Void> sys = system;
      HttpApi api =
          new HttpApi(
              clerk,
              () -> AskPattern.<RaftKvNode.Command, RaftPeer.State>ask(node, RaftKvNode.GetStatus::new, Duration.ofSeconds(2), sys.scheduler()),
              s.limits());
      ServerBinding binding =
          api.bind(system, s.self().httpHost(), s.self().httpPort()).toCompletableFuture().get(30, TimeUnit.SECONDS);
      log.info("n{} serves HTTP on {} (data in {})", s.id(), binding.localAddress(), s.dataDir());
      return new NodeServer(s, system, storage, node, binding);
    } catch (Exception e) {
      if (system != null) {
        system.terminate();
        system.getWhenTerminated().toCompletableFuture().join();
      }
      storage.close();
      throw new IllegalStateException("node " + s.id() + " failed to start: " + e.getMessage(), e);
    }
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
    return AskPattern.ask(node, RaftKvNode.GetStatus::new, Duration.ofSeconds(2), system.scheduler());
  }

  /** Leaves the cluster, stops the actors and closes the storage. */
  public void stop() {
    try {
      binding.unbind().toCompletableFuture().get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("n{}: unbinding HTTP failed: {}", settings.id(), e.toString());
    }
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().join();
    storage.close();
  }

  @Override
  public void close() {
    stop();
  }

  /** For callers that hold a storage of their own (tests). */
  static RaftStorage storageOf(NodeServer s) {
    return s.storage;
  }
}
