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
}
