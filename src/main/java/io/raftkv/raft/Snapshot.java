package io.raftkv.raft;

/**
 * The service's state as of {@code index} (inclusive), taken at {@code term}; {@code data} is opaque
 * to Raft. {@code configuration} is the membership in effect at {@code index}, or null when none
 * was recorded (a snapshot taken before configurations were: the group's initial one applies).
 * {@link #EMPTY} stands for "no snapshot yet".
 */
public record Snapshot(long index, long term, byte[] data, Configuration configuration) {
  public static final Snapshot EMPTY = new Snapshot(0, 0, new byte[0]);

  /** A snapshot without a recorded configuration. */
  public Snapshot(long index, long term, byte[] data) {
    this(index, term, data, null);
  }

  public boolean isEmpty() {
    return index == 0;
  }
}
