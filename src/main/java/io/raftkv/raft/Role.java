package io.raftkv.raft;

public enum Role {
  FOLLOWER,
  /** Asking for pre-votes (§9.6): the term is not raised until a majority would vote. */
  PRE_CANDIDATE,
  CANDIDATE,
  LEADER
}
