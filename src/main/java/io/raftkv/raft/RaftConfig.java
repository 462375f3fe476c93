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
 */
public record RaftConfig(
    int electionTicksMin,
    int electionTicksMax,
    int heartbeatTicks,
    int commitNotifyTicks,
    int maxEntriesPerMessage,
    long maxBytesPerMessage,
    int maxInflight,
    int snapshotResendTicks) {

  public RaftConfig {
    if (heartbeatTicks < 1) throw new IllegalArgumentException("heartbeatTicks must be >= 1");
    if (electionTicksMin <= heartbeatTicks)
      throw new IllegalArgumentException("election timeout must exceed the heartbeat interval");
    if (electionTicksMax <= electionTicksMin)
      throw new IllegalArgumentException("electionTicksMax must exceed electionTicksMin");
    if (maxEntriesPerMessage < 1 || maxBytesPerMessage < 1 || maxInflight < 1)
      throw new IllegalArgumentException("flow-control limits must be positive");
  }

  /**
   * Defaults for a 10 ms tick: heartbeats every 100 ms (the lab allows at most ten a second),
   * election timeouts of 400–800 ms, commit news within 20 ms.
   */
  public static RaftConfig defaults() {
    return new RaftConfig(40, 80, 10, 2, 512, 1 << 20, 16, 30);
  }
}
