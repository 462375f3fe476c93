package io.raftkv.raft;

import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The leadership transfers a {@link RaftPeer} was asked for and has not answered yet, and when each
 * is over. Not thread-safe: the peer's actor owns it.
 */
final class LeaderTransfers {
  private record Pending(int target, long term, long startTick, ActorRef<RaftPeer.TransferResult> replyTo) {}

  private final List<Pending> pending = new ArrayList<>();
  private final int giveUpTicks;

  /** @param electionTicksMax a transfer with no leader after two of these is over */
  LeaderTransfers(int electionTicksMax) {
    this.giveUpTicks = 2 * electionTicksMax;
  }

  /** Answers {@code replyTo} for a transfer {@code core} was just asked for, now or once it is over. */
  void started(RaftCore core, RaftCore.Transfer outcome, int to, long tick, ActorRef<RaftPeer.TransferResult> replyTo) {
    switch (outcome) {
      case STARTED -> pending.add(new Pending(core.leadTransferee(), core.term(), tick, replyTo));
      case SELF -> replyTo.tell(new RaftPeer.TransferResult(true, core.id(), core.term(), null));
      case NOT_LEADER -> replyTo.tell(new RaftPeer.TransferResult(false, core.leader(), core.term(), "not the leader"));
      case UNKNOWN_PEER -> replyTo.tell(new RaftPeer.TransferResult(false, core.leader(), core.term(), "no peer n" + to));
      case NO_FOLLOWER -> replyTo.tell(new RaftPeer.TransferResult(false, core.leader(), core.term(), "no follower to hand over to"));
    }
  }

  /**
   * Answers the transfers that ended: the target leads a newer term (done), another peer does, this
   * peer leads without a transfer under way (the core gave up after an election timeout), or no
   * leader emerged within two election timeouts.
   */
  void settle(RaftCore core, long tick) {
    if (pending.isEmpty()) return;
    pending.removeIf(
        t -> {
          String error = null;
          if (!core.isLeader() && core.leader() == t.target() && core.term() > t.term()) {
            t.replyTo().tell(new RaftPeer.TransferResult(true, t.target(), core.term(), null));
            return true;
          } else if (core.isLeader() && core.leadTransferee() != t.target()) {
            error = core.term() == t.term() ? "n" + t.target() + " did not take over within an election timeout" : "n" + core.id() + " was elected again";
          } else if (!core.isLeader() && core.leader() != -1 && core.leader() != t.target()) {
            error = "n" + core.leader() + " was elected instead";
          } else if (tick - t.startTick() > giveUpTicks) {
            error = "no leader emerged";
          }
          if (error == null) return false;
          t.replyTo().tell(new RaftPeer.TransferResult(false, core.leader(), core.term(), error));
          return true;
        });
  }
}
