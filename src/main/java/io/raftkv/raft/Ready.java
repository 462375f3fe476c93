package io.raftkv.raft;

import java.util.List;

/**
 * The effects of the inputs a {@link RaftCore} took since the last {@code ready()}. The caller must
 * carry them out in this order: persist ({@code snapshot}, then {@code entries}, then {@code
 * hardState}), then send {@code messages}, then hand {@code applies} to the service.
 *
 * @param hardState the new term and vote, or null when unchanged
 * @param entries entries to persist; the first may overwrite (and truncate) the persisted suffix
 * @param snapshot a new snapshot to persist (the log up to it is compacted), or null
 * @param messages messages to send once the above is durable
 * @param applies committed entries and installed snapshots, in log order
 */
public record Ready(
    HardState hardState,
    List<LogEntry> entries,
    Snapshot snapshot,
    List<Envelope> messages,
    List<ApplyMsg> applies) {

  public boolean mustPersist() {
    return hardState != null || !entries.isEmpty() || snapshot != null;
  }

  public boolean isEmpty() {
    return !mustPersist() && messages.isEmpty() && applies.isEmpty();
  }
}
