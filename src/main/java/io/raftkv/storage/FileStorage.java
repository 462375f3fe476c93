package io.raftkv.storage;

import io.raftkv.raft.HardState;
import io.raftkv.raft.LogEntry;
import io.raftkv.raft.PersistentState;
import io.raftkv.raft.RaftCodec;
import io.raftkv.raft.RaftStorage;
import io.raftkv.raft.Ready;
import io.raftkv.raft.Snapshot;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Durable {@link RaftStorage}: the default outside tests. One directory per peer holds
 *
 * <ul>
 *   <li>{@code wal-<seq>.log}: an append-only, segmented log ({@link SegmentLog}). Each persisted
 *       batch of entries is one record; a batch whose first index is at or below the last stored
 *       one replaces the conflicting suffix when the log is replayed, so a truncation is itself an
 *       append. A snapshot leaves a mark record, once its file is durable, saying whether the log
 *       kept its suffix after the snapshot point or was discarded. A segment is rolled at {@link
 *       Options#segmentBytes}.
 *   <li>{@code hardstate} (term, vote) and {@code snapshot} (index, term, data): each replaced
 *       whole by writing a temp file, fsyncing it, renaming it over the old one and fsyncing the
 *       directory ({@link AtomicFiles}).
 * </ul>
 *
 * Every record is framed with its length, a CRC32C and a format version byte ({@link WalFormat}).
 *
 * <p>Durability: {@link #persistAsync} hands the Ready to a dedicated writer thread ({@link
 * WalWriter}) and returns; the writer takes every request queued meanwhile as one batch, writes
 * it, fsyncs once (group commit) and only then completes the batch's stages, in call order. A snapshot that keeps the
 * log's matching suffix (the service compacting its log) is written off that path, by a {@link
 * SnapshotWriter}, after the log it covers is durable: its Ready's stage does not wait for it, and
 * until it is durable the log keeps every entry it covers. A snapshot that discards the log (an
 * InstallSnapshot the log does not match) is written in order, before its Ready's stage completes.
 * A crash leaves the state of some prefix of the calls (a Ready's hard state and snapshot may be
 * durable without its entries), except that a compaction may be missing (an older snapshot and a
 * longer log, holding the same entries), and never loses a call whose stage completed. Segments
 * all of whose live entries a durable snapshot covers are deleted.
 *
 * <p>Recovery ({@link #open}, {@link Recovery}, {@link WalScan}): a bad record in the last segment
 * that the format shows was never fsynced is a torn write; the segment is truncated there with a WARN, whatever
 * follows it (a torn write may reach the disk in any order, and a command may contain anything).
 * Any other damage, a missing segment, or a damaged hard state or snapshot file throws {@link
 * CorruptStorageException} naming the file and offset: starting anyway could forget acknowledged
 * entries or votes.
 *
 * <p>Threading: calls to {@code persist}, {@code persistAsync} and {@code load} come from one
 * thread at a time (the contract of {@link RaftStorage}); size queries from any thread. Stages
 * complete on the writer thread. An I/O error (a failed write or fsync, a full disk), on the log or
 * on a snapshot written in the background, fails the pending stages and every later call: after a
 * failed fsync the page cache cannot be trusted, so the peer must stop and recover from disk.
 *
 * <p>This class holds the API, the in-memory view (validation and sizes) and the lifecycle; the
 * writer pipeline, recovery and the directory lock ({@link DirectoryLock}) have classes of their own.
 */
public final class FileStorage implements RaftStorage, AutoCloseable {
  /** @param segmentBytes a segment is rolled once it holds at least this many bytes */
  public record Options(long segmentBytes) {
    public Options {
      if (segmentBytes < 64) throw new IllegalArgumentException("segmentBytes must be at least 64: " + segmentBytes);
    }

    /** 64 MiB segments. */
    public static Options defaults() {
      return new Options(64L << 20);
    }
  }

  /**
   * Counters since {@link #open}: persist calls, batches the writer carried out, and fsyncs of log
   * segments ({@code requests / logSyncs} is the group-commit factor).
   */
  public record Stats(long requests, long batches, long logSyncs) {}

  private final Path dir;
  private final DirectoryLock lock;
  private final WalWriter writer;

  // ---- logical state: the sum of every persist call so far, durable or not; guarded by this
  private HardState hardState; // persistent
  private final EntryMeta entries = new EntryMeta(); // persistent: snapshot point and the entries after it
  private long snapshotBytes;
  private PersistentState recovered; // what open() found; dropped at the first persist
  private CompletableFuture<Void> snapshotsSettled = CompletableFuture.completedFuture(null); // the latest background snapshot's
  private boolean closed;
  private final AtomicLong requestCount = new AtomicLong();

  /**
   * Opens (creating it if needed) the storage in {@code dir} and recovers it: after this returns,
   * {@link #load} gives what was persisted. Throws {@link CorruptStorageException} if the directory
   * cannot be trusted, {@link UncheckedIOException} on I/O errors, {@link IllegalStateException} if
   * another storage (in this or another process) has it open.
   */
  public static FileStorage open(Path dir) {
    return open(dir, Options.defaults());
  }

  public static FileStorage open(Path dir, Options options) {
    return open(dir, options, ChannelOpener.DEFAULT);
  }

  /** With the files opened by {@code opener} (tests inject failing channels). */
  static FileStorage open(Path dir, Options options, ChannelOpener opener) {
    try {
      return new FileStorage(dir, options, opener);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open storage in " + dir, e);
    }
  }

  private FileStorage(Path dir, Options options, ChannelOpener opener) throws IOException {
    this.dir = dir;
    Files.createDirectories(dir);
    lock = DirectoryLock.acquire(dir);
    SegmentLog segments;
    try {
      WalScan scan = Recovery.scan(dir, opener);
      hardState = scan.hardState;
      entries.resetTo(scan.snapshot.index(), scan.snapshot.term());
      for (LogEntry e : scan.replay.log) entries.append(e);
      snapshotBytes = scan.snapshot.data().length;
      recovered = scan.state();
      segments = Recovery.openSegments(dir, options.segmentBytes(), opener, scan);
    } catch (IOException | RuntimeException e) {
      lock.release();
      throw e;
    }
    writer = new WalWriter(dir, opener, segments);
  }

  // ---------------------------------------------------------------- RaftStorage

  @Override
  public PersistentState load() {
    synchronized (this) {
      if (closed) throw new IllegalStateException("storage " + dir + " is closed");
      if (recovered != null) return recovered;
    }
    persist(new Ready(null, List.of(), null, List.of(), List.of())); // waits for the writer
    try {
      WalScan s = WalScan.read(dir);
      if (s.torn != null) throw new CorruptStorageException(s.torn.path(), s.torn.offset(), s.torn.problem());
      return s.state();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Persists {@code ready} and waits until all of it is durable, a snapshot written in the
   * background included; rethrows what {@link #persistAsync} fails with.
   */
  @Override
  public void persist(Ready ready) {
    CompletionStage<Void> stage = persistAsync(ready);
    CompletableFuture<Void> settled;
    synchronized (this) {
      settled = snapshotsSettled;
    }
    join(stage.toCompletableFuture());
    join(settled);
  }

  private static void join(CompletableFuture<Void> f) {
    try {
      f.join();
    } catch (CompletionException e) {
      Throwable c = e.getCause();
      if (c instanceof RuntimeException r) throw r;
      if (c instanceof Error err) throw err;
      if (c instanceof IOException io) throw new UncheckedIOException(io);
      throw e;
    }
  }

  /**
   * Validates {@code ready} against the log, applies it to the in-memory view (sizes) and queues it
   * for the writer. The stage fails with {@link IllegalStateException} if the entries do not fit
   * the log (nothing is changed then), with {@link UncheckedIOException} if writing failed. It
   * completes once the hard state, the entries and a snapshot that discards the log are durable; a
   * snapshot that keeps the log's matching suffix becomes durable later (see the class comment).
   */
  @Override
  public CompletionStage<Void> persistAsync(Ready ready) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    synchronized (this) {
      if (closed) return CompletableFuture.failedFuture(new IllegalStateException("storage " + dir + " is closed"));
      Throwable f = writer.failure();
      if (f != null) return CompletableFuture.failedFuture(WalWriter.failed(f));
      Snapshot s = ready.snapshot();
      if (s != null && s.index() <= entries.snapshotIndex()) s = null; // older than what we have: nothing to do
      List<LogEntry> add = ready.entries();
      String misfit = entries.misfit(s, add);
      if (misfit != null) return CompletableFuture.failedFuture(new IllegalStateException(misfit));
      boolean reset = s != null && !entries.holds(s.index(), s.term());
      HardState hs = ready.hardState();
      if (hs != null && hs.equals(hardState)) hs = null;

      // Validated: apply to the in-memory view.
      recovered = null;
      CompletableFuture<Void> settled = null;
      if (s != null) {
        snapshotBytes = s.data().length;
        if (!reset) snapshotsSettled = settled = new CompletableFuture<>();
      }
      entries.apply(s, add);
      if (hs != null) hardState = hs;
      requestCount.incrementAndGet();
      writer.submit(new WalWriter.Request(hs, s, reset, List.copyOf(add), done, settled));
    }
    return done;
  }

  @Override
  public synchronized long raftStateSize() {
    return RaftCodec.raftStateSize(hardState, entries.snapshotIndex(), entries.snapshotTerm(), entries.count(), entries.bytes());
  }

  @Override
  public synchronized long snapshotSize() {
    return snapshotBytes;
  }

  /** Counters for benchmarks and tests. */
  public Stats stats() {
    return new Stats(requestCount.get(), writer.batches(), writer.syncs());
  }

  public Path directory() {
    return dir;
  }

  /** Waits for queued writes (snapshots included) to finish, stops the writer and releases the directory. Idempotent. */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) return;
      closed = true;
    }
    boolean interrupted = writer.stop(); // after every call accepted before closed was set
    lock.release();
    if (interrupted) Thread.currentThread().interrupt();
  }
}
