package io.raftkv.kv;

import io.raftkv.raft.PeerTransport;
import io.raftkv.raft.RaftPeer;
import io.raftkv.raft.RaftStorage;
import io.raftkv.rsm.Rsm;
import java.time.Duration;
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
   * @param submitTimeout how long a request may wait for its op to commit before the server gives
   *     up answering (the client then retries, possibly elsewhere)
   * @param admission how many requests (and bytes of ops) the leader keeps in flight before it
   *     answers {@link Reply.Busy}
   */
  public record Settings(
      RaftPeer.Settings raft,
      int maxRaftState,
      int shards,
      int maxSessionsPerShard,
      Duration submitTimeout,
      Rsm.Admission admission) {
    /** Defaults: 4 shards, 10 000 sessions per shard, 5 s submit timeout, {@link Rsm.Admission#defaults()}. */
    public static Settings of(RaftPeer.Settings raft, int maxRaftState) {
      return new Settings(
          raft,
          maxRaftState,
          KvStateMachine.DEFAULT_SHARDS,
          KvStore.DEFAULT_MAX_SESSIONS,
          Duration.ofSeconds(5),
          Rsm.Admission.defaults());
    }

    public Settings withSubmitTimeout(Duration timeout) {
      return new Settings(raft, maxRaftState, shards, maxSessionsPerShard, timeout, admission);
    }

    public Settings withAdmission(Rsm.Admission limits) {
      return new Settings(raft, maxRaftState, shards, maxSessionsPerShard, submitTimeout, limits);
    }
  }

  public sealed interface Command {}

  /** Execute {@code op}; the answer goes to {@code replyTo}. */
  public record Request(KvOp op, ActorRef<Reply> replyTo) implements Command {}

  /**
   * Execute the {@link KvCodec}-encoded op of {@code request} (its {@code read} set for a Get); the
   * tagged {@link Rsm.Answer} goes straight from the RSM to the request's {@code replyTo}, which may
   * be on another node. The op must be valid: whoever sends this has checked it.
   */
  public record Execute(Rsm.Request request) implements Command {}

  /** A server's answer. No answer at all is possible too (lost, or the server is down). */
  public sealed interface Reply {
    /** The op committed and this is its result. */
    record Done(KvResult result) implements Reply {}

    /**
     * This replica does not lead (or lost leadership): try another. The op may still commit.
     * {@code leader} is the replica this one believes leads, or -1 when it knows none.
     */
    record WrongLeader(int leader) implements Reply {
      public static final WrongLeader UNKNOWN = new WrongLeader(-1);
    }

    /** The leader has too much in flight and did not propose the op: retry later. */
    enum Busy implements Reply {
      INSTANCE
    }

    /** The op did not commit within the server's deadline; its fate is unknown. */
    enum Timeout implements Reply {
      INSTANCE
    }
  }

  /** Answers with the RSM of this replica (tests use it to reach Raft). */
  public record GetRsm(ActorRef<ActorRef<Rsm.Command>> replyTo) implements Command {}

  /** Stops this replica: Raft first, then everything else. */
  public enum Kill implements Command {
    INSTANCE
  }

  private record Answered(Rsm.Result result, Throwable failure, ActorRef<Reply> replyTo) implements Command {}

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
        .onMessage(Answered.class, this::onAnswered)
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
    byte[] op = KvCodec.encode(r.op());
    boolean read = r.op() instanceof KvOp.Get;
    getContext()
        .ask(
            Rsm.Result.class,
            rsm,
            settings.submitTimeout(),
            ref -> read ? new Rsm.Read(op, ref) : new Rsm.Submit(op, ref),
            (result, failure) -> new Answered(result, failure, r.replyTo()));
    return this;
  }

  private Behavior<Command> onExecute(Execute e) {
    Rsm.Request r = e.request();
    rsm.tell(r);
    return this;
  }

  private Behavior<Command> onAnswered(Answered a) {
    Reply reply;
    if (a.result() instanceof Rsm.Result.Ok ok) {
      reply = new Reply.Done(KvCodec.decodeResult(ok.value()));
    } else if (a.failure() != null) {
      reply = Reply.Timeout.INSTANCE;
    } else if (a.result() instanceof Rsm.Result.WrongLeader w) {
      reply = new Reply.WrongLeader(w.leader());
    } else if (a.result() == Rsm.Result.Busy.INSTANCE) {
      reply = Reply.Busy.INSTANCE;
    } else {
      reply = Reply.WrongLeader.UNKNOWN; // stopped: another replica may serve
    }
    a.replyTo().tell(reply);
    return this;
  }
}
