package io.raftkv.storage;

import java.util.Arrays;

/** Terms and encoded sizes of the entries after the snapshot: what validation and sizes need. */
final class EntryMeta {
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
