package io.raftkv.raft;

import java.util.ArrayDeque;

/**
 * A leader's view of one follower's log (etcd's Progress). Invariant: {@code match < next}.
 *
 * <ul>
 *   <li>PROBE: the leader does not know where the logs diverge; one AppendEntries at a time.
 *   <li>REPLICATE: the logs agree up to {@code match}; new entries stream out at once, up to
 *       {@code maxInflight} unacknowledged messages.
 *   <li>SNAPSHOT: the follower needs entries the leader compacted; an InstallSnapshot is out.
 * </ul>
 */
final class Progress {
  enum State {
    PROBE,
    REPLICATE,
    SNAPSHOT
  }

  long match;
  long next;
  State state = State.PROBE;
  /** PROBE: an AppendEntries is out and unanswered; no other goes until a reply or a heartbeat. */
  boolean probeSent;
  /**
   * SNAPSHOT: the index of the snapshot being streamed, the next byte to send, the bytes the
   * follower confirmed holding, and ticks since the confirmation last moved.
   * {@code snapshotAcked <= snapshotSent}.
   */
  long pendingSnapshot;
  Snapshot streaming; // kept whole while it streams, even if the leader compacts again meanwhile
  long snapshotSent;
  long snapshotAcked;
  long snapshotReported; // what the follower said it holds in its latest answer (it may restart)
  boolean snapshotStarted;
  int snapshotTicks;
  /**
   * SNAPSHOT: the byte the stream last went back to, or -1. It goes back to each position once
   * (the stall timer covers a resent chunk lost again): the answers to chunks already in flight
   * when it went back, duplicates among them, do not move the stream on either, and resending the
   * window for each of them multiplied the chunks in flight.
   */
  long snapshotRewoundTo = -1;
  /** REPLICATE: the last index carried by each unacknowledged AppendEntries, oldest first. */
  final ArrayDeque<Long> inflight = new ArrayDeque<>();
  /** An answer came from this follower since the leader's last CheckQuorum window began. */
  boolean recentActive;
  /** The highest commit index this follower has been told. */
  long sentCommit;

  Progress(long next) {
    this.next = next;
  }

  void becomeProbe() {
    state = State.PROBE;
    probeSent = false;
    inflight.clear();
    next = Math.max(next, match + 1);
  }

  void becomeReplicate() {
    state = State.REPLICATE;
    probeSent = false;
    next = Math.max(next, match + 1);
  }

  void becomeSnapshot(long snapshotIndex) {
    state = State.SNAPSHOT;
    pendingSnapshot = snapshotIndex;
    snapshotSent = 0;
    snapshotAcked = 0;
    snapshotReported = 0;
    snapshotStarted = false;
    snapshotTicks = 0;
    snapshotRewoundTo = -1;
    inflight.clear();
  }

  /** Records an acknowledgement up to {@code index}; returns true if {@code match} moved. */
  boolean maybeUpdate(long index) {
    while (!inflight.isEmpty() && inflight.peekFirst() <= index) inflight.pollFirst();
    if (index <= match) return false;
    match = index;
    next = Math.max(next, index + 1);
    return true;
  }

  boolean inflightFull(int maxInflight) {
    return inflight.size() >= maxInflight;
  }
}
