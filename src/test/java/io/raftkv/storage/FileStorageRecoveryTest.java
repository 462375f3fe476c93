package io.raftkv.storage;

import io.raftkv.codec.ByteWriter;
import static io.raftkv.storage.StorageScripts.assertSame;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import io.raftkv.raft.HardState;
import io.raftkv.raft.LogEntry;
import io.raftkv.raft.PersistentState;
import io.raftkv.raft.Ready;
import io.raftkv.raft.Snapshot;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Damages a directory written by a seeded script in every way a crash or a disk can: truncation
 * at every offset of the last segment and at random offsets elsewhere, random bit flips. A torn
 * tail (damage in the last write, after the last sync point) must recover to the state after a
 * prefix of the script (the longest one whose records are intact); any other damage must refuse
 * to start, naming the file and the offset of the record at fault. Replay a failure with {@code -Dseed=}.
 */
@Timeout(600)
class FileStorageRecoveryTest {
  static final FileStorage.Options SEGMENTS = new FileStorage.Options(512);
  static Logger storageLog;
  static Level savedLevel;

  @TempDir Path tmp;

  @BeforeAll
  static void quiet() {
    storageLog = (Logger) LoggerFactory.getLogger(FileStorage.class);
    savedLevel = storageLog.getLevel();
    storageLog.setLevel(Level.ERROR); // one WARN per repaired tail would drown the output
  }

  @AfterAll
  static void loud() {
    storageLog.setLevel(savedLevel);
  }

  /**
   * The reference directory, the state after each Ready k ({@code states[0]} is the empty one), and
   * where Ready k's records ended: the last segment at that time and its size.
   */
  record Built(Path dir, long seed, List<PersistentState> states, List<Long> seqs, List<Long> ends) {
    Path lastSegment() throws IOException {
      List<Path> segs = segments(dir);
      return segs.get(segs.size() - 1);
    }

    /** The state once the last segment is cut to {@code length} bytes. */
    PersistentState stateWithLastSegmentCutAt(long length) throws IOException {
      long last = WalFormat.segmentSeq(lastSegment().getFileName().toString());
      int j = 0;
      for (int k = 0; k < states.size(); k++) {
        if (seqs.get(k) < last || ends.get(k) <= length) j = k;
      }
      return states.get(j);
    }
  }

  /** Snapshots, votes, overwrites, then entries only until the log rolled over three more segments. */
  static Built build(Path dir, long seed) throws IOException {
    SplittableRandom rnd = new SplittableRandom(seed);
    MemoryStorage model = new MemoryStorage();
    List<PersistentState> states = new ArrayList<>(List.of(model.load()));
    List<Long> seqs = new ArrayList<>(List.of(0L));
    List<Long> ends = new ArrayList<>(List.of(0L));
    try (FileStorage fs = FileStorage.open(dir, SEGMENTS)) {
      long phase1Seq = 0;
      for (int k = 1; ; k++) {
        boolean phase1 = k <= 80;
        Ready r = StorageScripts.next(rnd, model, phase1 ? StorageScripts.Mix.SEPARATE : StorageScripts.Mix.ENTRIES);
        model.persist(r);
        fs.persist(r);
        List<Path> segs = segments(dir);
        Path last = segs.get(segs.size() - 1);
        long seq = WalFormat.segmentSeq(last.getFileName().toString());
        states.add(model.load());
        seqs.add(seq);
        ends.add(Files.size(last));
        if (phase1) phase1Seq = seq;
        else if (seq >= phase1Seq + 3 && Files.size(last) > 300) break;
      }
    }
    PersistentState end = states.get(states.size() - 1);
    System.out.println("  built " + segments(dir).stream().map(p -> p.getFileName().toString()).toList()
        + ", snapshot at " + end.snapshot().index() + ", " + end.entries().size() + " entries after it, "
        + (states.size() - 1) + " Readys");
    return new Built(dir, seed, states, seqs, ends);
  }

  @Test
  void tornTailAtEveryOffsetRecoversAPrefix() throws IOException {
    long seed = seed("tornTailAtEveryOffsetRecoversAPrefix");
    Built b = build(tmp.resolve("ref"), seed);
    Path lastRef = b.lastSegment();
    long size = Files.size(lastRef);
    for (long p = 0; p < size; p++) {
      Path work = tmp.resolve("cut" + p);
      FileStorageTest.copyDir(b.dir, work);
      Path seg = work.resolve(lastRef.getFileName());
      truncate(seg, p);
      String ctx = "seed " + seed + ": " + seg.getFileName() + " cut at " + p + " of " + size;
      PersistentState expected = b.stateWithLastSegmentCutAt(p);
      try (FileStorage fs = FileStorage.open(work, SEGMENTS)) {
        assertSame(expected, fs.load(), ctx);
        if (p % 17 == 0) {
          fs.persist(StorageScripts.append(List.of(nextEntry(expected))));
        }
      } catch (CorruptStorageException e) {
        throw new AssertionError(ctx + ": refused a torn tail", e);
      }
      if (p % 17 == 0) { // repaired, then appended to: both survive a restart
        try (FileStorage fs = FileStorage.open(work, SEGMENTS)) {
          PersistentState st = fs.load();
          assertEquals(expected.entries().size() + 1, st.entries().size(), ctx);
          assertSame(expected, new PersistentState(st.hardState(), st.snapshot(),
              st.entries().subList(0, st.entries().size() - 1)), ctx + ", reopened");
        }
      }
      deleteDir(work);
    }
  }

  @Test
  void truncationBeforeTheTailRefusesToStart() throws IOException {
    long seed = seed("truncationBeforeTheTailRefusesToStart");
    SplittableRandom rnd = new SplittableRandom(seed);
    Built b = build(tmp.resolve("ref"), seed);
    List<Path> victims = new ArrayList<>(segments(b.dir));
    victims.remove(victims.size() - 1);
    victims.add(b.dir.resolve(WalFormat.HARD_STATE_FILE));
    if (Files.exists(b.dir.resolve(WalFormat.SNAPSHOT_FILE))) victims.add(b.dir.resolve(WalFormat.SNAPSHOT_FILE));
    for (int i = 0; i < 120; i++) {
      Path victim = victims.get(rnd.nextInt(victims.size()));
      long p = rnd.nextLong(Files.size(victim));
      Path work = tmp.resolve("cut" + i);
      FileStorageTest.copyDir(b.dir, work);
      Path file = work.resolve(victim.getFileName());
      truncate(file, p);
      String ctx = "seed " + seed + ": " + file.getFileName() + " cut at " + p;
      expectRefusal(work, file, -1, ctx);
      deleteDir(work);
    }
  }

  @Test
  void bitFlipsRecoverOnlyInTheLastWrite() throws IOException {
    long seed = seed("bitFlipsRecoverOnlyInTheLastWrite");
    SplittableRandom rnd = new SplittableRandom(seed);
    Built b = build(tmp.resolve("ref"), seed);
    List<Path> files = new ArrayList<>(segments(b.dir));
    Path lastRef = files.get(files.size() - 1);
    files.add(b.dir.resolve(WalFormat.HARD_STATE_FILE));
    if (Files.exists(b.dir.resolve(WalFormat.SNAPSHOT_FILE))) files.add(b.dir.resolve(WalFormat.SNAPSHOT_FILE));
    int recovered = 0, refused = 0;
    for (int i = 0; i < 300; i++) {
      // Half of the flips go to the last segment, where both outcomes are possible.
      Path victim = rnd.nextBoolean() ? lastRef : files.get(rnd.nextInt(files.size()));
      long bit = rnd.nextLong(Files.size(victim) * 8);
      Path work = tmp.resolve("flip" + i);
      FileStorageTest.copyDir(b.dir, work);
      Path file = work.resolve(victim.getFileName());
      FileStorageTest.flipBit(file, bit);
      String ctx = "seed " + seed + ": " + file.getFileName() + " bit " + bit + " (byte " + bit / 8 + ")";
      boolean segment = WalFormat.segmentSeq(file.getFileName().toString()) >= 0;
      long recordStart = -1;
      boolean inLastWrite = false;
      if (segment) {
        List<Integer> starts = WalFormat.recordOffsets(victim);
        for (int s : starts) if (s <= bit / 8) recordStart = s;
        // The last write (from the last sync point on) was never followed by another: it may be torn.
        inLastWrite = victim.equals(lastRef) && recordStart > 0 && recordStart >= lastSyncPoint(victim);
      }
      if (inLastWrite) {
        try (FileStorage fs = FileStorage.open(work, SEGMENTS)) {
          assertSame(b.stateWithLastSegmentCutAt(recordStart), fs.load(), ctx);
        } catch (CorruptStorageException e) {
          throw new AssertionError(ctx + ": refused damage to the last write", e);
        }
        recovered++;
      } else {
        String why = expectRefusal(work, file, recordStart, ctx);
        if (segment) {
          String expectedWhy = victim.equals(lastRef) ? "not a torn tail" : "not the last";
          assertTrue(why.contains(expectedWhy), ctx + ": " + why);
        }
        refused++;
      }
      deleteDir(work);
    }
    System.out.println("bit flips: " + recovered + " torn tails recovered, " + refused + " refused");
  }

  /**
   * Group commit writes several Readys' records at once; a crash may leave that write's later
   * pages on disk but not an earlier one. The records that reached the disk were never fsynced
   * (no sync point follows them), so this is a torn tail, not damage: cut at the tear.
   */
  @Test
  void aTornWriteWhoseLaterRecordsReachedTheDiskIsATornTail() throws IOException {
    Path d = tmp.resolve("d");
    try (FileStorage fs = FileStorage.open(d)) {
      fs.persist(StorageScripts.append(StorageScripts.entries(1, 3, 1)));
    }
    Path seg = segments(d).get(0);
    long off = Files.size(seg);
    // One write of three Readys' records, as the writer makes it after an fsync.
    byte[] sp = WalFormat.syncPoint(salt(seg), off);
    appendBytes(seg, sp, WalFormat.entries(StorageScripts.entries(4, 5, 1)),
        WalFormat.entries(StorageScripts.entries(6, 7, 1)), WalFormat.entries(StorageScripts.entries(8, 8, 1)));
    zero(seg, off + sp.length + 3, 40); // the page holding the first record never reached the disk
    PersistentState expected = new PersistentState(HardState.INITIAL, Snapshot.EMPTY, StorageScripts.entries(1, 3, 1));
    try (FileStorage fs = FileStorage.open(d)) {
      assertSame(expected, fs.load(), "torn write");
      fs.persist(StorageScripts.append(StorageScripts.entries(4, 4, 2)));
    }
    List<LogEntry> after = new ArrayList<>(StorageScripts.entries(1, 3, 1));
    after.addAll(StorageScripts.entries(4, 4, 2));
    try (FileStorage fs = FileStorage.open(d)) {
      assertSame(new PersistentState(HardState.INITIAL, Snapshot.EMPTY, after), fs.load(), "appended after the repair");
    }
  }

  /**
   * A command holding bytes that form valid frames (an ENTRIES record, a sync point of a guessed
   * salt): when the write of its record is torn, those frames must not pass for durable records.
   */
  @Test
  void aCommandCraftedToHoldFramesDoesNotMakeATornWriteUnrecoverable() throws IOException {
    Path d = tmp.resolve("d");
    byte[] inner = WalFormat.entries(List.of(new LogEntry(9, 1, "forged".getBytes())));
    ByteArrayOutputStream crafted = new ByteArrayOutputStream();
    crafted.writeBytes(inner);
    for (long guess = 1; guess <= 64; guess++) crafted.writeBytes(WalFormat.syncPoint(guess, 0));
    crafted.writeBytes(WalFormat.segmentHeader(1, 0, 1));
    long off;
    try (FileStorage fs = FileStorage.open(d)) {
      fs.persist(StorageScripts.append(StorageScripts.entries(1, 3, 1)));
      off = Files.size(segments(d).get(0));
      fs.persist(StorageScripts.append(List.of(new LogEntry(4, 1, crafted.toByteArray()))));
    }
    Path seg = segments(d).get(0);
    int sp = WalFormat.syncPoint(salt(seg), off).length;
    zero(seg, off + sp, WalFormat.FRAME_HEADER); // the record's length and CRC were torn; the command was not
    try (FileStorage fs = FileStorage.open(d)) {
      assertSame(new PersistentState(HardState.INITIAL, Snapshot.EMPTY, StorageScripts.entries(1, 3, 1)), fs.load(),
          "torn write of a crafted command");
    } catch (CorruptStorageException e) {
      throw new AssertionError("a crafted command made a torn write unrecoverable", e);
    }
  }

  /** Damage to a record written before an fsync that a later write proves: refused, at its offset. */
  @Test
  void damageBeforeASyncPointRefusesToStart() throws IOException {
    Path d = tmp.resolve("d");
    long off;
    try (FileStorage fs = FileStorage.open(d)) {
      fs.persist(StorageScripts.append(StorageScripts.entries(1, 3, 1)));
      off = Files.size(segments(d).get(0));
      fs.persist(StorageScripts.append(StorageScripts.entries(4, 6, 1)));
      fs.persist(StorageScripts.append(StorageScripts.entries(7, 9, 1)));
    }
    Path seg = segments(d).get(0);
    long record = off + WalFormat.syncPoint(salt(seg), off).length; // entries 4..6
    FileStorageTest.flipBit(seg, (record + WalFormat.FRAME_HEADER + 3) * 8);
    String why = expectRefusal(d, seg, record, "damage before a sync point");
    assertTrue(why.contains("not a torn tail"), why);
  }

  /** A directory written by the previous format (no salt, no sync points) still opens and is appended to. */
  @Test
  void aVersion1DirectoryOpensAndMovesToANewSegment() throws IOException {
    Path d = tmp.resolve("d");
    Files.createDirectories(d);
    Files.write(d.resolve(WalFormat.HARD_STATE_FILE), asVersion1(WalFormat.hardState(new HardState(2, 1))));
    Path seg = d.resolve(WalFormat.segmentName(1));
    Files.write(seg, v1SegmentHeader(1, 0));
    appendBytes(seg, asVersion1(WalFormat.entries(StorageScripts.entries(1, 3, 2))));
    List<LogEntry> log = new ArrayList<>(StorageScripts.entries(1, 3, 2));
    try (FileStorage fs = FileStorage.open(d)) {
      assertSame(new PersistentState(new HardState(2, 1), Snapshot.EMPTY, log), fs.load(), "version 1");
      fs.persist(StorageScripts.append(StorageScripts.entries(4, 5, 2)));
    }
    log.addAll(StorageScripts.entries(4, 5, 2));
    assertEquals(2, segments(d).size(), "a version-1 segment is not appended to");
    try (FileStorage fs = FileStorage.open(d)) {
      assertSame(new PersistentState(new HardState(2, 1), Snapshot.EMPTY, log), fs.load(), "reopened");
    }
  }

  private static byte[] v1SegmentHeader(long seq, long previousBytes) {
    return WalFormat.frame(new io.raftkv.codec.ByteWriter().u8(WalFormat.VERSION_1).u8(WalFormat.SEGMENT_HEADER)
        .varint(seq).varint(previousBytes).toByteArray());
  }

  /** The same frame with payload version 1 (same layout for every record but the segment header). */
  private static byte[] asVersion1(byte[] frame) {
    byte[] payload = java.util.Arrays.copyOfRange(frame, WalFormat.FRAME_HEADER, frame.length);
    payload[0] = (byte) WalFormat.VERSION_1;
    return WalFormat.frame(payload);
  }

  private static long salt(Path segment) throws IOException {
    byte[] buf = Files.readAllBytes(segment);
    int len = WalFormat.check(buf, 0).end() - WalFormat.FRAME_HEADER;
    return ((WalFormat.SegmentHeader) WalFormat.decode(buf, WalFormat.FRAME_HEADER, len)).salt();
  }

  private static void appendBytes(Path file, byte[]... parts) throws IOException {
    for (byte[] p : parts) Files.write(file, p, java.nio.file.StandardOpenOption.APPEND);
  }

  private static void zero(Path file, long from, int n) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.seek(from);
      f.write(new byte[n]);
    }
  }

  /** The offset of the last sync point in {@code segment} (the start of its last write), or 0. */
  static long lastSyncPoint(Path segment) throws IOException {
    byte[] buf = Files.readAllBytes(segment);
    long last = 0;
    for (int off : WalFormat.recordOffsets(segment)) {
      int len = WalFormat.check(buf, off).end() - off - WalFormat.FRAME_HEADER;
      if (WalFormat.decode(buf, off + WalFormat.FRAME_HEADER, len) instanceof WalFormat.SyncPoint) last = off;
    }
    return last;
  }

  /** Opening must fail with a message naming {@code file} (and {@code offset}, if not -1). */
  private static String expectRefusal(Path dir, Path file, long offset, String ctx) {
    try (FileStorage fs = FileStorage.open(dir, SEGMENTS)) {
      fail(ctx + ": opened damaged storage, loaded " + StorageScripts.describe(fs.load()));
      return null;
    } catch (CorruptStorageException e) {
      String m = e.getMessage();
      assertEquals(file, e.file(), ctx + ": " + m);
      assertTrue(m.contains(file.toString()), ctx + ": " + m);
      if (offset >= 0) {
        assertEquals(offset, e.offset(), ctx + ": " + m);
        assertTrue(m.contains("at offset " + offset + ":"), ctx + ": " + m);
      }
      return m;
    }
  }

  private static LogEntry nextEntry(PersistentState s) {
    long last = s.snapshot().index() + s.entries().size();
    return new LogEntry(last + 1, Math.max(1, s.hardState().term()), new byte[] {42});
  }

  private static long seed(String test) {
    long seed = Long.getLong("seed", System.nanoTime());
    System.out.println("FileStorageRecoveryTest." + test + " seed=" + seed + " (replay with -Dseed=)");
    return seed;
  }

  static List<Path> segments(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> WalFormat.segmentSeq(p.getFileName().toString()) >= 0).sorted().toList();
    }
  }

  private static void truncate(Path file, long length) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.setLength(length);
    }
  }

  private static void deleteDir(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.toList()) Files.delete(p);
    }
    Files.delete(dir);
  }
}
