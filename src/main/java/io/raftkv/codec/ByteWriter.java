package io.raftkv.codec;

import java.io.ByteArrayOutputStream;

/**
 * Appends bytes, unsigned varints (7 bits a byte, low groups first, high bit set on all but the
 * last) and length-prefixed byte strings: the primitives of every compact format in the project
 * (Raft's messages and state, the WAL, the KV ops and snapshots, the wire serializers). Each format
 * writes its own version byte with {@link #u8}. Not thread-safe.
 */
public final class ByteWriter {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  /** Encoded size of {@code v} as {@link #varint}, for size accounting without encoding. */
  public static int varintSize(long v) {
    int n = 1;
    while ((v & ~0x7FL) != 0) {
      v >>>= 7;
      n++;
    }
    return n;
  }

  public ByteWriter u8(int v) {
    out.write(v);
    return this;
  }

  public ByteWriter varint(long v) {
    if (v < 0) throw new IllegalArgumentException("varint must be non-negative: " + v);
    return unsigned(v);
  }

  private ByteWriter unsigned(long v) {
    while ((v & ~0x7FL) != 0) {
      out.write((int) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    out.write((int) v);
    return this;
  }

  /** Any long, zigzag-encoded so small negative numbers stay small. */
  public ByteWriter varintSigned(long v) {
    return unsigned((v << 1) ^ (v >> 63));
  }

  public ByteWriter bytes(byte[] b) {
    varint(b.length);
    out.write(b, 0, b.length);
    return this;
  }

  public byte[] toByteArray() {
    return out.toByteArray();
  }
}
