package io.raftkv.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.client.KvClient;
import io.raftkv.client.ServerCall;
import io.raftkv.raft.PeerSettings;
import io.raftkv.raft.Configuration;
import io.raftkv.raft.RaftPeer;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A running KV group changes its membership through its Raft peers' {@link
 * RaftPeer.ChangeMembership}: three voters grow to five (two new replicas that start as their own
 * learners and catch up from the log), the first leader is removed, and the group goes on serving
 * with the data intact. Replicas over a direct in-memory transport, as in {@link KvServerTest}.
 */
@Timeout(60)
class KvMembershipTest {
  static final ActorTestKit testKit = ActorTestKit.create();
  static final int SLOTS = 5;

  @AfterAll
  static void done() {
    testKit.shutdownTestKit();
  }

  @Test
  void threeVotersGrowToFiveThenTheLeaderIsRemovedAndTheGroupServesOn() throws Exception {
    DirectReplicas group =
        new DirectReplicas(
            testKit,
            SLOTS,
            i -> PeerSettings.of(i, SLOTS).withInitial(i < 3 ? Configuration.of(Set.of(0, 1, 2), Set.of()) : Configuration.of(Set.of(), Set.of(i))),
            4000);
    AtomicReferenceArray<ActorRef<RaftPeer.Command>> rafts = group.rafts;
    ServerCall call = group.call(Duration.ofSeconds(1));
    KvClient clerk = new KvClient(call, SLOTS, new KvClient.Settings(Duration.ofMillis(20), Duration.ofSeconds(20)));
    for (int i = 0; i < 50; i++) assertEquals(KvErr.OK, clerk.appendSync("log", "a").err());

    int leader = leader(rafts);
    assertTrue(leader >= 0 && leader < 3);
    // the new replicas join as learners, catch up, then are promoted together (joint, auto-leave)
    assertNull(change(rafts.get(leader), Configuration.Transition.AUTO, new Configuration.AddLearner(3), new Configuration.AddLearner(4)).refused());
    awaitConfiguration(rafts, List.of(0, 1, 2, 3, 4), Configuration.of(Set.of(0, 1, 2), Set.of(3, 4)));
    RaftPeer.MembershipProposal promote =
        awaitAccepted(rafts, leader, Configuration.Transition.AUTO, new Configuration.AddVoter(3), new Configuration.AddVoter(4));
    assertTrue(promote.proposal().isLeader());
    Configuration five = Configuration.of(Set.of(0, 1, 2, 3, 4), Set.of());
    awaitConfiguration(rafts, List.of(0, 1, 2, 3, 4), five);
    for (int i = 0; i < 20; i++) assertEquals(KvErr.OK, clerk.appendSync("log", "b").err());

    // remove the leader; it steps down once that commits and another voter takes over
    int old = leader(rafts);
    awaitAccepted(rafts, old, Configuration.Transition.AUTO, new Configuration.Remove(old));
    Set<Integer> rest = new java.util.TreeSet<>(five.voters());
    rest.remove(old);
    awaitConfiguration(rafts, List.copyOf(rest), Configuration.of(rest, Set.of()));
    group.servers[old].tell(KvServer.Stop.INSTANCE);
    rafts.set(old, null);
    for (int i = 0; i < 20; i++) assertEquals(KvErr.OK, clerk.appendSync("log", "c").err());
    KvClient.Result log = clerk.getSync("log");
    assertEquals("a".repeat(50) + "b".repeat(20) + "c".repeat(20), log.value());
    int now = leader(rafts);
    assertFalse(now == old || now < 0, "a remaining voter leads: " + now);
  }

  static RaftPeer.MembershipProposal change(ActorRef<RaftPeer.Command> raft, Configuration.Transition t, Configuration.Change... changes) {
    TestProbe<RaftPeer.MembershipProposal> probe = testKit.createTestProbe();
    raft.tell(new RaftPeer.ChangeMembership(List.of(changes), t, probe.getRef()));
    return probe.receiveMessage();
  }

  /** Proposes at the current leader until it is taken (the previous change may still be committing). */
  static RaftPeer.MembershipProposal awaitAccepted(
      AtomicReferenceArray<ActorRef<RaftPeer.Command>> rafts, int hint, Configuration.Transition t, Configuration.Change... changes)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      int l = leader(rafts);
      if (l >= 0) {
        RaftPeer.MembershipProposal p = change(rafts.get(l), t, changes);
        if (p.refused() == null && p.proposal().isLeader()) return p;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("the change was never taken");
  }

  static void awaitConfiguration(AtomicReferenceArray<ActorRef<RaftPeer.Command>> rafts, List<Integer> at, Configuration expected)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    TestProbe<Configuration> probe = testKit.createTestProbe();
    while (System.nanoTime() < deadline) {
      boolean all = true;
      for (int i : at) {
        rafts.get(i).tell(new RaftPeer.GetConfiguration(probe.getRef()));
        if (!probe.receiveMessage().equals(expected)) all = false;
      }
      if (all) return;
      Thread.sleep(20);
    }
    throw new AssertionError("not every one of " + at + " has " + expected);
  }

  static int leader(AtomicReferenceArray<ActorRef<RaftPeer.Command>> rafts) throws InterruptedException {
    TestProbe<RaftPeer.State> probe = testKit.createTestProbe();
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      for (int i = 0; i < rafts.length(); i++) {
        ActorRef<RaftPeer.Command> r = rafts.get(i);
        if (r == null) continue;
        r.tell(new RaftPeer.GetState(probe.getRef()));
        if (probe.receiveMessage().isLeader()) return i;
      }
      Thread.sleep(20);
    }
    return -1;
  }
}
