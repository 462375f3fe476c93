package io.raftkv.storage;

import io.raftkv.raft.LogEntry;
import io.raftkv.raft.LogTail;
import io.raftkv.raft.RaftCodec;
import java.util.Arrays;

/**
 * The log after the snapshot as {@link FileStorage} keeps it in memory: only the terms and encoded
 * sizes of the entries, which is what validation and the size queries need (the commands are on
 * disk). Primitive arrays with a moving head, so that a compaction drops a prefix without copying.
 */
final class EntryMeta extends LogTail {
  private long[] terms = new long[64];
  private int[] sizes = new int[64];
  private int head;
  private int n;
  private long bytes;

  /** The sum of the held entries' {@link RaftCodec#entrySize}s. */
  long bytes() {
    return bytes;
  }

  @Override
  protected int count() {
    return n;
  }

  @Override
  protected long termAt(int i) {
    return terms[head + i];
  }

  @Override
  protected void addLast(LogEntry e) {
    int size = RaftCodec.entrySize(e);
    if (head + n == terms.length) {
      if (head > terms.length / 2) {
        System.arraycopy(terms, head, terms, 0, n);
        System.arraycopy(sizes, head, sizes, 0, n);
      } else {
        terms = Arrays.copyOfRange(terms, head, head + Math.max(64, n * 2));
        sizes = Arrays.copyOfRange(sizes, head, head + Math.max(64, n * 2));
      }
      head = 0;
    }
    terms[head + n] = e.term();
    sizes[head + n] = size;
    n++;
    bytes += size;
  }

  @Override
  protected void keepFirst(int k) {
    while (n > k) bytes -= sizes[head + --n];
  }

  @Override
  protected void dropFirst(int k) {
    for (int i = 0; i < k; i++) bytes -= sizes[head + i];
    head += k;
    n -= k;
  }

  @Override
  protected void dropAll() {
    head = 0;
    n = 0;
    bytes = 0;
  }
}
