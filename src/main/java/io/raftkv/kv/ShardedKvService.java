package io.raftkv.kv;

import io.raftkv.rsm.ReplicatedService;
import io.raftkv.rsm.ReplyTo;
import io.raftkv.rsm.Rsm;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The KV store as the RSM sees it: each committed op goes to the {@link KvShard} that owns its key
 * (by {@link KvStateMachine#shardOf}), in log order, and the shard answers the op's requester. A
 * snapshot is a barrier: every shard is asked for its part right after the op at that index was
 * dispatched; the {@link KvServer} that owns the shards gathers the parts and answers the RSM with
 * them assembled in {@link KvStateMachine}'s snapshot format, so either implementation restores the
 * other's.
 */
public final class ShardedKvService implements ReplicatedService {
  private final List<ActorRef<KvShard.Command>> shards;
  private final ActorRef<KvServer.Command> gatherer;
  private final ActorRef<KvShard.Part> parts;
  /** The group's sessions: this service runs on the RSM's applier, one committed op at a time. */
  private final KvSessions sessions;

  /**
   * @param gatherer the KvServer that gathers snapshot parts
   * @param parts where the shards send their parts: {@code gatherer}'s adapter
   */
  ShardedKvService(
      List<ActorRef<KvShard.Command>> shards,
      int maxSessions,
      ActorRef<KvServer.Command> gatherer,
      ActorRef<KvShard.Part> parts) {
    this.shards = List.copyOf(shards);
    this.sessions = new KvSessions(shards.size(), maxSessions);
    this.gatherer = gatherer;
    this.parts = parts;
  }

  @Override
  public void apply(long index, byte[] op, ReplyTo replyTo) {
    KvOp decoded = decodeOrNull(op);
    if (decoded == null) {
      // Every replica rejects the same bytes the same way: the op has no effect anywhere.
      replyTo.tell(new Rsm.Result.Ok(index, new byte[0]));
      return;
    }
    int shard = KvStateMachine.shardOf(decoded.key(), shards.size());
    if (KvSessions.inSession(decoded)) {
      shard = sessions.route(decoded, shard);
      if (shard == KvSessions.STALE) {
        replyTo.tell(new Rsm.Result.Ok(index, KvCodec.encode(KvResult.staleSeq(sessions.latestSeq(decoded.clientId())))));
        return;
      }
    }
    shards.get(shard).tell(new KvShard.Apply(decoded, index, replyTo));
  }

  /** A Get, served by its shard after every op dispatched before it. */
  @Override
  public void query(long readPoint, byte[] op, ReplyTo replyTo) {
    KvOp decoded = decodeOrNull(op);
    if (!(decoded instanceof KvOp.Get)) {
      // A query is not in the log, so it must not change anything: anything but a Get is refused
      // like malformed bytes.
      replyTo.tell(new Rsm.Result.Ok(readPoint, new byte[0]));
      return;
    }
    shards.get(KvStateMachine.shardOf(decoded.key(), shards.size())).tell(new KvShard.Apply(decoded, readPoint, replyTo));
  }

  private static KvOp decodeOrNull(byte[] op) {
    try {
      return KvCodec.decodeOp(op);
    } catch (KvCodec.MalformedException e) {
      return null;
    }
  }

  @Override
  public void snapshot(long index, ActorRef<Rsm.SnapshotReady> replyTo) {
    // told before any shard can answer, so the gatherer expects the parts when they come
    gatherer.tell(new KvServer.GatherSnapshot(index, sessions.snapshot(), shards.size(), replyTo));
    for (int i = 0; i < shards.size(); i++) shards.get(i).tell(new KvShard.SnapshotPart(index, i, parts));
  }

  @Override
  public void restore(byte[] snapshot) {
    KvStateMachine.Snapshot s = KvStateMachine.Snapshot.parse(snapshot, shards.size());
    s.restoreSessions(sessions);
    for (int i = 0; i < shards.size(); i++) shards.get(i).tell(new KvShard.Restore(s.parts()[i]));
  }
}
