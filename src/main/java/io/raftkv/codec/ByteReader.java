package io.raftkv.codec;

import java.util.Arrays;

/**
 * Reads what {@link ByteWriter} wrote; every overrun is a {@link CorruptDataException}, so a
 * decoder fed garbage fails with one exception type whatever the damage. Not thread-safe.
 */
public final class ByteReader {
  private final byte[] buf;
  private int pos;

  public ByteReader(byte[] buf) {
    this.buf = buf;
  }

  public int remaining() {
    return buf.length - pos;
  }

  public int u8() {
    if (pos >= buf.length) throw new CorruptDataException("truncated input at byte " + pos);
    return buf[pos++] & 0xFF;
  }

  public long varint() {
    long v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      int b = u8();
      v |= (long) (b & 0x7F) << shift;
      if ((b & 0x80) == 0) return v;
    }
    throw new CorruptDataException("varint too long at byte " + pos);
  }

  public long varintSigned() {
    long v = varint();
    return (v >>> 1) ^ -(v & 1);
  }

  public byte[] bytes() {
    long len = varint();
    if (len < 0 || len > remaining()) throw new CorruptDataException("byte string of " + len + " exceeds input");
    byte[] b = Arrays.copyOfRange(buf, pos, pos + (int) len);
    pos += (int) len;
    return b;
  }

  /** Reads the version byte and rejects any other than {@code version}. */
  public void expectVersion(int version) {
    int v = u8();
    if (v != version) throw new CorruptDataException("unsupported format version " + v);
  }

  public void expectEnd() {
    if (pos != buf.length) throw new CorruptDataException((buf.length - pos) + " trailing bytes");
  }
}
