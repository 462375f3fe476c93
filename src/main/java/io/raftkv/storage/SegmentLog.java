package io.raftkv.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The segment files of a {@link FileStorage} as its writer thread sees them: appends records to
 * the active segment through a buffer, fsyncs, rolls segments, and deletes the segments a durable
 * snapshot covers. Not thread-safe: recovery sets it up, then only the writer thread touches it.
 *
 * <p>What was fsynced stays recognisable after a crash ({@link WalScan}): a new segment's header
 * is fsynced before anything follows it, and the first record written after every fsync is a
 * sync point.
 */
final class SegmentLog {
  private static final Logger LOG = LoggerFactory.getLogger(FileStorage.class);
  private static final SecureRandom SALTS = new SecureRandom();

  private final Path dir;
  private final long segmentBytes;
  private final ChannelOpener opener;
  private final ArrayList<Segment> segments = new ArrayList<>(); // by seq, consecutive, last = active
  private FileChannel active;
  private long salt; // the active segment's
  private long activeBytes; // including pending
  private byte[] pending = new byte[1 << 16]; // written to active at the next flush
  private int pendingBytes;
  private boolean unsynced; // active holds bytes not yet fsynced
  private boolean syncPointDue; // the next record is the first since an fsync
  private long markSeq; // the segment holding the latest snapshot mark: kept with all after it
  private long markIndex; // the latest durable snapshot's index
  private boolean collect; // a snapshot became durable: delete what it covers at the next finish
  final AtomicLong syncs = new AtomicLong();

  /** Repairs the torn tail {@code scan} found and opens the last segment for appending. */
  SegmentLog(Path dir, long segmentBytes, ChannelOpener opener, WalScan scan) throws IOException {
    this.dir = dir;
    this.segmentBytes = segmentBytes;
    this.opener = opener;
    if (scan.segments.isEmpty()) scan.segments.add(new Segment(1, dir.resolve(WalFormat.segmentName(1))));
    segments.addAll(scan.segments);
    Segment last = segments.get(segments.size() - 1);
    if (scan.torn != null) {
      LOG.warn("{}: torn tail at offset {} ({}); truncating {} bytes",
          scan.torn.path(), scan.torn.offset(), scan.torn.problem(), scan.torn.fileBytes() - scan.torn.offset());
      try (FileChannel ch = opener.open(scan.torn.path(), StandardOpenOption.WRITE)) {
        ch.truncate(scan.torn.offset());
        ch.force(true);
      }
    }
    active = opener.open(last.path, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    activeBytes = active.size();
    active.position(activeBytes);
    salt = scan.lastSalt;
    if (activeBytes == 0) { // new, or its header was torn
      long previousBytes = segments.size() > 1 ? Files.size(segments.get(segments.size() - 2).path) : 0;
      startSegment(last.seq, previousBytes);
    } else if (salt == 0) {
      roll(); // a version-1 segment is not appended to: it has no sync points
    }
    syncPointDue = true;
    markSeq = scan.replay.markSeq;
    markIndex = scan.replay.markIndex;
    collect = markIndex > 0;
  }

  long markIndex() {
    return markIndex;
  }

  /** Appends {@code frame} to the active segment (rolling it first if it is full); durable at the next {@link #sync}. */
  void append(byte[] frame) throws IOException {
    if (activeBytes >= segmentBytes) roll();
    if (syncPointDue) {
      syncPointDue = false;
      buffer(WalFormat.syncPoint(salt, activeBytes));
    }
    buffer(frame);
  }

  private void buffer(byte[] frame) throws IOException {
    if (pendingBytes + frame.length > pending.length) {
      flushPending();
      if (frame.length > pending.length) pending = new byte[Math.max(frame.length, pending.length * 2)];
    }
    System.arraycopy(frame, 0, pending, pendingBytes, frame.length);
    pendingBytes += frame.length;
    activeBytes += frame.length;
    unsynced = true;
  }

  private void flushPending() throws IOException {
    ByteBuffer b = ByteBuffer.wrap(pending, 0, pendingBytes);
    while (b.hasRemaining()) active.write(b);
    pendingBytes = 0;
  }

  /** Makes every record appended so far durable. */
  void sync() throws IOException {
    if (!unsynced) return;
    flushPending();
    active.force(false);
    unsynced = false;
    syncPointDue = true;
    syncs.incrementAndGet();
  }

  /** Ends a batch: everything appended is durable, and the segments a durable snapshot covers are gone. */
  void finish() throws IOException {
    sync();
    if (collect) deleteCoveredSegments();
  }

  /** The active segment is full (or of an older version): it is fsynced, and the next one starts. */
  private void roll() throws IOException {
    sync();
    long previousBytes = activeBytes;
    active.close();
    active = null;
    long seq = segments.get(segments.size() - 1).seq + 1;
    Segment next = new Segment(seq, dir.resolve(WalFormat.segmentName(seq)));
    active = opener.open(next.path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    segments.add(next);
    activeBytes = 0;
    startSegment(seq, previousBytes);
  }

  /** Writes the active segment's header and makes it durable on its own, before anything follows it. */
  private void startSegment(long seq, long previousBytes) throws IOException {
    long s;
    do s = SALTS.nextLong() & Long.MAX_VALUE; while (s == 0);
    salt = s;
    buffer(WalFormat.segmentHeader(seq, previousBytes, salt));
    sync();
    syncDirectory();
  }

  void noteEntries(long first, long last) {
    for (Segment s : segments) s.liveLast = Math.min(s.liveLast, first - 1);
    segments.get(segments.size() - 1).liveLast = last;
  }

  /** A mark for the durable snapshot at {@code index} was appended; {@code reset}: it discarded the log. */
  void noteMark(long index, boolean reset) {
    if (reset) for (Segment s : segments) s.liveLast = 0;
    markSeq = segments.get(segments.size() - 1).seq;
    markIndex = index;
    collect = true;
  }

  /**
   * Deletes the oldest segments while everything live in them is covered by the durable snapshot.
   * The segment holding the latest mark and all after it stay, so that the log on disk always
   * says how it relates to the snapshot file.
   */
  private void deleteCoveredSegments() throws IOException {
    collect = false;
    int n = 0;
    while (n < segments.size() - 1 && segments.get(n).seq < markSeq && segments.get(n).liveLast <= markIndex) n++;
    if (n == 0) return;
    List<Segment> covered = segments.subList(0, n);
    for (Segment s : covered) Files.deleteIfExists(s.path);
    covered.clear();
    syncDirectory();
  }

  private void syncDirectory() throws IOException {
    AtomicFiles.syncDirectory(opener, dir);
  }

  void close() throws IOException {
    if (active != null) active.close();
  }
}
