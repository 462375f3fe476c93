package io.raftkv.raft;

import java.util.List;

/** The messages Raft peers exchange (Figure 2 plus the conflict hints of fast backtracking). */
public sealed interface RaftMessage {
  long term();

  /** True for answers to another peer's request: the simulated network counts only requests as RPCs. */
  default boolean isReply() {
    return false;
  }

  /**
   * True unless the sender expects no answer at all ({@link TimeoutNow}). Every other request is
   * answered exactly once, at once, in arrival order.
   */
  default boolean expectsReply() {
    return !isReply();
  }

  /**
   * A vote request. With {@code preVote} it only asks whether the receiver would vote for the
   * sender at {@code term} (the sender's term + 1), changing nothing on either side (§9.6). With
   * {@code transfer} the election was started by a leadership transfer (§3.10), so voters grant it
   * even while they still hear from the current leader.
   */
  record RequestVote(long term, long lastLogIndex, long lastLogTerm, boolean preVote, boolean transfer)
      implements RaftMessage {
    public RequestVote(long term, long lastLogIndex, long lastLogTerm) {
      this(term, lastLogIndex, lastLogTerm, false, false);
    }
  }

  /**
   * Answer to {@link RequestVote}. A granted pre-vote carries the term it was asked for, a refusal
   * the receiver's own term.
   */
  record RequestVoteReply(long term, boolean voteGranted, boolean preVote) implements RaftMessage {
    public RequestVoteReply(long term, boolean voteGranted) {
      this(term, voteGranted, false);
    }

    @Override
    public boolean isReply() {
      return true;
    }
  }

  /** From a leader handing over its leadership: campaign now, skipping the pre-vote (§3.10). */
  record TimeoutNow(long term) implements RaftMessage {
    @Override
    public boolean expectsReply() {
      return false;
    }
  }

  /**
   * {@code readRound}: the leader's latest ReadIndex confirmation round when it sent this (0:
   * none yet); the follower echoes it, so the answer proves the leader still led after the round
   * began (§6.4).
   */
  record AppendEntries(
      long term, long prevLogIndex, long prevLogTerm, List<LogEntry> entries, long leaderCommit, long readRound)
      implements RaftMessage {
    public AppendEntries(long term, long prevLogIndex, long prevLogTerm, List<LogEntry> entries, long leaderCommit) {
      this(term, prevLogIndex, prevLogTerm, entries, leaderCommit, 0);
    }
  }

  /**
   * Answer to {@link AppendEntries}. On success {@code matchIndex} is the last index known to match
   * the leader. On failure {@code rejectedIndex} is the prevLogIndex that did not match and the
   * hints say where to retry: {@code conflictTerm} (0 when the log is too short) with the first
   * index of that term, and the follower's log length ({@code lastLogIndex + 1}). Either way
   * {@code readRound} echoes the request's.
   */
  record AppendEntriesReply(
      long term,
      boolean success,
      long matchIndex,
      long rejectedIndex,
      long conflictTerm,
      long conflictIndex,
      long logLength,
      long readRound)
      implements RaftMessage {
    public AppendEntriesReply(
        long term, boolean success, long matchIndex, long rejectedIndex, long conflictTerm, long conflictIndex, long logLength) {
      this(term, success, matchIndex, rejectedIndex, conflictTerm, conflictIndex, logLength, 0);
    }

    @Override
    public boolean isReply() {
      return true;
    }

    public static AppendEntriesReply accepted(long term, long matchIndex) {
      return new AppendEntriesReply(term, true, matchIndex, 0, 0, 0, 0, 0);
    }

    /** The same answer, echoing read round {@code round}. */
    public AppendEntriesReply withReadRound(long round) {
      return new AppendEntriesReply(term, success, matchIndex, rejectedIndex, conflictTerm, conflictIndex, logLength, round);
    }
  }

  /**
   * From a follower to its leader: a linearizable read is wanted (§6.4). One-way: the leader
   * answers with a {@link ReadIndexResult} once it has confirmed its leadership, or not at all
   * (the follower gives up after an election timeout). {@code ctx} is the follower's own tag.
   */
  record ReadIndex(long term, long ctx) implements RaftMessage {
    @Override
    public boolean expectsReply() {
      return false;
    }
  }

  /**
   * From a leader to a follower that sent {@link ReadIndex}: a read started before this leader's
   * confirmation round may be served once the follower has applied {@code index}. One-way.
   */
  record ReadIndexResult(long term, long ctx, long index) implements RaftMessage {
    @Override
    public boolean expectsReply() {
      return false;
    }
  }

  /**
   * One chunk of a snapshot (Figure 13): bytes {@code [offset, offset + data.length)} of a snapshot
   * of {@code size} bytes covering the log up to {@code lastIncludedIndex}.
   */
  record InstallSnapshot(
      long term, long lastIncludedIndex, long lastIncludedTerm, long offset, long size, byte[] data, Configuration configuration)
      implements RaftMessage {
    /** A chunk of a snapshot without a recorded configuration. */
    public InstallSnapshot(long term, long lastIncludedIndex, long lastIncludedTerm, long offset, long size, byte[] data) {
      this(term, lastIncludedIndex, lastIncludedTerm, offset, size, data, null);
    }

    /** The whole snapshot in one message. */
    public InstallSnapshot(long term, long lastIncludedIndex, long lastIncludedTerm, byte[] data) {
      this(term, lastIncludedIndex, lastIncludedTerm, 0, data.length, data);
    }

    public boolean isLast() {
      return offset + data.length == size;
    }
  }

  /**
   * Answer to {@link InstallSnapshot}. {@code done}: this follower's state now covers {@code
   * lastIncludedIndex} (installed, or it had it already). Otherwise {@code received} is how many
   * leading bytes of that snapshot it holds: the offset the leader goes on from.
   */
  record InstallSnapshotReply(long term, long lastIncludedIndex, long received, boolean done) implements RaftMessage {
    public InstallSnapshotReply(long term, long lastIncludedIndex) {
      this(term, lastIncludedIndex, 0, true);
    }

    @Override
    public boolean isReply() {
      return true;
    }
  }
}
