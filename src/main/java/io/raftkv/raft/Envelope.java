package io.raftkv.raft;

/** A message addressed from one peer to another, as the core asks the shell to send it. */
public record Envelope(int from, int to, RaftMessage message) {}
