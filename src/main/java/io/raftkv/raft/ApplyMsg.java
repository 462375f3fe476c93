package io.raftkv.raft;

/** What Raft hands to the service above it, strictly in log order. */
public sealed interface ApplyMsg {

  /** A committed command at {@code index}. */
  record Command(long index, long term, byte[] command) implements ApplyMsg {}

  /** A snapshot installed from the leader: the service must replace its state with it. */
  record SnapshotInstalled(long index, long term, byte[] data) implements ApplyMsg {}

  /**
   * This peer's term or leadership changed. Not part of the log: it lets a service fail requests
   * waiting on a leadership it no longer has.
   */
  record LeadershipChanged(long term, boolean isLeader) implements ApplyMsg {}

  /** The peer was killed: nothing more will follow. */
  enum Stopped implements ApplyMsg {
    INSTANCE
  }
}
