package io.raftkv.bench;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The wire format {@link Http2Connection} speaks (RFC 9113 frames, RFC 7541 HPACK), pure: frame
 * types and flags, frame headers written into a buffer and read from one, and the request header
 * block. The connection keeps the state (streams, windows, settings); {@link Http2HeaderReader}
 * reads the answers' header blocks.
 */
final class Http2Frames {
  static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
  static final int DATA = 0, HEADERS = 1, RST_STREAM = 3, SETTINGS = 4, PUSH_PROMISE = 5, PING = 6, GOAWAY = 7, WINDOW_UPDATE = 8, CONTINUATION = 9;
  static final int END_STREAM = 0x1, ACK = 0x1, END_HEADERS = 0x4, PADDED = 0x8, PRIORITY = 0x20;
  /** The size of a frame header: length (24 bits), type, flags, stream id (31 bits). */
  static final int HEADER_BYTES = 9;
  static final int CANCEL = 0x8;

  private Http2Frames() {}

  /**
   * Appends a frame header to {@code out} (write mode) with room for {@code length} payload bytes
   * after it; returns the buffer to put them in: {@code out}, or a larger copy of it.
   */
  static ByteBuffer frame(ByteBuffer out, int type, int flags, int stream, int length) {
    if (out.remaining() < HEADER_BYTES + length) {
      ByteBuffer bigger = ByteBuffer.allocate(Math.max(out.capacity() * 2, out.position() + HEADER_BYTES + length));
      out.flip();
      bigger.put(out);
      out = bigger;
    }
    out.put((byte) (length >>> 16)).put((byte) (length >>> 8)).put((byte) length);
    out.put((byte) type).put((byte) flags).putInt(stream & 0x7fffffff);
    return out;
  }

  /** The payload length of the frame at {@code in}'s position (read mode; at least a header there). */
  static int length(ByteBuffer in) {
    int at = in.position();
    return ((in.get(at) & 0xff) << 16) | ((in.get(at + 1) & 0xff) << 8) | (in.get(at + 2) & 0xff);
  }

  /**
   * A request's header block: :method POST, :scheme http (static-table entries 3 and 6),
   * :path, :authority, content-type (static names 4, 1, 31) and te, as literals without
   * indexing and without Huffman coding: nothing for either side's dynamic table to remember.
   */
  static byte[] requestHeaders(String path, String authority) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(0x83);
    b.write(0x86);
    literal(b, 4, path);
    literal(b, 1, authority);
    literal(b, 31, "application/grpc");
    b.write(0x00);
    string(b, "te");
    string(b, "trailers");
    return b.toByteArray();
  }

  static void literal(ByteArrayOutputStream b, int nameIndex, String value) {
    integer(b, 0x00, 4, nameIndex);
    string(b, value);
  }

  static void string(ByteArrayOutputStream b, String s) {
    byte[] bytes = s.getBytes(StandardCharsets.ISO_8859_1);
    integer(b, 0x00, 7, bytes.length); // H = 0: no Huffman
    b.writeBytes(bytes);
  }

  /** HPACK's integer with an {@code n}-bit prefix after the bits of {@code first}. */
  static void integer(ByteArrayOutputStream b, int first, int n, int v) {
    int max = (1 << n) - 1;
    if (v < max) {
      b.write(first | v);
      return;
    }
    b.write(first | max);
    v -= max;
    while (v >= 128) {
      b.write((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    b.write(v);
  }
}
