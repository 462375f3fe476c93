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
  /** Version 2 added the group's session table; version 1 snapshots still restore. */
  static final int SNAPSHOT_VERSION = 2;
  private static final int SNAPSHOT_VERSION_WITHOUT_SESSIONS = 1;

  private final KvStore[] shards;
  private final KvSessions sessions;

  /** @param maxSessions client sessions remembered, for the group and in each shard alike */
  public KvStateMachine(int shards, int maxSessions) {
    if (shards < 1) throw new IllegalArgumentException("need at least one shard");
    this.shards = new KvStore[shards];
    for (int i = 0; i < shards; i++) this.shards[i] = new KvStore(maxSessions);
    this.sessions = new KvSessions(shards, maxSessions);
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
    int shard = shardOf(decoded.key(), shards.length);
    if (KvSessions.inSession(decoded)) {
      shard = sessions.route(decoded, shard);
      if (shard == KvSessions.STALE) return KvCodec.encode(KvResult.staleSeq(sessions.latestSeq(decoded.clientId())));
    }
    return KvCodec.encode(shards[shard].apply(decoded));
  }

  @Override
  public byte[] snapshot() {
    byte[][] parts = new byte[shards.length][];
    for (int i = 0; i < parts.length; i++) parts[i] = shards[i].snapshot();
    return assembleSnapshot(sessions.snapshot(), parts);
  }

  @Override
  public void restore(byte[] snapshot) {
    Snapshot s = Snapshot.parse(snapshot, shards.length);
    s.restoreSessions(sessions);
    for (int i = 0; i < shards.length; i++) shards[i].restore(s.parts()[i]);
  }

  /**
   * A snapshot in this format: the group's session table ({@code null} in a version 1 snapshot)
   * and each shard's part.
   */
  record Snapshot(byte[] sessions, byte[][] parts) {
    /** Splits {@code snapshot}, checking it fits {@code shards} shards. */
    static Snapshot parse(byte[] snapshot, int shards) {
      try {
        ByteReader r = new ByteReader(snapshot);
        int version = r.u8();
        if (version != SNAPSHOT_VERSION && version != SNAPSHOT_VERSION_WITHOUT_SESSIONS)
          throw new KvCodec.MalformedException("unsupported KV snapshot version " + version);
        byte[] sessions = version == SNAPSHOT_VERSION ? r.bytes() : null;
        long n = r.varint();
        if (n != shards) throw new KvCodec.MalformedException("snapshot has " + n + " shards, this node " + shards);
        byte[][] parts = new byte[shards][];
        for (int i = 0; i < shards; i++) parts[i] = r.bytes();
        r.expectEnd();
        return new Snapshot(sessions, parts);
      } catch (CorruptDataException e) {
        throw new KvCodec.MalformedException("malformed KV snapshot: " + e.getMessage(), e);
      }
    }

    /** Replaces {@code table} with this snapshot's session table (rebuilt from the parts if it has none). */
    void restoreSessions(KvSessions table) {
      if (sessions == null) table.rebuild(parts);
      else table.restore(sessions);
    }
  }

  static byte[] assembleSnapshot(byte[] sessions, byte[][] parts) {
    ByteWriter w = new ByteWriter().u8(SNAPSHOT_VERSION).bytes(sessions).varint(parts.length);
    for (byte[] p : parts) w.bytes(p);
    return w.toByteArray();
  }
}
