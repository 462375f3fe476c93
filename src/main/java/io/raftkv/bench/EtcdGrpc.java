package io.raftkv.bench;

import java.io.ByteArrayOutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The little of etcd's gRPC KV service ({@code etcdserverpb.KV}, etcd 3.4's rpc.proto) that the
 * load benchmark speaks: {@code Put} and {@code Range} requests encoded by hand in protobuf's wire
 * format, their responses decoded, and gRPC's message framing (a compressed flag byte, then a
 * 4-byte big-endian length, then the message).
 *
 * <p>Only the fields the benchmark uses are written; a decoder skips every field it does not know,
 * as protobuf requires. Pure functions, thread-safe.
 */
public final class EtcdGrpc {
  /** The gRPC method paths. */
  public static final String PUT_PATH = "/etcdserverpb.KV/Put";

  public static final String RANGE_PATH = "/etcdserverpb.KV/Range";

  private static final int VARINT = 0;
  private static final int FIXED64 = 1;
  private static final int LENGTH_DELIMITED = 2;
  private static final int FIXED32 = 5;

  private EtcdGrpc() {}

  /** etcd's {@code ResponseHeader}: which member answered, at which revision, in which term. */
  public record ResponseHeader(long clusterId, long memberId, long revision, long raftTerm) {
    static final ResponseHeader EMPTY = new ResponseHeader(0, 0, 0, 0);
  }

  /** A stored key ({@code mvccpb.KeyValue}). */
  public record KeyValue(byte[] key, byte[] value, long createRevision, long modRevision, long version) {}

  /** {@code RangeResponse}: the keys found ({@code kvs}) and how many matched ({@code count}). */
  public record RangeResponse(ResponseHeader header, List<KeyValue> kvs, long count) {}

  /** {@code PutRequest{key = 1, value = 2}}. */
  public static byte[] putRequest(byte[] key, byte[] value) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(key.length + value.length + 8);
    writeBytes(out, 1, key);
    writeBytes(out, 2, value);
    return out.toByteArray();
  }

  /**
   * {@code RangeRequest{key = 1}}: one key, linearizable ({@code serializable = 7} left false, its
   * default, so etcd confirms its leadership before it answers).
   */
  public static byte[] rangeRequest(byte[] key) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(key.length + 4);
    writeBytes(out, 1, key);
    return out.toByteArray();
  }

  /** The header of a {@code PutResponse{header = 1, prev_kv = 2}}. */
  public static ResponseHeader decodePutResponse(byte[] message) {
    return decodeHeader(new Fields(message, 1).bytes[1]); // absent: empty, which decodes to EMPTY
  }

  /** {@code RangeResponse{header = 1, kvs = 2 (repeated), more = 3, count = 4}}. */
  public static RangeResponse decodeRangeResponse(byte[] message) {
    Reader r = new Reader(message);
    ResponseHeader header = ResponseHeader.EMPTY;
    List<KeyValue> kvs = new ArrayList<>();
    long count = 0;
    while (r.more()) {
      int tag = r.varint32();
      if (tag == key(1, LENGTH_DELIMITED)) header = decodeHeader(r.bytes());
      else if (tag == key(2, LENGTH_DELIMITED)) kvs.add(decodeKeyValue(r.bytes()));
      else if (tag == key(4, VARINT)) count = r.varint();
      else r.skip(tag);
    }
    return new RangeResponse(header, List.copyOf(kvs), count);
  }

  /** {@code ResponseHeader{cluster_id = 1, member_id = 2, revision = 3, raft_term = 4}}. */
  static ResponseHeader decodeHeader(byte[] message) {
    Fields f = new Fields(message, 4);
    return new ResponseHeader(f.varint[1], f.varint[2], f.varint[3], f.varint[4]);
  }

  /** {@code KeyValue{key = 1, create_revision = 2, mod_revision = 3, version = 4, value = 5, lease = 6}}. */
  static KeyValue decodeKeyValue(byte[] message) {
    Fields f = new Fields(message, 5);
    return new KeyValue(f.bytes[1], f.bytes[5], f.varint[2], f.varint[3], f.varint[4]);
  }

  /** One gRPC length-prefixed message, uncompressed. */
  public static byte[] frame(byte[] message) {
    byte[] framed = new byte[5 + message.length];
    int n = message.length;
    framed[1] = (byte) (n >>> 24);
    framed[2] = (byte) (n >>> 16);
    framed[3] = (byte) (n >>> 8);
    framed[4] = (byte) n;
    System.arraycopy(message, 0, framed, 5, n);
    return framed;
  }

  /**
   * The one message of a unary call's response body.
   *
   * @throws IllegalArgumentException if the body is not exactly one uncompressed framed message
   */
  public static byte[] unframe(byte[] body) {
    if (body.length < 5) throw new IllegalArgumentException("gRPC body of " + body.length + " bytes: no message");
    if (body[0] != 0) throw new IllegalArgumentException("compressed gRPC message (flag " + body[0] + "): not asked for");
    long n = ((body[1] & 0xffL) << 24) | ((body[2] & 0xff) << 16) | ((body[3] & 0xff) << 8) | (body[4] & 0xff);
    if (n != body.length - 5) throw new IllegalArgumentException("gRPC message length " + n + " but " + (body.length - 5) + " bytes follow");
    byte[] message = new byte[(int) n];
    System.arraycopy(body, 5, message, 0, (int) n);
    return message;
  }

  /**
   * A {@code grpc-message} header's text: percent-encoded UTF-8 in the gRPC spec. Unlike a URL
   * query, '+' stands for itself.
   */
  public static String decodeMessage(String grpcMessage) {
    try {
      return URLDecoder.decode(grpcMessage.replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return grpcMessage;
    }
  }

  private static int key(int field, int wireType) {
    return (field << 3) | wireType;
  }

  private static void writeBytes(ByteArrayOutputStream out, int field, byte[] bytes) {
    writeVarint(out, key(field, LENGTH_DELIMITED));
    writeVarint(out, bytes.length);
    out.write(bytes, 0, bytes.length);
  }

  static void writeVarint(ByteArrayOutputStream out, long v) {
    while ((v & ~0x7FL) != 0) {
      out.write((int) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    out.write((int) v);
  }

  /**
   * The varint and bytes fields 1 to {@code last} of a message without repeated ones: the last
   * value of each (protobuf's rule for a scalar field seen twice), 0 or empty where absent. A
   * field of another number or wire type is skipped.
   */
  private static final class Fields {
    final long[] varint;
    final byte[][] bytes;

    Fields(byte[] message, int last) {
      varint = new long[last + 1];
      bytes = new byte[last + 1][];
      Arrays.fill(bytes, new byte[0]);
      Reader r = new Reader(message);
      while (r.more()) {
        int tag = r.varint32();
        int field = tag >>> 3;
        if (field > last) r.skip(tag);
        else if (tag == key(field, VARINT)) varint[field] = r.varint();
        else if (tag == key(field, LENGTH_DELIMITED)) bytes[field] = r.bytes();
        else r.skip(tag);
      }
    }
  }

  /** Reads protobuf's wire format; every malformed input throws IllegalArgumentException. */
  private static final class Reader {
    private final byte[] buf;
    private int pos;

    Reader(byte[] buf) {
      this.buf = buf;
    }

    boolean more() {
      return pos < buf.length;
    }

    long varint() {
      long v = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        if (pos >= buf.length) throw new IllegalArgumentException("truncated varint");
        byte b = buf[pos++];
        v |= (long) (b & 0x7F) << shift;
        if ((b & 0x80) == 0) return v;
      }
      throw new IllegalArgumentException("varint longer than 10 bytes");
    }

    int varint32() {
      long v = varint();
      if (v < 0 || v > Integer.MAX_VALUE) throw new IllegalArgumentException("field key out of range: " + v);
      return (int) v;
    }

    byte[] bytes() {
      long n = varint();
      if (n < 0 || n > buf.length - pos) throw new IllegalArgumentException("length " + n + " beyond the message");
      byte[] b = new byte[(int) n];
      System.arraycopy(buf, pos, b, 0, (int) n);
      pos += (int) n;
      return b;
    }

    void skip(int tag) {
      switch (tag & 7) {
        case VARINT -> varint();
        case FIXED64 -> advance(8);
        case LENGTH_DELIMITED -> {
          long n = varint();
          if (n < 0 || n > buf.length - pos) throw new IllegalArgumentException("length " + n + " beyond the message");
          pos += (int) n;
        }
        case FIXED32 -> advance(4);
        default -> throw new IllegalArgumentException("unsupported wire type " + (tag & 7) + " of field " + (tag >>> 3));
      }
    }

    private void advance(int n) {
      if (n > buf.length - pos) throw new IllegalArgumentException("truncated fixed-size field");
      pos += n;
    }
  }
}
