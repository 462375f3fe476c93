package io.raftkv.kv;

import io.raftkv.rsm.ReplicatedService;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The KV store as the RSM sees it: each committed op goes to the {@link KvShard} that owns its key
 * (by {@link KvStateMachine#shardOf}), in log order. A snapshot is a barrier: every shard is asked
 * for its part right after the op at that index was dispatched, and the parts are assembled in
 * {@link KvStateMachine}'s snapshot format, so either implementation restores the other's.
 */
public final class ShardedKvService implements ReplicatedService {
  private final List<ActorRef<KvShard.Command>> shards;

  public ShardedKvService(List<ActorRef<KvShard.Command>> shards) {
    this.shards = List.copyOf(shards);
  }

  @Override
  public void apply(long index, byte[] op, Consumer<byte[]> result) {
    KvOp decoded;
    try {
      decoded = KvCodec.decodeOp(op);
    } catch (KvCodec.MalformedException e) {
      // Every replica rejects the same bytes the same way: the op has no effect anywhere.
      result.accept(new byte[0]);
      return;
    }
    shards
        .get(KvStateMachine.shardOf(decoded.key(), shards.size()))
        .tell(new KvShard.Apply(decoded, r -> result.accept(KvCodec.encode(r))));
  }

  /** A Get, served by its shard after every op dispatched before it. */
  @Override
  public void query(byte[] op, Consumer<byte[]> result) {
    apply(0, op, result);
  }

  @Override
  public void snapshot(long index, Consumer<byte[]> done) {
    int n = shards.size();
    AtomicReferenceArray<byte[]> parts = new AtomicReferenceArray<>(n);
    AtomicInteger missing = new AtomicInteger(n);
    for (int i = 0; i < n; i++) {
      int shard = i;
      shards
          .get(i)
          .tell(
              new KvShard.SnapshotPart(
                  bytes -> {
                    parts.set(shard, bytes);
                    if (missing.decrementAndGet() == 0) done.accept(assemble(parts));
                  }));
    }
  }

  private static byte[] assemble(AtomicReferenceArray<byte[]> parts) {
    byte[][] all = new byte[parts.length()][];
    for (int i = 0; i < all.length; i++) all[i] = parts.get(i);
    return KvStateMachine.assembleSnapshot(all);
  }

  @Override
  public void restore(byte[] snapshot) {
    byte[][] parts = KvStateMachine.splitSnapshot(snapshot, shards.size());
    for (int i = 0; i < parts.length; i++) shards.get(i).tell(new KvShard.Restore(parts[i]));
  }
}
