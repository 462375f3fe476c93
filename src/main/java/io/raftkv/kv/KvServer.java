package io.raftkv.kv;

import io.raftkv.raft.PeerTransport;
import io.raftkv.raft.RaftPeer;
import io.raftkv.rsm.Rsm;
import io.raftkv.storage.RaftStorage;
import java.util.ArrayList;
import java.util.List;
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
   * @param unsafeLocalReads BROKEN ON PURPOSE, for tests only: serve Gets from this replica's own
   *     state without going through the log, so a stale replica answers with stale data. Tests use
   *     it to show that the linearizability checker catches the violation.
   * @param admission how many requests (and bytes of ops) the leader keeps in flight before it
   *     answers {@link Rsm.Result.Busy}
   */
  public record Settings(
      RaftPeer.Settings raft,
      int maxRaftState,
      int shards,
      int maxSessionsPerShard,
      boolean unsafeLocalReads,
      Rsm.Admission admission) {
    /** Defaults: 4 shards, 10 000 sessions per shard, {@link Rsm.Admission#defaults()}. */
    public static Settings of(RaftPeer.Settings raft, int maxRaftState) {
      return new Settings(
          raft,
          maxRaftState,
          KvStateMachine.DEFAULT_SHARDS,
          KvStore.DEFAULT_MAX_SESSIONS,
          false,
          Rsm.Admission.defaults());
    }

    public Settings withAdmission(Rsm.Admission limits) {
      return new Settings(raft, maxRaftState, shards, maxSessionsPerShard, unsafeLocalReads, limits);
    }

    /** See {@code unsafeLocalReads}: never in production. */
    public Settings withUnsafeLocalReads() {
      return new Settings(raft, maxRaftState, shards, maxSessionsPerShard, true, admission);
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

  /** Stops this replica: Raft first, then everything else. */
  public enum Kill implements Command {
    INSTANCE
  }

  public static Behavior<Command> create(Settings settings, RaftStorage storage, PeerTransport transport) {
    return Behaviors.setup(ctx -> new KvServer(ctx, settings, storage, transport));
  }

  private final Settings settings;
  private final ActorRef<Rsm.Command> rsm;
  private final List<ActorRef<KvShard.Command>> shards = new ArrayList<>();

  private KvServer(ActorContext<Command> ctx, Settings settings, RaftStorage storage, PeerTransport transport) {
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
                new ShardedKvService(shards),
                settings.admission()),
            "rsm");
    ctx.watch(rsm);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Request.class, this::onRequest)
        .onMessage(Execute.class, this::onExecute)
        .onMessage(GetRsm.class, g -> {
          g.replyTo().tell(rsm);
          return this;
        })
        .onMessage(Kill.class, k -> {
          rsm.tell(Rsm.Kill.INSTANCE);
          return this;
        })
        .onSignal(Terminated.class, t -> Behaviors.stopped())
        .build();
  }

  private Behavior<Command> onRequest(Request r) {
    if (settings.unsafeLocalReads() && r.op() instanceof KvOp.Get) {
      ActorRef<Rsm.Result> replyTo = r.replyTo();
      shards
          .get(KvStateMachine.shardOf(r.op().key(), shards.size()))
          .tell(new KvShard.Apply(r.op(), result -> replyTo.tell(new Rsm.Result.Ok(0, KvCodec.encode(result)))));
      return this;
    }
    byte[] op = KvCodec.encode(r.op());
    rsm.tell(r.op() instanceof KvOp.Get ? new Rsm.Read(op, r.replyTo()) : new Rsm.Submit(op, r.replyTo()));
    return this;
  }

  private Behavior<Command> onExecute(Execute e) {
    Rsm.Request r = e.request();
    if (settings.unsafeLocalReads() && r.read()) {
      KvOp op = KvCodec.decodeOp(r.op());
      shards
          .get(KvStateMachine.shardOf(op.key(), shards.size()))
          .tell(new KvShard.Apply(op, result -> r.replyTo().tell(new Rsm.Answer(r.tag(), new Rsm.Result.Ok(0, KvCodec.encode(result))))));
      return this;
    }
    rsm.tell(r);
    return this;
  }
}
