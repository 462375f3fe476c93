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
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 * <p>Durability: {@link #persistAsync} hands the Ready to a dedicated writer thread and returns;
 * the writer takes every request queued meanwhile as one batch, writes it, fsyncs once (group
 * commit) and only then completes the batch's stages, in call order. A snapshot that keeps the
 * log's matching suffix (the service compacting its log) is written off that path, by a {@link
 * SnapshotWriter}, after the log it covers is durable: its Ready's stage does not wait for it, and
 * until it is durable the log keeps every entry it covers. A snapshot that discards the log (an
 * InstallSnapshot the log does not match) is written in order, before its Ready's stage completes.
 * A crash leaves the state of some prefix of the calls (a Ready's hard state and snapshot may be
 * durable without its entries), except that a compaction may be missing (an older snapshot and a
 * longer log, holding the same entries), and never loses a call whose stage completed. Segments
 * all of whose live entries a durable snapshot covers are deleted.
 *
 * <p>Recovery ({@link #open}, {@link WalScan}): a bad record in the last segment that the format
 * shows was never fsynced is a torn write; the segment is truncated there with a WARN, whatever
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
 */
public final class FileStorage implements RaftStorage, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(FileStorage.class);
  private static final int MAX_BATCH = 4096;

  /** @param segmentBytes a segment is rolled once it holds at least this many bytes */
  public record Options(long segmentBytes) {
    public static final Options DEFAULT = new Options(64L << 20);

    public Options {
      if (segmentBytes < 64) throw new IllegalArgumentException("segmentBytes must be at least 64: " + segmentBytes);
    }
  }

  /**
   * Counters since {@link #open}: persist calls, batches the writer carried out, and fsyncs of log
   * segments ({@code requests / logSyncs} is the group-commit factor).
   */
  public record Stats(long requests, long batches, long logSyncs) {}

  private final Path dir;
  private final Options options;
  private final ChannelOpener opener;
  private final FileChannel lockChannel;
  private final FileLock lock;

  // ---- logical state: the sum of every persist call so far, durable or not; guarded by this
  private HardState hardState; // persistent
  private final EntryMeta entries = new EntryMeta(); // persistent: snapshot point and the entries after it
  private long snapshotBytes;
  private PersistentState recovered; // what open() found; dropped at the first persist
  private CompletableFuture<Void> snapshotsSettled = CompletableFuture.completedFuture(null); // the latest background snapshot's
  private boolean closed;

  // ---- the writer
  private final LinkedBlockingQueue<Work> queue = new LinkedBlockingQueue<>();
  private final Thread writer;
  private volatile Throwable failure;
  private final AtomicLong requestCount = new AtomicLong();
  private final AtomicLong batchCount = new AtomicLong();
  private final SegmentLog segments; // touched by the writer thread only once it runs (before: by open)
  private final SnapshotWriter snapshots;

  /** What the writer carries out. */
  private sealed interface Work {}

  /**
   * One persist call: its effects, in the order the writer carries them out. {@code settled}: for
   * a snapshot written in the background, completes once it is durable; otherwise null.
   */
  private record Request(HardState hardState, Snapshot snapshot, boolean reset, List<LogEntry> entries,
      CompletableFuture<Void> done, CompletableFuture<Void> settled) implements Work {}

  /** A snapshot written in the background is durable: its mark goes into the log. */
  private record SnapshotDurable(Snapshot snapshot, List<CompletableFuture<Void>> settled) implements Work {}

  private enum Stop implements Work {
    INSTANCE
  }

  /**
   * Opens (creating it if needed) the storage in {@code dir} and recovers it: after this returns,
   * {@link #load} gives what was persisted. Throws {@link CorruptStorageException} if the directory
   * cannot be trusted, {@link UncheckedIOException} on I/O errors, {@link IllegalStateException} if
   * another storage (in this or another process) has it open.
   */
  public static FileStorage open(Path dir) {
    return open(dir, Options.DEFAULT);
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
    this.options = options;
    this.opener = opener;
    Files.createDirectories(dir);
    lockChannel = FileChannel.open(dir.resolve(WalFormat.LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock l;
    try {
      l = lockChannel.tryLock();
    } catch (OverlappingFileLockException e) {
      l = null;
    }
    if (l == null) {
      lockChannel.close();
      throw new IllegalStateException("storage directory " + dir + " is in use by another FileStorage");
    }
    lock = l;
    try {
      segments = recover();
    } catch (IOException | RuntimeException e) {
      releaseLock();
      throw e;
    }
    snapshots = new SnapshotWriter(dir, opener, (s, settled) -> queue.add(new SnapshotDurable(s, settled)), this::fail);
    writer = new Thread(this::runWriter, "raftkv-wal-" + dir.getFileName());
    writer.setDaemon(true);
    writer.start();
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
      Throwable f = failure;
      if (f != null) return CompletableFuture.failedFuture(failed(f));
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
      queue.add(new Request(hs, s, reset, List.copyOf(add), done, settled));
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
    return new Stats(requestCount.get(), batchCount.get(), segments.syncs.get());
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
      queue.add(Stop.INSTANCE);
    }
    boolean interrupted = false;
    while (writer.isAlive()) {
      try {
        writer.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    closeQuietly();
    if (interrupted) Thread.currentThread().interrupt();
  }

  private void closeQuietly() {
    try {
      segments.close();
    } catch (IOException e) {
      log.warn("{}: closing the active segment failed", dir, e);
    }
    releaseLock();
  }

  private void releaseLock() {
    try {
      lock.release();
      lockChannel.close();
    } catch (IOException e) {
      log.warn("{}: releasing the directory lock failed", dir, e);
    }
  }

  private static RuntimeException failed(Throwable f) {
    return new IllegalStateException("storage failed earlier and accepts nothing more", f);
  }

  /** Writing failed: from now on every call fails (the first failure is the one reported). */
  private synchronized void fail(Throwable t) {
    if (failure != null) return;
    failure = t;
    log.error("{}: writing failed; the storage accepts nothing more", dir, t);
  }

  // ---------------------------------------------------------------- the writer

  private void runWriter() {
    List<Work> batch = new ArrayList<>();
    try {
      boolean stopping = false;
      while (true) {
        if (batch.isEmpty()) batch.add(takeUninterruptibly());
        queue.drainTo(batch, MAX_BATCH - 1);
        stopping |= batch.remove(Stop.INSTANCE);
        runBatch(batch);
        batch.clear();
        if (stopping) {
          // Closing: the snapshots handed over finish, and their marks go into the log.
          snapshots.awaitIdle();
          queue.drainTo(batch);
          if (batch.isEmpty()) break;
        }
      }
    } catch (Throwable t) {
      // Not an I/O error (runBatch handles those): nothing queued may be left waiting.
      fail(t);
      synchronized (this) {
        queue.drainTo(batch);
      }
      for (Work w : batch) failWork(w, t);
    } finally {
      try {
        snapshots.shutdown();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private Work takeUninterruptibly() {
    while (true) {
      try {
        return queue.take();
      } catch (InterruptedException e) {
        // only close() stops the writer, after the queue drains
      }
    }
  }

  /** Writes {@code batch}, fsyncs once, then completes its stages in call order. */
  private void runBatch(List<Work> batch) {
    List<CompletableFuture<Void>> settled = new ArrayList<>(); // complete once this batch is durable
    SnapshotWriter.Job background = null; // handed to the snapshot writer once this batch is durable
    try {
      if (failure != null) throw failed(failure);
      for (Work w : batch) {
        if (w instanceof Request r) {
          background = write(r, background, settled);
        } else if (w instanceof SnapshotDurable d) {
          Snapshot s = d.snapshot();
          // A snapshot discarding the log may have been written meanwhile: this one is older.
          if (s.index() > segments.markIndex()) {
            segments.append(WalFormat.snapshotMark(s.index(), s.term(), false));
            segments.noteMark(s.index(), false);
          }
          settled.addAll(d.settled());
        }
      }
      segments.finish();
    } catch (Throwable t) {
      fail(t);
      for (Work w : batch) failWork(w, t);
      if (background != null) for (CompletableFuture<Void> f : background.settled()) f.completeExceptionally(t);
      for (CompletableFuture<Void> f : settled) f.completeExceptionally(t);
      return;
    }
    batchCount.incrementAndGet();
    for (Work w : batch) if (w instanceof Request r) r.done.complete(null);
    for (CompletableFuture<Void> f : settled) f.complete(null);
    if (background != null) snapshots.submit(background);
  }

  private static void failWork(Work w, Throwable t) {
    if (w instanceof Request r) {
      r.done.completeExceptionally(t);
      if (r.settled != null) r.settled.completeExceptionally(t);
    } else if (w instanceof SnapshotDurable d) {
      for (CompletableFuture<Void> f : d.settled()) f.completeExceptionally(t);
    }
  }

  /**
   * Hard state, then snapshot, then entries: a crash in between leaves a state Raft can start
   * from. A snapshot keeping the log's suffix is only noted in {@code background} (the latest one
   * of the batch), to be written once the batch, and with it the log it covers, is durable.
   */
  private SnapshotWriter.Job write(Request r, SnapshotWriter.Job background, List<CompletableFuture<Void>> settled)
      throws IOException, InterruptedException {
    if (r.hardState != null) {
      segments.sync(); // earlier calls' entries become durable first
      AtomicFiles.write(opener, dir, WalFormat.HARD_STATE_FILE, ByteBuffer.wrap(WalFormat.hardState(r.hardState)));
    }
    Snapshot s = r.snapshot;
    if (s != null && r.reset) {
      // In order: an older snapshot still being written must not land after this one.
      snapshots.awaitIdle();
      if (failure != null) throw failed(failure);
      if (background != null) settled.addAll(background.settled()); // superseded by this one
      background = null;
      segments.sync();
      byte[] prefix = WalFormat.snapshotPrefix(s);
      AtomicFiles.write(opener, dir, WalFormat.SNAPSHOT_FILE,
          WalFormat.frameHeader(prefix, s.data()), ByteBuffer.wrap(prefix), ByteBuffer.wrap(s.data()));
      segments.append(WalFormat.snapshotMark(s.index(), s.term(), true));
      segments.noteMark(s.index(), true);
    } else if (s != null) {
      List<CompletableFuture<Void>> waiting = new ArrayList<>();
      if (background != null) waiting.addAll(background.settled());
      waiting.add(r.settled);
      background = new SnapshotWriter.Job(s, waiting);
    }
    if (!r.entries.isEmpty()) {
      segments.append(WalFormat.entries(r.entries));
      segments.noteEntries(r.entries.get(0).index(), r.entries.get(r.entries.size() - 1).index());
    }
    return background;
  }

  // ---------------------------------------------------------------- recovery

  /** Reads the directory, repairs a torn tail, and sets up both views. Runs before the writer starts. */
  private SegmentLog recover() throws IOException {
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
    SegmentLog segments = new SegmentLog(dir, options.segmentBytes(), opener, scan);
    try {
      applyRecovered(scan, segments);
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

  private void applyRecovered(WalScan scan, SegmentLog segments) throws IOException {

    hardState = scan.hardState;
    entries.resetTo(scan.snapshot.index(), scan.snapshot.term());
    snapshotBytes = scan.snapshot.data().length;
    for (LogEntry e : scan.replay.log) entries.append(e);
    recovered = scan.state();

    if (scan.snapshot.index() > segments.markIndex()) {
      // The snapshot file became durable, its mark did not: write the mark now, so the log alone
      // tells how it relates to the snapshot and older segments can go.
      segments.append(WalFormat.snapshotMark(scan.snapshot.index(), scan.snapshot.term(), scan.replay.endReset));
      segments.noteMark(scan.snapshot.index(), false); // liveLast already reflects the reset, if any
    }
    segments.finish();
  }
}
