package io.raftkv.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.testing.RaftTestCluster;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * RaftPeers with the production settings (PreVote, CheckQuorum) on the lab's network: a node that
 * comes back does not depose the leader, a cut-off leader steps down, and leadership transfer
 * works end to end through {@link RaftPeer.TransferLeader}.
 */
@Timeout(120)
class RaftLivenessTest {
  static final ActorTestKit kit = ActorTestKit.create();
  static final RaftConfig PRODUCTION = RaftConfig.production();

  @AfterAll
  static void done() {
    kit.shutdownTestKit();
  }

  static RaftTestCluster cluster(int n) {
    return new RaftTestCluster(kit, n, true, false, PRODUCTION, Duration.ofMillis(10));
  }

  /** Waits (polling the peers, as the lab's tester does) until {@code done} holds. */
  static void await(String what, java.util.function.BooleanSupplier done) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting until " + what);
      Thread.sleep(20); // polls another actor system's state; there is no event to wait on
    }
  }

  @Test
  void aFollowerBackFromAPartitionDoesNotDeposeTheLeader() throws Exception {
    try (RaftTestCluster c = cluster(3)) {
      int leader = c.checkOneLeader();
      long term = c.term(leader);
      int away = (leader + 1) % 3;
      c.disconnectAll(away);
      c.one(101, 2, true);
      Thread.sleep(PRODUCTION.electionTicksMax() * 10L * 3); // three election timeouts alone
      assertEquals(term, c.term(away), "PreVote: a node cut off does not raise its term");
      c.connectOne(away);
      c.one(102, 3, true);
      assertEquals(leader, c.checkOneLeader());
      assertEquals(term, c.term(leader), "no election happened");
    }
  }

  @Test
  void aLeaderCutOffFromTheMajorityStepsDown() throws Exception {
    try (RaftTestCluster c = cluster(3)) {
      int leader = c.checkOneLeader();
      c.disconnectAll(leader);
      // CheckQuorum: between one and two election timeouts later it no longer leads
      await("the old leader steps down", () -> !c.isLeader(leader));
      int other = c.checkOneLeader();
      assertNotEquals(leader, other);
      assertFalse(c.start(leader, 7).isLeader(), "a minority node accepts nothing");
      c.connectOne(leader);
      c.one(103, 3, true);
    }
  }

  @Test
  void leadershipMovesToTheChosenFollowerAndBack() throws Exception {
    try (RaftTestCluster c = cluster(3)) {
      int leader = c.checkOneLeader();
      c.one(201, 3, true);
      long term = c.term(leader);
      int target = (leader + 2) % 3;
      RaftPeer.TransferResult r = c.transferLeader(leader, target);
      assertTrue(r.done(), "transfer: " + r);
      assertEquals(target, r.leader());
      assertTrue(r.term() > term);
      assertEquals(target, c.checkOneLeader());
      c.one(202, 3, true);

      RaftPeer.TransferResult back = c.transferLeader(target, -1);
      assertTrue(back.done(), "transfer to the best follower: " + back);
      assertNotEquals(target, back.leader());
      c.one(203, 3, true);
    }
  }

  @Test
  void aTransferToAnUnreachableFollowerFailsAndTheLeaderStays() throws Exception {
    try (RaftTestCluster c = cluster(3)) {
      int leader = c.checkOneLeader();
      int target = (leader + 1) % 3;
      c.disconnectAll(target);
      RaftPeer.TransferResult r = c.transferLeader(leader, target);
      assertFalse(r.done());
      assertTrue(c.isLeader(leader), "still leads: " + r);
      c.one(301, 2, true);
      RaftPeer.TransferResult notLeader = c.transferLeader((leader + 2) % 3, leader);
      assertFalse(notLeader.done());
      assertEquals(leader, notLeader.leader(), "a follower names the leader");
    }
  }
}
