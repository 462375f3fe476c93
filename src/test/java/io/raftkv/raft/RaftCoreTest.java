package io.raftkv.raft;

import static io.raftkv.raft.TestNet.concat;
import static io.raftkv.raft.TestNet.state;
import static io.raftkv.raft.TestNet.terms;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.raft.RaftMessage.AppendEntries;
import io.raftkv.raft.RaftMessage.AppendEntriesReply;
import io.raftkv.raft.RaftMessage.InstallSnapshot;
import io.raftkv.raft.RaftMessage.RequestVote;
import io.raftkv.raft.RaftMessage.RequestVoteReply;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Scenario scripts over a hand-driven group: campaign; deliver; stabilize; look. */
class RaftCoreTest {

  // ---------------------------------------------------------------- helpers

  /** Elects 0 in a group of {@code n} and lets the first probes settle (followers replicate). */
  static TestNet leaderOf(int n, RaftConfig config) {
    TestNet net = new TestNet(n, config);
    net.elect(0);
    net.stabilize();
    return net;
  }

  /** Campaigns {@code i} until it wins; gives up after a few terms. */
  static void electEventually(TestNet net, int i) {
    for (int attempt = 0; attempt < 5 && !net.core(i).isLeader(); attempt++) {
      net.campaign(i);
      net.stabilize();
    }
    assertTrue(net.core(i).isLeader(), "n" + i + " was not elected");
  }

  /** Ticks the leader through one heartbeat interval and delivers everything. */
  static void heartbeat(TestNet net, int leader) {
    net.tick(leader, net.config.heartbeatTicks());
    net.stabilize();
  }

  /** Applies came in log order without gaps; an installed snapshot may only move forward. */
  static void assertAppliedInOrder(TestNet net, int i) {
    long last = net.restoredAt[i];
    for (ApplyMsg m : net.applied.get(i)) {
      if (m instanceof ApplyMsg.Command c) {
        assertEquals(last + 1, c.index(), "n" + i + " applied out of order");
        last = c.index();
      } else if (m instanceof ApplyMsg.SnapshotInstalled s) {
        assertTrue(s.index() > last, "n" + i + " installed a snapshot that moves it backwards");
        last = s.index();
      }
    }
  }

  static List<Long> logTerms(RaftCore c) {
    return c.logEntries().stream().map(LogEntry::term).toList();
  }

  static String str(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  static List<String> cmds(String... s) {
    return List.of(s);
  }

  // ---------------------------------------------------------------- election (§5.2)

  @Test
  void campaignDeliverStabilizeElectsOneLeader() {
    TestNet net = new TestNet(3);
    net.campaign(0);
    assertEquals(Role.CANDIDATE, net.core(0).role());
    assertEquals(1, net.core(0).term());
    assertEquals(1, net.sent(0, 1, RequestVote.class).size());
    assertEquals(1, net.sent(0, 2, RequestVote.class).size());

    net.stabilize();

    assertTrue(net.core(0).isLeader());
    assertEquals(1, net.core(0).term());
    for (int i = 1; i < 3; i++) {
      assertEquals(Role.FOLLOWER, net.core(i).role());
      assertEquals(1, net.core(i).term());
      assertEquals(0, net.core(i).votedFor());
      assertEquals(0, net.core(i).leader(), "n" + i + " learns the leader from its first AppendEntries");
    }
  }

  @Test
  void aGroupOfOneElectsItselfAndCommitsAtOnce() {
    TestNet net = new TestNet(1);
    net.campaign(0);
    assertTrue(net.core(0).isLeader());
    net.propose(0, "a");
    assertEquals(1, net.core(0).commitIndex());
    assertEquals(cmds("a"), net.commands(0));
  }

  @Test
  void aCandidateWithoutAMajorityStaysCandidateAndRetriesInANewTerm() {
    TestNet net = new TestNet(5);
    net.isolated.addAll(List.of(2, 3, 4));
    net.campaign(0);
    net.stabilize();
    assertEquals(Role.CANDIDATE, net.core(0).role(), "two votes of five do not elect");
    net.campaign(0);
    assertEquals(2, net.core(0).term());
    net.isolated.clear();
    net.stabilize();
    assertTrue(net.core(0).isLeader());
  }

  @Test
  void aPeerVotesForAtMostOneCandidatePerTerm() {
    TestNet net = new TestNet(3);
    net.step(2, 0, new RequestVote(1, 0, 0));
    assertTrue(((RequestVoteReply) net.lastReady[2].messages().get(0).message()).voteGranted());
    net.step(2, 1, new RequestVote(1, 0, 0));
    assertFalse(((RequestVoteReply) net.lastReady[2].messages().get(0).message()).voteGranted());
    // a retransmitted request from the candidate it voted for is granted again
    net.step(2, 0, new RequestVote(1, 0, 0));
    assertTrue(((RequestVoteReply) net.lastReady[2].messages().get(0).message()).voteGranted());
  }

  @Test
  void aVoteSurvivesARestart() {
    TestNet net = new TestNet(3);
    net.step(2, 0, new RequestVote(1, 0, 0));
    net.restart(2);
    assertEquals(1, net.core(2).term());
    assertEquals(0, net.core(2).votedFor());
    net.step(2, 1, new RequestVote(1, 0, 0));
    assertFalse(((RequestVoteReply) net.lastReady[2].messages().get(0).message()).voteGranted());
  }

  @ParameterizedTest(name = "voter log ends (3, term 2); candidate's ends ({0}, term {1}) -> granted {2}")
  @CsvSource({
    "3, 2, true", // as up-to-date
    "4, 2, true", // same last term, longer
    "2, 2, false", // same last term, shorter
    "1, 3, true", // a later last term wins even when shorter
    "9, 1, false", // an earlier last term loses even when longer
    "0, 0, false",
  })
  void electionRestriction(long lastIndex, long lastTerm, boolean granted) {
    // §5.4.1: vote only for a candidate whose log is at least as up-to-date as ours
    TestNet net = new TestNet(TestNet.CONFIG, null, state(2, 1, 1, 2));
    net.step(1, 0, new RequestVote(3, lastIndex, lastTerm));
    Ready r = net.lastReady[1];
    assertEquals(granted, ((RequestVoteReply) r.messages().get(0).message()).voteGranted());
    // the new term (and the vote, if any) are persisted in the Ready that carries the answer
    assertEquals(new HardState(3, granted ? 0 : HardState.NO_VOTE), r.hardState());
    assertEquals(3, net.storages[1].load().hardState().term());
  }

  @Test
  void aStaleLogCannotWinAnElection() {
    TestNet net = new TestNet(TestNet.CONFIG, state(1, 1), state(2, 1, 2), state(2, 1, 2));
    net.campaign(0);
    net.stabilize();
    assertFalse(net.core(0).isLeader());
    assertEquals(List.of(1L, 2L), logTerms(net.core(1)), "nothing was overwritten");
  }

  @Test
  void aRefusedHigherTermVoteRequestDoesNotResetTheElectionTimer() {
    // Known bug d: stepping down because of a RequestVote must not restart the timer, or a
    // candidate that cannot win (stale log) keeps delaying everyone else's elections.
    int ticksToCampaign = ticksUntilCampaign(new TestNet(TestNet.CONFIG, null, null, state(1, 1, 1)), 2);

    TestNet net = new TestNet(TestNet.CONFIG, null, null, state(1, 1, 1));
    net.tick(2, ticksToCampaign - 1);
    net.step(2, 1, new RequestVote(5, 0, 0)); // stale log: refused
    assertEquals(5, net.core(2).term());
    assertEquals(Role.FOLLOWER, net.core(2).role());
    net.tick(2);
    assertEquals(Role.CANDIDATE, net.core(2).role(), "the timer kept running across the step-down");
    assertEquals(6, net.core(2).term());
  }

  @Test
  void grantingAVoteResetsTheElectionTimer() {
    int ticksToCampaign = ticksUntilCampaign(new TestNet(3), 2);
    TestNet net = new TestNet(3);
    net.tick(2, ticksToCampaign - 1);
    net.step(2, 1, new RequestVote(5, 0, 0));
    assertEquals(1, net.core(2).votedFor());
    net.tick(2);
    assertEquals(Role.FOLLOWER, net.core(2).role());
  }

  static int ticksUntilCampaign(TestNet net, int i) {
    long t = net.core(i).term();
    for (int k = 1; k <= net.config.electionTicksMax(); k++) {
      net.tick(i);
      if (net.core(i).term() != t) return k;
    }
    throw new AssertionError("never campaigned");
  }

  // ---------------------------------------------------------------- heartbeats

  @Test
  void anIdleLeaderSendsOneHeartbeatPerIntervalAndKeepsFollowersFromCampaigning() {
    TestNet net = leaderOf(3, TestNet.CONFIG);
    int hb = net.config.heartbeatTicks();
    net.tick(0, hb - 1);
    assertTrue(net.queue.isEmpty(), "nothing before the interval ends");
    net.tick(0);
    for (int p = 1; p < 3; p++) {
      List<AppendEntries> sent = net.sent(0, p, AppendEntries.class);
      assertEquals(1, sent.size());
      assertTrue(sent.get(0).entries().isEmpty());
    }
    int rounds = 10 * net.config.electionTicksMax();
    int heartbeats = 0;
    for (int t = 0; t < rounds; t++) {
      for (int i = 0; i < 3; i++) net.tick(i);
      heartbeats += net.sent(0, 1, AppendEntries.class).size();
      net.stabilize();
    }
    assertTrue(net.core(0).isLeader());
    assertEquals(1, net.core(1).term());
    assertEquals(1, net.core(2).term());
    assertEquals(rounds / hb, heartbeats, 1);
  }

  // ---------------------------------------------------------------- replication (§5.3)

  @Test
  void aProposalGoesOutAtOnceWithoutWaitingForAHeartbeat() {
    TestNet net = leaderOf(3, TestNet.CONFIG);
    Proposal p = net.propose(0, "a");
    assertEquals(new Proposal(1, 1, true, 0), p);
    for (int f = 1; f < 3; f++) {
      List<AppendEntries> sent = net.sent(0, f, AppendEntries.class);
      assertEquals(1, sent.size());
      assertEquals("a", str(sent.get(0).entries().get(0).command()));
    }
    net.stabilize();
    assertEquals(1, net.core(0).commitIndex());
    assertEquals(cmds("a"), net.commands(0));
    heartbeat(net, 0);
    assertEquals(cmds("a"), net.commands(1));
    assertEquals(cmds("a"), net.commands(2));
  }

  @Test
  void aFollowerRefusesProposals() {
    TestNet net = leaderOf(3, TestNet.CONFIG);
    assertFalse(net.propose(1, "x").isLeader());
    assertEquals(0, net.core(1).lastLogIndex());
  }

  @Test
  void appendedEntriesArePersistedInTheReadyThatAcknowledgesThem() {
    TestNet net = leaderOf(3, TestNet.CONFIG);
    net.propose(0, "a");
    Ready leader = net.lastReady[0];
    assertEquals(1, leader.entries().size());
    AppendEntries ae = net.sent(0, 1, AppendEntries.class).get(0);
    net.take(TestNet.to(1));
    net.step(1, 0, ae);
    Ready r = net.lastReady[1];
    assertEquals(List.of(1L), r.entries().stream().map(LogEntry::index).toList());
    assertEquals(List.of(AppendEntriesReply.accepted(1, 1)), r.messages().stream().map(Envelope::message).toList());
  }

  @Test
  void aNewerLeadersTermIsPersistedWithTheReplyToItsFirstAppendEntries() {
    TestNet net = new TestNet(3);
    net.step(1, 0, new AppendEntries(4, 0, 0, List.of(new LogEntry(1, 4, new byte[] {1})), 0));
    Ready r = net.lastReady[1];
    assertEquals(new HardState(4, HardState.NO_VOTE), r.hardState());
    assertEquals(1, r.entries().size());
    assertEquals(List.of(AppendEntriesReply.accepted(4, 1)), r.messages().stream().map(Envelope::message).toList());
    assertEquals(0, net.core(1).leader());
  }

  @Test
  void aStaleLeaderIsRefusedAndStepsDownOnTheAnswer() {
    TestNet net = leaderOf(3, TestNet.CONFIG);
    net.isolated.add(0);
    electEventually(net, 1);
    net.isolated.clear();
    net.propose(0, "stale"); // n0 still believes it leads term 1
    net.stabilize();
    assertEquals(Role.FOLLOWER, net.core(0).role());
    assertEquals(net.core(1).term(), net.core(0).term());
    assertTrue(net.core(1).isLeader());
    net.propose(1, "fresh");
    net.stabilize();
    heartbeat(net, 1);
    for (int i = 0; i < 3; i++) assertEquals(cmds("fresh"), net.commands(i), "n" + i);
  }

  @Test
  void aCandidatePersistsItsTermAndSelfVoteWithItsVoteRequests() {
    TestNet net = new TestNet(3);
    net.campaign(0);
    Ready r = net.lastReady[0];
    assertEquals(new HardState(1, 0), r.hardState());
    assertEquals(2, r.messages().size());
  }

  @Test
  void theWindowBoundsUnacknowledgedAppendsAndAcksLetSeveralEntriesGoInOneMessage() {
    TestNet net = leaderOf(3, TestNet.CONFIG); // at most 2 inflight, 4 entries a message
    for (int c = 1; c <= 10; c++) net.propose(0, "c" + c);
    List<AppendEntries> first = net.sent(0, 1, AppendEntries.class);
    assertEquals(2, first.size(), "the window holds two messages");
    assertEquals(List.of(1, 1), first.stream().map(a -> a.entries().size()).toList());
    // a heartbeat while the window is full only probes: no more entries
    net.tick(0, net.config.heartbeatTicks());
    assertTrue(net.sent(0, 1, AppendEntries.class).stream().skip(2).allMatch(a -> a.entries().isEmpty()));

    net.stabilize();
    assertEquals(10, net.core(0).commitIndex());
    heartbeat(net, 0);
    for (int f = 1; f < 3; f++) {
      assertEquals(IntStream.rangeClosed(1, 10).mapToObj(i -> "c" + i).toList(), net.commands(f));
      assertAppliedInOrder(net, f);
    }
  }

  @Test
  void catchingUpSendsSeveralEntriesPerAppendEntries() {
    TestNet net = leaderOf(3, TestNet.CONFIG);
    net.isolated.add(2);
    for (int c = 1; c <= 12; c++) net.propose(0, "c" + c);
    net.stabilize();
    net.isolated.clear();
    net.tick(0, net.config.heartbeatTicks());
    List<Integer> sizes = new ArrayList<>();
    while (!net.queue.isEmpty()) {
      Envelope e = net.queue.remove(0);
      if (e.to() == 2 && e.message() instanceof AppendEntries ae) sizes.add(ae.entries().size());
      net.deliver(e);
    }
    assertEquals(12, net.core(2).lastLogIndex());
    assertTrue(sizes.contains(net.config.maxEntriesPerMessage()), "full messages while catching up: " + sizes);
  }

  @Test
  void afterAnAckFreesTheWindowTheLeaderFillsItAtOnce() {
    // Known bug b: an ack that frees several slots must send that many messages, not one.
    RaftConfig oneEntryEach = new RaftConfig(10, 20, 3, 2, 1, 1 << 20, 2, 9);
    TestNet net = leaderOf(3, oneEntryEach);
    for (int c = 1; c <= 6; c++) net.propose(0, "c" + c);
    List<Envelope> toF = net.take(TestNet.to(1));
    assertEquals(2, toF.size());
    for (Envelope e : toF) net.deliver(e);
    List<Envelope> acks = net.take(e -> e.to() == 0 && e.from() == 1);
    assertEquals(2, acks.size());
    net.deliver(acks.get(1)); // the second ack covers both: two slots free at once
    List<AppendEntries> sent = net.sent(0, 1, AppendEntries.class);
    assertEquals(List.of(3L, 4L), sent.stream().map(a -> a.entries().get(0).index()).toList());
  }

  // ---------------------------------------------------------------- fast backtracking

  @Test
  void backtrackingOverAShortFollowerLogTakesOneRejection() {
    // follower: 1 1 1; leader: 1 1 1 2 x10 (the follower's log is too short: logLength)
    TestNet net =
        new TestNet(
            TestNet.CONFIG,
            state(2, concat(terms(1, 3), terms(2, 10))),
            state(1, terms(1, 3)),
            state(2, concat(terms(1, 3), terms(2, 10))));
    assertEquals(1, rejectionsWhileElecting(net, 1));
    assertEquals(logTerms(net.core(0)), logTerms(net.core(1)));
  }

  @Test
  void backtrackingSkipsATermTheLeaderNeverHad() {
    // follower: 1 1 1 2 x37; leader: 1 1 1 3 x47 (conflictTerm 2 is unknown to the leader)
    long[] leaderLog = concat(terms(1, 3), terms(3, 47));
    TestNet net =
        new TestNet(TestNet.CONFIG, state(3, leaderLog), state(2, concat(terms(1, 3), terms(2, 37))), state(3, leaderLog));
    assertTrue(rejectionsWhileElecting(net, 1) <= 2);
    assertEquals(logTerms(net.core(0)), logTerms(net.core(1)));
    assertEquals(50, net.core(1).lastLogIndex());
  }

  @Test
  void backtrackingJumpsToTheLeadersLastEntryOfTheConflictTerm() {
    // leader: 1 2 2 2 2 4 4 4 4; follower: 1 2 2 2 2 2 2 3 3 3
    long[] leaderLog = concat(terms(1, 1), terms(2, 4), terms(4, 4));
    TestNet net =
        new TestNet(
            TestNet.CONFIG,
            state(4, leaderLog),
            state(3, concat(terms(1, 1), terms(2, 6), terms(3, 3))),
            state(4, leaderLog));
    assertTrue(rejectionsWhileElecting(net, 1) <= 2);
    assertEquals(logTerms(net.core(0)), logTerms(net.core(1)));
  }

  /** Elects 0 and counts the AppendEntries rejections {@code follower} sends until all settle. */
  static int rejectionsWhileElecting(TestNet net, int follower) {
    net.campaign(0);
    int rejections = 0;
    while (!net.queue.isEmpty()) {
      Envelope e = net.queue.remove(0);
      if (e.from() == follower && e.message() instanceof AppendEntriesReply r && !r.success()) rejections++;
      net.deliver(e);
    }
    assertTrue(net.core(0).isLeader());
    return rejections;
  }

  // ---------------------------------------------------------------- commitment (§5.4.2, Figure 8)

  @Test
  void aLeaderDoesNotCommitAnOlderTermsEntryByCountingReplicas() {
    // n0 holds an entry of term 2 that n1 and n2 lack; it wins term 3 and replicates it
    TestNet net = new TestNet(TestNet.CONFIG, state(2, 1, 2), state(2, 1), state(2, 1));
    net.elect(0);
    net.stabilize();
    assertEquals(List.of(1L, 2L), logTerms(net.core(1)), "replicated on all three");
    assertEquals(0, net.core(0).commitIndex(), "but not committed: no entry of term 3 yet");
    assertTrue(net.applied.get(0).isEmpty());

    net.propose(0, "c"); // an entry of the current term commits everything before it
    net.stabilize();
    assertEquals(3, net.core(0).commitIndex());
    heartbeat(net, 0);
    for (int i = 0; i < 3; i++) {
      assertEquals(cmds("e1t1", "e2t2", "c"), net.commands(i));
    }
  }

  @Test
  void figure8AReplicatedButUncommittedEntryIsOverwrittenSafely() {
    // the paper's Figure 8 with S1..S5 as n0..n4
    TestNet net = new TestNet(5);
    net.elect(0);
    net.propose(0, "x");
    net.stabilize();
    heartbeat(net, 0);
    // (a) S1 leads and replicates "a" at index 2 to S2 only
    net.propose(0, "a");
    net.deliverWhile(e -> e.to() == 1 && e.from() == 0);
    net.dropAll();
    // (b) S1 crashes; S5 wins with S3, S4 and itself and takes "b" at index 2 but sends nothing
    net.isolated.add(0);
    electEventually(net, 4);
    net.propose(4, "b");
    net.isolated.add(4);
    net.stabilize();
    // (c) S5 crashes; S1 restarts, wins, and replicates "a" to a majority (S1, S2, S3)
    net.restart(0);
    net.isolated.remove(0);
    net.isolated.add(3);
    electEventually(net, 0);
    net.stabilize();
    for (int i = 0; i < 3; i++) assertEquals("a", str(net.core(i).logEntries().get(1).command()));
    for (int i = 0; i < 3; i++) {
      assertTrue(net.core(i).commitIndex() < 2, "\"a\" is on a majority but from an older term");
    }
    // (d) S1 crashes; S5 restarts and wins with S2, S3, S4: it may overwrite "a"
    net.isolated.add(0);
    net.restart(4);
    net.isolated.remove(4);
    net.isolated.remove(3);
    electEventually(net, 4);
    net.propose(4, "c");
    net.stabilize();
    net.restart(0);
    net.isolated.clear();
    heartbeat(net, 4);
    heartbeat(net, 4);
    for (int i = 0; i < 5; i++) {
      assertEquals("b", str(net.core(i).logEntries().get(1).command()), "n" + i);
      assertFalse(net.commands(i).contains("a"), "nobody applied the overwritten entry");
      assertAppliedInOrder(net, i);
    }
    assertEquals(cmds("x", "b", "c"), net.commands(1));
  }

  @Test
  void aFollowerLearnsTheCommitIndexOnScheduleUnderASteadyStreamOfCommits() {
    // Known bug a: every commit restarted the commit-news timer, so while acks kept committing
    // something each tick, followers heard nothing until the next heartbeat.
    RaftConfig slowHeartbeat = new RaftConfig(40, 50, 10, 2, 1, 1 << 20, 16, 30);
    TestNet net = leaderOf(3, slowHeartbeat);
    for (int c = 1; c <= 8; c++) net.propose(0, "c" + c);
    net.deliverWhile(e -> e.from() == 0);
    net.take(e -> e.from() == 2); // n2's acks are lost
    List<Envelope> acks = net.take(e -> e.from() == 1);
    assertEquals(8, acks.size());
    long firstCommitTold = -1;
    for (int t = 0; t < acks.size() && firstCommitTold < 0; t++) {
      net.deliver(acks.get(t)); // commits one more entry
      net.tick(0);
      for (AppendEntries ae : net.sent(0, 1, AppendEntries.class)) {
        if (ae.leaderCommit() > 0) firstCommitTold = t;
      }
    }
    assertTrue(
        firstCommitTold >= 0 && firstCommitTold < slowHeartbeat.commitNotifyTicks(),
        "n1 was told the commit index after " + firstCommitTold + " ticks");
  }

  // ---------------------------------------------------------------- snapshots

  @Test
  void aSnapshotTrimsTheLogInMemoryAndInStorage() {
    TestNet net = leaderOf(3, TestNet.CONFIG);
    for (int c = 1; c <= 10; c++) net.propose(0, "c" + c);
    net.stabilize();
    assertEquals(10, net.core(0).appliedIndex());
    net.snapshot(0, 8);
    assertEquals(8, net.core(0).snapshotIndex());
    assertEquals(List.of(9L, 10L), net.core(0).logEntries().stream().map(LogEntry::index).toList());
    assertEquals(10, net.core(0).lastLogIndex());
    PersistentState stored = net.storages[0].load();
    assertEquals(8, stored.snapshot().index());
    assertEquals("snap@8", str(stored.snapshot().data()));
    assertEquals(List.of(9L, 10L), stored.entries().stream().map(LogEntry::index).toList());
    // not beyond what was applied, and never backwards
    net.snapshot(0, 11);
    net.snapshot(0, 5);
    assertEquals(8, net.core(0).snapshotIndex());
  }

  @Test
  void aFollowerBehindTheSnapshotGetsInstallSnapshotAndThenTheRest() {
    TestNet net = leaderOf(3, TestNet.CONFIG);
    net.isolated.add(2);
    for (int c = 1; c <= 10; c++) net.propose(0, "c" + c);
    net.stabilize();
    net.snapshot(0, 8);
    net.isolated.clear();
    heartbeat(net, 0);
    heartbeat(net, 0);
    RaftCore f = net.core(2);
    assertEquals(8, f.snapshotIndex());
    assertEquals(10, f.commitIndex());
    assertEquals(List.of(9L, 10L), f.logEntries().stream().map(LogEntry::index).toList());
    List<ApplyMsg> applied = net.applied.get(2);
    assertEquals(8, ((ApplyMsg.SnapshotInstalled) applied.get(0)).index());
    assertEquals("snap@8", str(((ApplyMsg.SnapshotInstalled) applied.get(0)).data()));
    assertEquals(cmds("c9", "c10"), net.commands(2));
    assertEquals(8, net.storages[2].load().snapshot().index());
    assertAppliedInOrder(net, 2);
  }

  @Test
  void aFollowerInReplicateStateBehindANewSnapshotGetsInstallSnapshotNotAnAppendItCannotMatch() {
    // Known bug e: the heartbeat of a follower with a full window probed at next-1, which the
    // leader had compacted away, so it sent a prevLogTerm it no longer had.
    TestNet net = leaderOf(3, TestNet.CONFIG);
    net.isolated.add(2);
    for (int c = 1; c <= 10; c++) net.propose(0, "c" + c);
    net.stabilize();
    net.snapshot(0, 10);
    net.isolated.clear();
    net.tick(0, net.config.heartbeatTicks()); // TestNet fails on a prevLogTerm of -1
    assertEquals(1, net.sent(0, 2, InstallSnapshot.class).size());
    net.stabilize();
    assertEquals(10, net.core(2).snapshotIndex());
  }

  @Test
  void aFollowerWaitingForASnapshotStillGetsHeartbeats() {
    // Known bug c: without heartbeats it times out and disrupts the group while the snapshot
    // is on its way.
    RaftConfig slowResend = new RaftConfig(10, 20, 3, 2, 4, 1 << 20, 2, 100);
    TestNet net = new TestNet(3, slowResend);
    net.isolated.add(2);
    net.elect(0);
    for (int c = 1; c <= 6; c++) net.propose(0, "c" + c);
    net.stabilize();
    net.snapshot(0, 6);
    net.isolated.clear();
    List<Envelope> held = new ArrayList<>();
    for (int t = 0; t < 4 * slowResend.electionTicksMax(); t++) {
      for (int i = 0; i < 3; i++) net.tick(i);
      held.addAll(net.take(TestNet.ofType(InstallSnapshot.class)));
      net.stabilize();
      held.addAll(net.take(TestNet.ofType(InstallSnapshot.class)));
    }
    assertEquals(1, net.core(2).term(), "n2 never campaigned");
    assertTrue(net.core(0).isLeader());
    assertFalse(held.isEmpty());
    net.deliver(held.get(0));
    net.stabilize();
    assertEquals(6, net.core(2).snapshotIndex());
  }

  // ---------------------------------------------------------------- restarts

  @Test
  void aRestartedPeerRebuildsFromItsPersistedStateAndSnapshot() {
    TestNet net = leaderOf(3, TestNet.CONFIG);
    for (int c = 1; c <= 10; c++) net.propose(0, "c" + c);
    net.stabilize();
    heartbeat(net, 0);
    net.snapshot(1, 8);
    long term = net.core(1).term();
    net.restart(1);
    RaftCore f = net.core(1);
    assertEquals(term, f.term());
    assertEquals(0, f.votedFor());
    assertEquals(8, f.snapshotIndex());
    assertEquals(10, f.lastLogIndex());
    assertEquals(8, f.commitIndex(), "the commit index is volatile: the snapshot is known committed");
    assertEquals(8, f.appliedIndex());
    heartbeat(net, 0);
    assertEquals(cmds("c9", "c10"), net.commands(1), "applies resume after the snapshot");
    assertAppliedInOrder(net, 1);
  }

  @Test
  void aRestartedPeerWithoutSnapshotReappliesFromIndexOne() {
    TestNet net = leaderOf(3, TestNet.CONFIG);
    for (int c = 1; c <= 5; c++) net.propose(0, "c" + c);
    net.stabilize();
    heartbeat(net, 0);
    net.restart(2);
    assertTrue(net.commands(2).isEmpty());
    heartbeat(net, 0);
    assertEquals(List.of("c1", "c2", "c3", "c4", "c5"), net.commands(2));
  }

  @Test
  void aRestartedLeaderComesBackAsAFollowerWithItsLog() {
    TestNet net = leaderOf(3, TestNet.CONFIG);
    net.propose(0, "a");
    net.stabilize();
    net.restart(0);
    assertEquals(Role.FOLLOWER, net.core(0).role());
    assertEquals(1, net.core(0).term());
    assertEquals(1, net.core(0).lastLogIndex());
    assertNull(net.lastReady[0]);
    electEventually(net, 1);
    net.propose(1, "b");
    net.stabilize();
    heartbeat(net, 1);
    assertEquals(cmds("a", "b"), net.commands(0));
    assertNotNull(net.lastReady[0]);
  }
}
