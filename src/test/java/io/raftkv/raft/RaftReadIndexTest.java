package io.raftkv.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.raft.RaftMessage.AppendEntries;
import io.raftkv.raft.RaftMessage.AppendEntriesReply;
import io.raftkv.raft.RaftMessage.ReadIndex;
import io.raftkv.raft.RaftMessage.ReadIndexResult;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * ReadIndex reads (dissertation §6.4) as scenario scripts over a hand-driven group: a read point
 * costs no log entry and no persist, needs a commit of the leader's own term, is confirmed by a
 * majority answering AppendEntries sent after the read arrived, and is shared by the reads that
 * wait for the same round; followers forward reads; every read that cannot be confirmed fails.
 */
class RaftReadIndexTest {
  static final int E = TestNet.CONFIG.electionTicksMin();

  /** A group of three led by n0 that has committed "x" (index 1) at its term. */
  static TestNet ledBy0() {
    TestNet net = new TestNet(3);
    net.elect(0);
    net.propose(0, "x");
    net.stabilize();
    net.tick(0, TestNet.CONFIG.commitNotifyTicks()); // followers learn the commit too
    net.stabilize();
    return net;
  }

  static List<ApplyMsg.ReadReady> reads(TestNet net, int i) {
    List<ApplyMsg.ReadReady> out = new ArrayList<>();
    for (ApplyMsg m : net.applied.get(i)) {
      if (m instanceof ApplyMsg.ReadReady r) out.add(r);
    }
    return out;
  }

  @Test
  void aLeaderReadCostsNoEntryAndNoPersistAndWaitsForAMajority() {
    TestNet net = ledBy0();
    long last = net.core(0).lastLogIndex();
    net.readIndex(0, 7);
    Ready r = net.lastReady[0];
    net.dropAll();
    assertFalse(r.mustPersist(), "a read persists nothing");
    assertTrue(r.applies().isEmpty(), "not before a majority confirmed");
    assertEquals(2, r.messages().size(), "one AppendEntries to each follower");
    long round = ((AppendEntries) r.messages().get(0).message()).readRound();
    assertTrue(round > 0);
    assertTrue(((AppendEntries) r.messages().get(0).message()).entries().isEmpty());

    // one follower's answer makes a majority with the leader
    Envelope toN1 = r.messages().get(0).to() == 1 ? r.messages().get(0) : r.messages().get(1);
    net.deliver(toN1);
    AppendEntriesReply reply = net.sent(1, 0, AppendEntriesReply.class).get(0);
    assertEquals(round, reply.readRound(), "the follower echoes the round");
    net.stabilize();
    assertEquals(List.of(new ApplyMsg.ReadReady(7, 1, 0)), reads(net, 0));
    assertEquals(last, net.core(0).lastLogIndex(), "no log entry");
  }

  @Test
  void answersToAppendEntriesSentBeforeTheReadDoNotConfirmIt() {
    TestNet net = ledBy0();
    net.tick(0, TestNet.CONFIG.heartbeatTicks()); // heartbeats out, answers not yet delivered
    net.deliverWhile(e -> e.message() instanceof AppendEntries);
    assertEquals(2, net.queue.size(), "two answers in flight");
    net.readIndex(0, 1);
    List<Envelope> probes = net.take(e -> e.message() instanceof AppendEntries); // held back
    net.stabilize(); // only the old answers
    assertTrue(reads(net, 0).isEmpty(), "old answers prove nothing about the time after the read");
    net.queue.addAll(probes);
    net.stabilize();
    assertEquals(List.of(new ApplyMsg.ReadReady(1, 1, 0)), reads(net, 0));
  }

  @Test
  void aNewLeaderAnswersOnlyAfterCommittingAnEntryOfItsTerm() {
    TestNet net = ledBy0();
    net.campaign(1);
    net.stabilize();
    assertTrue(net.core(1).isLeader());
    long before = net.core(1).lastLogIndex();
    assertEquals(1, before);
    assertEquals(1, net.core(1).termAt(before), "nothing of its own term (2) in its log");
    net.readIndex(1, 5);
    Ready r = net.lastReady[1];
    assertEquals(1, r.entries().size(), "an empty entry of its own term is appended");
    assertEquals(0, r.entries().get(0).command().length);
    assertEquals(2, r.entries().get(0).term());
    assertTrue(r.applies().isEmpty());
    net.stabilize();
    List<ApplyMsg.ReadReady> got = reads(net, 1);
    assertEquals(1, got.size());
    assertEquals(before + 1, got.get(0).index(), "the read point includes the no-op");
    assertEquals(before + 1, net.core(1).commitIndex());
  }

  @Test
  void readsArrivingDuringARoundShareTheNextOne() {
    TestNet net = ledBy0();
    net.readIndex(0, 1);
    net.readIndex(0, 2);
    assertTrue(net.lastReady[0].messages().isEmpty(), "no second round while one is under way");
    net.readIndex(0, 3);
    int appends = 0;
    while (!net.queue.isEmpty()) {
      Envelope e = net.queue.get(0);
      if (e.message() instanceof AppendEntries) appends++;
      net.deliver(net.take(x -> x == e).get(0));
    }
    List<ApplyMsg.ReadReady> got = reads(net, 0);
    assertEquals(List.of(1L, 2L, 3L), got.stream().map(ApplyMsg.ReadReady::ctx).toList());
    assertTrue(got.stream().allMatch(ApplyMsg.ReadReady::ok));
    assertEquals(4, appends, "two rounds of two AppendEntries for three reads");
  }

  @Test
  void aLeaderCutOffFromTheMajorityNeverAnswersAndFailsTheReadAfterAnElectionTimeout() {
    TestNet net = ledBy0();
    net.isolated.add(0);
    net.readIndex(0, 9);
    for (int k = 0; k < E - 1; k++) net.tick(0);
    net.stabilize();
    assertTrue(reads(net, 0).isEmpty());
    net.tick(0);
    assertEquals(List.of(new ApplyMsg.ReadReady(9, -1, -1)), reads(net, 0));
  }

  /** The stale read of a deposed leader: its followers elected another, whose writes it lacks. */
  @Test
  void aDeposedLeaderFailsItsReadsInsteadOfServingStaleData() {
    TestNet net = ledBy0();
    net.isolated.add(0);
    net.campaign(1);
    net.stabilize();
    assertTrue(net.core(1).isLeader());
    net.propose(1, "y");
    net.stabilize();
    net.readIndex(0, 4);
    net.isolated.remove(0);
    net.stabilize(); // the old leader's AppendEntries meet the new term
    assertFalse(net.core(0).isLeader());
    List<ApplyMsg.ReadReady> got = reads(net, 0);
    assertEquals(1, got.size());
    assertFalse(got.get(0).ok(), "no read point from a leadership that ended");
  }

  @Test
  void aFollowerForwardsTheReadAndGetsTheLeadersReadPoint() {
    TestNet net = ledBy0();
    net.readIndex(2, 11);
    assertEquals(1, net.sent(2, 0, ReadIndex.class).size());
    net.stabilize();
    assertEquals(List.of(new ApplyMsg.ReadReady(11, 1, 0)), reads(net, 2));
    assertTrue(net.applied.get(0).stream().noneMatch(m -> m instanceof ApplyMsg.ReadReady), "the leader's service is not involved");
  }

  @Test
  void aForwardedReadFailsWhenTheLeaderChangesOrDoesNotAnswer() {
    TestNet net = ledBy0();
    net.readIndex(2, 1);
    net.dropAll(); // the request is lost
    net.tick(2, E - 1);
    assertTrue(reads(net, 2).isEmpty());
    net.tick(2);
    assertEquals(List.of(new ApplyMsg.ReadReady(1, -1, 0)), reads(net, 2));

    net.readIndex(2, 2);
    net.dropAll();
    net.step(2, 1, new RaftMessage.RequestVote(5, 9, 5)); // a newer term: the old leader may be gone
    assertEquals(-1, reads(net, 2).get(1).index());
    assertEquals(2, reads(net, 2).get(1).ctx());
  }

  @Test
  void withoutALeaderAReadFailsAtOnceAndAGroupOfOneAnswersAtOnce() {
    TestNet net = new TestNet(3);
    net.readIndex(1, 3);
    assertEquals(List.of(new ApplyMsg.ReadReady(3, -1, -1)), net.lastReady[1].applies());

    TestNet one = new TestNet(1);
    one.elect(0);
    one.propose(0, "x");
    one.readIndex(0, 8);
    Ready r = one.lastReady[0];
    assertEquals(List.of(new ApplyMsg.ReadReady(8, 1, 0)), r.applies());
    assertFalse(r.mustPersist());
  }

  @Test
  void readMessagesRoundTripAndPlainAppendEntriesKeepTheirEncoding() {
    for (RaftMessage m :
        List.of(
            new AppendEntries(3, 4, 2, List.of(new LogEntry(5, 3, new byte[] {1})), 4, 17),
            new AppendEntriesReply(3, true, 5, 0, 0, 0, 0, 17),
            new AppendEntriesReply(3, false, 0, 5, 2, 3, 4, 1),
            new ReadIndex(3, 99),
            new ReadIndexResult(3, 99, 12),
            new ReadIndexResult(3, 98, -1))) {
      RaftMessage back = RaftCodec.decodeMessage(RaftCodec.encode(m));
      if (m instanceof AppendEntries ae) {
        AppendEntries b = (AppendEntries) back;
        assertEquals(ae.readRound(), b.readRound());
        assertEquals(ae.entries().size(), b.entries().size());
      } else {
        assertEquals(m, back);
      }
    }
    AppendEntries plain = new AppendEntries(3, 4, 2, List.of(), 4);
    assertEquals(plain, RaftCodec.decodeMessage(RaftCodec.encode(plain)));
    assertEquals(
        RaftCodec.encode(plain).length + 1,
        RaftCodec.encode(new AppendEntries(3, 4, 2, List.of(), 4, 1)).length,
        "a round costs one varint, and nothing when there is none");
  }
}
