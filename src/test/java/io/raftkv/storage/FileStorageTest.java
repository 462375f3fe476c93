package io.raftkv.storage;

import static io.raftkv.storage.StorageScripts.append;
import static io.raftkv.storage.StorageScripts.assertSame;
import static io.raftkv.storage.StorageScripts.entries;
import static io.raftkv.storage.StorageScripts.ready;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.raftkv.raft.HardState;
import io.raftkv.raft.LogEntry;
import io.raftkv.raft.PersistentState;
import io.raftkv.raft.Ready;
import io.raftkv.raft.Snapshot;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

@Timeout(120)
class FileStorageTest {
  static final FileStorage.Options SMALL = new FileStorage.Options(256);
  static final FileStorage.Options TINY = new FileStorage.Options(100);

  @TempDir Path dir;

  @Test
  void newDirectoryLoadsEmpty() {
    try (FileStorage fs = FileStorage.open(dir)) {
      assertSame(PersistentState.EMPTY, fs.load(), "new");
      assertEquals(0, fs.raftStateSize());
      assertEquals(0, fs.snapshotSize());
    }
    try (FileStorage fs = FileStorage.open(dir)) {
      assertSame(PersistentState.EMPTY, fs.load(), "reopened");
    }
  }

  @Test
  void roundTripsHardStateAndEntries() {
    try (FileStorage fs = FileStorage.open(dir)) {
      fs.persist(ready(new HardState(1, 2), entries(1, 3, 1), null));
      fs.persist(append(entries(4, 4, 1)));
      fs.persist(ready(new HardState(2, -1), List.of(), null));
    }
    try (FileStorage fs = FileStorage.open(dir)) {
      assertSame(new PersistentState(new HardState(2, -1), Snapshot.EMPTY, entries(1, 4, 1)), fs.load(), "reopened");
    }
  }

  @Test
  void configurationEntriesKeepTheirTypeAndALogOfCommandsKeepsItsFormat() {
    byte[] config = io.raftkv.raft.RaftCodec.encodeConfiguration(io.raftkv.raft.Configuration.ofVoters(5));
    List<LogEntry> log = new ArrayList<>(entries(1, 2, 1));
    log.add(new LogEntry(3, 1, config, LogEntry.Type.CONFIGURATION));
    log.addAll(entries(4, 4, 1));
    try (FileStorage fs = FileStorage.open(dir)) {
      fs.persist(ready(new HardState(1, 0), log.subList(0, 2), null));
      fs.persist(append(log.subList(2, 4)));
    }
    try (FileStorage fs = FileStorage.open(dir)) {
      assertSame(new PersistentState(new HardState(1, 0), Snapshot.EMPTY, log), fs.load(), "reopened");
    }
    // commands alone are written as ENTRIES records, byte for byte what older versions wrote
    assertEquals(WalFormat.ENTRIES, WalFormat.entries(entries(1, 2, 1))[WalFormat.FRAME_HEADER + 1]);
    assertEquals(WalFormat.TYPED_ENTRIES, WalFormat.entries(log)[WalFormat.FRAME_HEADER + 1]);
  }

  @Test
  void conflictingSuffixIsReplaced() {
    try (FileStorage fs = FileStorage.open(dir, SMALL)) {
      fs.persist(ready(new HardState(1, 1), entries(1, 40, 1), null)); // one record, spans past a segment
      fs.persist(append(entries(41, 60, 1)));
      fs.persist(append(entries(61, 80, 1))); // now in a later segment
      fs.persist(ready(new HardState(2, 1), entries(30, 35, 2), null)); // overwrites 30..80
    }
    List<LogEntry> expected = new ArrayList<>(entries(1, 29, 1));
    expected.addAll(entries(30, 35, 2));
    try (FileStorage fs = FileStorage.open(dir, SMALL)) {
      assertSame(new PersistentState(new HardState(2, 1), Snapshot.EMPTY, expected), fs.load(), "reopened");
      fs.persist(append(entries(36, 37, 2)));
      fs.persist(append(entries(37, 38, 3))); // overwrite the very last entry
    }
    expected.add(entries(36, 36, 2).get(0));
    expected.addAll(entries(37, 38, 3));
    try (FileStorage fs = FileStorage.open(dir, SMALL)) {
      assertSame(new PersistentState(new HardState(2, 1), Snapshot.EMPTY, expected), fs.load(), "reopened twice");
    }
  }

  @Test
  void snapshotCompactsTheLogAndDeletesCoveredSegments() throws IOException {
    byte[] data = "state at 150".getBytes();
    try (FileStorage fs = FileStorage.open(dir, TINY)) {
      fs.persist(ready(new HardState(3, 0), List.of(), null));
      for (long i = 1; i <= 200; i += 4) fs.persist(append(entries(i, i + 3, 3)));
      int before = segmentFiles().size();
      assertTrue(before > 10, "expected many segments, got " + before);
      long sizeBefore = fs.raftStateSize();
      fs.persist(ready(null, List.of(), new Snapshot(150, 3, data)));
      assertTrue(fs.raftStateSize() < sizeBefore);
      assertEquals(data.length, fs.snapshotSize());
      List<Path> left = segmentFiles();
      assertTrue(left.size() < before / 2, "segments before " + before + ", after " + left.size());
      // What is left: segments still holding an entry above 150, then the one holding the mark.
      for (Path p : left.subList(0, left.size() - 1)) {
        assertTrue(maxEntryIndex(p) > 150, p + " holds only entries the snapshot covers");
      }
      fs.persist(append(entries(201, 205, 3)));
    }
    List<LogEntry> tail = new ArrayList<>(entries(151, 200, 3));
    tail.addAll(entries(201, 205, 3));
    PersistentState expected = new PersistentState(new HardState(3, 0), new Snapshot(150, 3, data), tail);
    try (FileStorage fs = FileStorage.open(dir, TINY)) {
      assertSame(expected, fs.load(), "restarted from snapshot + log tail");
      MemoryStorage m = StorageScripts.memoryFrom(expected);
      assertEquals(m.raftStateSize(), fs.raftStateSize());
      assertEquals(m.snapshotSize(), fs.snapshotSize());
    }
  }

  @Test
  void snapshotThatDoesNotMatchTheLogDiscardsIt() {
    byte[] data = {1, 2, 3};
    try (FileStorage fs = FileStorage.open(dir, SMALL)) {
      fs.persist(ready(new HardState(2, 1), entries(1, 50, 1), null));
      fs.persist(ready(new HardState(4, -1), List.of(), new Snapshot(30, 4, data))); // entry 30 has term 1
      fs.persist(append(entries(31, 33, 4)));
    }
    try (FileStorage fs = FileStorage.open(dir, SMALL)) {
      assertSame(new PersistentState(new HardState(4, -1), new Snapshot(30, 4, data), entries(31, 33, 4)),
          fs.load(), "reopened");
      fs.persist(ready(null, List.of(), new Snapshot(40, 5, data))); // beyond the log
    }
    try (FileStorage fs = FileStorage.open(dir, SMALL)) {
      assertSame(new PersistentState(new HardState(4, -1), new Snapshot(40, 5, data), List.of()), fs.load(), "again");
    }
  }

  /** A snapshot file that became durable while its mark in the log did not is still applied. */
  @Test
  void snapshotFileWithoutItsMarkIsApplied() throws IOException {
    Path before = dir.resolve("before"), after = dir.resolve("after");
    byte[] data = {9};
    try (FileStorage fs = FileStorage.open(before, SMALL)) {
      fs.persist(ready(new HardState(1, -1), entries(1, 40, 1), null));
    }
    copyDir(before, after);
    try (FileStorage fs = FileStorage.open(after, SMALL)) {
      fs.persist(ready(null, List.of(), new Snapshot(20, 1, data)));
    }
    Files.copy(after.resolve("snapshot"), before.resolve("snapshot"));
    PersistentState expected = new PersistentState(new HardState(1, -1), new Snapshot(20, 1, data), entries(21, 40, 1));
    try (FileStorage fs = FileStorage.open(before, SMALL)) {
      assertSame(expected, fs.load(), "snapshot file without mark");
      fs.persist(append(entries(41, 41, 1)));
    }
    List<LogEntry> tail = new ArrayList<>(entries(21, 41, 1));
    try (FileStorage fs = FileStorage.open(before, SMALL)) {
      assertSame(new PersistentState(new HardState(1, -1), new Snapshot(20, 1, data), tail), fs.load(), "again");
    }
  }

  /** Seeded random scripts: after every step sizes agree with MemoryStorage; after reopening, so does load. */
  @Test
  void agreesWithMemoryStorage() {
    long seed = Long.getLong("seed", System.nanoTime());
    System.out.println("FileStorageTest.agreesWithMemoryStorage seed=" + seed + " (replay with -Dseed=)");
    SplittableRandom seeds = new SplittableRandom(seed);
    for (int run = 0; run < 4; run++) agreesWithMemoryStorage(seeds.nextLong(), dir.resolve("run" + run));
  }

  private static void agreesWithMemoryStorage(long seed, Path dir) {
    SplittableRandom rnd = new SplittableRandom(seed);
    MemoryStorage model = new MemoryStorage();
    FileStorage fs = FileStorage.open(dir, SMALL);
    try {
      for (int step = 0; step < 400; step++) {
        Ready r = StorageScripts.next(rnd, model, StorageScripts.Mix.COMBINED);
        model.persist(r);
        if (rnd.nextInt(4) == 0) fs.persist(r);
        else fs.persistAsync(r);
        String ctx = "script seed " + seed + " step " + step;
        assertEquals(model.raftStateSize(), fs.raftStateSize(), ctx);
        assertEquals(model.snapshotSize(), fs.snapshotSize(), ctx);
        if (rnd.nextInt(50) == 0) {
          fs.close();
          fs = FileStorage.open(dir, SMALL);
          assertSame(model.load(), fs.load(), ctx + " after reopening");
          assertEquals(model.raftStateSize(), fs.raftStateSize(), ctx);
        } else if (rnd.nextInt(50) == 0) {
          assertSame(model.load(), fs.load(), ctx + " load while open");
        }
      }
    } finally {
      fs.close();
    }
    try (FileStorage again = FileStorage.open(dir, SMALL)) {
      assertSame(model.load(), again.load(), "seed " + seed + " at the end");
    }
  }

  @Test
  void concurrentAppendsShareFsyncsAndCompleteInOrder() throws Exception {
    int n = 2000;
    try (FileStorage fs = FileStorage.open(dir)) {
      fs.persist(ready(new HardState(1, 1), List.of(), null));
      List<CompletableFuture<Void>> done = new ArrayList<>();
      List<Integer> order = java.util.Collections.synchronizedList(new ArrayList<>());
      for (int i = 1; i <= n; i++) {
        int k = i;
        done.add(fs.persistAsync(append(entries(i, i, 1))).toCompletableFuture().thenRun(() -> order.add(k)));
      }
      CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
      for (int i = 0; i < n; i++) assertEquals(i + 1, order.get(i));
      FileStorage.Stats st = fs.stats();
      System.out.println("group commit: " + st);
      assertTrue(st.logSyncs() < n / 2, "expected shared fsyncs: " + st);
    }
    try (FileStorage fs = FileStorage.open(dir)) {
      assertSame(new PersistentState(new HardState(1, 1), Snapshot.EMPTY, entries(1, n, 1)), fs.load(), "reopened");
    }
  }

  @Test
  void entriesThatDoNotFitAreRejectedAndChangeNothing() {
    try (FileStorage fs = FileStorage.open(dir)) {
      fs.persist(append(entries(1, 5, 1)));
      long size = fs.raftStateSize();
      assertThrows(IllegalStateException.class, () -> fs.persist(append(entries(7, 8, 1)))); // gap
      CompletionException e = assertThrows(CompletionException.class,
          () -> fs.persistAsync(append(entries(7, 8, 1))).toCompletableFuture().join());
      assertInstanceOf(IllegalStateException.class, e.getCause());
      List<LogEntry> notConsecutive = List.of(entries(6, 6, 1).get(0), entries(8, 8, 1).get(0));
      assertThrows(IllegalStateException.class, () -> fs.persist(append(notConsecutive)));
      assertEquals(size, fs.raftStateSize());
      fs.persist(ready(null, List.of(), new Snapshot(3, 1, new byte[0])));
      assertThrows(IllegalStateException.class, () -> fs.persist(append(entries(3, 4, 2)))); // under the snapshot
      fs.persist(append(entries(6, 6, 1)));
    }
    try (FileStorage fs = FileStorage.open(dir)) {
      assertSame(new PersistentState(HardState.INITIAL, new Snapshot(3, 1, new byte[0]), entries(4, 6, 1)),
          fs.load(), "reopened");
    }
  }

  @Test
  void aDirectoryIsOpenedOnceAtATime() {
    try (FileStorage fs = FileStorage.open(dir)) {
      assertThrows(IllegalStateException.class, () -> FileStorage.open(dir));
    }
    FileStorage.open(dir).close();
  }

  @Test
  void closedStorageRefusesWork() {
    FileStorage fs = FileStorage.open(dir);
    fs.close();
    fs.close();
    assertThrows(IllegalStateException.class, () -> fs.persist(append(entries(1, 1, 1))));
    assertThrows(IllegalStateException.class, fs::load);
  }

  @Test
  void missingHardStateRefusesToStart() throws IOException {
    try (FileStorage fs = FileStorage.open(dir)) {
      fs.persist(ready(new HardState(1, 1), entries(1, 3, 1), null));
    }
    Files.delete(dir.resolve("hardstate"));
    CorruptStorageException e = assertThrows(CorruptStorageException.class, () -> FileStorage.open(dir));
    assertTrue(e.getMessage().contains("hardstate") && e.getMessage().contains("missing"), e.getMessage());
    assertEquals(dir.resolve("hardstate"), e.file());
  }

  @Test
  void corruptHardStateRefusesToStart() throws IOException {
    try (FileStorage fs = FileStorage.open(dir)) {
      fs.persist(ready(new HardState(7, 1), List.of(), null));
    }
    flipBit(dir.resolve("hardstate"), 9 * 8 + 1);
    CorruptStorageException e = assertThrows(CorruptStorageException.class, () -> FileStorage.open(dir));
    assertTrue(e.getMessage().contains("hardstate") && e.getMessage().contains("CRC32C"), e.getMessage());
  }

  @Test
  void missingOrCorruptSnapshotRefusesToStart() throws IOException {
    try (FileStorage fs = FileStorage.open(dir, SMALL)) {
      fs.persist(ready(new HardState(1, 1), entries(1, 100, 1), null));
      fs.persist(ready(null, List.of(), new Snapshot(90, 1, new byte[100])));
    }
    Path saved = dir.resolve("../saved-snapshot");
    Files.copy(dir.resolve("snapshot"), saved, StandardCopyOption.REPLACE_EXISTING);
    flipBit(dir.resolve("snapshot"), 8 * 50);
    CorruptStorageException e = assertThrows(CorruptStorageException.class, () -> FileStorage.open(dir, SMALL));
    assertTrue(e.getMessage().contains("snapshot") && e.getMessage().contains("CRC32C"), e.getMessage());
    Files.delete(dir.resolve("snapshot"));
    e = assertThrows(CorruptStorageException.class, () -> FileStorage.open(dir, SMALL));
    assertTrue(e.getMessage().contains("snapshot file is missing"), e.getMessage());
    Files.move(saved, dir.resolve("snapshot"));
    try (FileStorage fs = FileStorage.open(dir, SMALL)) {
      assertEquals(10, fs.load().entries().size());
    }
  }

  @Test
  void missingSegmentRefusesToStart() throws IOException {
    try (FileStorage fs = FileStorage.open(dir, SMALL)) {
      for (long i = 1; i <= 100; i += 5) fs.persist(append(entries(i, i + 4, 1)));
    }
    List<Path> segs = segmentFiles();
    Files.delete(segs.get(segs.size() / 2));
    CorruptStorageException e = assertThrows(CorruptStorageException.class, () -> FileStorage.open(dir, SMALL));
    assertTrue(e.getMessage().contains("segment is missing"), e.getMessage());
    Files.delete(segs.get(0)); // the head too: now the log starts in the middle without a snapshot
    for (Path p : segs.subList(1, segs.size() / 2)) Files.delete(p);
    e = assertThrows(CorruptStorageException.class, () -> FileStorage.open(dir, SMALL));
    assertTrue(e.getMessage().contains("earlier log segments are missing"), e.getMessage());
  }

  @Test
  void tornTailIsTruncatedWithAWarning() throws IOException {
    try (FileStorage fs = FileStorage.open(dir)) {
      fs.persist(append(entries(1, 3, 1)));
      fs.persist(append(entries(4, 6, 1)));
    }
    Path seg = segmentFiles().get(0);
    long size = Files.size(seg);
    try (RandomAccessFile f = new RandomAccessFile(seg.toFile(), "rw")) {
      f.setLength(size - 3);
    }
    Logger logger = (Logger) LoggerFactory.getLogger(FileStorage.class);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    try (FileStorage fs = FileStorage.open(dir)) {
      assertSame(new PersistentState(HardState.INITIAL, Snapshot.EMPTY, entries(1, 3, 1)), fs.load(), "torn");
      fs.persist(append(entries(4, 4, 2)));
    } finally {
      logger.detachAppender(appender);
    }
    assertEquals(1, appender.list.size());
    ILoggingEvent ev = appender.list.get(0);
    assertEquals(Level.WARN, ev.getLevel());
    assertTrue(ev.getFormattedMessage().contains(seg.getFileName().toString())
        && ev.getFormattedMessage().contains("torn tail"), ev.getFormattedMessage());
    try (FileStorage fs = FileStorage.open(dir)) {
      List<LogEntry> expected = new ArrayList<>(entries(1, 3, 1));
      expected.addAll(entries(4, 4, 2));
      assertSame(new PersistentState(HardState.INITIAL, Snapshot.EMPTY, expected), fs.load(), "appended after repair");
    }
  }

  @Test
  void leftoverTempFilesAreIgnored() throws IOException {
    try (FileStorage fs = FileStorage.open(dir)) {
      fs.persist(ready(new HardState(2, 0), entries(1, 1, 1), null));
    }
    Files.write(dir.resolve("hardstate.tmp"), new byte[] {1, 2, 3});
    Files.write(dir.resolve("snapshot.tmp"), new byte[] {4});
    try (FileStorage fs = FileStorage.open(dir)) {
      assertSame(new PersistentState(new HardState(2, 0), Snapshot.EMPTY, entries(1, 1, 1)), fs.load(), "tmp");
    }
    assertFalse(Files.exists(dir.resolve("hardstate.tmp")));
  }

  private List<Path> segmentFiles() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> WalFormat.segmentSeq(p.getFileName().toString()) >= 0).sorted().toList();
    }
  }

  static long maxEntryIndex(Path segment) throws IOException {
    byte[] buf = Files.readAllBytes(segment);
    long max = 0;
    for (int off : WalFormat.recordOffsets(segment)) {
      int len = WalFormat.check(buf, off).end() - off - WalFormat.FRAME_HEADER;
      if (WalFormat.decode(buf, off + WalFormat.FRAME_HEADER, len) instanceof WalFormat.Entries es) {
        max = Math.max(max, es.entries().get(es.entries().size() - 1).index());
      }
    }
    return max;
  }

  static void flipBit(Path file, long bit) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.seek(bit / 8);
      int b = f.read();
      f.seek(bit / 8);
      f.write(b ^ (1 << (bit % 8)));
    }
  }

  static void copyDir(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (Stream<Path> s = Files.list(from)) {
      for (Path p : s.toList()) {
        if (p.getFileName().toString().equals("LOCK")) continue;
        Files.copy(p, to.resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }
}
