package io.raftkv.raft;

/**
 * The answer to "start this command" ({@link RaftCore#propose}, {@link RaftPeer.Start}): where the
 * command will be committed, if it ever is; {@code index} -1 when this peer cannot take it (not the
 * leader, or handing its leadership over). {@code leader} is the peer this one believes leads
 * (itself when {@code isLeader}; the transfer target during a leadership transfer), or -1 when it
 * knows none: a hint for clients.
 */
public record Proposal(long index, long term, boolean isLeader, int leader) {}
