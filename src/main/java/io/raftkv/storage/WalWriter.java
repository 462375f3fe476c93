package io.raftkv.storage;

import io.raftkv.raft.HardState;
import io.raftkv.raft.LogEntry;
import io.raftkv.raft.Snapshot;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The writer thread of a {@link FileStorage}: takes every request queued meanwhile as one batch,
 * writes it to the segments, fsyncs once (group commit) and only then completes the batch's
 * stages, in call order. A snapshot that keeps the log's suffix goes to a {@link SnapshotWriter}
 * once the batch, and with it the log the snapshot covers, is durable; its mark goes into the log
 * when the file is.
 *
 * <p>Threading: {@link #submit} is called by the storage under its own lock, so requests queue in
 * call order; everything else runs on the writer thread, which alone touches the {@link
 * SegmentLog} once started. The first failure (an I/O error here or in the snapshot writer, or any
 * other throwable) fails the pending stages and every later request: after a failed fsync the
 * page cache cannot be trusted.
 */
final class WalWriter {
  private static final Logger LOG = LoggerFactory.getLogger(FileStorage.class);
  private static final int MAX_BATCH = 4096;

  /** What the writer carries out. */
  private sealed interface Work {}

  /**
   * One persist call: its effects, in the order the writer carries them out. {@code reset}: the
   * snapshot discards the log. {@code settled}: for a snapshot written in the background,
   * completes once it is durable; otherwise null.
   */
  record Request(HardState hardState, Snapshot snapshot, boolean reset, List<LogEntry> entries,
      CompletableFuture<Void> done, CompletableFuture<Void> settled) implements Work {}

  /** A snapshot written in the background is durable: its mark goes into the log. */
  private record SnapshotDurable(Snapshot snapshot, List<CompletableFuture<Void>> settled) implements Work {}

  private enum Stop implements Work {
    INSTANCE
  }

  private final Path dir;
  private final ChannelOpener opener;
  private final SegmentLog segments;
  private final SnapshotWriter snapshots;
  private final LinkedBlockingQueue<Work> queue = new LinkedBlockingQueue<>();
  private final Thread writer;
  private volatile Throwable failure; // the first one; set under this
  private final AtomicLong batchCount = new AtomicLong();

  /** Starts the writer on {@code segments}, which recovery opened; from now on only the writer touches them. */
  WalWriter(Path dir, ChannelOpener opener, SegmentLog segments) {
    this.dir = dir;
    this.opener = opener;
    this.segments = segments;
    this.snapshots = new SnapshotWriter(dir, opener, (s, settled) -> queue.add(new SnapshotDurable(s, settled)), this::fail);
    this.writer = new Thread(this::run, "raftkv-wal-" + dir.getFileName());
    writer.setDaemon(true);
    writer.start();
  }

  /** The first failure, or null. */
  Throwable failure() {
    return failure;
  }

  static RuntimeException failed(Throwable f) {
    return new IllegalStateException("storage failed earlier and accepts nothing more", f);
  }

  /**
   * Queues {@code r}, or fails it at once if the writer has failed: checked under the monitor the
   * failure is set and the queue last drained under, so no request is left waiting.
   */
  synchronized void submit(Request r) {
    Throwable f = failure;
    if (f != null) {
      failWork(r, failed(f));
      return;
    }
    queue.add(r);
  }

  long batches() {
    return batchCount.get();
  }

  long syncs() {
    return segments.syncs.get();
  }

  /**
   * Lets everything queued finish (snapshots and their marks included), stops the thread and
   * closes the segments. Returns whether the caller was interrupted while waiting; the caller
   * restores the flag once it has no file left to close (an interrupted thread's channel
   * operations fail).
   */
  boolean stop() {
    queue.add(Stop.INSTANCE);
    boolean interrupted = false;
    while (writer.isAlive()) {
      try {
        writer.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    try {
      segments.close();
    } catch (IOException e) {
      LOG.warn("{}: closing the active segment failed", dir, e);
    }
    return interrupted;
  }

  /** Writing failed: from now on every request fails (the first failure is the one reported). */
  private synchronized void fail(Throwable t) {
    if (failure != null) return;
    failure = t;
    LOG.error("{}: writing failed; the storage accepts nothing more", dir, t);
  }

  private void run() {
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
      synchronized (this) { // as submit: nothing gets into the queue after this drain
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
}
