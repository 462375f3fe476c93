package io.raftkv.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.raft.Configuration.AddLearner;
import io.raftkv.raft.Configuration.AddVoter;
import io.raftkv.raft.Configuration.InvalidChangeException;
import io.raftkv.raft.Configuration.Remove;
import io.raftkv.raft.Configuration.Transition;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Membership changes in {@link RaftCore}, synchronous and hand-driven (raft-extensions-spec B.5 and
 * B.6): a configuration is in effect once appended, committed by the quorum it defines; joint
 * configurations need both halves and are left by themselves; a removed leader steps down;
 * learners replicate but never count or campaign; a truncated configuration entry falls back;
 * snapshots carry the membership to new members.
 */
class RaftMembershipTest {
  static final RaftConfig CONFIG = TestNet.CONFIG;

  static Configuration voters(Integer... ids) {
    return Configuration.of(Set.of(ids), Set.of());
  }

  /** How a node that joins a running group starts: its own only learner. */
  static Configuration joiner(int id) {
    return Configuration.of(Set.of(), Set.of(id));
  }

  /** Elects {@code leader} and commits one command of its term (config changes need it). */
  static void lead(TestNet net, int leader) {
    net.elect(leader);
    net.propose(leader, "first");
    net.stabilize();
  }

  /**
   * Delivers everything, then two heartbeat rounds of {@code leader}: one to catch up a peer that
   * missed entries, one to bring it the commit index they reached.
   */
  static void settle(TestNet net, int leader) {
    net.stabilize();
    for (int round = 0; round < 2; round++) {
      net.tick(leader, CONFIG.heartbeatTicks());
      net.stabilize();
    }
  }

  static boolean applied(TestNet net, int i, String command) {
    return net.applied.get(i).stream()
        .anyMatch(m -> m instanceof ApplyMsg.Command c && new String(c.command(), StandardCharsets.UTF_8).equals(command));
  }

  @Test
  void aVoterAddedToAGroupOfOneCatchesUpAndCountsForTheQuorum() {
    TestNet net = TestNet.withMembership(CONFIG, voters(0), joiner(1));
    lead(net, 0);
    Proposal p = net.proposeConfiguration(0, Transition.AUTO, new AddVoter(1));
    assertTrue(p.isLeader());
    assertEquals(voters(0, 1), net.core(0).configuration(), "in effect once appended");
    net.stabilize();
    assertEquals(voters(0, 1), net.core(1).configuration(), "the new voter learned it from the log");
    assertTrue(net.core(0).commitIndex() >= p.index());
    assertTrue(net.applied.get(0).contains(new ApplyMsg.ConfigurationApplied(p.index(), voters(0, 1))));
    // from now on a commit needs both
    net.isolated.add(1);
    Proposal stuck = net.propose(0, "needs two");
    net.stabilize();
    assertTrue(net.core(0).commitIndex() < stuck.index(), "one of two voters is no majority");
    net.isolated.clear();
    settle(net, 0);
    assertTrue(applied(net, 1, "needs two") && applied(net, 0, "needs two"));
  }

  @Test
  void aLearnerReplicatesButNeverCountsOrCampaignsUntilPromoted() {
    TestNet net = TestNet.withMembership(CONFIG, voters(0, 1), voters(0, 1), joiner(2));
    lead(net, 0);
    net.proposeConfiguration(0, Transition.AUTO, new AddLearner(2));
    net.stabilize();
    assertTrue(net.core(2).configuration().isLearner(2));
    net.propose(0, "to all three");
    settle(net, 0);
    assertTrue(applied(net, 2, "to all three"), "a learner gets the log");
    // the learner alone acknowledging is no majority of {0, 1}
    net.isolated.add(1);
    Proposal p = net.propose(0, "learner only");
    net.stabilize();
    assertTrue(net.core(0).commitIndex() < p.index());
    // a learner never campaigns, however long it hears nothing
    net.isolated.add(0);
    long term = net.core(2).term();
    net.tick(2, 5 * CONFIG.electionTicksMax());
    assertEquals(term, net.core(2).term());
    assertFalse(net.queue.stream().anyMatch(e -> e.from() == 2 && e.message() instanceof RaftMessage.RequestVote));
    net.isolated.clear();
    net.queue.clear();
    net.tick(0, CONFIG.heartbeatTicks());
    net.stabilize();
    // promoted: now a voter, and the majority is 2 of 3
    net.proposeConfiguration(0, Transition.AUTO, new AddVoter(2));
    net.stabilize();
    assertEquals(voters(0, 1, 2), net.core(2).configuration());
    net.isolated.add(1);
    Proposal q = net.propose(0, "two of three");
    net.stabilize();
    assertTrue(net.core(0).commitIndex() >= q.index(), "the promoted learner counts");
  }

  @Test
  void oneChangeAtATimeAndOnlyAfterTheLeaderCommittedAnEntryOfItsTerm() {
    TestNet net = new TestNet(3);
    net.elect(0);
    // elected, but its no-op / first command of the term is not committed yet
    net.isolated.add(1);
    net.isolated.add(2);
    net.propose(0, "uncommitted");
    InvalidChangeException early =
        assertThrows(InvalidChangeException.class, () -> net.proposeConfiguration(0, Transition.AUTO, new AddLearner(5)));
    assertEquals("no entry of this leader's term is committed yet", early.getMessage());
    net.isolated.clear();
    net.tick(0, CONFIG.heartbeatTicks());
    net.stabilize();
    net.isolated.add(1);
    net.isolated.add(2);
    net.proposeConfiguration(0, Transition.AUTO, new AddLearner(5));
    InvalidChangeException second =
        assertThrows(InvalidChangeException.class, () -> net.proposeConfiguration(0, Transition.AUTO, new AddLearner(6)));
    assertEquals("a configuration change is in progress", second.getMessage());
    assertThrows(InvalidChangeException.class, () -> net.proposeConfiguration(0, Transition.SIMPLE, new Remove(0), new Remove(1)));
    // a follower is told it is not the leader, with the hint
    net.isolated.clear();
    net.tick(0, CONFIG.heartbeatTicks());
    net.stabilize();
    Proposal atFollower = net.proposeConfiguration(1, Transition.AUTO, new AddLearner(6));
    assertFalse(atFollower.isLeader());
    assertEquals(0, atFollower.leader());
  }

  /**
   * A leader elected on an idle group has no entry of its term: the first change it is asked for
   * is refused (to be retried) but makes it append the no-op that lets the retry through, instead
   * of waiting for a client write that may never come.
   */
  @Test
  void aChangeAskedOfAnIdleNewLeaderIsRetriedOnceItsNoOpCommits() {
    TestNet net = new TestNet(3);
    net.elect(0);
    net.stabilize();
    long last = net.core(0).lastLogIndex();
    InvalidChangeException early =
        assertThrows(InvalidChangeException.class, () -> net.proposeConfiguration(0, Transition.AUTO, new AddLearner(5)));
    assertTrue(early.retryLater(), "about timing, not the change");
    assertEquals(last + 1, net.core(0).lastLogIndex(), "the refusal appended a no-op of the term");
    net.stabilize();
    assertTrue(net.proposeConfiguration(0, Transition.AUTO, new AddLearner(5)).isLeader(), "accepted once the no-op committed");
    assertThrows(InvalidChangeException.class, () -> net.proposeConfiguration(0, Transition.AUTO, new AddLearner(6)));
    assertEquals(last + 2, net.core(0).lastLogIndex(), "one no-op, not one per refusal");
  }

  /**
   * A leader whose removal commits while it has appended more (a busy leader) hands over anyway:
   * it brings its best voter up to date, then tells it to campaign, so the group gets a leader in a
   * round trip, not after an election timeout (found under client load, MembershipUnderLoadTest).
   */
  @Test
  void aRemovedLeaderWithEntriesAfterTheChangeStillHandsOver() {
    TestNet net = new TestNet(3);
    lead(net, 0);
    long term = net.core(0).term();
    net.proposeConfiguration(0, Transition.AUTO, new Remove(0));
    net.deliverWhile(TestNet.ofType(RaftMessage.AppendEntries.class)); // their replies wait
    net.propose(0, "after the change");
    List<Envelope> inFlight = net.take(TestNet.ofType(RaftMessage.AppendEntries.class));
    net.deliverWhile(TestNet.ofType(RaftMessage.AppendEntriesReply.class)); // the removal commits
    assertTrue(net.core(0).isLeader(), "not yet: its best voter lacks its last entry");
    net.queue.addAll(inFlight); // the entry arrives after the commit
    net.stabilize(); // no tick: only a handover can make a leader now
    int leader = net.core(1).isLeader() ? 1 : net.core(2).isLeader() ? 2 : -1;
    assertTrue(leader != -1, "a voter took over without an election timeout");
    assertTrue(net.core(leader).term() > term);
    assertFalse(net.core(0).isLeader(), "the removed leader stepped down");
    net.propose(leader, "of the new term"); // commits what came before it
    settle(net, leader);
    assertTrue(applied(net, leader, "after the change"), "what it appended after the change was not lost");
  }

  @Test
  void removingAnUnreachableVoterLetsWhatWaitedForItCommit() {
    TestNet net = new TestNet(2);
    lead(net, 0);
    net.isolated.add(1);
    Proposal hello = net.propose(0, "hello");
    net.stabilize();
    assertTrue(net.core(0).commitIndex() < hello.index(), "two voters, one reachable");
    // the removal is in effect once appended: {0} commits both (dissertation 4.1)
    Proposal removal = net.proposeConfiguration(0, Transition.AUTO, new Remove(1));
    assertTrue(net.core(0).commitIndex() >= removal.index());
    assertTrue(applied(net, 0, "hello"));
  }

  @Test
  void replacingTheLeaderGoesThroughAJointConfigurationThatLeavesByItselfAndTheOldLeaderStepsDown() {
    TestNet net = TestNet.withMembership(CONFIG, voters(0, 1, 2), voters(0, 1, 2), voters(0, 1, 2), joiner(3));
    lead(net, 0);
    // two voters change: joint {1,2,3} && {0,1,2}, auto-leave
    Proposal p = net.proposeConfiguration(0, Transition.AUTO, new AddVoter(3), new Remove(0));
    Configuration joint = net.core(0).configuration();
    assertTrue(joint.isJoint() && joint.autoLeave());
    assertEquals(Set.of(1, 2, 3), joint.voters());
    assertEquals(Set.of(0, 1, 2), joint.outgoing());
    net.stabilize();
    // the joint entry committed; the leader left it at once, then stepped down once that committed
    assertEquals(voters(1, 2, 3), net.core(1).configuration());
    assertEquals(voters(1, 2, 3), net.core(3).configuration());
    assertFalse(net.core(0).isLeader(), "a leader that is no longer a voter steps down");
    assertTrue(net.core(0).commitIndex() > p.index());
    // it told the most up-to-date voter to campaign: someone of {1, 2, 3} leads without a timeout
    int leader = -1;
    for (int i = 1; i <= 3; i++) if (net.core(i).isLeader()) leader = i;
    assertTrue(leader > 0, "a new leader among the new voters");
    // the removed node never campaigns; the group commits without it
    long term = net.core(0).term();
    net.isolated.add(0);
    net.tick(0, 5 * CONFIG.electionTicksMax());
    assertEquals(term, net.core(0).term());
    Proposal after = net.propose(leader, "without n0");
    settle(net, leader);
    for (int i = 1; i <= 3; i++) assertTrue(applied(net, i, "without n0"), "n" + i);
    assertTrue(net.core(leader).commitIndex() >= after.index());
  }

  @Test
  void aJointConfigurationNeedsAMajorityOfEachHalf() {
    TestNet net = TestNet.withMembership(CONFIG, voters(0, 1, 2), voters(0, 1, 2), voters(0, 1, 2), joiner(3), joiner(4));
    lead(net, 0);
    net.proposeConfiguration(0, Transition.EXPLICIT, new AddVoter(3), new AddVoter(4), new Remove(1), new Remove(2));
    // joint {0,3,4} && {0,1,2}: with 1 and 2 cut off, the outgoing half has no majority
    net.isolated.add(1);
    net.isolated.add(2);
    net.stabilize();
    Proposal p = net.propose(0, "needs both halves");
    net.stabilize();
    assertTrue(net.core(0).commitIndex() < p.index(), "{0,3,4} agree but {0,1,2} has only n0");
    assertTrue(net.core(0).configuration().isJoint(), "explicit: stays joint");
    net.isolated.remove(1);
    net.tick(0, CONFIG.heartbeatTicks());
    net.stabilize();
    assertTrue(net.core(0).commitIndex() >= p.index(), "n0 and n1 make a majority of the outgoing half");
    // leaving by hand
    net.proposeConfiguration(0, Transition.AUTO);
    net.stabilize();
    assertEquals(voters(0, 3, 4), net.core(0).configuration());
    assertThrows(InvalidChangeException.class, () -> net.proposeConfiguration(0, Transition.AUTO));
  }

  @Test
  void aConfigurationEntryANewLeaderOverwritesFallsBack() {
    TestNet net = new TestNet(3);
    lead(net, 0);
    // the change reaches nobody: n0 appends it, and is cut off
    net.isolated.add(0);
    net.proposeConfiguration(0, Transition.AUTO, new AddLearner(7));
    assertTrue(net.core(0).configuration().learners().contains(7));
    net.stabilize();
    net.isolated.clear();
    net.queue.clear();
    net.isolated.add(0);
    net.elect(1);
    net.propose(1, "the new leader's");
    net.stabilize();
    net.isolated.clear();
    net.tick(1, CONFIG.heartbeatTicks());
    net.stabilize();
    assertEquals(voters(0, 1, 2), net.core(0).configuration(), "the entry was truncated: back to the configuration before it");
    assertTrue(applied(net, 0, "the new leader's"));
  }

  @Test
  void aSnapshotCarriesTheMembershipToANewMemberAndAcrossRestarts() {
    TestNet net = TestNet.withMembership(CONFIG, voters(0, 1, 2), voters(0, 1, 2), voters(0, 1, 2), joiner(3));
    lead(net, 0);
    net.proposeConfiguration(0, Transition.AUTO, new AddLearner(3));
    net.isolated.add(3); // it misses the log...
    net.stabilize();
    net.propose(0, "more");
    net.stabilize();
    for (int i = 0; i < 3; i++) net.snapshot(i, net.core(i).appliedIndex()); // ...which is then compacted
    net.isolated.clear();
    net.queue.clear();
    net.tick(0, CONFIG.heartbeatTicks());
    net.stabilize();
    assertEquals(Configuration.of(Set.of(0, 1, 2), Set.of(3)), net.core(3).configuration(), "from the snapshot");
    assertEquals(net.core(0).snapshotIndex(), net.core(3).snapshotIndex());
    net.restart(3);
    assertEquals(Configuration.of(Set.of(0, 1, 2), Set.of(3)), net.core(3).configuration(), "persisted with the snapshot");
    net.restart(0);
    assertEquals(Configuration.of(Set.of(0, 1, 2), Set.of(3)), net.core(0).configuration());
  }

  @Test
  void aMalformedConfigurationEntryFromAPeerIsRefused() {
    RaftCore c = new TestNet(3).core(1);
    LogEntry bad = new LogEntry(1, 1, new byte[] {9, 9}, LogEntry.Type.CONFIGURATION);
    assertEquals("bad configuration entry", c.invalid(0, new RaftMessage.AppendEntries(1, 0, 0, List.of(bad), 0)));
  }
}
