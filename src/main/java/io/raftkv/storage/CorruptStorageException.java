package io.raftkv.storage;

import java.nio.file.Path;

/**
 * Stored state that cannot be trusted: a bad record that is not a torn tail (valid records follow
 * it, or it lies in a segment that is not the last), a missing or damaged hard state or snapshot
 * file, a missing segment. A peer must not start from such a directory: doing so could forget
 * acknowledged entries or votes, which breaks Raft's safety. The message names the file and, where
 * it applies, the byte offset of the record at fault.
 */
public final class CorruptStorageException extends RuntimeException {
  private final transient Path file;
  private final long offset;

  /** @param offset byte offset in {@code file} of the record at fault, or -1 for the whole file */
  public CorruptStorageException(Path file, long offset, String problem) {
    super("corrupt storage: " + file + (offset >= 0 ? " at offset " + offset : "") + ": " + problem);
    this.file = file;
    this.offset = offset;
  }

  public CorruptStorageException(Path file, long offset, String problem, Throwable cause) {
    this(file, offset, problem);
    initCause(cause);
  }

  /** The file at fault. */
  public Path file() {
    return file;
  }

  /** Byte offset of the record at fault in {@link #file()}, or -1 when the whole file is. */
  public long offset() {
    return offset;
  }
}
