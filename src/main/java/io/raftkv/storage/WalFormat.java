package io.raftkv.storage;

import io.raftkv.codec.ByteReader;
import io.raftkv.codec.ByteWriter;
import io.raftkv.codec.CorruptDataException;
import io.raftkv.raft.HardState;
import io.raftkv.raft.Configuration;
import io.raftkv.raft.LogEntry;
import io.raftkv.raft.RaftCodec;
import io.raftkv.raft.Snapshot;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

/**
 * The on-disk format of {@link FileStorage}. Every file is a sequence of frames:
 *
 * <pre>
 *   frame   = length:u32be  crc:u32be  payload[length]       crc = CRC32C(length bytes ++ payload)
 *   payload = version:u8 (=2)  type:u8  body                  body: RaftCodec varints and byte strings
 * </pre>
 *
 * A segment {@code wal-<seq>.log} starts with a SEGMENT_HEADER(seq, bytes of the previous segment,
 * salt), made durable on its own before anything follows it, and goes on with ENTRIES(first index,
 * count, count x (term, command)) and SNAPSHOT_MARK(index, term, reset) records; entries of
 * which one is not a command (a configuration) go as TYPED_ENTRIES(first index, count, count x
 * (type, term, bytes)), so a log of commands only is written as it always was. Every write after
 * an fsync of the segment begins with a SYNC_POINT(salt, own offset): everything before it in the
 * segment was durable when it was written, so damage before a sync point is damage to fsynced data,
 * while damage after the last one may be a torn write. The salt is random per segment and never
 * leaves the directory, so a command crafted to contain a frame cannot pass for a sync point.
 * {@code hardstate} holds one HARD_STATE(term, votedFor+1) frame and {@code snapshot} one
 * SNAPSHOT(index, term, data) frame, or SNAPSHOT_WITH_CONFIGURATION(index, term, configuration,
 * data) when the snapshot records its membership.
 *
 * <p>Version 1 (still read) had no salt and no sync points: a version-1 segment is never appended
 * to again, and its tail is judged as it was then (a bad record followed by any valid frame is
 * damage, not a torn tail).
 */
final class WalFormat {
  static final int VERSION = 2;
  static final int VERSION_1 = 1;
  static final int FRAME_HEADER = 8;
  /** No segment header frame is longer: a longer file with a bad header had more written after it. */
  static final int MAX_SEGMENT_HEADER = FRAME_HEADER + 2 + 3 * 10;

  static final int SEGMENT_HEADER = 1;
  static final int ENTRIES = 2;
  static final int SNAPSHOT_MARK = 3;
  static final int HARD_STATE = 4;
  static final int SNAPSHOT = 5;
  static final int SYNC_POINT = 6;
  static final int TYPED_ENTRIES = 7;
  /** A SNAPSHOT with the configuration in effect at its index, before the data. */
  static final int SNAPSHOT_WITH_CONFIGURATION = 8;

  static final String HARD_STATE_FILE = "hardstate";
  static final String SNAPSHOT_FILE = "snapshot";
  static final String LOCK_FILE = "LOCK";
  static final String TMP_SUFFIX = ".tmp";

  private static final Pattern SEGMENT = Pattern.compile("wal-(\\d{16})\\.log");

  private WalFormat() {}

  static String segmentName(long seq) {
    return String.format("wal-%016d.log", seq);
  }

  /** The sequence number in a segment file name, or -1 if {@code name} is not one. */
  static long segmentSeq(String name) {
    Matcher m = SEGMENT.matcher(name);
    return m.matches() ? Long.parseLong(m.group(1)) : -1;
  }

  // ---------------------------------------------------------------- records

  sealed interface Record {}

  /** {@code salt} is 0 in a version-1 segment (which has no sync points). */
  record SegmentHeader(long seq, long previousBytes, long salt) implements Record {}

  /** Written first after each fsync of a segment; {@code offset} is where it lies. */
  record SyncPoint(long salt, long offset) implements Record {}

  /** Consecutive entries; the first may overwrite the log from its index on. */
  record Entries(List<LogEntry> entries) implements Record {}

  /**
   * A snapshot at {@code index} became durable here. {@code reset}: the log did not hold a matching
   * entry at {@code index}, so everything before this mark is discarded; otherwise the log keeps
   * its suffix after {@code index}.
   */
  record SnapshotMark(long index, long term, boolean reset) implements Record {}

  record HardStateRecord(HardState hardState) implements Record {}

  record SnapshotRecord(Snapshot snapshot) implements Record {}

  static byte[] segmentHeader(long seq, long previousBytes, long salt) {
    return frame(payload(SEGMENT_HEADER).varint(seq).varint(previousBytes).varint(salt).toByteArray());
  }

  static byte[] syncPoint(long salt, long offset) {
    return frame(payload(SYNC_POINT).varint(salt).varint(offset).toByteArray());
  }

  static byte[] entries(List<LogEntry> entries) {
    boolean typed = entries.stream().anyMatch(LogEntry::isConfiguration);
    ByteWriter w = payload(typed ? TYPED_ENTRIES : ENTRIES).varint(entries.get(0).index()).varint(entries.size());
    for (LogEntry e : entries) {
      if (typed) w.u8(e.type().ordinal());
      w.varint(e.term()).bytes(e.command());
    }
    return frame(w.toByteArray());
  }

  static byte[] snapshotMark(long index, long term, boolean reset) {
    return frame(payload(SNAPSHOT_MARK).varint(index).varint(term).u8(reset ? 1 : 0).toByteArray());
  }

  static byte[] hardState(HardState hs) {
    return frame(payload(HARD_STATE).varint(hs.term()).varint(hs.votedFor() + 1L).toByteArray());
  }

  /** The payload of a SNAPSHOT frame up to (excluding) the data bytes, which follow it. */
  static byte[] snapshotPrefix(Snapshot s) {
    if (s.configuration() == null) return payload(SNAPSHOT).varint(s.index()).varint(s.term()).varint(s.data().length).toByteArray();
    ByteWriter w = payload(SNAPSHOT_WITH_CONFIGURATION).varint(s.index()).varint(s.term());
    return w.bytes(RaftCodec.encodeConfiguration(s.configuration())).varint(s.data().length).toByteArray();
  }

  private static ByteWriter payload(int type) {
    return new ByteWriter().u8(VERSION).u8(type);
  }

  /** Decodes the payload at {@code buf[off, off+len)}; throws {@link CorruptDataException}. */
  static Record decode(byte[] buf, int off, int len) {
    ByteReader r = new ByteReader(Arrays.copyOfRange(buf, off, off + len));
    int version = r.u8();
    if (version != VERSION && version != VERSION_1) throw new CorruptDataException("unsupported format version " + version);
    int type = r.u8();
    Record rec =
        switch (type) {
          case SEGMENT_HEADER -> {
            long seq = r.varint(), previous = r.varint();
            long salt = version == VERSION_1 ? 0 : r.varint();
            if (version != VERSION_1 && salt == 0) throw new CorruptDataException("segment header without a salt");
            yield new SegmentHeader(seq, previous, salt);
          }
          case SYNC_POINT -> {
            if (version == VERSION_1) throw new CorruptDataException("sync point in a version-1 record");
            yield new SyncPoint(r.varint(), r.varint());
          }
          case ENTRIES, TYPED_ENTRIES -> {
            if (type == TYPED_ENTRIES && version == VERSION_1) throw new CorruptDataException("typed entries in a version-1 record");
            long first = r.varint(), count = r.varint();
            if (first < 1 || count < 1 || count > r.remaining()) {
              throw new CorruptDataException("bad entries record: first " + first + ", count " + count);
            }
            List<LogEntry> es = new ArrayList<>((int) count);
            for (long i = 0; i < count; i++) {
              LogEntry.Type t = type == TYPED_ENTRIES ? RaftCodec.entryType(r.u8()) : LogEntry.Type.COMMAND;
              long term = r.varint();
              byte[] cmd = r.bytes();
              if (term < 1) throw new CorruptDataException("bad entry term " + term);
              es.add(new LogEntry(first + i, term, cmd, t));
            }
            yield new Entries(es);
          }
          case SNAPSHOT_MARK -> {
            long index = r.varint(), term = r.varint();
            int reset = r.u8();
            if (index < 1 || reset > 1) throw new CorruptDataException("bad snapshot mark");
            yield new SnapshotMark(index, term, reset == 1);
          }
          case HARD_STATE -> {
            long term = r.varint(), vote = r.varint() - 1;
            if (vote < HardState.NO_VOTE || vote > Integer.MAX_VALUE) throw new CorruptDataException("bad vote " + vote);
            yield new HardStateRecord(new HardState(term, (int) vote));
          }
          case SNAPSHOT -> {
            long index = r.varint(), term = r.varint();
            yield new SnapshotRecord(new Snapshot(index, term, r.bytes()));
          }
          case SNAPSHOT_WITH_CONFIGURATION -> {
            long index = r.varint(), term = r.varint();
            Configuration c = RaftCodec.decodeConfiguration(r.bytes());
            yield new SnapshotRecord(new Snapshot(index, term, r.bytes(), c));
          }
          default -> throw new CorruptDataException("unknown record type " + type);
        };
    r.expectEnd();
    return rec;
  }

  // ---------------------------------------------------------------- frames

  static byte[] frame(byte[] payload) {
    byte[] out = new byte[FRAME_HEADER + payload.length];
    frameHeader(payload, new byte[0]).get(out, 0, FRAME_HEADER);
    System.arraycopy(payload, 0, out, FRAME_HEADER, payload.length);
    return out;
  }

  /** Length and CRC of a frame whose payload is {@code prefix} followed by {@code data}. */
  static ByteBuffer frameHeader(byte[] prefix, byte[] data) {
    long len = (long) prefix.length + data.length;
    if (len > Integer.MAX_VALUE - FRAME_HEADER) throw new IllegalArgumentException("record of " + len + " bytes is too large");
    ByteBuffer h = ByteBuffer.allocate(FRAME_HEADER).putInt((int) len);
    CRC32C crc = new CRC32C();
    crc.update(h.array(), 0, 4);
    crc.update(prefix);
    crc.update(data);
    h.putInt((int) crc.getValue());
    return h.flip();
  }

  /** A valid frame at some offset ending at {@code end}, or why there is none ({@code problem}). */
  record FrameCheck(int end, String problem) {
    boolean ok() {
      return problem == null;
    }
  }

  static FrameCheck check(byte[] buf, int pos) {
    int remaining = buf.length - pos;
    if (remaining < FRAME_HEADER) return bad("torn record header (" + remaining + " of " + FRAME_HEADER + " bytes)");
    long len = ByteBuffer.wrap(buf, pos, 4).getInt() & 0xFFFFFFFFL;
    if (len < 2) return bad("record length " + len + " is too small");
    if (len > remaining - FRAME_HEADER) {
      return bad("record length " + len + " runs past the end of the file (" + (remaining - FRAME_HEADER) + " bytes left)");
    }
    CRC32C crc = new CRC32C();
    crc.update(buf, pos, 4);
    crc.update(buf, pos + FRAME_HEADER, (int) len);
    int stored = ByteBuffer.wrap(buf, pos + 4, 4).getInt();
    if ((int) crc.getValue() != stored) return bad("CRC32C mismatch");
    return new FrameCheck(pos + FRAME_HEADER + (int) len, null);
  }

  private static FrameCheck bad(String problem) {
    return new FrameCheck(-1, problem);
  }

  /**
   * The offset of the first valid frame at or after {@code from}, or -1. A bad record followed by
   * a valid one is damage in the middle of the log, not a torn tail. Candidates are filtered on
   * the version and type bytes before their CRC is computed, so scanning garbage stays cheap.
   */
  static int nextValidFrame(byte[] buf, int from) {
    for (int q = from; q + FRAME_HEADER + 2 <= buf.length; q++) {
      if ((buf[q + FRAME_HEADER] & 0xFF) != VERSION) continue;
      int type = buf[q + FRAME_HEADER + 1] & 0xFF;
      if (type < SEGMENT_HEADER || type > SYNC_POINT) continue;
      if (check(buf, q).ok()) return q;
    }
    return -1;
  }

  /**
   * The offset of the first sync point of the segment salted {@code salt} after {@code from}, or
   * -1: a valid SYNC_POINT frame naming this salt and its own offset. Only such a frame is trusted
   * as evidence that the bytes before it were fsynced; any other frame found by scanning may be
   * part of a command.
   */
  static int nextSyncPoint(byte[] buf, int from, long salt) {
    for (int q = from; q + FRAME_HEADER + 2 <= buf.length; q++) {
      if ((buf[q + FRAME_HEADER] & 0xFF) != VERSION || (buf[q + FRAME_HEADER + 1] & 0xFF) != SYNC_POINT) continue;
      FrameCheck fc = check(buf, q);
      if (!fc.ok()) continue;
      try {
        if (decode(buf, q + FRAME_HEADER, fc.end() - q - FRAME_HEADER) instanceof SyncPoint sp
            && sp.salt() == salt && sp.offset() == q) {
          return q;
        }
      } catch (CorruptDataException e) {
        // not a sync point
      }
    }
    return -1;
  }

  /** Start offsets of the valid frames of {@code file}, from the beginning up to the first bad one. */
  static List<Integer> recordOffsets(Path file) throws IOException {
    byte[] buf = Files.readAllBytes(file);
    List<Integer> out = new ArrayList<>();
    int pos = 0;
    while (pos < buf.length) {
      FrameCheck fc = check(buf, pos);
      if (!fc.ok()) break;
      out.add(pos);
      pos = fc.end();
    }
    return out;
  }
}
