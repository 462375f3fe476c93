package io.raftkv.raft;

/**
 * One entry of the replicated log. A {@link Type#COMMAND}'s bytes are opaque to Raft: the layer
 * above encodes them (an empty one is a leader's no-op). A {@link Type#CONFIGURATION}'s bytes are a
 * {@link Configuration} in {@link RaftCodec#encodeConfiguration}'s form: Raft's own, never handed to
 * the service as a command. Entries are immutable by convention: nobody writes into {@code command}
 * after creating one.
 */
public record LogEntry(long index, long term, byte[] command, Type type) {
  /** What an entry carries. */
  public enum Type {
    COMMAND,
    CONFIGURATION
  }

  public LogEntry {
    if (index < 1) throw new IllegalArgumentException("log indices start at 1, got " + index);
    if (term < 1) throw new IllegalArgumentException("entry terms start at 1, got " + term);
    if (command == null) throw new IllegalArgumentException("command must not be null");
    if (type == null) throw new IllegalArgumentException("type must not be null");
  }

  /** A command entry. */
  public LogEntry(long index, long term, byte[] command) {
    this(index, term, command, Type.COMMAND);
  }

  public boolean isConfiguration() {
    return type == Type.CONFIGURATION;
  }
}
