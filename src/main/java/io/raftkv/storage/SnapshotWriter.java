package io.raftkv.storage;

import io.raftkv.raft.Snapshot;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * Writes the snapshot file on a thread of its own, so that a large snapshot does not hold up the
 * log appends behind it. Used for snapshots that keep the log's matching suffix (the service
 * compacting its log): until such a snapshot is durable the log still holds every entry it
 * covers, so a crash merely reopens to the older snapshot and a longer log.
 *
 * <p>At most one write runs at a time, and a snapshot handed over while an older one still waits
 * replaces it (the older one is then durable when the newer one is). Once a file is durable,
 * {@code onDurable} gets the snapshot and the stages waiting for it; if writing fails, {@code
 * onFailure} gets the error, and those stages fail.
 */
final class SnapshotWriter {
  /** A snapshot to write and the stages that complete once it (or a newer one) is durable. */
  record Job(Snapshot snapshot, List<CompletableFuture<Void>> settled) {}

  private final ChannelOpener opener;
  private final Path dir;
  private final BiConsumer<Snapshot, List<CompletableFuture<Void>>> onDurable;
  private final Consumer<Throwable> onFailure;
  private final ExecutorService thread;
  private Job next; // handed over, not started yet; guarded by this

  SnapshotWriter(Path dir, ChannelOpener opener, BiConsumer<Snapshot, List<CompletableFuture<Void>>> onDurable,
      Consumer<Throwable> onFailure) {
    this.dir = dir;
    this.opener = opener;
    this.onDurable = onDurable;
    this.onFailure = onFailure;
    this.thread = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "raftkv-snapshot-" + dir.getFileName());
      t.setDaemon(true);
      return t;
    });
  }

  /** Writes {@code job} once the write under way (if any) is done. */
  void submit(Job job) {
    synchronized (this) {
      if (next != null) {
        List<CompletableFuture<Void>> all = new ArrayList<>(next.settled());
        all.addAll(job.settled());
        next = new Job(job.snapshot(), all);
        return;
      }
      next = job;
    }
    thread.execute(this::writeNext);
  }

  private void writeNext() {
    Job job;
    synchronized (this) {
      job = next;
      next = null;
    }
    Snapshot s = job.snapshot();
    try {
      byte[] prefix = WalFormat.snapshotPrefix(s);
      AtomicFiles.write(opener, dir, WalFormat.SNAPSHOT_FILE,
          WalFormat.frameHeader(prefix, s.data()), ByteBuffer.wrap(prefix), ByteBuffer.wrap(s.data()));
    } catch (Throwable t) {
      onFailure.accept(t);
      for (CompletableFuture<Void> f : job.settled()) f.completeExceptionally(t);
      return;
    }
    onDurable.accept(s, job.settled());
  }

  /** Waits until every snapshot handed over so far is written (or failed). */
  void awaitIdle() throws InterruptedException {
    try {
      thread.submit(() -> {}).get();
    } catch (ExecutionException e) {
      throw new IllegalStateException(e); // an empty task does not fail
    }
  }

  /** Lets the write under way finish, then stops the thread. */
  void shutdown() throws InterruptedException {
    thread.shutdown();
    while (!thread.awaitTermination(1, TimeUnit.MINUTES)) {
      // a snapshot of many GB on a slow disk: keep waiting, it must not be cut short
    }
  }
}
