package io.raftkv.raft;

/**
 * The service's state as of {@code index} (inclusive), taken at {@code term}; {@code data} is opaque
 * to Raft. {@link #EMPTY} stands for "no snapshot yet".
 */
public record Snapshot(long index, long term, byte[] data) {
  public static final Snapshot EMPTY = new Snapshot(0, 0, new byte[0]);

  public boolean isEmpty() {
    return index == 0;
  }
}
