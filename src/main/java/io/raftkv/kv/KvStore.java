package io.raftkv.kv;

import io.raftkv.codec.ByteReader;
import io.raftkv.codec.ByteWriter;
import io.raftkv.codec.CorruptDataException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The versioned map of one shard, plus the client sessions that make its writes exactly-once.
 * Deterministic: the same ops in the same order give the same answers and the same state on every
 * replica (the session table's eviction order included, since it is part of the snapshot).
 * Not thread-safe; one owner (a {@link KvShard} actor or the {@link KvStateMachine}).
 */
public final class KvStore {
  public static final int DEFAULT_MAX_SESSIONS = 10_000;
  private static final int SNAPSHOT_VERSION = 1;

  private record Versioned(String value, long version) {}

  /** The last op of one client in this shard and its answer, replayed for a repeat. */
  private record Session(long seq, KvResult result) {}

  private final Map<String, Versioned> data = new HashMap<>();
  private final LinkedHashMap<Long, Session> sessions;

  /** @param maxSessions sessions kept; the least recently used one is forgotten beyond this */
  public KvStore(int maxSessions) {
    if (maxSessions < 1) throw new IllegalArgumentException("maxSessions must be positive");
    this.sessions =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<Long, Session> eldest) {
            return size() > maxSessions;
          }
        };
  }

  public KvResult apply(KvOp op) {
    long client = op.clientId();
    if (client == KvOp.NO_CLIENT || op instanceof KvOp.Get) return execute(op);
    Session s = sessions.get(client);
    if (s != null) {
      // Only a copy of the session's latest op may have the stored answer. An older seq is not
      // executed either (it may have been, before the session moved on), and gets an explicit
      // error rather than another op's answer.
      if (op.seq() == s.seq()) return s.result();
      if (op.seq() < s.seq()) return KvResult.staleSeq(s.seq());
    }
    KvResult result = execute(op);
    sessions.put(client, new Session(op.seq(), result));
    return result;
  }

  private KvResult execute(KvOp op) {
    Versioned cur = data.get(op.key());
    if (op instanceof KvOp.Get) {
      return cur == null ? KvResult.noKey() : KvResult.ok(cur.value(), cur.version());
    }
    if (op instanceof KvOp.Put p) {
      OptionalLong expected = p.version();
      if (expected.isPresent()) {
        long v = expected.getAsLong();
        if (cur == null && v != 0) return KvResult.noKey();
        if (cur != null && cur.version() != v) return KvResult.wrongVersion(cur.version());
      }
      return write(p.key(), p.value(), cur);
    }
    if (op instanceof KvOp.Append a) {
      String prefix = cur == null ? "" : cur.value();
      if (a.maxValueBytes() > 0 && KvCodec.utf8Length(prefix) + KvCodec.utf8Length(a.value()) > a.maxValueBytes()) {
        return KvResult.tooLarge(a.maxValueBytes()); // nothing changes: the value stays as it was
      }
      return write(a.key(), prefix + a.value(), cur);
    }
    KvOp.Delete d = (KvOp.Delete) op;
    if (cur == null) return KvResult.noKey();
    if (d.version().isPresent() && d.version().getAsLong() != cur.version()) {
      return KvResult.wrongVersion(cur.version());
    }
    data.remove(d.key());
    return KvResult.ok("", 0);
  }

  private KvResult write(String key, String value, Versioned cur) {
    long version = cur == null ? 1 : cur.version() + 1;
    data.put(key, new Versioned(value, version));
    return KvResult.ok("", version);
  }

  public int size() {
    return data.size();
  }

  public int sessionCount() {
    return sessions.size();
  }

  /** The whole state: keys, and sessions from least to most recently used. */
  public byte[] snapshot() {
    ByteWriter w = new ByteWriter().u8(SNAPSHOT_VERSION).varint(data.size());
    for (Map.Entry<String, Versioned> e : data.entrySet()) {
      KvCodec.string(w, e.getKey());
      KvCodec.string(w, e.getValue().value());
      w.varint(e.getValue().version());
    }
    w.varint(sessions.size());
    for (Map.Entry<Long, Session> e : sessions.entrySet()) {
      KvResult r = e.getValue().result();
      w.varintSigned(e.getKey()).varint(e.getValue().seq()).u8(r.err().ordinal());
      KvCodec.string(w, r.value());
      w.varint(r.version());
    }
    return w.toByteArray();
  }

  /** Calls {@code each} with every session's client and seq in a {@link #snapshot}, oldest first. */
  static void forEachSession(byte[] snapshot, SessionConsumer each) {
    KvStore store = new KvStore(Integer.MAX_VALUE);
    store.restore(snapshot);
    for (Map.Entry<Long, Session> e : store.sessions.entrySet()) each.accept(e.getKey(), e.getValue().seq());
  }

  interface SessionConsumer {
    void accept(long client, long seq);
  }

  /** Replaces the whole state with a {@link #snapshot}; on malformed input nothing changes. */
  public void restore(byte[] snapshot) {
    Map<String, Versioned> newData = new HashMap<>();
    LinkedHashMap<Long, Session> newSessions = new LinkedHashMap<>();
    try {
      ByteReader r = new ByteReader(snapshot);
      int version = r.u8();
      if (version != SNAPSHOT_VERSION) throw new KvCodec.MalformedException("unsupported shard snapshot version " + version);
      long keys = r.varint();
      for (long i = 0; i < keys; i++) newData.put(KvCodec.string(r), new Versioned(KvCodec.string(r), r.varint()));
      long n = r.varint();
      for (long i = 0; i < n; i++) {
        long client = r.varintSigned();
        long seq = r.varint();
        KvErr err = KvErr.ofCode(r.u8());
        newSessions.put(client, new Session(seq, new KvResult(err, KvCodec.string(r), r.varint())));
      }
      r.expectEnd();
    } catch (CorruptDataException e) {
      throw new KvCodec.MalformedException("malformed shard snapshot: " + e.getMessage(), e);
    }
    data.clear();
    data.putAll(newData);
    sessions.clear();
    sessions.putAll(newSessions);
  }
}
