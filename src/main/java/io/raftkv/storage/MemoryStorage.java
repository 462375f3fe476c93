package io.raftkv.storage;

import io.raftkv.raft.Configuration;
import io.raftkv.raft.HardState;
import io.raftkv.raft.LogEntry;
import io.raftkv.raft.LogTail;
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
  private final Entries log = new Entries();
  private byte[] snapshotData = new byte[0];
  private Configuration snapshotConfiguration; // null: none recorded

  /** The entries after the snapshot, with the sum of their encoded sizes kept as they change. */
  private static final class Entries extends LogTail {
    private final ArrayList<LogEntry> list = new ArrayList<>();
    private long bytes;

    @Override
    protected int count() {
      return list.size();
    }

    @Override
    protected long termAt(int i) {
      return list.get(i).term();
    }

    @Override
    protected void addLast(LogEntry e) {
      list.add(e);
      bytes += RaftCodec.entrySize(e);
    }

    @Override
    protected void keepFirst(int n) {
      while (list.size() > n) bytes -= RaftCodec.entrySize(list.remove(list.size() - 1));
    }

    @Override
    protected void dropFirst(int n) {
      for (int i = 0; i < n; i++) bytes -= RaftCodec.entrySize(list.get(i));
      list.subList(0, n).clear();
    }

    @Override
    protected void dropAll() {
      list.clear();
      bytes = 0;
    }
  }

  public MemoryStorage() {}

  /** A new storage holding the same state: what the next incarnation of a crashed peer starts from. */
  public synchronized MemoryStorage copy() {
    MemoryStorage c = new MemoryStorage();
    c.hardState = hardState;
    c.log.resetTo(log.snapshotIndex(), log.snapshotTerm());
    c.log.list.addAll(log.list);
    c.log.bytes = log.bytes;
    c.snapshotData = snapshotData; // never mutated in place
    c.snapshotConfiguration = snapshotConfiguration;
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
    log.resetTo(s.snapshotIndex(), s.snapshotTerm());
    // Unchecked, as the lab's Persister stores what it is given: RaftCore checks the log it starts from.
    for (LogEntry e : s.entries()) log.addLast(e);
    snapshotData = snapshot == null ? new byte[0] : snapshot.clone();
    snapshotConfiguration = null; // the lab's snapshots carry no membership
  }

  public synchronized byte[] readRaftState() {
    if (hardState.equals(HardState.INITIAL) && log.snapshotIndex() == 0 && log.list.isEmpty()) return new byte[0];
    return RaftCodec.encodeRaftState(hardState, log.snapshotIndex(), log.snapshotTerm(), log.list);
  }

  public synchronized byte[] readSnapshot() {
    return snapshotData.clone();
  }

  // ---------------------------------------------------------------- RaftStorage

  @Override
  public synchronized PersistentState load() {
    Snapshot snap =
        log.snapshotIndex() == 0
            ? Snapshot.EMPTY
            : new Snapshot(log.snapshotIndex(), log.snapshotTerm(), snapshotData, snapshotConfiguration);
    return new PersistentState(hardState, snap, log.list);
  }

  /** Throws {@link IllegalStateException}, changing nothing, if the entries do not fit the log. */
  @Override
  public synchronized void persist(Ready ready) {
    Snapshot s = ready.snapshot();
    boolean newer = s != null && s.index() > log.snapshotIndex();
    log.apply(s, ready.entries());
    if (newer) {
      snapshotData = s.data();
      snapshotConfiguration = s.configuration();
    }
    if (ready.hardState() != null) hardState = ready.hardState();
  }

  @Override
  public synchronized long raftStateSize() {
    return RaftCodec.raftStateSize(hardState, log.snapshotIndex(), log.snapshotTerm(), log.list.size(), log.bytes);
  }

  @Override
  public synchronized long snapshotSize() {
    return snapshotData.length;
  }
}
