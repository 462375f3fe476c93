package io.raftkv.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.raft.RaftMessage.AppendEntries;
import io.raftkv.raft.RaftMessage.AppendEntriesReply;
import io.raftkv.raft.RaftMessage.RequestVote;
import io.raftkv.raft.RaftMessage.RequestVoteReply;
import io.raftkv.raft.RaftMessage.TimeoutNow;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * PreVote, CheckQuorum and leadership transfer, as scenario scripts over a hand-driven group
 * (the PV, CQ and LT scenarios of raft-extensions-spec.md; E = 10 ticks, heartbeat 3).
 */
class RaftExtensionsTest {
  static final RaftConfig LAB = TestNet.CONFIG;
  static final RaftConfig PRE_VOTE = LAB.withPreVote(true);
  static final RaftConfig CHECK_QUORUM = LAB.withCheckQuorum(true);
  static final RaftConfig BOTH = LAB.withPreVote(true).withCheckQuorum(true);
  static final int E = LAB.electionTicksMin();

  /** A group of three led by n0, everything delivered. */
  static TestNet ledBy0(RaftConfig config) {
    TestNet net = new TestNet(3, config);
    net.elect(0);
    net.stabilize();
    return net;
  }

  static void heartbeat(TestNet net, int leader) {
    net.tick(leader, net.config.heartbeatTicks());
    net.stabilize();
  }

  static long[] terms(TestNet net) {
    long[] t = new long[net.n];
    for (int i = 0; i < net.n; i++) t[i] = net.core(i).term();
    return t;
  }

  // ---------------------------------------------------------------- PreVote (§9.6)

  @Test
  void preVoteElectsWithoutExtraTerms() {
    TestNet net = ledBy0(PRE_VOTE);
    assertTrue(net.core(0).isLeader());
    assertEquals(1, net.core(0).term(), "the pre-vote round raised no term");
  }

  /** PV1: a node whose log is behind gets no pre-votes, and nobody's term moves. */
  @Test
  void aLaggingNodeCannotWinAPreVoteAndChangesNoTerm() {
    TestNet net = ledBy0(PRE_VOTE);
    net.propose(0, "x");
    net.deliverWhile(e -> !(e.from() == 2 || e.to() == 2));
    net.dropAll();
    assertEquals(1, net.core(1).lastLogIndex());
    assertEquals(0, net.core(2).lastLogIndex());

    net.campaign(2);
    assertEquals(Role.PRE_CANDIDATE, net.core(2).role());
    RequestVote pv = net.sent(2, 0, RequestVote.class).get(0);
    assertTrue(pv.preVote());
    assertEquals(2, pv.term(), "a pre-vote asks for the next term");
    net.deliverWhile(e -> e.message() instanceof RequestVote || e.message() instanceof RequestVoteReply);
    assertEquals(Role.FOLLOWER, net.core(2).role(), "a majority refused: back to follower");
    assertEquals(List.of(1L, 1L, 1L), List.of(net.core(0).term(), net.core(1).term(), net.core(2).term()));
    assertTrue(net.core(0).isLeader(), "the leader was not disturbed");
  }

  /** PV8: granting a pre-vote changes nothing on the voter; the answer carries the asked term. */
  @Test
  void grantingAPreVoteLeavesTheVoterUntouched() {
    TestNet twin = new TestNet(3, PRE_VOTE); // same seeds: the same election timeouts
    int timeout = 0;
    while (twin.core(1).role() == Role.FOLLOWER) {
      twin.tick(1);
      timeout++;
    }
    TestNet net = new TestNet(3, PRE_VOTE);
    net.tick(1, 3);
    net.step(1, 2, new RequestVote(1, 0, 0, true, false));
    RequestVoteReply r = net.sent(1, 2, RequestVoteReply.class).get(0);
    assertTrue(r.voteGranted());
    assertTrue(r.preVote());
    assertEquals(1, r.term());
    assertEquals(0, net.core(1).term());
    assertEquals(HardState.NO_VOTE, net.core(1).votedFor());
    assertNull(net.lastReady[1].hardState(), "nothing to persist");
    // the election timer was not reset: 3 ticks are already counted
    net.tick(1, timeout - 3 - 1);
    assertEquals(Role.FOLLOWER, net.core(1).role());
    net.tick(1);
    assertEquals(Role.PRE_CANDIDATE, net.core(1).role(), "the timer kept running");
  }

  /** PV3 (etcd #8243): a pre-vote from a lower term is refused with the receiver's term. */
  @Test
  void aNodeStuckAtALowTermLearnsTheTermAndAnElectionCompletes() {
    TestNet net = ledBy0(PRE_VOTE);
    net.isolated.add(2);
    // n1 takes over twice while n2 is cut off: terms 2 and 3
    net.isolated.add(0);
    net.campaign(1);
    net.stabilize();
    net.isolated.remove(0);
    net.campaign(1);
    net.stabilize();
    net.campaign(1);
    net.stabilize();
    assertTrue(net.core(1).isLeader());
    long t = net.core(1).term();
    assertTrue(t >= 2);
    assertEquals(1, net.core(2).term());
    // n2 comes back, n1 dies: n0 and n2 must be able to elect someone
    net.isolated.remove(2);
    net.isolated.add(1);
    net.dropAll();
    net.campaign(2);
    net.stabilize();
    assertEquals(t, net.core(2).term(), "n0's refusal taught n2 the term");
    for (int k = 0; k < 6 && !net.core(0).isLeader() && !net.core(2).isLeader(); k++) {
      net.campaign(k % 2 == 0 ? 0 : 2);
      net.stabilize();
    }
    assertTrue(net.core(0).isLeader() || net.core(2).isLeader(), "some leader exists");
  }

  /** PV9: a leader's campaign is a no-op (here: a group of one, with and without PreVote). */
  @Test
  void aGroupOfOneElectsItselfWithPreVote() {
    TestNet net = new TestNet(1, PRE_VOTE);
    net.campaign(0);
    assertTrue(net.core(0).isLeader());
    assertEquals(1, net.core(0).term());
    net.tick(0, 3 * E);
    assertTrue(net.core(0).isLeader());
    assertEquals(1, net.core(0).term());
  }

  /** PV4: a node back from a partition does not depose the leader (PreVote + CheckQuorum). */
  @Test
  void aRejoiningNodeDoesNotDisruptTheLeader() {
    TestNet net = ledBy0(BOTH);
    net.isolated.add(2);
    for (int k = 0; k < 3; k++) {
      net.propose(0, "c" + k);
      heartbeat(net, 0);
    }
    // cut off, n2 campaigns again and again: its pre-votes never reach anyone, its term stays
    for (int k = 0; k < 3; k++) net.campaign(2);
    assertEquals(1, net.core(2).term());
    net.isolated.remove(2);
    net.dropAll();
    net.campaign(2);
    net.stabilize();
    assertTrue(net.core(0).isLeader(), "n0 still leads");
    assertEquals(1, net.core(0).term());
    heartbeat(net, 0);
    assertEquals(Role.FOLLOWER, net.core(2).role());
    assertEquals(0, net.core(2).leader());
    assertEquals(3, net.core(2).commitIndex(), "and catches up");
  }

  /**
   * PV10, etcd's choice: a follower that heard from its leader within the election timeout
   * ignores every pre-vote, even an up-to-date one. (hashicorp instead accepts its own leader's.)
   */
  @Test
  void followersInTheirLeaseRefuseEvenUpToDatePreVotes() {
    TestNet net = ledBy0(BOTH);
    net.step(1, 2, new RequestVote(2, net.core(2).lastLogIndex(), net.core(2).lastLogTerm(), true, false));
    RequestVoteReply r = net.sent(1, 2, RequestVoteReply.class).get(0);
    assertFalse(r.voteGranted());
    assertEquals(1, r.term());
    // once the lease has run out (no heartbeat for E ticks), the same request is granted
    net.dropAll();
    net.tick(1, E);
    net.dropAll();
    net.step(1, 2, new RequestVote(2, net.core(2).lastLogIndex(), net.core(2).lastLogTerm(), true, false));
    assertTrue(net.sent(1, 2, RequestVoteReply.class).get(0).voteGranted());
  }

  // ---------------------------------------------------------------- CheckQuorum (§6.2)

  /** CQ2: a leader with one active follower of two keeps leading; with none it steps down. */
  @Test
  void aLeaderKeepsLeadingWithAQuorumAndStepsDownWithout() {
    TestNet net = ledBy0(CHECK_QUORUM);
    net.isolated.add(2);
    for (int k = 0; k < 3 * E; k++) {
      net.tick(0);
      net.stabilize();
    }
    assertTrue(net.core(0).isLeader(), "n1 answers: a majority");

    net.isolated.add(1);
    for (int k = 0; k < 2 * E; k++) net.tick(0);
    assertEquals(Role.FOLLOWER, net.core(0).role(), "nobody answered for a whole election timeout");
    assertEquals(1, net.core(0).term(), "stepping down keeps the term");
    assertEquals(-1, net.core(0).leader());
  }

  @Test
  void withoutCheckQuorumAMinorityLeaderKeepsLeading() {
    TestNet net = ledBy0(LAB);
    net.isolated.addAll(List.of(1, 2));
    net.tick(0, 10 * E);
    assertTrue(net.core(0).isLeader(), "the lab's LeaderPartition tests need this");
  }

  /** CQ1: voters that hear from the leader ignore a candidate; its term does not spread. */
  @Test
  void anActiveLeaderBlocksElections() {
    TestNet net = ledBy0(CHECK_QUORUM);
    net.campaign(2);
    assertEquals(2, net.core(2).term());
    net.stabilize();
    assertEquals(1, net.core(1).term(), "n1 ignored the candidate");
    assertTrue(net.core(0).isLeader() || net.core(0).term() == 2);
    // n2's higher term reaches the leader through its answers to heartbeats (CQ7's documented
    // cost without PreVote): the leader steps down, and the next election restores service
    heartbeat(net, 0);
    for (int k = 0; k < 5 && !anyLeader(net); k++) {
      net.tick(k % 3, 2 * E);
      net.stabilize();
    }
    assertTrue(anyLeader(net));
  }

  /** CQ5: a candidate stuck at a higher term is freed when a stale leader's heartbeat arrives. */
  @Test
  void aStuckCandidateIsFreedByTheOldLeadersHeartbeat() {
    TestNet net = ledBy0(CHECK_QUORUM);
    net.isolated.add(0);
    net.campaign(2);
    net.stabilize();
    net.campaign(2);
    net.stabilize();
    assertEquals(Role.CANDIDATE, net.core(2).role(), "n1 ignores n2: its lease is fresh");
    assertEquals(1, net.core(1).term());
    long stuck = net.core(2).term();
    net.isolated.remove(0);
    net.dropAll();
    net.tick(0, LAB.heartbeatTicks());
    net.deliverWhile(e -> (e.from() == 0 && e.to() == 2) || (e.from() == 2 && e.to() == 0));
    assertEquals(Role.FOLLOWER, net.core(0).role());
    assertEquals(stuck, net.core(0).term(), "n2's answer carries its term");
    net.stabilize();
    for (int k = 0; k < 5 && !anyLeader(net); k++) {
      net.campaign(2);
      net.stabilize();
    }
    assertTrue(anyLeader(net));
  }

  /** CQ10 (etcd #8334): a pre-candidate forgets its leader, so it grants others' pre-votes. */
  @Test
  void aPreCandidateForgetsItsLeader() {
    TestNet net = ledBy0(BOTH);
    net.isolated.add(0);
    net.campaign(2);
    assertEquals(Role.PRE_CANDIDATE, net.core(2).role());
    assertEquals(-1, net.core(2).leader());
    net.stabilize(); // n1 ignores n2: its lease is fresh
    net.campaign(1);
    net.stabilize();
    assertTrue(net.core(1).isLeader(), "n2 granted n1's pre-vote and vote");
    assertEquals(2, net.core(1).term());
  }

  /** A leader paused past the others' election, back: one step down, no extra elections. */
  @Test
  void aPausedLeaderStepsDownOnItsFirstAnswer() {
    TestNet net = ledBy0(BOTH);
    net.isolated.add(0);
    net.tick(2, E); // n2's lease on n0 runs out too
    for (int k = 0; k < 3 && !net.core(1).isLeader() && !net.core(2).isLeader(); k++) {
      net.campaign(1);
      net.stabilize();
    }
    assertTrue(net.core(1).isLeader());
    long t = net.core(1).term();
    net.isolated.remove(0);
    heartbeat(net, 0); // the old leader still thinks it leads
    assertEquals(Role.FOLLOWER, net.core(0).role());
    heartbeat(net, 1);
    assertEquals(1, net.core(0).leader());
    assertEquals(t, net.core(1).term(), "no extra election");
  }

  static boolean anyLeader(TestNet net) {
    for (int i = 0; i < net.n; i++) if (net.core(i).isLeader()) return true;
    return false;
  }

  // ---------------------------------------------------------------- leadership transfer (§3.10)

  /** LT1/LT2: to an up-to-date follower and back, also through vote leases. */
  @Test
  void transferToAnUpToDateFollowerAndBack() {
    for (RaftConfig config : List.of(LAB, BOTH)) {
      TestNet net = ledBy0(config);
      assertEquals(RaftCore.Transfer.STARTED, net.transfer(0, 1));
      net.stabilize();
      assertTrue(net.core(1).isLeader(), "with " + config);
      assertEquals(2, net.core(1).term());
      assertEquals(Role.FOLLOWER, net.core(0).role());
      net.propose(1, "x");
      heartbeat(net, 1);
      assertEquals(RaftCore.Transfer.STARTED, net.transfer(1, 0));
      net.stabilize();
      assertTrue(net.core(0).isLeader());
      assertEquals(3, net.core(0).term());
    }
  }

  /** LT3: a slow follower is brought up to date first; TimeoutNow only then. */
  @Test
  void transferToASlowFollowerCatchesItUpFirst() {
    TestNet net = ledBy0(BOTH);
    net.isolated.add(2);
    net.propose(0, "x");
    heartbeat(net, 0);
    net.isolated.remove(2);
    net.dropAll();
    assertEquals(0, net.core(2).lastLogIndex());
    net.transfer(0, 2);
    assertTrue(net.sent(0, 2, TimeoutNow.class).isEmpty(), "not before n2 has caught up");
    heartbeat(net, 0); // the next probe finds where n2's log ends; TimeoutNow follows its catch-up
    assertEquals(1, net.core(2).lastLogIndex());
    assertTrue(net.core(2).isLeader());
    assertEquals(2, net.core(2).term());
  }

  /** LT5: to itself, or to a peer that does not exist: nothing happens. */
  @Test
  void transferToSelfOrToAStrangerDoesNothing() {
    TestNet net = ledBy0(LAB);
    assertEquals(RaftCore.Transfer.SELF, net.transfer(0, 0));
    assertEquals(RaftCore.Transfer.UNKNOWN_PEER, net.transfer(0, 7));
    assertEquals(RaftCore.Transfer.NOT_LEADER, net.transfer(1, 2));
    assertTrue(net.core(0).isLeader());
    assertEquals(-1, net.core(0).leadTransferee());
    // transfer back to self cancels a pending one
    net.isolated.add(2);
    net.transfer(0, 2);
    assertEquals(2, net.core(0).leadTransferee());
    assertEquals(RaftCore.Transfer.SELF, net.transfer(0, 0));
    assertEquals(-1, net.core(0).leadTransferee());
    assertTrue(net.propose(0, "y").isLeader(), "proposals flow again");
  }

  /** LT6/LT7: proposals are dropped while a transfer is pending; it gives up after E ticks. */
  @Test
  void aTransferThatCannotCompleteTimesOutAndProposalsResume() {
    TestNet net = ledBy0(LAB);
    net.isolated.add(2);
    net.propose(0, "x");
    heartbeat(net, 0);
    long last = net.core(0).lastLogIndex();
    assertEquals(RaftCore.Transfer.STARTED, net.transfer(0, 2));
    assertFalse(net.propose(0, "dropped").isLeader(), "no proposals during a transfer");
    assertEquals(last, net.core(0).lastLogIndex());
    net.tick(0, LAB.heartbeatTicks());
    assertEquals(2, net.core(0).leadTransferee(), "still pending after a heartbeat");
    // LT10b: asking again for the same target does not extend the deadline
    net.transfer(0, 2);
    net.tick(0, E - LAB.heartbeatTicks());
    assertEquals(-1, net.core(0).leadTransferee(), "abandoned after an election timeout");
    assertTrue(net.core(0).isLeader());
    assertTrue(net.propose(0, "y").isLeader());
  }

  /** LT10a: a request for another target replaces the pending one. */
  @Test
  void aSecondTransferToAnotherTargetReplacesTheFirst() {
    TestNet net = ledBy0(LAB);
    net.isolated.add(2);
    net.transfer(0, 2);
    net.transfer(0, 1);
    net.stabilize();
    assertTrue(net.core(1).isLeader());
  }

  /** LT8: an election by someone else cancels the transfer. */
  @Test
  void aCompetingElectionCancelsTheTransfer() {
    TestNet net = ledBy0(LAB);
    net.isolated.add(2);
    net.transfer(0, 2);
    net.campaign(1);
    net.stabilize();
    assertTrue(net.core(1).isLeader());
    assertEquals(-1, net.core(0).leadTransferee());
    assertEquals(RaftCore.Transfer.NOT_LEADER, net.transfer(0, 2));
  }

  /** LT11: candidates ignore TimeoutNow; a stale one is ignored too. */
  @Test
  void candidatesAndStaleTimeoutNowsAreIgnored() {
    TestNet net = ledBy0(LAB);
    net.isolated.add(0);
    net.campaign(1);
    long t = net.core(1).term();
    net.step(1, 0, new TimeoutNow(t));
    assertEquals(t, net.core(1).term(), "a candidate does not campaign again on TimeoutNow");
    net.dropAll();
    net.step(2, 0, new TimeoutNow(0));
    assertEquals(Role.FOLLOWER, net.core(2).role());
  }

  /** A transfer election passes voters' leases: the old leader's followers still hear from it. */
  @Test
  void aTransferElectionCarriesTheTransferFlag() {
    TestNet net = ledBy0(BOTH);
    net.transfer(0, 1);
    net.deliverWhile(e -> e.message() instanceof TimeoutNow);
    RequestVote rv = net.sent(1, 2, RequestVote.class).get(0);
    assertTrue(rv.transfer());
    assertFalse(rv.preVote(), "a transfer skips the pre-vote");
  }

  // ---------------------------------------------------------------- snapshots in chunks

  /** A leader of three whose n2 missed five entries that the leader then compacted away. */
  static TestNet behindASnapshot(RaftConfig config) {
    TestNet net = ledBy0(config);
    net.isolated.add(2);
    for (int k = 0; k < 5; k++) {
      net.propose(0, "c" + k);
      heartbeat(net, 0);
    }
    net.snapshot(0, 5); // "snap@5": 6 bytes
    net.isolated.remove(2);
    net.dropAll();
    return net;
  }

  static boolean chunkTo2(Envelope e) {
    return e.to() == 2 && e.message() instanceof RaftMessage.InstallSnapshot;
  }

  @Test
  void aSnapshotStreamsInChunksWithinTheWindowAndEachChunkHoldsOffAnElection() {
    TestNet net = behindASnapshot(LAB.withSnapshotChunkBytes(2));
    net.tick(0, LAB.heartbeatTicks()); // the probe finds n2 behind the snapshot: the stream starts
    int chunks = 0;
    int mostInFlight = 0;
    while (!net.queue.isEmpty()) {
      mostInFlight = Math.max(mostInFlight, (int) net.queue.stream().filter(RaftExtensionsTest::chunkTo2).count());
      Envelope e = net.queue.remove(0);
      if (chunkTo2(e)) {
        chunks++;
        net.tick(2, E - 1); // without the chunks resetting its timer, n2 would campaign
      }
      net.deliver(e);
    }
    assertTrue(chunks >= 3, "three chunks of two bytes: " + chunks);
    assertTrue(mostInFlight <= LAB.maxInflight(), "at most maxInflight chunks unacknowledged: " + mostInFlight);
    assertEquals(Role.FOLLOWER, net.core(2).role());
    assertEquals(5, net.core(2).snapshotIndex());
    assertEquals("snap@5", new String(net.core(2).latestSnapshot().data(), java.nio.charset.StandardCharsets.UTF_8));
    net.propose(0, "after");
    net.stabilize();
    heartbeat(net, 0);
    assertEquals(6, net.core(2).commitIndex(), "and replicates normally afterwards");
  }

  @Test
  void aLostChunkIsResentFromWhatTheFollowerHolds() {
    TestNet net = behindASnapshot(LAB.withSnapshotChunkBytes(2));
    net.tick(0, LAB.heartbeatTicks());
    // deliver everything up to the first chunk, lose the second
    net.deliverWhile(e -> !chunkTo2(e));
    net.deliverWhile(e -> chunkTo2(e) && ((RaftMessage.InstallSnapshot) e.message()).offset() == 0);
    List<Envelope> lost = net.take(e -> chunkTo2(e) && ((RaftMessage.InstallSnapshot) e.message()).offset() == 2);
    assertEquals(1, lost.size());
    java.util.List<Long> offsets = new java.util.ArrayList<>();
    for (int k = 0; k < 20 && net.core(2).snapshotIndex() < 5; k++) {
      net.queue.stream().filter(RaftExtensionsTest::chunkTo2).forEach(e -> offsets.add(((RaftMessage.InstallSnapshot) e.message()).offset()));
      net.stabilize();
      net.tick(0, LAB.heartbeatTicks());
    }
    net.stabilize();
    assertEquals(5, net.core(2).snapshotIndex());
    assertFalse(offsets.contains(0L), "the first two bytes were not sent again: " + offsets);
  }

  /**
   * Every chunk reaches n2 twice. Each second copy draws a "this is what I hold" answer that does
   * not move the stream on; a leader that went back and resent its whole window on each of them
   * multiplied the chunks in flight (the simulator's seed 91: 2.5 million messages of one-byte
   * chunks in a schedule that needs a few thousand). It goes back once to each position.
   */
  @Test
  void duplicatedChunksDoNotMultiplyTheStream() {
    TestNet net = behindASnapshot(LAB.withSnapshotChunkBytes(1));
    net.tick(0, LAB.heartbeatTicks());
    int chunks = 0;
    while (!net.queue.isEmpty() && chunks < 10_000) {
      Envelope e = net.queue.remove(0);
      if (chunkTo2(e)) {
        chunks++;
        net.deliver(e);
      }
      net.deliver(e);
    }
    assertEquals(5, net.core(2).snapshotIndex(), "the snapshot is installed");
    // "snap@5" is 6 one-byte chunks; the stream goes back to each position at most once, resending
    // at most a window each time. Going back on every such answer sent 30.
    assertTrue(chunks <= 6 * (1 + LAB.maxInflight()), "chunks sent for a 6-byte snapshot: " + chunks);
  }

  // ---------------------------------------------------------------- malformed input

  @Test
  void invalidMessagesAreNamed() {
    RaftCore c = new TestNet(3).core(0);
    // a sender outside the configuration may be a member to be, or a removed leader still
    // replicating its removal: the core takes it (the shell drops what it cannot route)
    assertNull(c.invalid(3, new RequestVoteReply(1, true)), "a sender outside the configuration");
    assertNotNull(c.invalid(0, new RequestVoteReply(1, true)), "itself");
    assertNotNull(c.invalid(-1, new RequestVoteReply(1, true)));
    assertNotNull(c.invalid(1, new RequestVoteReply(-5, true)), "negative term");
    assertNotNull(c.invalid(1, new RequestVote(1, 3, 2)), "last log term beyond the term");
    LogEntry e2 = new LogEntry(2, 1, new byte[0]);
    LogEntry e5 = new LogEntry(5, 1, new byte[0]);
    assertNotNull(c.invalid(1, new AppendEntries(1, 0, 0, List.of(e2), 0)), "a gap");
    assertNotNull(c.invalid(1, new AppendEntries(1, 2, 0, List.of(new LogEntry(3, 1, new byte[0]), e5), 0)), "a gap inside");
    assertNotNull(c.invalid(1, new AppendEntries(1, 0, 0, List.of(new LogEntry(1, 2, new byte[0])), 0)), "entry term above the leader's");
    assertNotNull(c.invalid(1, new AppendEntriesReply(1, false, 0, -1, 0, 0, 0)));
    assertNull(c.invalid(1, new AppendEntries(1, 1, 1, List.of(e2), 0)));
    assertNull(c.invalid(2, new RequestVote(3, 0, 0, true, false)));
  }

  @Test
  void theNewMessagesRoundTripThroughTheCodec() {
    for (RaftMessage m :
        List.<RaftMessage>of(
            new RequestVote(4, 10, 3, true, false),
            new RequestVote(4, 10, 3, false, true),
            new RequestVote(4, 10, 3, true, true),
            new RequestVote(4, 10, 3),
            new RequestVoteReply(5, true, true),
            new RequestVoteReply(5, false, true),
            new RequestVoteReply(5, true),
            new TimeoutNow(9))) {
      assertEquals(m, RaftCodec.decodeMessage(RaftCodec.encode(m)));
    }
    // the plain vote is encoded as before (byte for byte: old peers and the lab's byte counts)
    assertEquals(RaftCodec.encode(new RequestVote(4, 10, 3)).length, RaftCodec.encode(new RequestVote(4, 10, 3, false, false)).length);
  }
}
