package io.raftkv.testing;

import io.raftkv.codec.ByteReader;
import io.raftkv.codec.ByteWriter;
import io.raftkv.codec.CorruptDataException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The test commands on the wire and in the tester's snapshots: integers and strings, compactly
 * encoded (a tag byte, then a zigzag varint or a length-prefixed UTF-8 string), as small as gob's.
 */
public final class Commands {
  private static final int NULL = 0;
  private static final int INT = 1;
  private static final int STRING = 2;

  private Commands() {}

  public static byte[] encode(Object cmd) {
    ByteWriter w = new ByteWriter();
    write(w, cmd);
    return w.toByteArray();
  }

  public static Object decode(byte[] bytes) {
    ByteReader r = new ByteReader(bytes);
    Object o = read(r);
    r.expectEnd();
    return o;
  }

  /** The tester's snapshot: lastIncludedIndex, then the commands at indices 0..lastIncludedIndex. */
  public static byte[] encodeSnapshot(long lastIncludedIndex, List<Object> commands) {
    ByteWriter w = new ByteWriter();
    w.varint(lastIncludedIndex).varint(commands.size());
    for (Object c : commands) write(w, c);
    return w.toByteArray();
  }

  public record TesterSnapshot(long lastIncludedIndex, List<Object> commands) {}

  public static TesterSnapshot decodeSnapshot(byte[] bytes) {
    ByteReader r = new ByteReader(bytes);
    long index = r.varint();
    long count = r.varint();
    List<Object> cmds = new ArrayList<>();
    for (long i = 0; i < count; i++) cmds.add(read(r));
    r.expectEnd();
    return new TesterSnapshot(index, cmds);
  }

  private static void write(ByteWriter w, Object cmd) {
    if (cmd == null) {
      w.u8(NULL);
    } else if (cmd instanceof Integer i) {
      w.u8(INT).varintSigned(i);
    } else if (cmd instanceof String s) {
      w.u8(STRING).bytes(s.getBytes(StandardCharsets.UTF_8));
    } else {
      throw new IllegalArgumentException("unsupported command type " + cmd.getClass());
    }
  }

  private static Object read(ByteReader r) {
    int tag = r.u8();
    return switch (tag) {
      case NULL -> null;
      case INT -> (int) r.varintSigned();
      case STRING -> new String(r.bytes(), StandardCharsets.UTF_8);
      default -> throw new CorruptDataException("unknown command tag " + tag);
    };
  }
}
