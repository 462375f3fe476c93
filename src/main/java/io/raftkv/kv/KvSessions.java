package io.raftkv.kv;

import io.raftkv.codec.ByteReader;
import io.raftkv.codec.ByteWriter;
import io.raftkv.codec.CorruptDataException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The group's client sessions, kept where committed ops are dispatched to shards (in log order,
 * by the one applier): for each client, the seq of its latest write and the shard that executed
 * it. This makes a session exactly-once across the whole key space, not only within a shard.
 *
 * <p>A write of a session goes, by {@link #route}: below the latest seq, nowhere (the caller
 * answers {@link KvResult#staleSeq}); at the latest seq (a retry), to the shard that executed it,
 * whose {@link KvStore} answers it from its own session without executing; above, to the key's
 * shard, which executes it and remembers its answer. A shard's table has the same capacity as this
 * one and is touched by exactly the writes routed to it, so a client this table holds with shard
 * {@code s} is always still held by shard {@code s}: a retry is never executed twice.
 *
 * <p>Deterministic (its order is part of the snapshot); not thread-safe: one owner.
 */
final class KvSessions {
  /** {@link #route}'s answer for a seq below the session's latest. */
  static final int STALE = -1;

  private static final int SNAPSHOT_VERSION = 1;

  private record Session(long seq, int shard) {}

  private final int shards;
  /** Least recently routed first: the order in which they are forgotten. */
  private final LinkedHashMap<Long, Session> sessions;

  /** @param maxSessions sessions kept; the least recently routed one is forgotten beyond this */
  KvSessions(int shards, int maxSessions) {
    if (maxSessions < 1) throw new IllegalArgumentException("maxSessions must be positive");
    this.shards = shards;
    this.sessions =
        new LinkedHashMap<>() {
          @Override
          protected boolean removeEldestEntry(Map.Entry<Long, Session> eldest) {
            return size() > maxSessions;
          }
        };
  }

  /** Whether {@code op} belongs to a session (Gets never do: they change nothing). */
  static boolean inSession(KvOp op) {
    return op.clientId() != KvOp.NO_CLIENT && !(op instanceof KvOp.Get);
  }

  /**
   * The shard that must see the session write {@code op} of a key owned by {@code keyShard}, or
   * {@link #STALE}. Records the route: call once per committed op, in log order.
   */
  int route(KvOp op, int keyShard) {
    long client = op.clientId();
    Session s = sessions.get(client);
    if (s != null && op.seq() < s.seq()) return STALE;
    int shard = s != null && op.seq() == s.seq() ? s.shard() : keyShard;
    sessions.remove(client); // re-inserted last: the most recently routed
    sessions.put(client, new Session(op.seq(), shard));
    return shard;
  }

  /** The latest seq of {@code client}'s session (0 if unknown). */
  long latestSeq(long client) {
    Session s = sessions.get(client);
    return s == null ? 0 : s.seq();
  }

  int size() {
    return sessions.size();
  }

  byte[] snapshot() {
    ByteWriter w = new ByteWriter().u8(SNAPSHOT_VERSION).varint(sessions.size());
    for (Map.Entry<Long, Session> e : sessions.entrySet()) {
      w.varintSigned(e.getKey()).varint(e.getValue().seq()).varint(e.getValue().shard());
    }
    return w.toByteArray();
  }

  /** Replaces the table with a {@link #snapshot}; on malformed input nothing changes. */
  void restore(byte[] snapshot) {
    LinkedHashMap<Long, Session> restored = new LinkedHashMap<>();
    try {
      ByteReader r = new ByteReader(snapshot);
      int version = r.u8();
      if (version != SNAPSHOT_VERSION) throw new KvCodec.MalformedException("unsupported session table version " + version);
      long n = r.varint();
      for (long i = 0; i < n; i++) {
        long client = r.varintSigned();
        long seq = r.varint();
        long shard = r.varint();
        if (shard >= shards) throw new KvCodec.MalformedException("session of client " + client + " names shard " + shard);
        restored.put(client, new Session(seq, (int) shard));
      }
      r.expectEnd();
    } catch (CorruptDataException e) {
      throw new KvCodec.MalformedException("malformed session table: " + e.getMessage(), e);
    }
    sessions.clear();
    sessions.putAll(restored);
  }

  /**
   * Rebuilds the table from the shards' own sessions, for a snapshot written before the group kept
   * one: each client's session is its highest seq in any shard, in that shard. Every replica
   * restoring the same snapshot rebuilds the same table.
   */
  void rebuild(byte[][] parts) {
    sessions.clear();
    for (int shard = 0; shard < parts.length; shard++) {
      int s = shard;
      KvStore.forEachSession(parts[shard], (client, seq) -> {
        Session old = sessions.get(client);
        if (old == null || seq > old.seq()) sessions.put(client, new Session(seq, s));
      });
    }
  }
}
