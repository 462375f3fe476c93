package io.raftkv.storage;

import io.raftkv.raft.HardState;
import io.raftkv.raft.LogEntry;
import io.raftkv.raft.PersistentState;
import io.raftkv.raft.RaftCodec;
import io.raftkv.raft.RaftCodec.CorruptDataException;
import io.raftkv.raft.Ready;
import io.raftkv.raft.Snapshot;
import io.raftkv.storage.WalFormat.Entries;
import io.raftkv.storage.WalFormat.FrameCheck;
import io.raftkv.storage.WalFormat.HardStateRecord;
import io.raftkv.storage.WalFormat.Record;
import io.raftkv.storage.WalFormat.SegmentHeader;
import io.raftkv.storage.WalFormat.SnapshotMark;
import io.raftkv.storage.WalFormat.SnapshotRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
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
 *   <li>{@code wal-<seq>.log}: an append-only, segmented log. Each persisted batch of entries is
 *       one record; a batch whose first index is at or below the last stored one replaces the
 *       conflicting suffix when the log is replayed, so a truncation is itself an append. A
 *       snapshot leaves a mark record saying whether the log kept its suffix after the snapshot
 *       point or was discarded. A segment is rolled at {@link Options#segmentBytes}.
 *   <li>{@code hardstate} (term, vote) and {@code snapshot} (index, term, data): each replaced
 *       whole by writing a temp file, fsyncing it, renaming it over the old one and fsyncing the
 *       directory.
 * </ul>
 *
 * Every record is framed with its length, a CRC32C and a format version byte ({@link WalFormat}).
 *
 * <p>Durability: {@link #persistAsync} hands the Ready to a dedicated writer thread and returns;
 * the writer takes every request queued meanwhile as one batch, writes it, fsyncs once (group
 * commit) and only then completes the batch's stages, in call order. A crash leaves the state of
 * some prefix of the calls (a Ready's hard state and snapshot may be durable without its
 * entries), never loses a call whose stage completed. Segments all of whose live entries a
 * durable snapshot covers are deleted.
 *
 * <p>Recovery ({@link #open}): a bad record at the end of the last segment, with no valid record
 * after it, is a torn write; the segment is truncated there with a WARN. Any other damage, a
 * missing segment, or a damaged hard state or snapshot file throws {@link
 * CorruptStorageException} naming the file and offset: starting anyway could forget acknowledged
 * entries or votes.
 *
 * <p>Threading: calls to {@code persist}, {@code persistAsync} and {@code load} come from one
 * thread at a time (the contract of {@link RaftStorage}); size queries from any thread. Stages
 * complete on the writer thread. An I/O error fails the pending stages and every later call: after
 * a failed fsync the page cache cannot be trusted, so the peer must stop and recover from disk.
 */
public final class FileStorage implements RaftStorage, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(FileStorage.class);
  private static final byte[] NO_BYTES = new byte[0];
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
  private final FileChannel lockChannel;
  private final FileLock lock;

  // ---- logical state: the sum of every persist call so far, durable or not; guarded by this
  private HardState hardState; // persistent
  private long snapshotIndex; // persistent
  private long snapshotTerm; // persistent
  private long snapshotBytes;
  private final EntryMeta entries = new EntryMeta(); // entries snapshotIndex+1 .. lastIndex
  private PersistentState recovered; // what open() found; dropped at the first persist
  private boolean closed;

  // ---- the writer
  private final LinkedBlockingQueue<Request> queue = new LinkedBlockingQueue<>();
  private final Thread writer;
  private volatile Throwable failure;
  private final AtomicLong requestCount = new AtomicLong();
  private final AtomicLong batchCount = new AtomicLong();
  private final AtomicLong logSyncCount = new AtomicLong();

  // ---- the files: touched by the writer thread only once it runs (before: by open)
  private final ArrayList<Segment> segments = new ArrayList<>(); // by seq, consecutive, last = active
  private FileChannel active;
  private long activeBytes; // including pending
  private byte[] pending = new byte[1 << 16]; // written to active at the next flush
  private int pendingBytes;
  private boolean unsynced; // active holds bytes not yet fsynced
  private boolean dirUnsynced; // a segment was created since the last directory fsync
  private long markSeq; // the segment holding the latest snapshot mark: kept with all after it
  private long markIndex; // the latest durable snapshot's index
  private boolean collect; // a snapshot became durable in this batch: delete what it covers

  /** One persist call: its effects, in the order the writer carries them out. */
  private record Request(
      HardState hardState, Snapshot snapshot, boolean reset, List<LogEntry> entries, CompletableFuture<Void> done) {}

  private static final Request STOP = new Request(null, null, false, List.of(), null);

  private static final class Segment {
    final long seq;
    final Path path;
    long liveLast; // the highest live (not overwritten or discarded) index this segment may hold

    Segment(long seq, Path path) {
      this.seq = seq;
      this.path = path;
    }
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
    try {
      return new FileStorage(dir, options);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open storage in " + dir, e);
    }
  }

  private FileStorage(Path dir, Options options) throws IOException {
    this.dir = dir;
    this.options = options;
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
      recover();
    } catch (IOException | RuntimeException e) {
      closeQuietly();
      throw e;
    }
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
      Scan s = Scan.read(dir);
      if (s.torn != null) throw new CorruptStorageException(s.torn.path, s.torn.offset, s.torn.problem);
      return s.state();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Persists {@code ready} and waits until it is durable; rethrows what {@link #persistAsync} fails with. */
  @Override
  public void persist(Ready ready) {
    try {
      persistAsync(ready).toCompletableFuture().join();
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
   * the log (nothing is changed then), with {@link UncheckedIOException} if writing failed.
   */
  @Override
  public CompletionStage<Void> persistAsync(Ready ready) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    synchronized (this) {
      if (closed) return CompletableFuture.failedFuture(new IllegalStateException("storage " + dir + " is closed"));
      Throwable f = failure;
      if (f != null) return CompletableFuture.failedFuture(failed(f));
      Snapshot s = ready.snapshot();
      if (s != null && s.index() <= snapshotIndex) s = null; // older than what we have: nothing to do
      boolean reset = false;
      long newSnapshotIndex = s == null ? snapshotIndex : s.index();
      long newLast = lastIndex();
      if (s != null) {
        reset = !(s.index() <= lastIndex() && termAt(s.index()) == s.term());
        if (reset) newLast = s.index();
      }
      List<LogEntry> add = ready.entries();
      if (!add.isEmpty()) {
        long first = add.get(0).index();
        if (first <= newSnapshotIndex || first > newLast + 1) {
          return CompletableFuture.failedFuture(new IllegalStateException(
              "entries from " + first + " do not fit the log (" + newSnapshotIndex + ", " + newLast + "]"));
        }
        for (int i = 1; i < add.size(); i++) {
          if (add.get(i).index() != first + i) {
            return CompletableFuture.failedFuture(
                new IllegalStateException("entries are not consecutive at index " + add.get(i).index()));
          }
        }
      }
      HardState hs = ready.hardState();
      if (hs != null && hs.equals(hardState)) hs = null;

      // Validated: apply to the in-memory view.
      recovered = null;
      if (s != null) {
        if (reset) entries.clear();
        else entries.dropFirst((int) (s.index() - snapshotIndex));
        snapshotIndex = s.index();
        snapshotTerm = s.term();
        snapshotBytes = s.data().length;
      }
      if (!add.isEmpty()) {
        entries.truncate((int) (add.get(0).index() - snapshotIndex - 1));
        for (LogEntry e : add) entries.add(e.term(), RaftCodec.entrySize(e));
      }
      if (hs != null) hardState = hs;
      requestCount.incrementAndGet();
      queue.add(new Request(hs, s, reset, List.copyOf(add), done));
    }
    return done;
  }

  @Override
  public synchronized long raftStateSize() {
    return MemoryStorage.raftStateSize(hardState, snapshotIndex, snapshotTerm, entries.count, entries.bytes);
  }

  @Override
  public synchronized long snapshotSize() {
    return snapshotBytes;
  }

  /** Counters for benchmarks and tests. */
  public Stats stats() {
    return new Stats(requestCount.get(), batchCount.get(), logSyncCount.get());
  }

  public Path directory() {
    return dir;
  }

  /** Waits for queued writes to finish, stops the writer and releases the directory. Idempotent. */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) return;
      closed = true;
      queue.add(STOP);
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
      if (active != null) active.close();
    } catch (IOException e) {
      log.warn("{}: closing the active segment failed", dir, e);
    }
    try {
      lock.release();
      lockChannel.close();
    } catch (IOException e) {
      log.warn("{}: releasing the directory lock failed", dir, e);
    }
  }

  private long lastIndex() {
    return snapshotIndex + entries.count;
  }

  private long termAt(long index) {
    if (index == snapshotIndex) return snapshotTerm;
    return entries.term((int) (index - snapshotIndex - 1));
  }

  private static RuntimeException failed(Throwable f) {
    return new IllegalStateException("storage failed earlier and accepts nothing more", f);
  }

  // ---------------------------------------------------------------- the writer

  private void runWriter() {
    List<Request> batch = new ArrayList<>();
    boolean stop = false;
    while (!stop) {
      try {
        batch.add(queue.take());
      } catch (InterruptedException e) {
        continue; // only close() stops the writer, after the queue drains
      }
      queue.drainTo(batch, MAX_BATCH - 1);
      stop = batch.contains(STOP);
      try {
        if (failure != null) throw failed(failure);
        for (Request r : batch) if (r != STOP) write(r);
        finishBatch();
        batchCount.incrementAndGet();
        for (Request r : batch) if (r != STOP) r.done.complete(null);
      } catch (Throwable t) {
        if (failure == null) {
          failure = t;
          log.error("{}: writing failed; the storage accepts nothing more", dir, t);
        }
        for (Request r : batch) if (r != STOP) r.done.completeExceptionally(t);
      }
      batch.clear();
    }
  }

  /** Hard state, then snapshot, then entries: a crash in between leaves a state Raft can start from. */
  private void write(Request r) throws IOException {
    if (r.hardState != null) {
      syncLog(); // earlier calls' entries become durable first
      writeAtomically(WalFormat.HARD_STATE_FILE, WalFormat.hardState(r.hardState), NO_BYTES);
    }
    if (r.snapshot != null) {
      syncLog();
      Snapshot s = r.snapshot;
      byte[] prefix = WalFormat.snapshotPrefix(s);
      writeAtomically(WalFormat.SNAPSHOT_FILE, prefix, s.data(), WalFormat.frameHeader(prefix, s.data()));
      appendRecord(WalFormat.snapshotMark(s.index(), s.term(), r.reset));
      noteMark(s.index(), r.reset);
    }
    if (!r.entries.isEmpty()) {
      appendRecord(WalFormat.entries(r.entries));
      noteEntries(r.entries.get(0).index(), r.entries.get(r.entries.size() - 1).index());
    }
  }

  private void finishBatch() throws IOException {
    syncLog();
    if (dirUnsynced) syncDirectory();
    if (collect) deleteCoveredSegments();
  }

  private void appendRecord(byte[] frame) throws IOException {
    if (activeBytes >= options.segmentBytes()) rollSegment();
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

  private void syncLog() throws IOException {
    if (!unsynced) return;
    flushPending();
    active.force(false);
    unsynced = false;
    logSyncCount.incrementAndGet();
  }

  /** The active segment is full: it is fsynced, then the next one starts with a header naming its size. */
  private void rollSegment() throws IOException {
    syncLog();
    long previousBytes = activeBytes;
    active.close();
    active = null;
    long seq = segments.get(segments.size() - 1).seq + 1;
    Segment next = new Segment(seq, dir.resolve(WalFormat.segmentName(seq)));
    active = FileChannel.open(next.path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    segments.add(next);
    activeBytes = 0;
    dirUnsynced = true;
    appendRecord(WalFormat.segmentHeader(next.seq, previousBytes));
  }

  private void noteEntries(long first, long last) {
    for (Segment s : segments) s.liveLast = Math.min(s.liveLast, first - 1);
    segments.get(segments.size() - 1).liveLast = last;
  }

  private void noteMark(long index, boolean reset) {
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
    for (Segment s : segments.subList(0, n)) Files.deleteIfExists(s.path);
    segments.subList(0, n).clear();
    syncDirectory();
  }

  private void writeAtomically(String name, byte[] frame, byte[] data) throws IOException {
    writeAtomically(name, frame, data, null);
  }

  /** Writes {@code header ++ body ++ data} to a temp file, fsyncs, renames it to {@code name}, fsyncs the directory. */
  private void writeAtomically(String name, byte[] body, byte[] data, ByteBuffer header) throws IOException {
    Path tmp = dir.resolve(name + WalFormat.TMP_SUFFIX);
    try (FileChannel ch = FileChannel.open(
        tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
      ByteBuffer[] bufs =
          header == null
              ? new ByteBuffer[] {ByteBuffer.wrap(body), ByteBuffer.wrap(data)}
              : new ByteBuffer[] {header, ByteBuffer.wrap(body), ByteBuffer.wrap(data)};
      long total = 0;
      for (ByteBuffer b : bufs) total += b.remaining();
      long written = 0;
      while (written < total) written += ch.write(bufs);
      ch.force(true);
    }
    Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    syncDirectory();
  }

  private void syncDirectory() throws IOException {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    }
    dirUnsynced = false;
  }

  // ---------------------------------------------------------------- recovery

  /** Reads the directory, repairs a torn tail, and sets up both views. Runs before the writer starts. */
  private void recover() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        if (p.getFileName().toString().endsWith(WalFormat.TMP_SUFFIX)) Files.delete(p); // unfinished replacement
      }
    }
    Path hsFile = dir.resolve(WalFormat.HARD_STATE_FILE);
    if (!Files.exists(hsFile) && !Files.exists(dir.resolve(WalFormat.SNAPSHOT_FILE)) && Scan.listSegments(dir).isEmpty()) {
      writeAtomically(WalFormat.HARD_STATE_FILE, WalFormat.hardState(HardState.INITIAL), NO_BYTES); // a new peer
    }
    Scan scan = Scan.read(dir);
    if (scan.segments.isEmpty()) {
      if (!scan.hardState.equals(HardState.INITIAL) || !scan.snapshot.isEmpty()) {
        throw new CorruptStorageException(dir, -1, "no log segments, yet the hard state or snapshot shows the peer has run");
      }
      scan.segments.add(new Segment(1, dir.resolve(WalFormat.segmentName(1))));
    }
    segments.addAll(scan.segments);
    Segment last = segments.get(segments.size() - 1);
    if (scan.torn != null) {
      log.warn("{}: torn tail at offset {} ({}); truncating {} bytes",
          scan.torn.path, scan.torn.offset, scan.torn.problem, scan.torn.fileBytes - scan.torn.offset);
      try (FileChannel ch = FileChannel.open(scan.torn.path, StandardOpenOption.WRITE)) {
        ch.truncate(scan.torn.offset);
        ch.force(true);
      }
    }
    active = FileChannel.open(last.path, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    activeBytes = active.size();
    active.position(activeBytes);
    if (activeBytes == 0) { // new, or its header was torn
      long previousBytes = segments.size() > 1 ? Files.size(segments.get(segments.size() - 2).path) : 0;
      appendRecord(WalFormat.segmentHeader(last.seq, previousBytes));
      dirUnsynced = true;
    }

    hardState = scan.hardState;
    snapshotIndex = scan.snapshot.index();
    snapshotTerm = scan.snapshot.term();
    snapshotBytes = scan.snapshot.data().length;
    for (LogEntry e : scan.replay.log) entries.add(e.term(), RaftCodec.entrySize(e));
    recovered = scan.state();

    markSeq = scan.replay.markSeq;
    markIndex = scan.replay.markIndex;
    if (scan.snapshot.index() > markIndex) {
      // The snapshot file became durable, its mark did not: write the mark now, so the log alone
      // tells how it relates to the snapshot and older segments can go.
      appendRecord(WalFormat.snapshotMark(scan.snapshot.index(), scan.snapshot.term(), scan.replay.endReset));
      noteMark(scan.snapshot.index(), false); // liveLast already reflects the reset, if any
    }
    if (markIndex > 0) collect = true;
    finishBatch();
  }

  private record Torn(Path path, int offset, String problem, long fileBytes) {}

  /** What a directory holds, read without changing anything. */
  private static final class Scan {
    HardState hardState;
    Snapshot snapshot = Snapshot.EMPTY;
    final ArrayList<Segment> segments = new ArrayList<>();
    Replay replay;
    Torn torn;

    PersistentState state() {
      return new PersistentState(hardState, snapshot, replay.log);
    }

    static List<Path> listSegments(Path dir) throws IOException {
      try (Stream<Path> files = Files.list(dir)) {
        return files
            .filter(p -> WalFormat.segmentSeq(p.getFileName().toString()) >= 0)
            .sorted()
            .toList();
      }
    }

    static Scan read(Path dir) throws IOException {
      Scan scan = new Scan();
      List<Path> paths = listSegments(dir);
      for (int i = 0; i < paths.size(); i++) {
        long seq = WalFormat.segmentSeq(paths.get(i).getFileName().toString());
        if (i > 0 && seq != scan.segments.get(i - 1).seq + 1) {
          throw new CorruptStorageException(dir.resolve(WalFormat.segmentName(scan.segments.get(i - 1).seq + 1)), -1,
              "segment is missing (the next one present is " + paths.get(i).getFileName() + ")");
        }
        scan.segments.add(new Segment(seq, paths.get(i)));
      }

      Path hsFile = dir.resolve(WalFormat.HARD_STATE_FILE);
      if (!Files.exists(hsFile)) {
        throw new CorruptStorageException(hsFile, -1, "hard state file is missing, yet the directory holds a log or snapshot");
      }
      if (!(readSingleRecord(hsFile) instanceof HardStateRecord hs)) {
        throw new CorruptStorageException(hsFile, 0, "not a hard state record");
      }
      scan.hardState = hs.hardState();
      Path snapFile = dir.resolve(WalFormat.SNAPSHOT_FILE);
      if (Files.exists(snapFile)) {
        if (!(readSingleRecord(snapFile) instanceof SnapshotRecord sr) || sr.snapshot().index() < 1) {
          throw new CorruptStorageException(snapFile, 0, "not a snapshot record");
        }
        scan.snapshot = sr.snapshot();
      }

      Replay rp = new Replay(scan.segments);
      scan.replay = rp;
      long previousBytes = -1;
      for (int i = 0; i < scan.segments.size(); i++) {
        Segment seg = scan.segments.get(i);
        boolean last = i == scan.segments.size() - 1;
        byte[] buf = Files.readAllBytes(seg.path);
        int pos = 0;
        while (pos < buf.length) {
          FrameCheck fc = WalFormat.check(buf, pos);
          if (!fc.ok()) {
            if (!last) throw new CorruptStorageException(seg.path, pos, fc.problem() + ", in a segment that is not the last");
            int next = WalFormat.nextValidFrame(buf, pos + 1);
            if (next >= 0) {
              throw new CorruptStorageException(seg.path, pos,
                  fc.problem() + "; a valid record follows at offset " + next + ", so this is not a torn tail");
            }
            scan.torn = new Torn(seg.path, pos, fc.problem(), buf.length);
            break;
          }
          Record rec;
          try {
            rec = WalFormat.decode(buf, pos + WalFormat.FRAME_HEADER, fc.end() - pos - WalFormat.FRAME_HEADER);
          } catch (CorruptDataException | IllegalArgumentException e) {
            throw new CorruptStorageException(seg.path, pos, "undecodable record: " + e.getMessage(), e);
          }
          if (pos == 0) {
            if (!(rec instanceof SegmentHeader h) || h.seq() != seg.seq) {
              throw new CorruptStorageException(seg.path, pos, "expected the header of segment " + seg.seq + ", found " + rec);
            }
            if (previousBytes >= 0 && h.previousBytes() != previousBytes) {
              Path prev = scan.segments.get(i - 1).path;
              throw new CorruptStorageException(prev, previousBytes,
                  "segment is " + previousBytes + " bytes long but " + seg.path.getFileName() + " says it held "
                      + h.previousBytes() + ": it was truncated or overwritten");
            }
          } else if (rec instanceof Entries es) {
            rp.entries(es.entries(), seg, seg.path, pos);
          } else if (rec instanceof SnapshotMark m) {
            rp.mark(m, seg, pos);
          } else {
            throw new CorruptStorageException(seg.path, pos, "unexpected record in a segment: " + rec);
          }
          pos = fc.end();
        }
        if (buf.length == 0 && !last) throw new CorruptStorageException(seg.path, 0, "empty segment that is not the last");
        previousBytes = buf.length;
      }

      if (scan.snapshot.index() < rp.markIndex) {
        throw new CorruptStorageException(snapFile, -1, (Files.exists(snapFile)
            ? "snapshot file holds index " + scan.snapshot.index() : "snapshot file is missing")
            + ", but the log records a durable snapshot at index " + rp.markIndex);
      }
      rp.endSnapshot(scan.snapshot.index(), scan.snapshot.term());
      if (!rp.log.isEmpty() && rp.base > scan.snapshot.index()) {
        throw new CorruptStorageException(scan.segments.get(0).path, -1, "the log starts at index " + (rp.base + 1)
            + " but the snapshot covers only up to index " + scan.snapshot.index() + ": earlier log segments are missing");
      }
      return scan;
    }

    /** A file holding exactly one frame: hard state or snapshot. */
    private static Record readSingleRecord(Path file) throws IOException {
      byte[] buf;
      try {
        buf = Files.readAllBytes(file);
      } catch (NoSuchFileException e) {
        throw new CorruptStorageException(file, -1, "file is missing");
      }
      FrameCheck fc = WalFormat.check(buf, 0);
      if (!fc.ok()) throw new CorruptStorageException(file, 0, fc.problem());
      if (fc.end() != buf.length) throw new CorruptStorageException(file, fc.end(), (buf.length - fc.end()) + " trailing bytes");
      try {
        return WalFormat.decode(buf, WalFormat.FRAME_HEADER, buf.length - WalFormat.FRAME_HEADER);
      } catch (CorruptDataException | IllegalArgumentException e) {
        throw new CorruptStorageException(file, 0, "undecodable record: " + e.getMessage(), e);
      }
    }
  }

  /**
   * Rebuilds the log from its records. Older segments may have been deleted, so the replay may
   * start in the middle of the log: until a snapshot mark pins it, the prefix before the first
   * known entry is unknown, and a record overwriting from inside that prefix replaces all that is
   * known. Every live entry past the latest snapshot is in the segments that remain, which the
   * final check confirms.
   */
  private static final class Replay {
    final ArrayList<LogEntry> log = new ArrayList<>(); // entries base+1 .. base+size
    final List<Segment> segments;
    long base = -1; // -1 until the first record that fixes it
    long floor; // the latest snapshot applied: no entry at or below it may be written
    long markIndex; // the latest mark in the log
    long markSeq;
    boolean endReset; // endSnapshot discarded the log

    Replay(List<Segment> segments) {
      this.segments = segments;
    }

    long last() {
      return base + log.size();
    }

    void entries(List<LogEntry> es, Segment seg, Path file, int pos) {
      long first = es.get(0).index();
      if (first <= floor) {
        throw new CorruptStorageException(file, pos, "entries from index " + first + " overwrite the snapshot at index " + floor);
      }
      if (base < 0 || first <= base) {
        log.clear();
        base = first - 1;
      } else if (first > last() + 1) {
        throw new CorruptStorageException(file, pos, "entries from index " + first + " leave a gap after index " + last());
      } else {
        log.subList((int) (first - base - 1), log.size()).clear();
      }
      log.addAll(es);
      for (Segment s : segments) {
        if (s.seq > seg.seq) break;
        s.liveLast = Math.min(s.liveLast, first - 1);
      }
      seg.liveLast = last();
    }

    void mark(SnapshotMark m, Segment seg, int pos) {
      if (m.index() <= floor) {
        throw new CorruptStorageException(seg.path, pos, "snapshot mark at index " + m.index() + " after one at " + floor);
      }
      if (m.reset()) {
        reset(m.index());
      } else if (base >= 0 && m.index() > base) {
        if (m.index() > last() || log.get((int) (m.index() - base - 1)).term() != m.term()) {
          throw new CorruptStorageException(seg.path, pos, "snapshot mark at index " + m.index() + " term " + m.term()
              + " claims a matching entry the log does not hold");
        }
        dropThrough(m.index());
      }
      floor = m.index();
      markIndex = m.index();
      markSeq = seg.seq;
    }

    /** The snapshot file, applied as persist applies a snapshot (a no-op if its mark was replayed). */
    void endSnapshot(long index, long term) {
      if (index <= floor) return;
      if (base < 0 || log.isEmpty() || index > last() || (index > base && log.get((int) (index - base - 1)).term() != term)) {
        reset(index);
        endReset = true;
      } else if (index > base) {
        dropThrough(index);
      }
      floor = index;
    }

    private void reset(long index) {
      log.clear();
      base = index;
      for (Segment s : segments) s.liveLast = 0;
    }

    private void dropThrough(long index) {
      log.subList(0, (int) (index - base)).clear();
      base = index;
    }
  }

  // ---------------------------------------------------------------- in-memory log metadata

  /** Terms and encoded sizes of the entries after the snapshot: what validation and sizes need. */
  private static final class EntryMeta {
    private long[] terms = new long[64];
    private int[] sizes = new int[64];
    private int head;
    int count;
    long bytes;

    long term(int i) {
      return terms[head + i];
    }

    void add(long term, int size) {
      if (head + count == terms.length) {
        if (head > terms.length / 2) {
          System.arraycopy(terms, head, terms, 0, count);
          System.arraycopy(sizes, head, sizes, 0, count);
        } else {
          terms = Arrays.copyOfRange(terms, head, head + Math.max(64, count * 2));
          sizes = Arrays.copyOfRange(sizes, head, head + Math.max(64, count * 2));
        }
        head = 0;
      }
      terms[head + count] = term;
      sizes[head + count] = size;
      count++;
      bytes += size;
    }

    /** Keeps the first {@code n} entries. */
    void truncate(int n) {
      while (count > n) bytes -= sizes[head + --count];
    }

    void dropFirst(int n) {
      for (int i = 0; i < n; i++) bytes -= sizes[head + i];
      head += n;
      count -= n;
    }

    void clear() {
      head = 0;
      count = 0;
      bytes = 0;
    }
  }
}
