package io.raftkv.storage;

import static io.raftkv.storage.StorageScripts.append;
import static io.raftkv.storage.StorageScripts.assertSame;
import static io.raftkv.storage.StorageScripts.entries;
import static io.raftkv.storage.StorageScripts.ready;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import io.raftkv.raft.HardState;
import io.raftkv.raft.LogEntry;
import io.raftkv.raft.PersistentState;
import io.raftkv.raft.Snapshot;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A write or fsync that fails (here: a full disk, injected by {@link FaultyFiles}) fails the stage
 * of the persist it belonged to, and every later call at once, so that the peer stops; nothing
 * hangs, nothing is swallowed, and what was durable before is still there after a restart.
 */
@Timeout(60)
class FileStorageFaultTest {
  static final FileStorage.Options TINY = new FileStorage.Options(100);
  static Logger storageLog;
  static Level savedLevel;

  @TempDir Path dir;

  @BeforeAll
  static void quiet() {
    storageLog = (Logger) LoggerFactory.getLogger(FileStorage.class);
    savedLevel = storageLog.getLevel();
    storageLog.setLevel(Level.OFF); // each test logs the injected failure's stack trace once
  }

  @AfterAll
  static void loud() {
    storageLog.setLevel(savedLevel);
  }

  @Test
  void aFailedLogFsyncFailsTheStageAndEveryLaterCall() throws Exception {
    FaultyFiles files = new FaultyFiles();
    try (FileStorage fs = FileStorage.open(dir, TINY, files)) {
      fs.persist(append(entries(1, 1, 1)));
      files.fail(name -> WalFormat.segmentSeq(name) >= 0);
      expectDiskFull(fs.persistAsync(append(entries(2, 2, 1))).toCompletableFuture());
      assertFailsAtOnce(fs.persistAsync(append(entries(2, 2, 1))).toCompletableFuture());
      assertThrows(IllegalStateException.class, () -> fs.persist(append(entries(2, 2, 1))));
      assertThrows(IllegalStateException.class, fs::load);
    }
    reopenAndExpect(new PersistentState(HardState.INITIAL, Snapshot.EMPTY, entries(1, 1, 1)));
  }

  @Test
  void aFailedHardStateWriteFailsTheStage() throws Exception {
    FaultyFiles files = new FaultyFiles();
    try (FileStorage fs = FileStorage.open(dir, TINY, files)) {
      fs.persist(ready(new HardState(2, 1), entries(1, 1, 2), null));
      files.fail((WalFormat.HARD_STATE_FILE + WalFormat.TMP_SUFFIX)::equals);
      expectDiskFull(fs.persistAsync(ready(new HardState(3, 0), List.of(), null)).toCompletableFuture());
      assertFailsAtOnce(fs.persistAsync(append(entries(2, 2, 2))).toCompletableFuture());
    }
    reopenAndExpect(new PersistentState(new HardState(2, 1), Snapshot.EMPTY, entries(1, 1, 2)));
  }

  @Test
  void aDiskFullAtASegmentRollFailsTheStage() throws Exception {
    FaultyFiles files = new FaultyFiles();
    List<LogEntry> durable = new ArrayList<>();
    try (FileStorage fs = FileStorage.open(dir, TINY, files)) {
      files.fail(name -> WalFormat.segmentSeq(name) >= 3);
      CompletableFuture<Void> failed = null;
      for (long i = 1; i <= 100 && failed == null; i++) {
        CompletableFuture<Void> f = fs.persistAsync(append(entries(i, i, 1))).toCompletableFuture();
        try {
          f.get(10, TimeUnit.SECONDS);
          durable.addAll(entries(i, i, 1));
        } catch (ExecutionException e) {
          failed = f;
        }
      }
      assertTrue(failed != null, "the third segment was never needed");
      expectDiskFull(failed);
      assertFailsAtOnce(fs.persistAsync(append(entries(durable.size() + 1, durable.size() + 1, 1))).toCompletableFuture());
    }
    reopenAndExpect(new PersistentState(HardState.INITIAL, Snapshot.EMPTY, durable));
  }

  /** The stage of a compaction does not wait for its file; a failure to write it fails what comes after. */
  @Test
  void aFailedBackgroundSnapshotFailsLaterCalls() throws Exception {
    FaultyFiles files = new FaultyFiles();
    try (FileStorage fs = FileStorage.open(dir, TINY, files)) {
      fs.persist(ready(new HardState(1, 0), entries(1, 40, 1), null));
      files.fail((WalFormat.SNAPSHOT_FILE + WalFormat.TMP_SUFFIX)::equals);
      fs.persistAsync(ready(null, List.of(), new Snapshot(30, 1, new byte[] {7}))).toCompletableFuture().get(10, TimeUnit.SECONDS);
      RuntimeException e = assertThrows(RuntimeException.class, () -> fs.persist(ready(null, List.of(), null)));
      assertTrue(String.valueOf(e.getMessage()).contains("No space left") || causedByDiskFull(e), e.toString());
      assertFailsAtOnce(fs.persistAsync(append(entries(41, 41, 1))).toCompletableFuture());
    }
    reopenAndExpect(new PersistentState(new HardState(1, 0), Snapshot.EMPTY, entries(1, 40, 1)));
  }

  private void reopenAndExpect(PersistentState expected) {
    try (FileStorage fs = FileStorage.open(dir, TINY)) {
      assertSame(expected, fs.load(), "reopened after the failure");
    }
  }

  private static void expectDiskFull(CompletableFuture<Void> stage) throws Exception {
    ExecutionException e = assertThrows(ExecutionException.class, () -> stage.get(10, TimeUnit.SECONDS));
    assertTrue(causedByDiskFull(e), "failed with " + e.getCause());
  }

  private static void assertFailsAtOnce(CompletableFuture<Void> stage) {
    assertTrue(stage.isCompletedExceptionally(), "a call after the failure was accepted");
  }

  private static boolean causedByDiskFull(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (String.valueOf(c.getMessage()).contains("No space left on device")) return true;
    }
    return false;
  }
}
