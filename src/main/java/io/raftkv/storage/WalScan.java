package io.raftkv.storage;

import io.raftkv.codec.CorruptDataException;
import io.raftkv.raft.HardState;
import io.raftkv.raft.LogEntry;
import io.raftkv.raft.PersistentState;
import io.raftkv.raft.Snapshot;
import io.raftkv.storage.WalFormat.Entries;
import io.raftkv.storage.WalFormat.FrameCheck;
import io.raftkv.storage.WalFormat.HardStateRecord;
import io.raftkv.storage.WalFormat.Record;
import io.raftkv.storage.WalFormat.SegmentHeader;
import io.raftkv.storage.WalFormat.SnapshotMark;
import io.raftkv.storage.WalFormat.SnapshotRecord;
import io.raftkv.storage.WalFormat.SyncPoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * What a storage directory holds, read without changing anything: hard state, snapshot, the log
 * rebuilt from its segments, and a torn tail to cut off, if any.
 *
 * <p>Which damage is a torn tail: only bytes that were never fsynced can be torn by a crash, and
 * what was fsynced is known from the format ({@link WalFormat}): every segment but the last was
 * fsynced before the next one was created, a segment header was fsynced before anything followed
 * it, and every sync point follows an fsync of all that precedes it. A bad record in the last
 * segment with no sync point after it lies in the last write, which may have reached the disk in
 * any order (valid frames after the bad one prove nothing), so the segment is cut there. A bad
 * record before a sync point, or anywhere else, is damage to durable data.
 */
final class WalScan {
  HardState hardState;
  Snapshot snapshot = Snapshot.EMPTY;
  final ArrayList<Segment> segments = new ArrayList<>();
  Replay replay;
  Torn torn;
  long lastSalt; // the last segment's salt; 0 if it is a version-1 segment or has no header

  record Torn(Path path, int offset, String problem, long fileBytes) {}

  PersistentState state() {
    return new PersistentState(hardState, snapshot, replay.log);
  }

  static List<Path> listSegments(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .filter(p -> WalFormat.segmentSeq(p.getFileName().toString()) >= 0)
          .sorted()
          .toList();
    }
  }

  static WalScan read(Path dir) throws IOException {
    WalScan scan = new WalScan();
    List<Path> paths = listSegments(dir);
    for (int i = 0; i < paths.size(); i++) {
      long seq = WalFormat.segmentSeq(paths.get(i).getFileName().toString());
      if (i > 0 && seq != scan.segments.get(i - 1).seq + 1) {
        throw new CorruptStorageException(dir.resolve(WalFormat.segmentName(scan.segments.get(i - 1).seq + 1)), -1,
            "segment is missing (the next one present is " + paths.get(i).getFileName() + ")");
      }
      scan.segments.add(new Segment(seq, paths.get(i)));
    }

    Path hsFile = dir.resolve(WalFormat.HARD_STATE_FILE);
    if (!Files.exists(hsFile)) {
      throw new CorruptStorageException(hsFile, -1, "hard state file is missing, yet the directory holds a log or snapshot");
    }
    if (!(readSingleRecord(hsFile) instanceof HardStateRecord hs)) {
      throw new CorruptStorageException(hsFile, 0, "not a hard state record");
    }
    scan.hardState = hs.hardState();
    Path snapFile = dir.resolve(WalFormat.SNAPSHOT_FILE);
    if (Files.exists(snapFile)) {
      if (!(readSingleRecord(snapFile) instanceof SnapshotRecord sr) || sr.snapshot().index() < 1) {
        throw new CorruptStorageException(snapFile, 0, "not a snapshot record");
      }
      scan.snapshot = sr.snapshot();
    }

    Replay rp = new Replay(scan.segments);
    scan.replay = rp;
    long previousBytes = -1;
    for (int i = 0; i < scan.segments.size(); i++) {
      Segment seg = scan.segments.get(i);
      boolean last = i == scan.segments.size() - 1;
      byte[] buf = Files.readAllBytes(seg.path);
      long salt = 0;
      int pos = 0;
      while (pos < buf.length) {
        FrameCheck fc = WalFormat.check(buf, pos);
        if (!fc.ok()) {
          if (!last) throw new CorruptStorageException(seg.path, pos, fc.problem() + ", in a segment that is not the last");
          scan.torn = tornTail(seg, buf, pos, fc.problem(), salt);
          break;
        }
        Record rec;
        try {
          rec = WalFormat.decode(buf, pos + WalFormat.FRAME_HEADER, fc.end() - pos - WalFormat.FRAME_HEADER);
        } catch (CorruptDataException | IllegalArgumentException e) {
          throw new CorruptStorageException(seg.path, pos, "undecodable record: " + e.getMessage(), e);
        }
        if (pos == 0) {
          if (!(rec instanceof SegmentHeader h) || h.seq() != seg.seq) {
            throw new CorruptStorageException(seg.path, pos, "expected the header of segment " + seg.seq + ", found " + rec);
          }
          if (previousBytes >= 0 && h.previousBytes() != previousBytes) {
            Path prev = scan.segments.get(i - 1).path;
            throw new CorruptStorageException(prev, previousBytes,
                "segment is " + previousBytes + " bytes long but " + seg.path.getFileName() + " says it held "
                    + h.previousBytes() + ": it was truncated or overwritten");
          }
          salt = h.salt();
        } else if (rec instanceof Entries es) {
          rp.entries(es.entries(), seg, seg.path, pos);
        } else if (rec instanceof SnapshotMark m) {
          rp.mark(m, seg, pos);
        } else if (rec instanceof SyncPoint sp && salt != 0) {
          if (sp.salt() != salt || sp.offset() != pos) {
            throw new CorruptStorageException(seg.path, pos, "sync point of another segment or offset: " + sp);
          }
        } else {
          throw new CorruptStorageException(seg.path, pos, "unexpected record in a segment: " + rec);
        }
        pos = fc.end();
      }
      if (buf.length == 0 && !last) throw new CorruptStorageException(seg.path, 0, "empty segment that is not the last");
      if (last) scan.lastSalt = scan.torn != null && scan.torn.offset == 0 ? 0 : salt;
      previousBytes = buf.length;
    }

    if (scan.snapshot.index() < rp.markIndex) {
      throw new CorruptStorageException(snapFile, -1, (Files.exists(snapFile)
          ? "snapshot file holds index " + scan.snapshot.index() : "snapshot file is missing")
          + ", but the log records a durable snapshot at index " + rp.markIndex);
    }
    rp.endSnapshot(scan.snapshot.index(), scan.snapshot.term());
    if (!rp.log.isEmpty() && rp.base > scan.snapshot.index()) {
      throw new CorruptStorageException(scan.segments.get(0).path, -1, "the log starts at index " + (rp.base + 1)
          + " but the snapshot covers only up to index " + scan.snapshot.index() + ": earlier log segments are missing");
    }
    return scan;
  }

  /**
   * A bad record at {@code pos} of the last segment: the torn tail to cut off, or, if the bytes
   * there are known to have been fsynced, a {@link CorruptStorageException}.
   */
  private static Torn tornTail(Segment seg, byte[] buf, int pos, String problem, long salt) {
    if (pos == 0) {
      // The header is made durable before anything is written after it.
      if (buf.length > WalFormat.MAX_SEGMENT_HEADER) {
        throw new CorruptStorageException(seg.path, 0, "bad segment header (" + problem + ") in a file of "
            + buf.length + " bytes: more was written after the header was made durable, so this is not a torn tail");
      }
    } else if (salt != 0) {
      int next = WalFormat.nextSyncPoint(buf, pos + 1, salt);
      if (next >= 0) {
        throw new CorruptStorageException(seg.path, pos, problem + "; a sync point at offset " + next
            + " shows this record was fsynced, so this is not a torn tail");
      }
    } else {
      // A version-1 segment has no sync points: any valid frame after the bad one counts.
      int next = WalFormat.nextValidFrame(buf, pos + 1);
      if (next >= 0) {
        throw new CorruptStorageException(seg.path, pos,
            problem + "; a valid record follows at offset " + next + ", so this is not a torn tail");
      }
    }
    return new Torn(seg.path, pos, problem, buf.length);
  }

  /** A file holding exactly one frame: hard state or snapshot. */
  private static Record readSingleRecord(Path file) throws IOException {
    byte[] buf;
    try {
      buf = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new CorruptStorageException(file, -1, "file is missing");
    }
    FrameCheck fc = WalFormat.check(buf, 0);
    if (!fc.ok()) throw new CorruptStorageException(file, 0, fc.problem());
    if (fc.end() != buf.length) throw new CorruptStorageException(file, fc.end(), (buf.length - fc.end()) + " trailing bytes");
    try {
      return WalFormat.decode(buf, WalFormat.FRAME_HEADER, buf.length - WalFormat.FRAME_HEADER);
    } catch (CorruptDataException | IllegalArgumentException e) {
      throw new CorruptStorageException(file, 0, "undecodable record: " + e.getMessage(), e);
    }
  }

  /**
   * Rebuilds the log from its records. Older segments may have been deleted, so the replay may
   * start in the middle of the log: until a snapshot mark pins it, the prefix before the first
   * known entry is unknown, and a record overwriting from inside that prefix replaces all that is
   * known. Every live entry past the latest snapshot is in the segments that remain, which the
   * final check confirms.
   *
   * <p>Why this is not a {@link io.raftkv.raft.LogTail}, which the live storages share: a LogTail
   * always knows where it starts (its snapshot point) and entries that do not fit are its caller's
   * bug, while here the start is unknown until a record fixes it, an overwrite from before the
   * first known entry is legitimate, a gap or an overwrite of a snapshot is damage on disk to report
   * with its file and offset, and every change must also be charged to the segments it leaves dead.
   */
  static final class Replay {
    final ArrayList<LogEntry> log = new ArrayList<>(); // entries base+1 .. base+size
    final List<Segment> segments;
    long base = -1; // -1 until the first record that fixes it
    long floor; // the latest snapshot applied: no entry at or below it may be written
    long markIndex; // the latest mark in the log
    long markSeq;
    boolean endReset; // endSnapshot discarded the log

    Replay(List<Segment> segments) {
      this.segments = segments;
    }

    long last() {
      return base + log.size();
    }

    void entries(List<LogEntry> es, Segment seg, Path file, int pos) {
      long first = es.get(0).index();
      if (first <= floor) {
        throw new CorruptStorageException(file, pos, "entries from index " + first + " overwrite the snapshot at index " + floor);
      }
      if (base < 0 || first <= base) {
        log.clear();
        base = first - 1;
      } else if (first > last() + 1) {
        throw new CorruptStorageException(file, pos, "entries from index " + first + " leave a gap after index " + last());
      } else {
        log.subList((int) (first - base - 1), log.size()).clear();
      }
      log.addAll(es);
      for (Segment s : segments) {
        if (s.seq > seg.seq) break;
        s.liveLast = Math.min(s.liveLast, first - 1);
      }
      seg.liveLast = last();
    }

    void mark(SnapshotMark m, Segment seg, int pos) {
      if (m.index() <= floor) {
        throw new CorruptStorageException(seg.path, pos, "snapshot mark at index " + m.index() + " after one at " + floor);
      }
      if (m.reset()) {
        reset(m.index());
      } else if (base >= 0 && m.index() > base) {
        if (m.index() > last() || log.get((int) (m.index() - base - 1)).term() != m.term()) {
          throw new CorruptStorageException(seg.path, pos, "snapshot mark at index " + m.index() + " term " + m.term()
              + " claims a matching entry the log does not hold");
        }
        dropThrough(m.index());
      }
      floor = m.index();
      markIndex = m.index();
      markSeq = seg.seq;
    }

    /** The snapshot file, applied as persist applies a snapshot (a no-op if its mark was replayed). */
    void endSnapshot(long index, long term) {
      if (index <= floor) return;
      if (base < 0 || log.isEmpty() || index > last() || (index > base && log.get((int) (index - base - 1)).term() != term)) {
        reset(index);
        endReset = true;
      } else if (index > base) {
        dropThrough(index);
      }
      floor = index;
    }

    private void reset(long index) {
      log.clear();
      base = index;
      for (Segment s : segments) s.liveLast = 0;
    }

    private void dropThrough(long index) {
      log.subList(0, (int) (index - base)).clear();
      base = index;
    }
  }
}
