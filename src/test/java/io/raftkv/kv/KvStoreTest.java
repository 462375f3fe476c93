package io.raftkv.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class KvStoreTest {
  private final KvStore store = new KvStore(100);

  private KvResult get(String k) {
    return store.apply(KvOp.get(k));
  }

  private KvResult put(String k, String v, long version) {
    return store.apply(KvOp.put(k, v, version));
  }

  @Test
  void labPutSemantics() {
    assertEquals(KvResult.noKey(), get("a"));
    assertEquals(KvResult.noKey(), put("a", "x", 1), "absent key, version > 0");
    assertEquals(KvResult.ok("", 1), put("a", "x", 0), "absent key, version 0 creates");
    assertEquals(KvResult.ok("x", 1), get("a"));
    assertEquals(KvResult.wrongVersion(1), put("a", "y", 0), "present key, stale version");
    assertEquals(KvResult.wrongVersion(1), put("a", "y", 2), "present key, future version");
    assertEquals(KvResult.ok("x", 1), get("a"), "failed puts change nothing");
    assertEquals(KvResult.ok("", 2), put("a", "y", 1));
    assertEquals(KvResult.ok("y", 2), get("a"), "version counts writes");
  }

  @Test
  void appendCreatesThenExtends() {
    assertEquals(KvResult.ok("", 1), store.apply(new KvOp.Append("k", "ab", 0, 0)));
    assertEquals(KvResult.ok("", 2), store.apply(new KvOp.Append("k", "cd", 0, 0)));
    assertEquals(KvResult.ok("abcd", 2), get("k"));
  }

  @Test
  void deleteUnconditionalAndVersioned() {
    assertEquals(KvResult.noKey(), store.apply(new KvOp.Delete("k", OptionalLong.empty(), 0, 0)));
    put("k", "v", 0);
    put("k", "w", 1);
    assertEquals(KvResult.wrongVersion(2), store.apply(new KvOp.Delete("k", OptionalLong.of(1), 0, 0)));
    assertEquals(KvResult.ok("w", 2), get("k"));
    assertEquals(KvResult.ok("", 0), store.apply(new KvOp.Delete("k", OptionalLong.of(2), 0, 0)));
    assertEquals(KvResult.noKey(), get("k"));
    assertEquals(KvResult.ok("", 1), put("k", "again", 0), "a deleted key is re-created at version 1");
  }

  @Test
  void unconditionalPutCreatesOrOverwrites() {
    assertEquals(KvResult.ok("", 1), store.apply(new KvOp.Put("k", "a", OptionalLong.empty(), 0, 0)));
    assertEquals(KvResult.ok("", 2), store.apply(new KvOp.Put("k", "b", OptionalLong.empty(), 0, 0)));
    assertEquals(KvResult.ok("b", 2), get("k"));
  }

  @Test
  void sessionsMakeRetriedWritesExactlyOnce() {
    KvOp first = new KvOp.Append("k", "x", 7, 1);
    assertEquals(KvResult.ok("", 1), store.apply(first));
    assertEquals(KvResult.ok("", 1), store.apply(first), "a retransmission gets the first answer");
    assertEquals(KvResult.ok("x", 1), get("k"));
    assertEquals(KvResult.ok("", 2), store.apply(new KvOp.Append("k", "y", 7, 2)));
    assertEquals(KvResult.ok("", 3), store.apply(new KvOp.Append("k", "x", 8, 1)));
    assertEquals(KvResult.ok("xyx", 3), get("k"), "another client's seq 1 is its own");
    assertEquals(KvResult.ok("", 0), store.apply(new KvOp.Delete("k", OptionalLong.empty(), 7, 3)));
    assertEquals(KvResult.ok("", 0), store.apply(new KvOp.Delete("k", OptionalLong.empty(), 7, 3)), "not ErrNoKey on retry");
  }

  @Test
  void aLowerSeqGetsAnExplicitErrorNeverAnotherOpsAnswer() {
    assertEquals(KvResult.ok("", 1), store.apply(new KvOp.Append("k", "b", 7, 8)));
    // seq 7 of the same session arrives after seq 8 committed (e.g. a late retransmission)
    assertEquals(KvResult.staleSeq(8), store.apply(new KvOp.Append("k", "a", 7, 7)));
    assertEquals(KvResult.staleSeq(8), store.apply(new KvOp.Put("k", "x", OptionalLong.empty(), 7, 2)));
    assertEquals(KvResult.ok("b", 1), get("k"), "a stale op is not executed");
    assertEquals(KvResult.ok("", 1), store.apply(new KvOp.Append("k", "b", 7, 8)), "the same seq still replays");
    assertEquals(KvResult.ok("", 2), store.apply(new KvOp.Append("k", "c", 7, 9)));
    // the error survives a snapshot like any other state
    KvStore copy = new KvStore(100);
    copy.restore(store.snapshot());
    assertEquals(KvResult.staleSeq(9), copy.apply(new KvOp.Append("k", "a", 7, 8)));
    assertEquals(KvResult.ok("", 2), copy.apply(new KvOp.Append("k", "c", 7, 9)));
  }

  @Test
  void sessionTableIsBoundedLeastRecentlyUsedFirst() {
    KvStore small = new KvStore(2);
    small.apply(new KvOp.Append("k", "a", 1, 1));
    small.apply(new KvOp.Append("k", "b", 2, 1));
    small.apply(new KvOp.Append("k", "a", 1, 1)); // touches client 1
    small.apply(new KvOp.Append("k", "c", 3, 1)); // evicts client 2
    assertEquals(2, small.sessionCount());
    small.apply(new KvOp.Append("k", "a", 1, 1));
    assertEquals(KvResult.ok("abc", 3), small.apply(KvOp.get("k")), "client 1 still deduplicated");
    small.apply(new KvOp.Append("k", "b", 2, 1));
    assertEquals(KvResult.ok("abcb", 4), small.apply(KvOp.get("k")), "client 2 was forgotten");
  }

  @Test
  void snapshotRestoresDataAndSessions() {
    put("a", "1", 0);
    store.apply(new KvOp.Append("b", "x", 5, 9));
    byte[] snap = store.snapshot();
    KvStore copy = new KvStore(100);
    copy.restore(snap);
    assertEquals(KvResult.ok("1", 1), copy.apply(KvOp.get("a")));
    assertEquals(KvResult.ok("", 1), copy.apply(new KvOp.Append("b", "x", 5, 9)), "session survives");
    assertEquals(KvResult.ok("x", 1), copy.apply(KvOp.get("b")));
    assertArrayEquals(snap, copy.snapshot());
  }

  @Test
  void malformedSnapshotIsRejectedAndChangesNothing() {
    put("a", "1", 0);
    byte[] snap = store.snapshot();
    byte[] truncated = java.util.Arrays.copyOf(snap, snap.length - 1);
    KvStore other = new KvStore(100);
    other.apply(KvOp.put("z", "keep", 0));
    assertThrows(KvCodec.MalformedException.class, () -> other.restore(truncated));
    assertEquals(KvResult.ok("keep", 1), other.apply(KvOp.get("z")));
  }
}
