package io.raftkv.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/** Whole-file replacement that a crash leaves either old or new, and directory fsyncs. */
public final class AtomicFiles {
  private AtomicFiles() {}

  /** Replaces {@code dir/name} with {@code bytes}: a crash leaves the old file or the new one, durably. */
  public static void write(Path dir, String name, byte[] bytes) throws IOException {
    write(ChannelOpener.DEFAULT, dir, name, ByteBuffer.wrap(bytes));
  }

  /** Writes {@code bufs} to a temp file, fsyncs it, renames it to {@code name} and fsyncs the directory. */
  static void write(ChannelOpener opener, Path dir, String name, ByteBuffer... bufs) throws IOException {
    Path tmp = dir.resolve(name + WalFormat.TMP_SUFFIX);
    try (FileChannel ch = opener.open(
        tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
      long total = 0;
      for (ByteBuffer b : bufs) total += b.remaining();
      long written = 0;
      while (written < total) written += ch.write(bufs);
      ch.force(true);
    }
    Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    syncDirectory(opener, dir);
  }

  /** Makes creations, renames and deletions in {@code dir} durable. */
  static void syncDirectory(ChannelOpener opener, Path dir) throws IOException {
    try (FileChannel d = opener.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    }
  }
}
