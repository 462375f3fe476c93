package io.raftkv.raft;

/**
 * Protocol timing and flow-control settings, in ticks of the shell's clock.
 *
 * @param electionTicksMin lower bound (inclusive) of the randomized election timeout
 * @param electionTicksMax upper bound (exclusive) of the randomized election timeout
 * @param heartbeatTicks how often an idle leader reaches each follower
 * @param commitNotifyTicks how long a leader waits before telling followers about a new commit
 *     index that no other message carried; batches commit news of bursts of proposals
 * @param maxEntriesPerMessage most entries one AppendEntries carries
 * @param maxBytesPerMessage most command bytes one AppendEntries carries (at least one entry goes)
 * @param maxInflight most AppendEntries with entries unacknowledged per follower
 * @param snapshotResendTicks how long a leader waits for an InstallSnapshot answer before resending
 * @param preVote campaign in two phases (dissertation §9.6): a node first asks whether it could win,
 *     without raising its term, so a node coming back from a partition or pause cannot depose a
 *     healthy leader
 * @param checkQuorum a leader that has not heard from a majority for an election timeout steps
 *     down, and a follower that heard from its leader within the last election timeout ignores
 *     votes for another (dissertation §6.2, the "vote lease")
 */
public record RaftConfig(
    int electionTicksMin,
    int electionTicksMax,
    int heartbeatTicks,
    int commitNotifyTicks,
    int maxEntriesPerMessage,
    long maxBytesPerMessage,
    int maxInflight,
    int snapshotResendTicks,
    boolean preVote,
    boolean checkQuorum,
    int snapshotChunkBytes) {

  public RaftConfig {
    if (heartbeatTicks < 1) throw new IllegalArgumentException("heartbeatTicks must be >= 1");
    if (electionTicksMin <= heartbeatTicks)
      throw new IllegalArgumentException("election timeout must exceed the heartbeat interval");
    if (electionTicksMax <= electionTicksMin)
      throw new IllegalArgumentException("electionTicksMax must exceed electionTicksMin");
    if (maxEntriesPerMessage < 1 || maxBytesPerMessage < 1 || maxInflight < 1 || snapshotChunkBytes < 1)
      throw new IllegalArgumentException("flow-control limits must be positive");
  }

  /** Snapshot chunks of 1 MiB: the transport splits them further into frames it can carry. */
  public static final int DEFAULT_SNAPSHOT_CHUNK = 1 << 20;

  /** The lab's Raft: no PreVote, no CheckQuorum (a minority leader keeps its leadership). */
  public RaftConfig(
      int electionTicksMin, int electionTicksMax, int heartbeatTicks, int commitNotifyTicks,
      int maxEntriesPerMessage, long maxBytesPerMessage, int maxInflight, int snapshotResendTicks) {
    this(
        electionTicksMin, electionTicksMax, heartbeatTicks, commitNotifyTicks,
        maxEntriesPerMessage, maxBytesPerMessage, maxInflight, snapshotResendTicks, false, false, DEFAULT_SNAPSHOT_CHUNK);
  }

  public RaftConfig withPreVote(boolean on) {
    return withExtensions(on, checkQuorum, snapshotChunkBytes);
  }

  public RaftConfig withCheckQuorum(boolean on) {
    return withExtensions(preVote, on, snapshotChunkBytes);
  }

  public RaftConfig withSnapshotChunkBytes(int bytes) {
    return withExtensions(preVote, checkQuorum, bytes);
  }

  private RaftConfig withExtensions(boolean preVote, boolean checkQuorum, int snapshotChunkBytes) {
    return new RaftConfig(
        electionTicksMin, electionTicksMax, heartbeatTicks, commitNotifyTicks,
        maxEntriesPerMessage, maxBytesPerMessage, maxInflight, snapshotResendTicks, preVote, checkQuorum, snapshotChunkBytes);
  }

  /**
   * These settings, written for a 10 ms tick, for a tick of {@code tickMillis}: every timeout keeps
   * its length in time (rounded down, at least one tick), so a longer tick only coarsens them.
   */
  public RaftConfig forTickMillis(long tickMillis) {
    if (tickMillis < 1) throw new IllegalArgumentException("tickMillis must be >= 1");
    int heartbeat = scale(heartbeatTicks, tickMillis);
    int min = Math.max(heartbeat + 1, scale(electionTicksMin, tickMillis));
    int max = Math.max(min + 1, scale(electionTicksMax, tickMillis));
    return new RaftConfig(
        min, max, heartbeat, scale(commitNotifyTicks, tickMillis), maxEntriesPerMessage, maxBytesPerMessage,
        maxInflight, scale(snapshotResendTicks, tickMillis), preVote, checkQuorum, snapshotChunkBytes);
  }

  private static int scale(int ticksAt10ms, long tickMillis) {
    return (int) Math.max(1, ticksAt10ms * 10L / tickMillis);
  }

  /** {@link #defaults()} with PreVote and CheckQuorum on: what a real deployment runs. */
  public static RaftConfig production() {
    return defaults().withPreVote(true).withCheckQuorum(true);
  }

  /**
   * The lab's defaults (PreVote and CheckQuorum off) for a 10 ms tick: heartbeats every 100 ms (the lab allows at most ten a second),
   * election timeouts of 400–800 ms, commit news within 20 ms.
   */
  public static RaftConfig defaults() {
    return new RaftConfig(40, 80, 10, 2, 512, 1 << 20, 16, 30);
  }
}
