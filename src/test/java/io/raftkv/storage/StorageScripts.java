package io.raftkv.storage;

import io.raftkv.raft.HardState;
import io.raftkv.raft.LogEntry;
import io.raftkv.raft.PersistentState;
import io.raftkv.raft.RaftCodec;
import io.raftkv.raft.Ready;
import io.raftkv.raft.Snapshot;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded scripts of Readys for storage tests, with a {@link MemoryStorage} as the model of what
 * must come back, and a deep comparison of persistent states (records holding arrays compare by
 * identity).
 */
final class StorageScripts {
  private StorageScripts() {}

  /** Which Readys a script may contain. */
  enum Mix {
    /** Appends and suffix overwrites only: one log record per Ready. */
    ENTRIES,
    /** Every kind, one kind per Ready: a crash leaves exactly the state after some prefix of Readys. */
    SEPARATE,
    /** Every kind, combined freely in one Ready. */
    COMBINED
  }

  static Ready ready(HardState hs, List<LogEntry> entries, Snapshot snapshot) {
    return new Ready(hs, entries, snapshot, List.of(), List.of());
  }

  static Ready append(List<LogEntry> entries) {
    return ready(null, entries, null);
  }

  /** Entries {@code from..to} at {@code term}, with commands derived from index and term. */
  static List<LogEntry> entries(long from, long to, long term) {
    List<LogEntry> out = new ArrayList<>();
    for (long i = from; i <= to; i++) out.add(new LogEntry(i, term, ("e" + i + "t" + term).getBytes()));
    return out;
  }

  /** The next Ready of a script; the caller applies it to {@code model}. */
  static Ready next(SplittableRandom rnd, MemoryStorage model, Mix mix) {
    PersistentState st = model.load();
    long si = st.snapshot().index();
    long last = si + st.entries().size();
    long term = Math.max(1, st.hardState().term());
    int roll = rnd.nextInt(100);
    HardState hs = null;
    Snapshot snap = null;
    List<LogEntry> es = List.of();
    if (mix != Mix.ENTRIES && roll < 6) {
      hs = new HardState(term + rnd.nextInt(2), rnd.nextInt(4) - 1);
      if (mix == Mix.SEPARATE) return ready(hs, es, null);
      term = hs.term();
      roll = rnd.nextInt(100);
    }
    if (mix != Mix.ENTRIES && roll < 12 && last > si) {
      long index = si + 1 + rnd.nextInt((int) (last - si));
      long snapTerm = termAt(st, index);
      int kind = rnd.nextInt(6);
      if (kind == 0) snapTerm++; // the log does not match at index: it is discarded
      if (kind == 1) index = last + 1 + rnd.nextInt(3); // beyond the log: discarded too
      byte[] data = new byte[rnd.nextInt(300)];
      rnd.nextBytes(data);
      snap = new Snapshot(index, snapTerm, data);
      if (mix == Mix.SEPARATE) return ready(null, es, snap);
      if (index > last || kind == 0) last = index;
      si = index;
      roll = rnd.nextInt(100);
    }
    long first = roll < 20 && last > si ? Math.max(si + 1, last - rnd.nextInt(6)) : last + 1;
    es = new ArrayList<>();
    int n = 1 + rnd.nextInt(5);
    for (long i = first; i < first + n; i++) {
      byte[] cmd = new byte[rnd.nextInt(48)];
      rnd.nextBytes(cmd);
      es.add(new LogEntry(i, term, cmd));
    }
    return ready(hs, es, snap);
  }

  private static long termAt(PersistentState st, long index) {
    if (index == st.snapshot().index()) return st.snapshot().term();
    return st.entries().get((int) (index - st.snapshot().index() - 1)).term();
  }

  /** A memory storage holding {@code s}. */
  static MemoryStorage memoryFrom(PersistentState s) {
    MemoryStorage m = new MemoryStorage();
    m.save(RaftCodec.encodeRaftState(s.hardState(), s.snapshot().index(), s.snapshot().term(), s.entries()),
        s.snapshot().data());
    return m;
  }

  static boolean same(PersistentState a, PersistentState b) {
    if (!a.hardState().equals(b.hardState())) return false;
    if (a.snapshot().index() != b.snapshot().index() || a.snapshot().term() != b.snapshot().term()) return false;
    if (!a.snapshot().isEmpty() && !Arrays.equals(a.snapshot().data(), b.snapshot().data())) return false;
    if (a.entries().size() != b.entries().size()) return false;
    for (int i = 0; i < a.entries().size(); i++) {
      LogEntry x = a.entries().get(i), y = b.entries().get(i);
      if (x.index() != y.index() || x.term() != y.term() || x.type() != y.type() || !Arrays.equals(x.command(), y.command())) return false;
    }
    return true;
  }

  /**
   * {@code actual} equals {@code expected}, or is what it was before a compaction: the same hard
   * state, an older snapshot, and a log that holds every entry the newer snapshot covers up to
   * its index (matching it there) followed by exactly the expected log. A compaction snapshot is
   * written after its Ready's stage completes, so a crash may leave this.
   */
  static boolean sameUpToCompaction(PersistentState expected, PersistentState actual) {
    if (same(expected, actual)) return true;
    if (!expected.hardState().equals(actual.hardState())) return false;
    long si = expected.snapshot().index(), older = actual.snapshot().index();
    if (older >= si) return false;
    int skip = (int) (si - older); // entries older+1 .. si are covered by the expected snapshot
    if (actual.entries().size() != skip + expected.entries().size()) return false;
    if (actual.entries().get(skip - 1).term() != expected.snapshot().term()) return false;
    PersistentState tail = new PersistentState(actual.hardState(), expected.snapshot(),
        actual.entries().subList(skip, actual.entries().size()));
    return same(expected, tail);
  }

  static String describe(PersistentState s) {
    StringBuilder b = new StringBuilder();
    b.append(s.hardState()).append(" snapshot ").append(s.snapshot().index()).append('/').append(s.snapshot().term());
    b.append(" (").append(s.snapshot().data().length).append(" bytes) log [");
    for (LogEntry e : s.entries()) b.append(e.index()).append(':').append(e.term()).append(e.isConfiguration() ? "C " : " ");
    return b.append(']').toString();
  }

  static void assertSame(PersistentState expected, PersistentState actual, String context) {
    if (!same(expected, actual)) {
      throw new AssertionError(context + "\nexpected " + describe(expected) + "\n     got " + describe(actual));
    }
  }
}
