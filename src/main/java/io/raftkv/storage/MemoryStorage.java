package io.raftkv.storage;

import io.raftkv.raft.HardState;
import io.raftkv.raft.LogEntry;
import io.raftkv.raft.PersistentState;
import io.raftkv.raft.RaftCodec;
import io.raftkv.raft.RaftStorage;
import io.raftkv.raft.Ready;
import io.raftkv.raft.Snapshot;
import java.util.ArrayList;
import java.util.List;

/**
 * In-memory storage with the lab Persister's semantics: the state is a pair (raft state,
 * snapshot) that {@link #save} replaces atomically; reads return copies; sizes are in bytes of the
 * compact encoding; {@link #copy} gives a crashed peer's successor exactly what was saved before the
 * crash, while the dead incarnation keeps writing into the old object, which nobody reads again.
 *
 * <p>The raft state is kept decoded and encoded on demand; its size is tracked incrementally, so a
 * persist costs time proportional to what changed. Thread-safe.
 */
public final class MemoryStorage implements RaftStorage {
  private HardState hardState = HardState.INITIAL;
  private long snapshotIndex;
  private long snapshotTerm;
  private final ArrayList<LogEntry> entries = new ArrayList<>(); // snapshotIndex+1 .. without gaps
  private long entriesBytes;
  private byte[] snapshotData = new byte[0];

  public MemoryStorage() {}

  /** A new storage holding the same state: what the next incarnation of a crashed peer starts from. */
  public synchronized MemoryStorage copy() {
    MemoryStorage c = new MemoryStorage();
    c.hardState = hardState;
    c.snapshotIndex = snapshotIndex;
    c.snapshotTerm = snapshotTerm;
    c.entries.addAll(entries);
    c.entriesBytes = entriesBytes;
    c.snapshotData = snapshotData; // never mutated in place
    return c;
  }

  // ---------------------------------------------------------------- the lab Persister API

  /** Replaces both parts at once; a null or empty snapshot erases the stored one. */
  public synchronized void save(byte[] raftState, byte[] snapshot) {
    RaftCodec.RaftState s =
        raftState == null || raftState.length == 0
            ? new RaftCodec.RaftState(HardState.INITIAL, 0, 0, List.of())
            : RaftCodec.decodeRaftState(raftState);
    hardState = s.hardState();
    snapshotIndex = s.snapshotIndex();
    snapshotTerm = s.snapshotTerm();
    entries.clear();
    entriesBytes = 0;
    for (LogEntry e : s.entries()) addEntry(e);
    snapshotData = snapshot == null ? new byte[0] : snapshot.clone();
  }

  public synchronized byte[] readRaftState() {
    if (hardState.equals(HardState.INITIAL) && snapshotIndex == 0 && entries.isEmpty()) return new byte[0];
    return RaftCodec.encodeRaftState(hardState, snapshotIndex, snapshotTerm, entries);
  }

  public synchronized byte[] readSnapshot() {
    return snapshotData.clone();
  }

  // ---------------------------------------------------------------- RaftStorage

  @Override
  public synchronized PersistentState load() {
    Snapshot snap = snapshotIndex == 0 ? Snapshot.EMPTY : new Snapshot(snapshotIndex, snapshotTerm, snapshotData);
    return new PersistentState(hardState, snap, entries);
  }

  @Override
  public synchronized void persist(Ready ready) {
    Snapshot s = ready.snapshot();
    if (s != null && s.index() > snapshotIndex) {
      long keepFrom = s.index() + 1;
      boolean matches = s.index() <= lastIndex() && termAt(s.index()) == s.term();
      int drop = matches ? (int) (s.index() - snapshotIndex) : entries.size();
      for (int i = 0; i < drop; i++) entriesBytes -= RaftCodec.entrySize(entries.get(i));
      entries.subList(0, drop).clear();
      snapshotIndex = s.index();
      snapshotTerm = s.term();
      snapshotData = s.data();
      assert entries.isEmpty() || entries.get(0).index() == keepFrom;
    }
    List<LogEntry> add = ready.entries();
    if (!add.isEmpty()) {
      long first = add.get(0).index();
      if (first <= snapshotIndex || first > lastIndex() + 1)
        throw new IllegalStateException("entries from " + first + " do not fit the log (" + snapshotIndex + ", " + lastIndex() + "]");
      while (lastIndex() >= first) {
        LogEntry removed = entries.remove(entries.size() - 1);
        entriesBytes -= RaftCodec.entrySize(removed);
      }
      for (LogEntry e : add) addEntry(e);
    }
    if (ready.hardState() != null) hardState = ready.hardState();
  }

  @Override
  public synchronized long raftStateSize() {
    return RaftCodec.raftStateSize(hardState, snapshotIndex, snapshotTerm, entries.size(), entriesBytes);
  }

  @Override
  public synchronized long snapshotSize() {
    return snapshotData.length;
  }

  private void addEntry(LogEntry e) {
    entries.add(e);
    entriesBytes += RaftCodec.entrySize(e);
  }

  private long lastIndex() {
    return snapshotIndex + entries.size();
  }

  private long termAt(long index) {
    if (index == snapshotIndex) return snapshotTerm;
    return entries.get((int) (index - snapshotIndex - 1)).term();
  }
}
