package io.raftkv.kv;

import io.raftkv.raft.PeerSettings;
import io.raftkv.raft.PeerTransport;
import io.raftkv.raft.RaftPeer;
import io.raftkv.raft.RaftStorage;
import io.raftkv.rsm.Rsm;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * One replica of the KV service: its {@link KvShard}s, the {@link Rsm} (and through it the Raft
 * peer) that orders ops, and the front door clients send {@link Request}s to. Writes go through
 * the log; Gets are linearizable reads by ReadIndex ({@link Rsm.Read}): no log entry, and a
 * replica cut off in a minority never answers with stale data.
 */
public final class KvServer extends AbstractBehavior<KvServer.Command> {

  /**
   * @param raft the Raft peer's settings
   * @param maxRaftState snapshot when the persisted Raft state reaches this many bytes; -1 = never
   * @param shards how many {@link KvShard} actors split the key space
   * @param maxSessionsPerShard client sessions each shard remembers for exactly-once writes
   * @param admission how many requests (and bytes of ops) the leader keeps in flight before it
   *     answers {@link Rsm.Result.Busy}
   */
  public record Settings(
      PeerSettings raft,
      int maxRaftState,
      int shards,
      int maxSessionsPerShard,
      Rsm.Admission admission) {
    /** Defaults: 4 shards, 10 000 sessions per shard, {@link Rsm.Admission#defaults()}. */
    public static Settings of(PeerSettings raft, int maxRaftState) {
      return new Settings(
          raft,
          maxRaftState,
          KvStateMachine.DEFAULT_SHARDS,
          KvStore.DEFAULT_MAX_SESSIONS,
          Rsm.Admission.defaults());
    }

    public Settings withAdmission(Rsm.Admission limits) {
      return new Settings(raft, maxRaftState, shards, maxSessionsPerShard, limits);
    }
  }

  public sealed interface Command {}

  /**
   * Execute {@code op}; the RSM's {@link Rsm.Result} goes straight to {@code replyTo} (a {@code
   * Stopped} means: try another replica). As with any tell, no answer may come (this replica is
   * down, or a leader cut off in a minority holds the op): the sender's own timeout covers that.
   */
  public record Request(KvOp op, ActorRef<Rsm.Result> replyTo) implements Command {}

  /**
   * Execute the {@link KvCodec}-encoded op of {@code request} (its {@code read} set for a Get); the
   * tagged {@link Rsm.Answer} goes straight from the RSM to the request's {@code replyTo}, which may
   * be on another node. The op must be valid: whoever sends this has checked it.
   */
  public record Execute(Rsm.Request request) implements Command {}

  /** Answers with the RSM of this replica (tests use it to reach Raft). */
  public record GetRsm(ActorRef<ActorRef<Rsm.Command>> replyTo) implements Command {}

  /** Hands {@code command} to this replica's Raft peer (through the RSM that owns it). */
  public record ToRaft(RaftPeer.Command command) implements Command {}

  /** Stops this replica: Raft first, then everything else. */
  public enum Stop implements Command {
    INSTANCE
  }

  /**
   * From this replica's {@link ShardedKvService}, just before it asks each of the {@code parts}
   * shards for its part of the snapshot at {@code index}: gather them and answer {@code replyTo}.
   */
  record GatherSnapshot(long index, byte[] sessions, int parts, ActorRef<Rsm.SnapshotReady> replyTo) implements Command {}

  private record PartReady(KvShard.Part part) implements Command {}

  /** A snapshot whose parts are still coming. */
  private static final class Gathering {
    final ActorRef<Rsm.SnapshotReady> replyTo;
    final byte[] sessions;
    final byte[][] parts;
    int missing; // parts not yet here

    Gathering(ActorRef<Rsm.SnapshotReady> replyTo, byte[] sessions, int parts) {
      this.replyTo = replyTo;
      this.sessions = sessions;
      this.parts = new byte[parts][];
      this.missing = parts;
    }
  }

  public static Behavior<Command> create(Settings settings, RaftStorage storage, PeerTransport transport) {
    return create(settings, storage, transport, null);
  }

  /**
   * As above; {@code raftStarted} (may be null) is told the replica's Raft peer once the RSM has
   * spawned it ({@link Rsm.RaftStarted}).
   */
  public static Behavior<Command> create(
      Settings settings, RaftStorage storage, PeerTransport transport, ActorRef<Rsm.RaftStarted> raftStarted) {
    return Behaviors.setup(ctx -> new KvServer(ctx, settings, storage, transport, raftStarted));
  }

  private final Settings settings;
  private final ActorRef<Rsm.Command> rsm;
  private final List<ActorRef<KvShard.Command>> shards = new ArrayList<>();
  /** Snapshots being gathered, by index (the RSM asks for one at a time). */
  private final Map<Long, Gathering> gathering = new HashMap<>();

  private KvServer(
      ActorContext<Command> ctx,
      Settings settings,
      RaftStorage storage,
      PeerTransport transport,
      ActorRef<Rsm.RaftStarted> raftStarted) {
    super(ctx);
    this.settings = settings;
    for (int i = 0; i < settings.shards(); i++) {
      shards.add(ctx.spawn(KvShard.create(settings.maxSessionsPerShard()), "shard-" + i));
    }
    this.rsm =
        ctx.spawn(
            Rsm.create(
                settings.raft(),
                storage,
                transport,
                settings.maxRaftState(),
                new ShardedKvService(shards, settings.maxSessionsPerShard(), ctx.getSelf(), ctx.messageAdapter(KvShard.Part.class, PartReady::new)),
                settings.admission(),
                raftStarted),
            "rsm");
    ctx.watch(rsm);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Request.class, this::onRequest)
        .onMessage(Execute.class, this::onExecute)
        .onMessage(GatherSnapshot.class, this::onGatherSnapshot)
        .onMessage(PartReady.class, this::onPartReady)
        .onMessage(GetRsm.class, g -> {
          g.replyTo().tell(rsm);
          return this;
        })
        .onMessage(ToRaft.class, t -> {
          rsm.tell(new Rsm.ToRaft(t.command()));
          return this;
        })
        .onMessage(Stop.class, s -> {
          rsm.tell(Rsm.Stop.INSTANCE);
          return this;
        })
        .onSignal(Terminated.class, t -> Behaviors.stopped())
        .build();
  }

  private Behavior<Command> onRequest(Request r) {
    byte[] op = KvCodec.encode(r.op());
    rsm.tell(r.op() instanceof KvOp.Get ? new Rsm.Read(op, r.replyTo()) : new Rsm.Submit(op, r.replyTo()));
    return this;
  }

  private Behavior<Command> onExecute(Execute e) {
    Rsm.Request r = e.request();
    rsm.tell(r);
    return this;
  }

  private Behavior<Command> onGatherSnapshot(GatherSnapshot g) {
    gathering.put(g.index(), new Gathering(g.replyTo(), g.sessions(), g.parts()));
    return this;
  }

  private Behavior<Command> onPartReady(PartReady p) {
    KvShard.Part part = p.part();
    Gathering g = gathering.get(part.index());
    if (g == null) return this; // not asked for (GatherSnapshot always comes first)
    if (g.parts[part.shard()] == null) g.missing--;
    g.parts[part.shard()] = part.state();
    if (g.missing == 0) {
      gathering.remove(part.index());
      g.replyTo.tell(new Rsm.SnapshotReady(part.index(), KvStateMachine.assembleSnapshot(g.sessions, g.parts)));
    }
    return this;
  }
}
