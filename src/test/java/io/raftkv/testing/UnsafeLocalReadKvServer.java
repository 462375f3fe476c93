package io.raftkv.testing;

import io.raftkv.kv.KvCodec;
import io.raftkv.kv.KvOp;
import io.raftkv.kv.KvServer;
import io.raftkv.kv.KvShard;
import io.raftkv.kv.KvStateMachine;
import io.raftkv.kv.ShardedKvService;
import io.raftkv.raft.PeerTransport;
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
 * BROKEN ON PURPOSE, the negative control of the linearizability checker: one KV replica wired
 * like {@link KvServer} (its {@link KvShard}s, an {@link Rsm} over {@link ShardedKvService} and
 * through it the same Raft peer), except that a Get is answered at once from this replica's own
 * shards, without ReadIndex and without the log. A replica cut off in a minority, or merely behind,
 * then answers with stale data. {@code UnsafeReadDetectionTest} uses it to show that the checker
 * catches that; the product has no such mode.
 *
 * <p>It speaks the part of {@link KvServer}'s protocol the lab uses ({@link KvServer.Request},
 * {@link KvServer.GetRsm}, {@link KvServer.Kill}), so {@link KvLabCluster} drives it exactly as it
 * drives a KvServer. Writes take KvServer's path (a {@link Rsm.Submit} within the submit timeout).
 * That protocol is sealed, so this actor's own message (an Rsm result adapted) cannot join it: the
 * behaviour takes {@code Object} and {@link #create} narrows it.
 */
public final class UnsafeLocalReadKvServer extends AbstractBehavior<Object> {

  private record Answered(Rsm.Result result, Throwable failure, ActorRef<KvServer.Reply> replyTo) {}

  /** As {@link KvServer#create}; only the Gets differ. */
  public static Behavior<KvServer.Command> create(
      KvServer.Settings settings, RaftStorage storage, PeerTransport transport) {
    return Behaviors.<Object>setup(ctx -> new UnsafeLocalReadKvServer(ctx, settings, storage, transport)).narrow();
  }

  private final KvServer.Settings settings;
  private final ActorRef<Rsm.Command> rsm;
  private final List<ActorRef<KvShard.Command>> shards = new ArrayList<>();

  private UnsafeLocalReadKvServer(
      ActorContext<Object> ctx, KvServer.Settings settings, RaftStorage storage, PeerTransport transport) {
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
  public Receive<Object> createReceive() {
    return newReceiveBuilder()
        .onMessage(KvServer.Request.class, this::onRequest)
        .onMessage(Answered.class, this::onAnswered)
        .onMessage(KvServer.GetRsm.class, g -> {
          g.replyTo().tell(rsm);
          return this;
        })
        .onMessage(KvServer.Kill.class, k -> {
          rsm.tell(Rsm.Kill.INSTANCE);
          return this;
        })
        .onSignal(Terminated.class, t -> Behaviors.stopped())
        .build();
  }

  private Behavior<Object> onRequest(KvServer.Request r) {
    KvOp op = r.op();
    ActorRef<KvServer.Reply> replyTo = r.replyTo();
    if (op instanceof KvOp.Get) {
      // The broken part: this replica's state as it is now, whoever leads and whatever has
      // committed elsewhere since.
      shards
          .get(KvStateMachine.shardOf(op.key(), shards.size()))
          .tell(new KvShard.Apply(op, result -> replyTo.tell(new KvServer.Reply.Done(result))));
      return this;
    }
    byte[] encoded = KvCodec.encode(op);
    getContext()
        .ask(
            Rsm.Result.class,
            rsm,
            settings.submitTimeout(),
            ref -> new Rsm.Submit(encoded, ref),
            (result, failure) -> new Answered(result, failure, replyTo));
    return this;
  }

  /** KvServer's mapping of an Rsm result to a reply. */
  private Behavior<Object> onAnswered(Answered a) {
    KvServer.Reply reply;
    if (a.result() instanceof Rsm.Result.Ok ok) {
      reply = new KvServer.Reply.Done(KvCodec.decodeResult(ok.value()));
    } else if (a.failure() != null) {
      reply = KvServer.Reply.Timeout.INSTANCE;
    } else if (a.result() instanceof Rsm.Result.WrongLeader w) {
      reply = new KvServer.Reply.WrongLeader(w.leader());
    } else if (a.result() == Rsm.Result.Busy.INSTANCE) {
      reply = KvServer.Reply.Busy.INSTANCE;
    } else {
      reply = KvServer.Reply.WrongLeader.UNKNOWN; // stopped: another replica may serve
    }
    a.replyTo().tell(reply);
    return this;
  }
}
