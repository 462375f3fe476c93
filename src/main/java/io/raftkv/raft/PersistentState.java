package io.raftkv.raft;

import java.util.List;

/**
 * Everything a peer persisted: what a restarted peer is rebuilt from. {@code entries} follow the
 * snapshot without gaps.
 */
public record PersistentState(HardState hardState, Snapshot snapshot, List<LogEntry> entries) {
  public static final PersistentState EMPTY =
      new PersistentState(HardState.INITIAL, Snapshot.EMPTY, List.of());

  public PersistentState {
    entries = List.copyOf(entries);
  }
}
