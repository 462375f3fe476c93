package io.raftkv.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code LOCK} file a {@link FileStorage} holds while it has its directory open: a second
 * storage on the same directory, in this process or another, would interleave its writes with
 * the first one's and lose acknowledged entries.
 */
final class DirectoryLock {
  private static final Logger LOG = LoggerFactory.getLogger(FileStorage.class);

  private final Path dir;
  private final FileChannel channel;
  private final FileLock lock;

  private DirectoryLock(Path dir, FileChannel channel, FileLock lock) {
    this.dir = dir;
    this.channel = channel;
    this.lock = lock;
  }

  /** Takes the lock of {@code dir}; {@link IllegalStateException} if another storage holds it. */
  static DirectoryLock acquire(Path dir) throws IOException {
    FileChannel ch = FileChannel.open(dir.resolve(WalFormat.LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock l;
    try {
      l = ch.tryLock();
    } catch (OverlappingFileLockException e) {
      l = null; // held in this JVM
    }
    if (l == null) {
      ch.close();
      throw new IllegalStateException("storage directory " + dir + " is in use by another FileStorage");
    }
    return new DirectoryLock(dir, ch, l);
  }

  /** Must not run on an interrupted thread: the channel would close without releasing. */
  void release() {
    try {
      lock.release();
      channel.close();
    } catch (IOException e) {
      LOG.warn("{}: releasing the directory lock failed", dir, e);
    }
  }
}
