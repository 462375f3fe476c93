package io.raftkv.raft;

import java.util.List;

/** The messages Raft peers exchange (Figure 2 plus the conflict hints of fast backtracking). */
public sealed interface RaftMessage {
  long term();

  /** True for answers to another peer's request: the simulated network counts only requests as RPCs. */
  default boolean isReply() {
    return false;
  }

  record RequestVote(long term, long lastLogIndex, long lastLogTerm) implements RaftMessage {}

  record RequestVoteReply(long term, boolean voteGranted) implements RaftMessage {
    @Override
    public boolean isReply() {
      return true;
    }
  }

  record AppendEntries(
      long term, long prevLogIndex, long prevLogTerm, List<LogEntry> entries, long leaderCommit)
      implements RaftMessage {}

  /**
   * Answer to {@link AppendEntries}. On success {@code matchIndex} is the last index known to match
   * the leader. On failure {@code rejectedIndex} is the prevLogIndex that did not match and the
   * hints say where to retry: {@code conflictTerm} (0 when the log is too short) with the first
   * index of that term, and the follower's log length ({@code lastLogIndex + 1}).
   */
  record AppendEntriesReply(
      long term,
      boolean success,
      long matchIndex,
      long rejectedIndex,
      long conflictTerm,
      long conflictIndex,
      long logLength)
      implements RaftMessage {
    @Override
    public boolean isReply() {
      return true;
    }

    public static AppendEntriesReply accepted(long term, long matchIndex) {
      return new AppendEntriesReply(term, true, matchIndex, 0, 0, 0, 0);
    }
  }

  record InstallSnapshot(long term, long lastIncludedIndex, long lastIncludedTerm, byte[] data)
      implements RaftMessage {}

  record InstallSnapshotReply(long term, long lastIncludedIndex) implements RaftMessage {
    @Override
    public boolean isReply() {
      return true;
    }
  }
}
