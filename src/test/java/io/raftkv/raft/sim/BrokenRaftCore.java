package io.raftkv.raft.sim;

import io.raftkv.raft.Configuration;
import io.raftkv.raft.PersistentState;
import io.raftkv.raft.RaftConfig;
import io.raftkv.raft.RaftCore;
import io.raftkv.raft.RaftMessage;
import java.util.random.RandomGenerator;

/**
 * A Raft without the election restriction (§5.4.1): it votes for any candidate it may vote for,
 * however stale the candidate's log, by reading every RequestVote as if the candidate's log were
 * the most up-to-date possible. A candidate missing committed entries can then win and overwrite
 * them. The simulator must catch this; {@link BrokenCoreDetectionTest} checks that it does.
 * No seam in the main code is needed: the lie is told at the door.
 */
final class BrokenRaftCore extends RaftCore {
  BrokenRaftCore(int id, Configuration initial, RaftConfig config, RandomGenerator random, PersistentState state) {
    super(id, initial, config, random, state);
  }

  @Override
  public void step(int from, RaftMessage m) {
    if (m instanceof RaftMessage.RequestVote rv) {
      m = new RaftMessage.RequestVote(rv.term(), Long.MAX_VALUE, Long.MAX_VALUE, rv.preVote(), rv.transfer());
    }
    super.step(from, m);
  }
}
