package io.raftkv.raft;

import static io.raftkv.testing.RaftTestCluster.ELECTION_TIMEOUT;
import static io.raftkv.testing.RaftTestCluster.sleep;

import io.raftkv.testing.RaftTestCluster;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/** The lab's Part 3A tests (leader election), step by step (lab-tests-spec §7.1). */
@Timeout(180)
@Execution(ExecutionMode.CONCURRENT) // each test has its own cluster and network
class RaftLab3ATest {
  static final ActorTestKit kit = ActorTestKit.create();

  @AfterAll
  static void done() {
    kit.shutdownTestKit();
  }

  @Test
  void initialElection3A() {
    try (RaftTestCluster ts = new RaftTestCluster(kit, 3, true, false)) {
      ts.begin("Test (3A): initial election");
      ts.checkOneLeader();
      // sleep a bit to avoid racing with followers learning of the election, then check all
      // peers agree on the term
      sleep(50);
      long term1 = ts.checkTerms();
      if (term1 < 1) ts.fail("term is " + term1 + ", but should be at least 1");
      // does the leader+term stay the same if there is no network failure?
      sleep(2 * ELECTION_TIMEOUT.toMillis());
      long term2 = ts.checkTerms();
      if (term1 != term2) System.out.println("warning: term changed even though there were no failures");
      // there should still be a leader
      ts.checkOneLeader();
      ts.end();
    }
  }

  @Test
  void reElection3A() {
    int servers = 3;
    try (RaftTestCluster ts = new RaftTestCluster(kit, servers, true, false)) {
      ts.begin("Test (3A): election after network failure");
      int leader1 = ts.checkOneLeader();
      // if the leader disconnects, a new one should be elected
      ts.disconnectAll(leader1);
      ts.checkOneLeader();
      // if the old leader rejoins, that shouldn't disturb the new leader
      ts.connectOne(leader1);
      int leader2 = ts.checkOneLeader();
      // if there's no quorum, no new leader should be elected
      ts.disconnectAll(leader2);
      ts.disconnectAll((leader2 + 1) % servers);
      sleep(2 * ELECTION_TIMEOUT.toMillis());
      // check that the one connected server does not think it is the leader
      ts.checkNoLeader();
      // if a quorum arises, it should elect a leader
      ts.connectOne((leader2 + 1) % servers);
      ts.checkOneLeader();
      // re-join of last node shouldn't prevent leader from existing
      ts.connectOne(leader2);
      ts.checkOneLeader();
      ts.end();
    }
  }

  @Test
  void manyElections3A() {
    int servers = 7;
    try (RaftTestCluster ts = new RaftTestCluster(kit, servers, true, false)) {
      ts.begin("Test (3A): multiple elections");
      ts.checkOneLeader();
      int iters = 10;
      for (int ii = 1; ii < iters; ii++) {
        // disconnect three nodes
        int i1 = ts.rand(servers);
        int i2 = ts.rand(servers);
        int i3 = ts.rand(servers);
        ts.disconnectAll(i1);
        ts.disconnectAll(i2);
        ts.disconnectAll(i3);
        // either the current leader should still be alive, or the remaining four should elect a new one
        ts.checkOneLeader();
        ts.connectOne(i1);
        ts.connectOne(i2);
        ts.connectOne(i3);
      }
      ts.checkOneLeader();
      ts.end();
    }
  }
}
