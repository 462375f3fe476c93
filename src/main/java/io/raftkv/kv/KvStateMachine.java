package io.raftkv.kv;

import io.raftkv.codec.ByteReader;
import io.raftkv.codec.ByteWriter;
import io.raftkv.codec.CorruptDataException;
import io.raftkv.rsm.StateMachine;
import java.nio.charset.StandardCharsets;

/**
 * The KV store as one synchronous {@link StateMachine}: the same shards and snapshot format as the
 * actor-based {@link ShardedKvService}, without actors. Useful where a single thread is enough
 * (tests, tools) and as the reference the sharded service must agree with.
 *
 * <p>A malformed op has no effect on any replica and returns an empty result.
 */
public final class KvStateMachine implements StateMachine {
  public static final int DEFAULT_SHARDS = 4;
  static final int SNAPSHOT_VERSION = 1;

  private final KvStore[] shards;

  public KvStateMachine(int shards, int maxSessionsPerShard) {
    if (shards < 1) throw new IllegalArgumentException("need at least one shard");
    this.shards = new KvStore[shards];
    for (int i = 0; i < shards; i++) this.shards[i] = new KvStore(maxSessionsPerShard);
  }

  public KvStateMachine() {
    this(DEFAULT_SHARDS, KvStore.DEFAULT_MAX_SESSIONS);
  }

  /** The shard that owns {@code key}: a hash of its UTF-8 bytes, the same on every node. */
  public static int shardOf(String key, int shards) {
    long h = 0xcbf29ce484222325L; // FNV-1a 64
    for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xFF;
      h *= 0x100000001b3L;
    }
    // murmur3 finalizer: spreads the low bits FNV leaves correlated for short keys
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    return (int) Math.floorMod(h, (long) shards);
  }

  @Override
  public byte[] apply(byte[] op) {
    KvOp decoded;
    try {
      decoded = KvCodec.decodeOp(op);
    } catch (KvCodec.MalformedException e) {
      return new byte[0];
    }
    return KvCodec.encode(shards[shardOf(decoded.key(), shards.length)].apply(decoded));
  }

  @Override
  public byte[] snapshot() {
    byte[][] parts = new byte[shards.length][];
    for (int i = 0; i < parts.length; i++) parts[i] = shards[i].snapshot();
    return assembleSnapshot(parts);
  }

  @Override
  public void restore(byte[] snapshot) {
    byte[][] parts = splitSnapshot(snapshot, shards.length);
    for (int i = 0; i < parts.length; i++) shards[i].restore(parts[i]);
  }

  /** The per-shard parts of a snapshot in this format, checking it fits {@code shards} shards. */
  static byte[][] splitSnapshot(byte[] snapshot, int shards) {
    try {
      ByteReader r = new ByteReader(snapshot);
      int version = r.u8();
      if (version != SNAPSHOT_VERSION) throw new KvCodec.MalformedException("unsupported KV snapshot version " + version);
      long n = r.varint();
      if (n != shards) throw new KvCodec.MalformedException("snapshot has " + n + " shards, this node " + shards);
      byte[][] parts = new byte[shards][];
      for (int i = 0; i < shards; i++) parts[i] = r.bytes();
      r.expectEnd();
      return parts;
    } catch (CorruptDataException e) {
      throw new KvCodec.MalformedException("malformed KV snapshot: " + e.getMessage(), e);
    }
  }

  static byte[] assembleSnapshot(byte[][] parts) {
    ByteWriter w = new ByteWriter().u8(SNAPSHOT_VERSION).varint(parts.length);
    for (byte[] p : parts) w.bytes(p);
    return w.toByteArray();
  }
}
