package io.raftkv.raft.sim;

import io.raftkv.raft.ApplyMsg;
import io.raftkv.raft.Configuration;
import io.raftkv.raft.PersistentState;
import io.raftkv.raft.RaftConfig;
import io.raftkv.raft.RaftCore;
import io.raftkv.raft.Ready;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * A Raft whose leader serves reads from its own commit index without confirming that it still
 * leads (a "lease" read with no lease): a leader cut off from a majority, which another leader
 * has replaced, answers with a stale read point. The simulator must catch this; {@link
 * BrokenCoreDetectionTest} checks that it does.
 */
final class StaleReadRaftCore extends RaftCore {
  private final List<ApplyMsg> reads = new ArrayList<>();

  StaleReadRaftCore(int id, Configuration initial, RaftConfig config, RandomGenerator random, PersistentState state) {
    super(id, initial, config, random, state);
  }

  @Override
  public void readIndex(long ctx) {
    if (isLeader()) {
      reads.add(new ApplyMsg.ReadReady(ctx, commitIndex(), id()));
    } else {
      super.readIndex(ctx);
    }
  }

  @Override
  public Ready ready() {
    Ready r = super.ready();
    if (reads.isEmpty()) return r;
    List<ApplyMsg> applies = new ArrayList<>(r.applies());
    applies.addAll(reads);
    reads.clear();
    return new Ready(r.hardState(), r.entries(), r.snapshot(), r.messages(), applies);
  }
}
