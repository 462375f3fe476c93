package io.raftkv.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class KvStateMachineTest {
  @Test
  void shardOfSpreadsKeysOverEveryShard() {
    int[] counts = new int[4];
    for (int i = 0; i < 4000; i++) counts[KvStateMachine.shardOf("key" + i, 4)]++;
    for (int c : counts) assertTrue(c > 800 && c < 1200, "uneven shards " + java.util.Arrays.toString(counts));
    assertEquals(KvStateMachine.shardOf("same", 7), KvStateMachine.shardOf("same", 7));
  }

  @Test
  void snapshotRestoresAnotherReplica() {
    SplittableRandom rnd = new SplittableRandom(7);
    KvStateMachine a = new KvStateMachine();
    for (int i = 0; i < 500; i++) {
      String key = "k" + rnd.nextInt(50);
      a.apply(KvCodec.encode(new KvOp.Append(key, Integer.toString(i), 1 + rnd.nextInt(5), i + 1)));
    }
    KvStateMachine b = new KvStateMachine();
    b.restore(a.snapshot());
    for (int i = 0; i < 50; i++) {
      byte[] get = KvCodec.encode(KvOp.get("k" + i));
      assertEquals(KvCodec.decodeResult(a.apply(get)), KvCodec.decodeResult(b.apply(get)));
    }
  }

  @Test
  void malformedOpHasNoEffectAndSnapshotOfOtherShardCountIsRefused() {
    KvStateMachine sm = new KvStateMachine();
    assertEquals(0, sm.apply(new byte[] {1, 99}).length);
    KvStateMachine two = new KvStateMachine(2, 10);
    assertThrows(KvCodec.MalformedException.class, () -> two.restore(sm.snapshot()));
  }

  /** Two keys that live in different shards. */
  static String[] keysInTwoShards(int shards) {
    String first = "a";
    for (int i = 0; ; i++) {
      String other = "b" + i;
      if (KvStateMachine.shardOf(other, shards) != KvStateMachine.shardOf(first, shards)) return new String[] {first, other};
    }
  }

  static KvResult apply(KvStateMachine sm, KvOp op) {
    return KvCodec.decodeResult(sm.apply(KvCodec.encode(op)));
  }

  @Test
  void aSessionIsExactlyOnceAcrossShards() {
    KvStateMachine sm = new KvStateMachine();
    String[] k = keysInTwoShards(KvStateMachine.DEFAULT_SHARDS);
    assertEquals(KvResult.ok("", 1), apply(sm, new KvOp.Append(k[0], "x", 7, 1)));
    // the same (client, seq) for a key of another shard: the first answer, and nothing executed
    assertEquals(KvResult.ok("", 1), apply(sm, new KvOp.Append(k[1], "y", 7, 1)));
    assertEquals(KvResult.noKey(), apply(sm, KvOp.get(k[1])));
    assertEquals(KvResult.ok("", 1), apply(sm, new KvOp.Append(k[1], "y", 7, 2)));
    // a lower seq, for the first shard's key: refused, not executed
    assertEquals(KvResult.staleSeq(2), apply(sm, new KvOp.Append(k[0], "z", 7, 1)));
    assertEquals(KvResult.ok("x", 1), apply(sm, KvOp.get(k[0])));
    // another client's seqs are its own
    assertEquals(KvResult.ok("", 2), apply(sm, new KvOp.Append(k[0], "w", 8, 1)));
  }

  @Test
  void theGroupsSessionsTravelInTheSnapshot() {
    KvStateMachine a = new KvStateMachine();
    String[] k = keysInTwoShards(KvStateMachine.DEFAULT_SHARDS);
    apply(a, new KvOp.Append(k[0], "x", 7, 5));
    KvStateMachine b = new KvStateMachine();
    b.restore(a.snapshot());
    assertEquals(KvResult.ok("", 1), apply(b, new KvOp.Append(k[1], "y", 7, 5)));
    assertEquals(KvResult.staleSeq(5), apply(b, new KvOp.Put(k[1], "y", java.util.OptionalLong.empty(), 7, 4)));
    assertEquals(KvResult.noKey(), apply(b, KvOp.get(k[1])));
  }

  @Test
  void aSnapshotWithoutTheGroupsSessionsRebuildsThemFromTheShards() {
    KvStateMachine a = new KvStateMachine();
    String[] k = keysInTwoShards(KvStateMachine.DEFAULT_SHARDS);
    apply(a, new KvOp.Append(k[0], "x", 7, 3));
    apply(a, new KvOp.Append(k[1], "y", 7, 4)); // client 7's latest write, in the other shard
    KvStateMachine.Snapshot s = KvStateMachine.Snapshot.parse(a.snapshot(), KvStateMachine.DEFAULT_SHARDS);
    // a version 1 snapshot: the parts only
    io.raftkv.codec.ByteWriter w = new io.raftkv.codec.ByteWriter().u8(1).varint(s.parts().length);
    for (byte[] part : s.parts()) w.bytes(part);
    KvStateMachine b = new KvStateMachine();
    b.restore(w.toByteArray());
    assertEquals(KvResult.ok("", 1), apply(b, new KvOp.Append(k[0], "again", 7, 4)), "seq 4 was executed in the other shard");
    assertEquals(KvResult.staleSeq(4), apply(b, new KvOp.Append(k[0], "again", 7, 3)));
    assertEquals(KvResult.ok("x", 1), apply(b, KvOp.get(k[0])));
  }

  @Test
  void theSessionTableIsBoundedLeastRecentlyUsedFirst() {
    KvStateMachine sm = new KvStateMachine(4, 2);
    String[] k = keysInTwoShards(4);
    apply(sm, new KvOp.Append(k[0], "x", 1, 1));
    apply(sm, new KvOp.Append("other", "x", 2, 1));
    apply(sm, new KvOp.Append("other", "x", 3, 1));
    // client 1 was forgotten by the group: its retry for another shard's key executes there (the
    // bounded-memory trade-off, documented)
    apply(sm, new KvOp.Append(k[1], "x", 1, 1));
    assertEquals(KvResult.ok("x", 1), apply(sm, KvOp.get(k[1])));
    // client 3 is remembered: its retry for another key does not execute
    apply(sm, new KvOp.Append("never", "x", 3, 1));
    assertEquals(KvResult.noKey(), apply(sm, KvOp.get("never")));
  }

  @Test
  void anAppendWhoseResultWouldExceedItsLimitChangesNothing() {
    KvStateMachine sm = new KvStateMachine();
    assertEquals(KvResult.ok("", 1), apply(sm, new KvOp.Append("k", "é".repeat(4), 0, 0, 10)));
    assertEquals(KvResult.tooLarge(10), apply(sm, new KvOp.Append("k", "ab\u00e9", 0, 0, 10)), "8 + 4 bytes of UTF-8");
    assertEquals(KvResult.ok("éééé", 1), apply(sm, KvOp.get("k")));
    assertEquals(KvResult.ok("", 2), apply(sm, new KvOp.Append("k", "ab", 0, 0, 10)), "exactly at the limit");
    assertEquals(KvResult.tooLarge(10), apply(sm, new KvOp.Append("k", "c", 5, 1, 10)));
    assertEquals(KvResult.tooLarge(10), apply(sm, new KvOp.Append("k", "c", 5, 1, 10)), "a retry gets the same answer");
    assertEquals(KvResult.ok("", 3), apply(sm, new KvOp.Append("k", "c", 0, 0)), "no limit, no refusal");
  }
}
