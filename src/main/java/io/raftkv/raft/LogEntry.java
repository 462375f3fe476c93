package io.raftkv.raft;

/**
 * One entry of the replicated log. The command is opaque to Raft: the layer above encodes it.
 * Entries are immutable by convention: nobody writes into {@code command} after creating one.
 */
public record LogEntry(long index, long term, byte[] command) {
  public LogEntry {
    if (index < 1) throw new IllegalArgumentException("log indices start at 1, got " + index);
    if (term < 1) throw new IllegalArgumentException("entry terms start at 1, got " + term);
    if (command == null) throw new IllegalArgumentException("command must not be null");
  }
}
