package io.raftkv.server;

import io.raftkv.client.KvClient;
import io.raftkv.kv.KvServer;
import io.raftkv.raft.PeerSettings;
import io.raftkv.raft.Configuration;
import io.raftkv.raft.RaftConfig;
import io.raftkv.raft.RaftPeer;
import io.raftkv.raft.RaftStorage;
import io.raftkv.rsm.Rsm;
import io.raftkv.transport.ClusterTransport;
import io.raftkv.transport.NodePaths;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * One node of a replicated KV group, as a behaviour to spawn in any clustered ActorSystem: the
 * {@link KvServer} replica (with its Raft peer and shards), the {@link ClusterTransport} that links
 * it to the other nodes, and the {@link KvGateway} clients reach it through. This is the embedding
 * entry point:
 *
 * <pre>{@code
 * ActorRef<RaftKvNode.Command> node =
 *     system.systemActorOf(RaftKvNode.create(RaftKvNode.Settings.of("kv", 0, 3), storage), "kv-0", Props.empty());
 * KvClient client = RaftKvNode.client(system, "kv", 3);
 * client.putUnconditional("greeting", "hello");
 * }</pre>
 *
 * <p>The ActorSystem must use {@code pekko.actor.provider = cluster} and join the cluster; nodes find
 * each other through the Receptionist, so they may start in any order. When every node's address is
 * known, give the nodes' actor paths ({@link Settings#withNodePaths}, {@link #client(ActorSystem,
 * List, Duration, Duration)}): Raft and client traffic then go straight to those paths and flow as
 * soon as the ActorSystems are up, whether or not the cluster has formed or converged (see
 * docs/cluster.md).
 */
public final class RaftKvNode extends AbstractBehavior<RaftKvNode.Command> {

  /** The names of a node's children that other nodes address by path. */
  public static final String GATEWAY_NAME = "gateway";

  /**
   * @param group the group's name; groups with different names share a cluster independently
   * @param kv the replica's settings; its Raft settings hold this node's id and the group's size
   *     (the one place they are kept: {@link #id()}, {@link #n()})
   * @param paths null (find the other nodes through the Receptionist), or where every node's {@code
   *     RaftKvNode} actor lives, by id, e.g. {@code pekko://raftkv@10.0.0.2:25520/system/raftkv-node-1};
   *     {@link NodePaths#growing} ones follow nodes that join later (docs/membership.md)
   */
  public record Settings(String group, KvServer.Settings kv, NodePaths paths) {
    public Settings {
      int id = kv.raft().id();
      int n = kv.raft().n();
      if (id < 0 || id >= n) throw new IllegalArgumentException("node id " + id + " outside 0.." + (n - 1));
      if (group.isEmpty() || !group.matches("[A-Za-z0-9_-]+")) throw new IllegalArgumentException("bad group name '" + group + "'");
      if (paths != null && paths.given().size() != n) {
        throw new IllegalArgumentException(paths.given().size() + " node paths for " + n + " nodes");
      }
    }

    /** The nodes at these fixed paths, in id order (empty: found through the Receptionist). */
    public Settings(String group, KvServer.Settings kv, List<String> nodePaths) {
      this(group, kv, nodePaths.isEmpty() ? null : NodePaths.fixed(nodePaths));
    }

    /** The paths given at start; empty when the nodes are found through the Receptionist. */
    public List<String> nodePaths() {
      return paths == null ? List.of() : paths.given();
    }

    /** Nodes found through the Receptionist. */
    public Settings(String group, KvServer.Settings kv) {
      this(group, kv, (NodePaths) null);
    }

    /** This node's number in the group, {@code 0 <= id < n}. */
    public int id() {
      return kv.raft().id();
    }

    /** How many nodes the group has. */
    public int n() {
      return kv.raft().n();
    }

    /** The same, with the nodes at these actor paths (see {@link Settings}). */
    public Settings withNodePaths(List<String> paths) {
      return new Settings(group, kv, paths);
    }

    /** The same, with the nodes at {@code paths}. */
    public Settings withNodePaths(NodePaths paths) {
      return new Settings(group, kv, paths);
    }

    /**
     * Production timing ({@link #productionRaft} with the tick of {@link NodeTimeouts#defaults()}), snapshots at 8 MiB
     * of log.
     */
    public static Settings of(String group, int id, int n) {
      return new Settings(group, KvServer.Settings.of(productionRaft(id, n, NodeTimeouts.defaults().raftTick()), 8 << 20));
    }
  }

  /** PreVote and CheckQuorum on, the production timeouts at {@code tick}, a fresh seed. */
  public static PeerSettings productionRaft(int id, int n, Duration tick) {
    return new PeerSettings(
        id, n, RaftConfig.production().forTickMillis(tick.toMillis()), tick, System.nanoTime() ^ ((long) id << 32));
  }

  public sealed interface Command {}

  /** The local Raft peer's state. */
  public record GetStatus(ActorRef<RaftPeer.State> replyTo) implements Command {}

  /** The local replica, once started. */
  public record GetServer(ActorRef<ActorRef<KvServer.Command>> replyTo) implements Command {}

  /**
   * Asks the local Raft peer to hand leadership to node {@code to} (-1: the most up-to-date
   * follower); see {@link RaftPeer.TransferLeader}.
   */
  public record TransferLeader(int to, ActorRef<RaftPeer.TransferResult> replyTo) implements Command {}

  /** The membership in effect at this node's Raft peer. */
  public record GetMembers(ActorRef<Configuration> replyTo) implements Command {}

  /** Asks this node's Raft peer for a membership change ({@link RaftPeer.ChangeMembership}). */
  public record ChangeMembers(
      List<Configuration.Change> changes, Configuration.Transition transition, ActorRef<RaftPeer.MembershipProposal> replyTo)
      implements Command {}

  /** Asks this node's Raft peer to add the node at {@code address} under a new id ({@link RaftPeer.AddNode}). */
  public record AddNode(String address, ActorRef<RaftPeer.AddedNode> replyTo) implements Command {}

  /** Stops the node (Raft first); the behaviour stops when everything has. */
  public enum Stop implements Command {
    INSTANCE
  }

  /** The replica's RSM has spawned its Raft peer: time to open the transport's inbox to it. */
  private record RaftIs(ActorRef<RaftPeer.Command> raft) implements Command {}

  public static Behavior<Command> create(Settings settings, RaftStorage storage) {
    return Behaviors.setup(ctx -> new RaftKvNode(ctx, settings, storage));
  }

  /**
   * A Clerk for the group, usable from any ActorSystem of the cluster, with the timeouts of {@link
   * NodeTimeouts#defaults()} but calls that give up after twice the request deadline.
   */
  public static KvClient client(ActorSystem<?> system, String group, int n) {
    return client(system, group, n, NodeTimeouts.defaults().requestDeadline().multipliedBy(2));
  }

  /**
   * A Clerk whose calls give up (Err.Timeout) after {@code deadline}; it finds the nodes through the
   * Receptionist and gives each try {@link NodeTimeouts#tryTimeout()}.
   */
  public static KvClient client(ActorSystem<?> system, String group, int n, Duration deadline) {
    NodeTimeouts t = NodeTimeouts.defaults();
    ClusterServerCall call = ClusterServerCall.create(system, group, n, tryTimeout(t.tryTimeout(), deadline));
    return new KvClient(call, n, new KvClient.Settings(t.retryBackoff(), deadline));
  }

  /**
   * A Clerk for the nodes at {@code paths}, also those that join later, with the timeouts of {@code
   * t}; see {@link #client(ActorSystem, List, Duration, Duration)}.
   */
  public static KvClient client(ActorSystem<?> system, NodePaths paths, NodeTimeouts t) {
    return client(system, paths, t.requestDeadline(), t.tryTimeout(), t.retryBackoff());
  }

  /** A Clerk for the nodes at {@code nodePaths} (see below) with the timeouts of {@code t}. */
  public static KvClient client(ActorSystem<?> system, List<String> nodePaths, NodeTimeouts t) {
    return client(system, NodePaths.fixed(nodePaths), t.requestDeadline(), t.tryTimeout(), t.retryBackoff());
  }

  /**
   * A Clerk for the nodes whose {@code RaftKvNode} actors live at {@code nodePaths} (in id order):
   * it asks their gateways at those paths, with no discovery, so it works as soon as their systems
   * are up. Each try waits at most {@code tryTimeout} (capped by the deadline) before the next node
   * is tried; a call gives up (Err.Timeout) after {@code deadline}.
   */
  public static KvClient client(ActorSystem<?> system, List<String> nodePaths, Duration deadline, Duration tryTimeout) {
    return client(system, NodePaths.fixed(nodePaths), deadline, tryTimeout, NodeTimeouts.defaults().retryBackoff());
  }

  private static KvClient client(
      ActorSystem<?> system, NodePaths paths, Duration deadline, Duration tryTimeout, Duration retryBackoff) {
    ClusterServerCall call = ClusterServerCall.following(system, paths, tryTimeout(tryTimeout, deadline));
    return new KvClient(call, paths.given().size(), new KvClient.Settings(retryBackoff, deadline));
  }

  /** Where the gateway of the node whose actor lives at {@code nodePath} is. */
  public static String gatewayPath(String nodePath) {
    return nodePath + "/" + GATEWAY_NAME;
  }

  private static Duration tryTimeout(Duration tryTimeout, Duration deadline) {
    if (tryTimeout.isNegative() || tryTimeout.isZero()) throw new IllegalArgumentException("try timeout must be positive");
    return deadline != null && deadline.compareTo(tryTimeout) < 0 ? deadline : tryTimeout;
  }

  private final Settings settings;
  private final ActorRef<KvServer.Command> server;

  private RaftKvNode(ActorContext<Command> ctx, Settings s, RaftStorage storage) {
    super(ctx);
    this.settings = s;
    if (java.util.concurrent.ForkJoinPool.getCommonPoolParallelism() < 2) {
      ctx.getLog()
          .warn(
              "the JDK common pool has {} thread(s): every async callback of Pekko's Java ask starts a thread;"
                  + " run with -Djava.util.concurrent.ForkJoinPool.common.parallelism=4",
              java.util.concurrent.ForkJoinPool.getCommonPoolParallelism());
    }
    ClusterTransport transport;
    if (s.paths() == null) {
      transport = new ClusterTransport(s.id(), s.n(), ClusterTransport.DEFAULT_CHUNK_SIZE);
      ctx.spawn(transport.directory(s.group()), "peers");
    } else {
      ActorRefResolver resolver = ActorRefResolver.get(ctx.getSystem());
      transport = ClusterTransport.fixed(s.id(), s.paths(), ClusterTransport.DEFAULT_CHUNK_SIZE, resolver::resolveActorRef);
    }
    // The server spawns the RSM, which spawns the Raft peer and tells us its ref once: the inbox
    // needs it. Status and transfers go down through the server instead, so nothing waits for it.
    ActorRef<Rsm.RaftStarted> raftStarted = ctx.messageAdapter(Rsm.RaftStarted.class, r -> new RaftIs(r.raft()));
    this.server = ctx.spawn(KvServer.create(s.kv(), storage, transport, raftStarted), "server");
    ctx.watch(server);
    ctx.spawn(KvGateway.create(s.group(), s.id(), server), GATEWAY_NAME);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(RaftIs.class, this::onRaftIs)
        .onMessage(GetStatus.class, g -> toRaft(new RaftPeer.GetState(g.replyTo())))
        .onMessage(TransferLeader.class, t -> toRaft(new RaftPeer.TransferLeader(t.to(), t.replyTo())))
        .onMessage(GetMembers.class, g -> toRaft(new RaftPeer.GetConfiguration(g.replyTo())))
        .onMessage(ChangeMembers.class, c -> toRaft(new RaftPeer.ChangeMembership(c.changes(), c.transition(), c.replyTo())))
        .onMessage(AddNode.class, a -> toRaft(new RaftPeer.AddNode(a.address(), a.replyTo())))
        .onMessage(GetServer.class, g -> {
          g.replyTo().tell(server);
          return this;
        })
        .onMessage(Stop.class, m -> {
          server.tell(KvServer.Stop.INSTANCE);
          return this;
        })
        .onSignal(Terminated.class, t -> Behaviors.stopped())
        .build();
  }

  private Behavior<Command> onRaftIs(RaftIs m) {
    getContext().spawn(ClusterTransport.inbox(settings.group(), settings.id(), m.raft()), ClusterTransport.INBOX_NAME);
    getContext().getLog().info("n{} of group {} started", settings.id(), settings.group());
    return this;
  }

  private Behavior<Command> toRaft(RaftPeer.Command command) {
    server.tell(new KvServer.ToRaft(command));
    return this;
  }
}
