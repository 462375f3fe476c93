package io.raftkv.server;

import io.raftkv.kv.KvServer;
import io.raftkv.raft.RaftConfig;
import io.raftkv.raft.RaftPeer;
import io.raftkv.rsm.Rsm;
import io.raftkv.storage.RaftStorage;
import io.raftkv.transport.ClusterTransport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

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
 * each other through the Receptionist, so they may start in any order.
 */
public final class RaftKvNode {
  private RaftKvNode() {}

  /**
   * @param group the group's name; groups with different names share a cluster independently
   * @param id this node's number in the group, {@code 0 <= id < n}
   * @param kv the replica's settings (its Raft settings carry id and n too)
   */
  public record Settings(String group, int id, int n, KvServer.Settings kv) {
    public Settings {
      if (id < 0 || id >= n) throw new IllegalArgumentException("node id " + id + " outside 0.." + (n - 1));
      if (kv.raft().id() != id || kv.raft().n() != n) throw new IllegalArgumentException("Raft settings disagree on id/n");
      if (group.isEmpty() || !group.matches("[A-Za-z0-9_-]+")) throw new IllegalArgumentException("bad group name '" + group + "'");
    }

    /** Production timing: 10 ms ticks, elections after 400–800 ms, snapshots at 8 MiB of log. */
    public static Settings of(String group, int id, int n) {
      RaftPeer.Settings raft =
          new RaftPeer.Settings(id, n, RaftConfig.defaults(), Duration.ofMillis(10), System.nanoTime() ^ ((long) id << 32));
      return new Settings(group, id, n, KvServer.Settings.of(raft, 8 << 20));
    }
  }

  public sealed interface Command {}

  /** The local Raft peer's state. */
  public record GetStatus(ActorRef<RaftPeer.State> replyTo) implements Command {}

  /** The local replica, once started. */
  public record GetServer(ActorRef<ActorRef<KvServer.Command>> replyTo) implements Command {}

  /** Stops the node (Raft first); the behaviour stops when everything has. */
  public enum Stop implements Command {
    INSTANCE
  }

  private record RsmIs(ActorRef<Rsm.Command> rsm) implements Command {}

  private record RaftIs(ActorRef<RaftPeer.Command> raft) implements Command {}

  public static Behavior<Command> create(Settings settings, RaftStorage storage) {
    return Behaviors.setup(ctx -> starting(ctx, settings, storage));
  }

  /** A Clerk for the group, usable from any ActorSystem of the cluster; calls give up after 10 s. */
  public static io.raftkv.client.KvClient client(
      org.apache.pekko.actor.typed.ActorSystem<?> system, String group, int n) {
    return client(system, group, n, Duration.ofSeconds(10));
  }

  /** A Clerk whose calls give up (Err.Timeout) after {@code deadline}. */
  public static io.raftkv.client.KvClient client(
      org.apache.pekko.actor.typed.ActorSystem<?> system, String group, int n, Duration deadline) {
    Duration perTry = deadline.compareTo(Duration.ofSeconds(6)) < 0 ? deadline : Duration.ofSeconds(6);
    ClusterServerCall call = ClusterServerCall.create(system, group, n, perTry);
    return new io.raftkv.client.KvClient(
        call, n, new io.raftkv.client.KvClient.Settings(Duration.ofMillis(100), deadline));
  }

  private static Behavior<Command> starting(ActorContext<Command> ctx, Settings s, RaftStorage storage) {
    if (java.util.concurrent.ForkJoinPool.getCommonPoolParallelism() < 2) {
      ctx.getLog()
          .warn(
              "the JDK common pool has {} thread(s): every async callback of Pekko's Java ask starts a thread;"
                  + " run with -Djava.util.concurrent.ForkJoinPool.common.parallelism=4",
              java.util.concurrent.ForkJoinPool.getCommonPoolParallelism());
    }
    ClusterTransport transport = new ClusterTransport(s.id(), s.n(), ClusterTransport.DEFAULT_CHUNK_SIZE);
    ctx.spawn(transport.directory(s.group()), "peers");
    ActorRef<KvServer.Command> server = ctx.spawn(KvServer.create(s.kv(), storage, transport), "server");
    ctx.watch(server);
    ctx.spawn(KvGateway.create(s.group(), s.id(), server, s.kv().submitTimeout().plusSeconds(1)), "gateway");
    server.tell(new KvServer.GetRsm(ctx.messageAdapter(ActorRef.class, RsmIs::new)));
    List<GetStatus> early = new ArrayList<>();
    return Behaviors.receive(Command.class)
        .onMessage(
            RsmIs.class,
            m -> {
              m.rsm().tell(new Rsm.GetRaft(ctx.messageAdapter(ActorRef.class, RaftIs::new)));
              return Behaviors.same();
            })
        .onMessage(
            RaftIs.class,
            m -> {
              ctx.spawn(ClusterTransport.inbox(s.group(), s.id(), m.raft()), "inbox");
              ctx.getLog().info("n{} of group {} started", s.id(), s.group());
              for (GetStatus g : early) m.raft().tell(new RaftPeer.GetState(g.replyTo()));
              return running(ctx, server, m.raft());
            })
        .onMessage(
            GetStatus.class,
            g -> {
              early.add(g);
              return Behaviors.same();
            })
        .onMessage(
            GetServer.class,
            g -> {
              g.replyTo().tell(server);
              return Behaviors.same();
            })
        .onMessage(Stop.class, m -> stopping(server))
        .onSignal(Terminated.class, t -> Behaviors.stopped())
        .build();
  }

  private static Behavior<Command> running(
      ActorContext<Command> ctx, ActorRef<KvServer.Command> server, ActorRef<RaftPeer.Command> raft) {
    return Behaviors.receive(Command.class)
        .onMessage(
            GetStatus.class,
            g -> {
              raft.tell(new RaftPeer.GetState(g.replyTo()));
              return Behaviors.same();
            })
        .onMessage(
            GetServer.class,
            g -> {
              g.replyTo().tell(server);
              return Behaviors.same();
            })
        .onMessage(Stop.class, m -> stopping(server))
        .onSignal(Terminated.class, t -> Behaviors.stopped())
        .build();
  }

  private static Behavior<Command> stopping(ActorRef<KvServer.Command> server) {
    server.tell(KvServer.Kill.INSTANCE);
    return Behaviors.receive(Command.class)
        .onSignal(Terminated.class, t -> Behaviors.stopped())
        .build();
  }
}
