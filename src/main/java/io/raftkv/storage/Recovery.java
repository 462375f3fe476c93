package io.raftkv.storage;

import io.raftkv.raft.HardState;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * What {@link FileStorage#open} does to a directory before the writer starts: finds what it holds
 * ({@link WalScan}), refuses a directory that cannot be trusted, and repairs what a crash may
 * leave: unfinished temp files, a torn tail ({@link SegmentLog}), a snapshot file whose mark never
 * reached the log.
 */
final class Recovery {
  private Recovery() {}

  /** Reads {@code dir}, creating the files of a new peer if it is empty. Changes no existing state. */
  static WalScan scan(Path dir, ChannelOpener opener) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        if (p.getFileName().toString().endsWith(WalFormat.TMP_SUFFIX)) Files.delete(p); // unfinished replacement
      }
    }
    Path hsFile = dir.resolve(WalFormat.HARD_STATE_FILE);
    if (!Files.exists(hsFile) && !Files.exists(dir.resolve(WalFormat.SNAPSHOT_FILE)) && WalScan.listSegments(dir).isEmpty()) {
      AtomicFiles.write(opener, dir, WalFormat.HARD_STATE_FILE, ByteBuffer.wrap(WalFormat.hardState(HardState.INITIAL))); // a new peer
    }
    WalScan scan = WalScan.read(dir);
    if (scan.segments.isEmpty() && (!scan.hardState.equals(HardState.INITIAL) || !scan.snapshot.isEmpty())) {
      throw new CorruptStorageException(dir, -1, "no log segments, yet the hard state or snapshot shows the peer has run");
    }
    return scan;
  }

  /**
   * Repairs the torn tail {@code scan} found and opens the log for appending, with every record
   * it holds durable. Closes what it opened if it fails.
   */
  static SegmentLog openSegments(Path dir, long segmentBytes, ChannelOpener opener, WalScan scan) throws IOException {
    SegmentLog segments = new SegmentLog(dir, segmentBytes, opener, scan);
    try {
      if (scan.snapshot.index() > segments.markIndex()) {
        // The snapshot file became durable, its mark did not: write the mark now, so the log alone
        // tells how it relates to the snapshot and older segments can go.
        segments.append(WalFormat.snapshotMark(scan.snapshot.index(), scan.snapshot.term(), scan.replay.endReset));
        segments.noteMark(scan.snapshot.index(), false); // liveLast already reflects the reset, if any
      }
      segments.finish();
    } catch (IOException | RuntimeException e) {
      try {
        segments.close();
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
    return segments;
  }
}
