package io.raftkv.testing;

import io.raftkv.kv.KvCodec;
import io.raftkv.kv.KvOp;
import io.raftkv.kv.KvServer;
import io.raftkv.kv.KvShard;
import io.raftkv.kv.KvStateMachine;
import io.raftkv.raft.PeerTransport;
import io.raftkv.raft.RaftStorage;
import io.raftkv.rsm.ReplicatedService;
import io.raftkv.rsm.ReplyTo;
import io.raftkv.rsm.Rsm;
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
 * like {@link KvServer} (its {@link KvShard}s and an {@link Rsm} over the same Raft peer), except
 * that a Get is answered at once from this replica's own shards, without ReadIndex and without the
 * log. A replica cut off in a minority, or merely behind, then answers with stale data. {@code
 * UnsafeReadDetectionTest} uses it to show that the checker catches that; the product has no such
 * mode.
 *
 * <p>It speaks the part of {@link KvServer}'s protocol the lab uses ({@link KvServer.Request},
 * {@link KvServer.GetRsm}, {@link KvServer.Stop}), so {@link KvLabCluster} drives it exactly as it
 * drives a KvServer; writes take KvServer's path (an {@link Rsm.Submit} answered by the RSM). It
 * takes no snapshots (the detection test runs without them), which keeps it free of KvServer's
 * snapshot gathering.
 */
public final class UnsafeLocalReadKvServer extends AbstractBehavior<KvServer.Command> {

  /** As {@link KvServer#create}; only the Gets differ. {@code settings.maxRaftState()} must be -1. */
  public static Behavior<KvServer.Command> create(
      KvServer.Settings settings, RaftStorage storage, PeerTransport transport) {
    if (settings.maxRaftState() != -1) throw new IllegalArgumentException("the unsafe server takes no snapshots");
    return Behaviors.setup(ctx -> new UnsafeLocalReadKvServer(ctx, settings, storage, transport));
  }

  private final ActorRef<Rsm.Command> rsm;
  private final List<ActorRef<KvShard.Command>> shards = new ArrayList<>();

  private UnsafeLocalReadKvServer(
      ActorContext<KvServer.Command> ctx, KvServer.Settings settings, RaftStorage storage, PeerTransport transport) {
    super(ctx);
    for (int i = 0; i < settings.shards(); i++) {
      shards.add(ctx.spawn(KvShard.create(settings.maxSessionsPerShard()), "shard-" + i));
    }
    ReplicatedService service =
        new ReplicatedService() {
          @Override
          public void apply(long index, byte[] op, ReplyTo replyTo) {
            KvOp decoded = KvCodec.decodeOp(op); // the lab's Clerk sends only valid ops
            shardOf(decoded).tell(new KvShard.Apply(decoded, index, replyTo));
          }

          @Override
          public void snapshot(long index, ActorRef<Rsm.SnapshotReady> replyTo) {
            throw new UnsupportedOperationException("the unsafe server takes no snapshots");
          }

          @Override
          public void restore(byte[] snapshot) {
            throw new UnsupportedOperationException("the unsafe server takes no snapshots");
          }
        };
    this.rsm =
        ctx.spawn(
            Rsm.create(settings.raft(), storage, transport, settings.maxRaftState(), service, settings.admission(), null),
            "rsm");
    ctx.watch(rsm);
  }

  private ActorRef<KvShard.Command> shardOf(KvOp op) {
    return shards.get(KvStateMachine.shardOf(op.key(), shards.size()));
  }

  @Override
  public Receive<KvServer.Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(KvServer.Request.class, this::onRequest)
        .onMessage(KvServer.GetRsm.class, g -> {
          g.replyTo().tell(rsm);
          return this;
        })
        .onMessage(KvServer.Stop.class, s -> {
          rsm.tell(Rsm.Stop.INSTANCE);
          return this;
        })
        .onSignal(Terminated.class, t -> Behaviors.stopped())
        .build();
  }

  private Behavior<KvServer.Command> onRequest(KvServer.Request r) {
    if (r.op() instanceof KvOp.Get) {
      // The broken part: this replica's state as it is now, whoever leads and whatever has
      // committed elsewhere since.
      shardOf(r.op()).tell(new KvShard.Apply(r.op(), 0, ReplyTo.of(r.replyTo())));
    } else {
      rsm.tell(new Rsm.Submit(KvCodec.encode(r.op()), r.replyTo()));
    }
    return this;
  }
}
