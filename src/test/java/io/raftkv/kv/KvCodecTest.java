package io.raftkv.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class KvCodecTest {
  @Test
  void opsRoundTrip() {
    List<KvOp> ops =
        List.of(
            KvOp.get("k"),
            KvOp.get(""),
            KvOp.put("ключ", "värde ✓", 42),
            new KvOp.Put("k", "v", OptionalLong.empty(), -3, 17),
            new KvOp.Append("k", "x".repeat(1000), Long.MIN_VALUE, Long.MAX_VALUE),
            new KvOp.Append("k", "x", 5, 6, 1 << 20),
            new KvOp.Delete("k", OptionalLong.of(0), 1, 1),
            new KvOp.Delete("k", OptionalLong.empty(), 0, 0));
    for (KvOp op : ops) assertEquals(op, KvCodec.decodeOp(KvCodec.encode(op)));
  }

  @Test
  void resultsRoundTrip() {
    for (KvResult r : List.of(KvResult.ok("v", 3), KvResult.noKey(), KvResult.wrongVersion(9), KvResult.staleSeq(4), KvResult.tooLarge(1024))) {
      assertEquals(r, KvCodec.decodeResult(KvCodec.encode(r)));
    }
  }

  @Test
  void garbageIsAlwaysAMalformedException() {
    long seed = 20261130L;
    SplittableRandom rnd = new SplittableRandom(seed);
    byte[] valid = KvCodec.encode(new KvOp.Put("key", "value", OptionalLong.of(3), 5, 6));
    for (int i = 0; i < 10_000; i++) {
      byte[] b;
      if (rnd.nextBoolean()) {
        b = new byte[rnd.nextInt(20)];
        rnd.nextBytes(b);
      } else {
        b = java.util.Arrays.copyOf(valid, rnd.nextInt(valid.length));
      }
      byte[] bytes = b;
      try {
        KvCodec.decodeOp(bytes);
      } catch (KvCodec.MalformedException expected) {
        // fine: anything else escapes and fails the test (seed " + seed + ")
      }
    }
    assertThrows(KvCodec.MalformedException.class, () -> KvCodec.decodeOp(new byte[0]));
    assertThrows(KvCodec.MalformedException.class, () -> KvCodec.decodeOp(new byte[] {2, 1}));
    assertThrows(KvCodec.MalformedException.class, () -> KvCodec.decodeResult(new byte[] {1, 9, 0, 0}));
  }

  @Test
  void anAppendWithoutALimitKeepsTheFormerEncoding() {
    // logs written before appends carried a limit still decode, to an append without one
    byte[] plain = KvCodec.encode(new KvOp.Append("k", "v", 1, 2));
    assertEquals(3, plain[1], "the APPEND tag");
    assertEquals(new KvOp.Append("k", "v", 1, 2, KvOp.NO_LIMIT), KvCodec.decodeOp(plain));
    byte[] limited = KvCodec.encode(new KvOp.Append("k", "v", 1, 2, 10));
    assertEquals(5, limited[1], "the APPEND_LIMITED tag");
    limited[limited.length - 1] = 0; // a limit of 0 is not how "no limit" is written
    assertThrows(KvCodec.MalformedException.class, () -> KvCodec.decodeOp(limited));
  }
}
