package io.raftkv.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.storage.FileStorage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three peers over {@link FileStorage} (persists complete on the storage's writer thread) and a
 * direct in-JVM transport: commands commit everywhere in order, and peers restarted from their
 * directories come back with everything they had applied.
 */
@Timeout(120)
class RaftPeerFileStorageTest {
  static final ActorTestKit testKit = ActorTestKit.create();
  static final int N = 3;

  @TempDir Path dir;
  final FileStorage[] storages = new FileStorage[N];
  final AtomicReferenceArray<ActorRef<RaftPeer.Command>> peers = new AtomicReferenceArray<>(N);
  final boolean[] connected = new boolean[N]; // guarded by itself
  @SuppressWarnings("unchecked")
  final TestProbe<ApplyMsg>[] applied = new TestProbe[N];

  final PeerTransport transport = e -> {
    synchronized (connected) {
      if (!connected[e.from()] || !connected[e.to()]) return;
    }
    ActorRef<RaftPeer.Command> to = peers.get(e.to());
    if (to != null) to.tell(new RaftPeer.Inbound(e.from(), e.message()));
  };

  @AfterAll
  static void done() {
    testKit.shutdownTestKit();
  }

  @AfterEach
  void stopAll() {
    for (int i = 0; i < N; i++) if (peers.get(i) != null) kill(i);
  }

  @Test
  void commandsCommitOverFileStorageAndSurviveRestarts() {
    for (int i = 0; i < N; i++) start(i, true);
    int leader = RaftPeerTest.awaitLeader(peers, N);
    for (int c = 1; c <= 20; c++) assertEquals(c, propose(leader, c));
    for (int i = 0; i < N; i++) expectCommands(i, 1, 20);

    // A follower goes down; the others go on; it comes back from its directory alone first.
    int f = (leader + 1) % N;
    long term = state(f).term();
    kill(f);
    for (int c = 21; c <= 30; c++) assertEquals(c, propose(leader, c));
    start(f, false);
    RaftPeer.State s = state(f);
    assertTrue(s.lastLogIndex() >= 20, "applied entries are durable: " + s);
    assertEquals(term, s.term());
    connect(f);
    expectCommands(f, 1, 30); // no snapshot: the restarted peer applies its log from the start

    // The whole group goes down and comes back: nothing committed is lost.
    for (int i = 0; i < N; i++) kill(i);
    for (int i = 0; i < N; i++) start(i, true);
    leader = RaftPeerTest.awaitLeader(peers, N);
    long next = propose(leader, 31);
    assertTrue(next >= 31, "index " + next);
    for (int i = 0; i < N; i++) expectCommands(i, 1, 30);
  }

  private void start(int i, boolean connect) {
    storages[i] = FileStorage.open(dir.resolve("n" + i));
    applied[i] = testKit.createTestProbe();
    peers.set(i, testKit.spawn(RaftPeer.create(PeerSettings.of(i, N), storages[i], transport, applied[i].getRef())));
    if (connect) connect(i);
  }

  private void connect(int i) {
    synchronized (connected) {
      connected[i] = true;
    }
  }

  /** Stops peer {@code i}, waits for its Stopped, then closes its storage (which finishes its queued writes). */
  private void kill(int i) {
    synchronized (connected) {
      connected[i] = false;
    }
    ActorRef<RaftPeer.Command> p = peers.getAndSet(i, null);
    p.tell(RaftPeer.Stop.INSTANCE);
    applied[i].fishForMessage(
        Duration.ofSeconds(10),
        m -> m == ApplyMsg.Stopped.INSTANCE ? FishingOutcomes.complete() : FishingOutcomes.continueAndIgnore());
    storages[i].close();
  }

  private long propose(int leader, int c) {
    TestProbe<Proposal> started = testKit.createTestProbe();
    peers.get(leader).tell(new RaftPeer.Start(("cmd" + c).getBytes(StandardCharsets.UTF_8), started.getRef()));
    Proposal r = started.receiveMessage();
    assertTrue(r.isLeader(), "n" + leader + " lost the leadership");
    return r.index();
  }

  private RaftPeer.State state(int i) {
    TestProbe<RaftPeer.State> p = testKit.createTestProbe();
    peers.get(i).tell(new RaftPeer.GetState(p.getRef()));
    return p.receiveMessage();
  }

  private void expectCommands(int i, int from, int to) {
    for (int c = from; c <= to; c++) {
      ApplyMsg.Command cmd = RaftPeerTest.nextCommand(applied[i]);
      assertEquals(c, cmd.index(), "n" + i);
      assertEquals("cmd" + c, new String(cmd.command(), StandardCharsets.UTF_8), "n" + i);
    }
  }
}
