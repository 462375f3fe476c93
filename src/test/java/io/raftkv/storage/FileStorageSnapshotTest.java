package io.raftkv.storage;

import static io.raftkv.storage.StorageScripts.append;
import static io.raftkv.storage.StorageScripts.assertSame;
import static io.raftkv.storage.StorageScripts.entries;
import static io.raftkv.storage.StorageScripts.ready;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.raft.HardState;
import io.raftkv.raft.LogEntry;
import io.raftkv.raft.PersistentState;
import io.raftkv.raft.Snapshot;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Snapshot files are written off the path that orders log persists: a compaction snapshot that is
 * slow to write delays no append, and a crash while it is written reopens to the older snapshot
 * and the longer log; a snapshot that replaces the log is still durable before its stage completes.
 * A slow disk is a {@link FaultyFiles} holding the snapshot file's fsync.
 */
@Timeout(120)
class FileStorageSnapshotTest {
  static final FileStorage.Options TINY = new FileStorage.Options(100);
  static final String SNAPSHOT_TMP = WalFormat.SNAPSHOT_FILE + WalFormat.TMP_SUFFIX;

  @TempDir Path tmp;

  @Test
  void aSlowCompactionSnapshotDelaysNoLogPersist() throws Exception {
    Path dir = tmp.resolve("d"), crashed = tmp.resolve("crashed");
    byte[] data = "state at 150".getBytes();
    FaultyFiles files = new FaultyFiles();
    List<LogEntry> log = new ArrayList<>(entries(1, 200, 3));
    try (FileStorage fs = FileStorage.open(dir, TINY, files)) {
      fs.persist(ready(new HardState(3, 0), List.of(), null));
      for (long i = 1; i <= 200; i += 4) fs.persist(append(entries(i, i + 3, 3)));
      int before = FileStorageRecoveryTest.segments(dir).size();
      files.hold(SNAPSHOT_TMP::equals);

      CompletableFuture<Void> compaction =
          fs.persistAsync(ready(null, List.of(), new Snapshot(150, 3, data))).toCompletableFuture();
      files.awaitHeld(); // the snapshot file is being written, and does not finish
      compaction.get(10, TimeUnit.SECONDS); // nothing the peer sends depends on it
      for (long i = 201; i <= 220; i += 4) {
        fs.persistAsync(append(entries(i, i + 3, 3))).toCompletableFuture().get(10, TimeUnit.SECONDS);
        log.addAll(entries(i, i + 3, 3));
      }
      assertTrue(FileStorageRecoveryTest.segments(dir).size() >= before, "segments deleted before the snapshot is durable");
      assertEquals(data.length, fs.snapshotSize(), "sizes reflect every call");

      FileStorageTest.copyDir(dir, crashed); // a crash now
      files.release();
      fs.persist(ready(null, List.of(), null)); // waits for the snapshot too
      assertTrue(FileStorageRecoveryTest.segments(dir).size() < before, "covered segments are deleted once it is durable");
    }
    try (FileStorage fs = FileStorage.open(crashed, TINY)) {
      assertSame(new PersistentState(new HardState(3, 0), Snapshot.EMPTY, log), fs.load(), "crash while the snapshot was written");
    }
    try (FileStorage fs = FileStorage.open(dir, TINY)) {
      assertSame(new PersistentState(new HardState(3, 0), new Snapshot(150, 3, data), log.subList(150, log.size())),
          fs.load(), "reopened");
    }
  }

  @Test
  void anInstalledSnapshotIsDurableBeforeItsStageCompletes() throws Exception {
    Path dir = tmp.resolve("d");
    byte[] data = {1, 2, 3};
    FaultyFiles files = new FaultyFiles();
    try (FileStorage fs = FileStorage.open(dir, TINY, files)) {
      fs.persist(ready(new HardState(2, 1), entries(1, 50, 1), null));
      files.hold(SNAPSHOT_TMP::equals);
      // Beyond the log: it replaces the log, as InstallSnapshot on a lagging follower does.
      CompletableFuture<Void> install =
          fs.persistAsync(ready(new HardState(4, -1), List.of(), new Snapshot(80, 4, data))).toCompletableFuture();
      CompletableFuture<Void> next = fs.persistAsync(append(entries(81, 82, 4))).toCompletableFuture();
      files.awaitHeld();
      assertFalse(install.isDone(), "an installed snapshot's stage completed before the snapshot was durable");
      assertFalse(next.isDone(), "a later append completed before the snapshot it follows");
      files.release();
      install.get(10, TimeUnit.SECONDS);
      next.get(10, TimeUnit.SECONDS);
    }
    try (FileStorage fs = FileStorage.open(dir, TINY)) {
      assertSame(new PersistentState(new HardState(4, -1), new Snapshot(80, 4, data), entries(81, 82, 4)), fs.load(), "reopened");
    }
  }

  /** A compaction still being written must not land after a newer snapshot that replaced the log. */
  @Test
  void anInstalledSnapshotWaitsForACompactionBeingWritten() throws Exception {
    Path dir = tmp.resolve("d");
    byte[] older = {1}, newer = {2, 2};
    FaultyFiles files = new FaultyFiles();
    try (FileStorage fs = FileStorage.open(dir, TINY, files)) {
      fs.persist(ready(new HardState(1, -1), entries(1, 50, 1), null));
      files.hold(SNAPSHOT_TMP::equals);
      CompletableFuture<Void> compaction =
          fs.persistAsync(ready(null, List.of(), new Snapshot(30, 1, older))).toCompletableFuture();
      files.awaitHeld();
      compaction.get(10, TimeUnit.SECONDS);
      CompletableFuture<Void> install =
          fs.persistAsync(ready(new HardState(2, -1), List.of(), new Snapshot(100, 2, newer))).toCompletableFuture();
      CompletableFuture<Void> next = fs.persistAsync(append(entries(101, 101, 2))).toCompletableFuture();
      assertFalse(install.isDone());
      files.release();
      install.get(10, TimeUnit.SECONDS);
      next.get(10, TimeUnit.SECONDS);
      fs.persist(ready(null, List.of(), null));
    }
    try (FileStorage fs = FileStorage.open(dir, TINY)) {
      assertSame(new PersistentState(new HardState(2, -1), new Snapshot(100, 2, newer), entries(101, 101, 2)), fs.load(),
          "reopened");
    }
  }

  /** Compactions handed over while one is written are coalesced: the latest wins, and all of them complete. */
  @Test
  void compactionsQueuedBehindASlowOneCoalesce() throws Exception {
    Path dir = tmp.resolve("d");
    FaultyFiles files = new FaultyFiles();
    try (FileStorage fs = FileStorage.open(dir, TINY, files)) {
      fs.persist(ready(new HardState(1, -1), entries(1, 100, 1), null));
      files.hold(SNAPSHOT_TMP::equals);
      fs.persistAsync(ready(null, List.of(), new Snapshot(10, 1, new byte[] {10}))).toCompletableFuture().get(10, TimeUnit.SECONDS);
      files.awaitHeld();
      for (int i = 20; i <= 90; i += 10) {
        fs.persistAsync(ready(null, entries(99 + i / 10, 99 + i / 10, 1), new Snapshot(i, 1, new byte[] {(byte) i})))
            .toCompletableFuture().get(10, TimeUnit.SECONDS);
      }
      files.release();
      fs.persist(ready(null, List.of(), null));
    }
    try (FileStorage fs = FileStorage.open(dir, TINY)) {
      assertSame(new PersistentState(new HardState(1, -1), new Snapshot(90, 1, new byte[] {90}), entries(91, 108, 1)),
          fs.load(), "reopened");
    }
  }

}
