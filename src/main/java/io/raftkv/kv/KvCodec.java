package io.raftkv.kv;

import io.raftkv.codec.ByteReader;
import io.raftkv.codec.ByteWriter;
import io.raftkv.codec.CorruptDataException;
import java.nio.charset.StandardCharsets;
import java.util.OptionalLong;

/**
 * The binary form of {@link KvOp}s (what goes into the Raft log) and {@link KvResult}s: a format
 * version byte, a tag, then varint-framed fields; strings are UTF-8.
 */
public final class KvCodec {
  private KvCodec() {}

  static final int VERSION = 1;
  private static final int GET = 1;
  private static final int PUT = 2;
  private static final int APPEND = 3;
  private static final int DELETE = 4;
  /** An Append with a limit on its result (a plain APPEND has none, as before the limit existed). */
  private static final int APPEND_LIMITED = 5;

  /** Bytes that are not a well-formed op, result or snapshot of this format. */
  public static final class MalformedException extends RuntimeException {
    public MalformedException(String message) {
      super(message);
    }

    MalformedException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  public static byte[] encode(KvOp op) {
    ByteWriter w = new ByteWriter().u8(VERSION);
    if (op instanceof KvOp.Get g) {
      w.u8(GET);
      string(w, g.key());
    } else if (op instanceof KvOp.Put p) {
      w.u8(PUT);
      string(w, p.key());
      string(w, p.value());
      optionalVersion(w, p.version());
      session(w, p.clientId(), p.seq());
    } else if (op instanceof KvOp.Append a) {
      w.u8(a.maxValueBytes() == KvOp.NO_LIMIT ? APPEND : APPEND_LIMITED);
      string(w, a.key());
      string(w, a.value());
      session(w, a.clientId(), a.seq());
      if (a.maxValueBytes() != KvOp.NO_LIMIT) w.varint(a.maxValueBytes());
    } else if (op instanceof KvOp.Delete d) {
      w.u8(DELETE);
      string(w, d.key());
      optionalVersion(w, d.version());
      session(w, d.clientId(), d.seq());
    } else {
      throw new IllegalArgumentException("unknown op " + op);
    }
    return w.toByteArray();
  }

  public static KvOp decodeOp(byte[] bytes) {
    try {
      ByteReader r = reader(bytes);
      int tag = r.u8();
      KvOp op =
          switch (tag) {
            case GET -> new KvOp.Get(string(r));
            case PUT -> new KvOp.Put(string(r), string(r), optionalVersion(r), r.varintSigned(), r.varint());
            case APPEND -> new KvOp.Append(string(r), string(r), r.varintSigned(), r.varint());
            case APPEND_LIMITED -> new KvOp.Append(string(r), string(r), r.varintSigned(), r.varint(), limit(r));
            case DELETE -> new KvOp.Delete(string(r), optionalVersion(r), r.varintSigned(), r.varint());
            default -> throw new MalformedException("unknown KV op tag " + tag);
          };
      r.expectEnd();
      return op;
    } catch (CorruptDataException | IllegalArgumentException e) {
      throw new MalformedException("malformed KV op: " + e.getMessage(), e);
    }
  }

  public static byte[] encode(KvResult result) {
    ByteWriter w = new ByteWriter().u8(VERSION).u8(result.err().ordinal());
    string(w, result.value());
    return w.varint(result.version()).toByteArray();
  }

  public static KvResult decodeResult(byte[] bytes) {
    try {
      ByteReader r = reader(bytes);
      KvResult result = new KvResult(KvErr.ofCode(r.u8()), string(r), r.varint());
      r.expectEnd();
      return result;
    } catch (CorruptDataException e) {
      throw new MalformedException("malformed KV result: " + e.getMessage(), e);
    }
  }

  static ByteReader reader(byte[] bytes) {
    ByteReader r = new ByteReader(bytes);
    int version = r.u8();
    if (version != VERSION) throw new MalformedException("unsupported KV format version " + version);
    return r;
  }

  /** The length of {@code s} in UTF-8, without encoding it (a value may be a megabyte). */
  public static long utf8Length(String s) {
    long n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) n += 1;
      else if (c < 0x800) n += 2;
      else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        n += 4;
        i++;
      } else n += 3;
    }
    return n;
  }

  static void string(ByteWriter w, String s) {
    w.bytes(s.getBytes(StandardCharsets.UTF_8));
  }

  static String string(ByteReader r) {
    return new String(r.bytes(), StandardCharsets.UTF_8);
  }

  private static void optionalVersion(ByteWriter w, OptionalLong v) {
    if (v.isPresent()) w.u8(1).varint(v.getAsLong());
    else w.u8(0);
  }

  private static OptionalLong optionalVersion(ByteReader r) {
    int present = r.u8();
    return switch (present) {
      case 0 -> OptionalLong.empty();
      case 1 -> OptionalLong.of(r.varint());
      default -> throw new MalformedException("bad version flag " + present);
    };
  }

  private static int limit(ByteReader r) {
    long limit = r.varint();
    if (limit < 1 || limit > Integer.MAX_VALUE) throw new MalformedException("bad value limit " + limit);
    return (int) limit;
  }

  private static void session(ByteWriter w, long clientId, long seq) {
    w.varintSigned(clientId).varint(seq);
  }
}
