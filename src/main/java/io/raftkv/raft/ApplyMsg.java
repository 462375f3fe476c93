package io.raftkv.raft;

/** What Raft hands to the service above it, strictly in log order. */
public sealed interface ApplyMsg {

  /**
   * A committed command at {@code index}. An empty command is a no-op the leader appended so it
   * could serve reads (see {@link RaftCore}): services skip it.
   */
  record Command(long index, long term, byte[] command) implements ApplyMsg {}

  /**
   * The configuration entry at {@code index} is committed: {@code configuration} is the group's
   * membership from there on (unless a later entry changes it). It follows the {@link Command} of
   * its index, an empty one: services that do not care about membership skip both.
   */
  record ConfigurationApplied(long index, Configuration configuration) implements ApplyMsg {}

  /** A snapshot installed from the leader: the service must replace its state with it. */
  record SnapshotInstalled(long index, long term, byte[] data) implements ApplyMsg {}

  /**
   * This peer's term or leadership changed. Not part of the log: it lets a service fail requests
   * waiting on a leadership it no longer has.
   */
  record LeadershipChanged(long term, boolean isLeader) implements ApplyMsg {}

  /**
   * The answer to {@link RaftCore#readIndex}: a linearizable read asked for with {@code ctx} may be
   * served once every entry up to {@code index} is applied. {@code index} -1: no read point; retry
   * (at {@code leader}, this peer's leader hint, or -1).
   */
  record ReadReady(long ctx, long index, int leader) implements ApplyMsg {
    public boolean ok() {
      return index >= 0;
    }
  }

  /** The peer was killed: nothing more will follow. */
  enum Stopped implements ApplyMsg {
    INSTANCE
  }
}
