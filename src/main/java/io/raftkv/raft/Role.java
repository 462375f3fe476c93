package io.raftkv.raft;

public enum Role {
  FOLLOWER,
  CANDIDATE,
  LEADER
}
