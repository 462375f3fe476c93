package io.raftkv.raft;

/** The part of Figure 2's persistent state that is not the log: currentTerm and votedFor. */
public record HardState(long term, int votedFor) {
  public static final int NO_VOTE = -1;
  public static final HardState INITIAL = new HardState(0, NO_VOTE);
}
