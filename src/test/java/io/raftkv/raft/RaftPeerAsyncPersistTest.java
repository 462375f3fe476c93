package io.raftkv.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.raft.RaftMessage.AppendEntries;
import io.raftkv.raft.RaftMessage.AppendEntriesReply;
import io.raftkv.raft.RaftMessage.RequestVote;
import io.raftkv.raft.RaftMessage.RequestVoteReply;
import io.raftkv.storage.MemoryStorage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * RaftPeer over a storage whose persists complete only when the test says so. One real peer (n0);
 * the test plays the others through the transport, and time moves only when the test moves it.
 * Everything the peer carries out (messages sent, then applies) lands on one probe, in the order
 * the peer did it.
 */
@Timeout(60)
class RaftPeerAsyncPersistTest {
  static final ActorTestKit testKit = ActorTestKit.create(ManualTime.config());
  static final ManualTime time = ManualTime.get(testKit.system());
  static final Duration TICK = Duration.ofMillis(10);
  static final RaftConfig CONFIG = new RaftConfig(10, 20, 3, 1, 512, 1 << 20, 16, 30);
  /** How long "nothing happens" is watched for. */
  static final Duration QUIET = Duration.ofMillis(150);

  @AfterAll
  static void done() {
    testKit.shutdownTestKit();
  }

  @Test
  void aReadysMessagesAndAppliesWaitForItsPersistAndEveryEarlierOne() {
    GatedStorage storage = new GatedStorage();
    TestProbe<Object> out = testKit.createTestProbe();
    ActorRef<RaftPeer.Command> peer = spawn(3, storage, out);

    tickUntil(peer, () -> storage.count() == 1); // election timeout: n0 campaigns
    assertEquals(new HardState(1, 0), storage.call(1).ready().hardState());
    assertEquals(Role.CANDIDATE, state(peer).role());
    out.expectNoMessage(QUIET); // no RequestVote before the vote for itself is durable
    storage.complete(1);
    assertEquals(new RequestVote(1, 0, 0), sent(out, 1).message());
    assertEquals(new RequestVote(1, 0, 0), sent(out, 2).message());

    // Becoming leader persists nothing: with nothing in flight its heartbeats go out at once.
    peer.tell(new RaftPeer.Inbound(1, new RequestVoteReply(1, true)));
    assertEntries(List.of(), sent(out, 1));
    assertEntries(List.of(), sent(out, 2));
    assertEquals(new ApplyMsg.LeadershipChanged(1, true), out.receiveMessage());
    peer.tell(new RaftPeer.Inbound(1, AppendEntriesReply.accepted(1, 0)));
    peer.tell(new RaftPeer.Inbound(2, AppendEntriesReply.accepted(1, 0)));

    // A leader's AppendEntries need not wait for its own append (etcd's rule): the entries go
    // out at once, while the leader's persists are still in flight.
    assertEquals(new Proposal(1, 1, true, 0), start(peer, "c1")); // persist 2
    assertEntries(List.of(1L), sent(out, 1));
    assertEntries(List.of(1L), sent(out, 2));
    assertEquals(new Proposal(2, 1, true, 0), start(peer, "c2")); // persist 3
    assertEntries(List.of(2L), sent(out, 1));
    assertEntries(List.of(2L), sent(out, 2));
    assertEquals(3, storage.count());
    // A quorum acknowledges both entries, so they commit (the leader counts its own copy at
    // once), but the commit's applies, and any message carrying that commit index, wait behind
    // the leader's own appends.
    peer.tell(new RaftPeer.Inbound(1, AppendEntriesReply.accepted(1, 2)));
    RaftPeer.State s = state(peer);
    assertEquals(2, s.commitIndex());
    assertEquals(0, s.appliedIndex());
    out.expectNoMessage(QUIET);

    storage.complete(2); // only c1's append: the commit still depends on c2's
    out.expectNoMessage(QUIET);
    assertEquals(0, state(peer).appliedIndex());

    storage.complete(3); // c2's append, then the commit queued behind it
    assertCommand(1, "c1", out.receiveMessage());
    assertCommand(2, "c2", out.receiveMessage());
    assertEquals(2, state(peer).appliedIndex());
    // heartbeats now carry the durable commit index
    RaftMessage hb = null;
    time.timePasses(TICK.multipliedBy(CONFIG.heartbeatTicks()));
    for (int k = 0; k < 4 && hb == null; k++) {
      Object m = out.receiveMessage();
      if (m instanceof Envelope e && e.to() == 1) hb = e.message();
    }
    assertEquals(2, ((AppendEntries) hb).leaderCommit());
    testKit.stop(peer);
  }

  @Test
  void thePeerKeepsTakingTicksAndQueriesWhileAPersistIsPending() {
    GatedStorage storage = new GatedStorage();
    TestProbe<Object> out = testKit.createTestProbe();
    ActorRef<RaftPeer.Command> peer = spawn(3, storage, out);

    peer.tell(new RaftPeer.Inbound(1, new AppendEntries(1, 0, 0, List.of(entry(1, 1, "x")), 0)));
    RaftPeer.State s = state(peer);
    assertEquals(1, storage.count());
    assertEquals(1, s.term());
    assertEquals(1, s.leader());
    assertEquals(1, s.lastLogIndex());
    out.expectNoMessage(QUIET); // the acknowledgement waits for the entry

    // The leader goes quiet; ticks still arrive and n0 campaigns while persist 1 is pending.
    tickUntil(peer, () -> storage.count() == 2);
    s = state(peer);
    assertEquals(2, s.term());
    assertEquals(Role.CANDIDATE, s.role());
    assertEquals(new HardState(2, 0), storage.call(2).ready().hardState());
    out.expectNoMessage(QUIET);

    storage.complete(1);
    assertEquals(AppendEntriesReply.accepted(1, 1), sent(out, 1).message());
    out.expectNoMessage(QUIET);
    storage.complete(2);
    assertEquals(new RequestVote(2, 1, 1), sent(out, 1).message());
    assertEquals(new RequestVote(2, 1, 1), sent(out, 2).message());
    testKit.stop(peer);
  }

  @Test
  void aFailedPersistStopsThePeerAndTheServiceSeesStopped() {
    GatedStorage storage = new GatedStorage();
    TestProbe<Object> out = testKit.createTestProbe();
    ActorRef<RaftPeer.Command> peer = spawn(1, storage, out);
    becomeSoleLeader(peer, storage, out);

    assertEquals(new Proposal(1, 1, true, 0), start(peer, "c1")); // persist 2
    assertEquals(new Proposal(2, 1, true, 0), start(peer, "c2")); // persist 3
    out.expectNoMessage(QUIET);
    storage.fail(2, new UncheckedIOException(new IOException("simulated fsync failure")));
    assertEquals(ApplyMsg.Stopped.INSTANCE, out.receiveMessage()); // neither c1 nor c2 applied
    out.expectTerminated(peer);
    storage.complete(3); // a late completion reaches nobody
    out.expectNoMessage(QUIET);
  }

  @Test
  void aPersistThatFailsAtOnceStopsThePeerToo() {
    GatedStorage storage = new GatedStorage();
    TestProbe<Object> out = testKit.createTestProbe();
    ActorRef<RaftPeer.Command> peer = spawn(1, storage, out);
    becomeSoleLeader(peer, storage, out);

    storage.failAtOnce = true;
    assertEquals(new Proposal(1, 1, true, 0), start(peer, "c1"));
    assertEquals(ApplyMsg.Stopped.INSTANCE, out.receiveMessage());
    out.expectTerminated(peer);
  }

  @Test
  void killedWithPersistsInFlightItStopsAndLateCompletionsAreIgnored() {
    GatedStorage storage = new GatedStorage();
    TestProbe<Object> out = testKit.createTestProbe();
    ActorRef<RaftPeer.Command> peer = spawn(1, storage, out);
    becomeSoleLeader(peer, storage, out);

    assertEquals(new Proposal(1, 1, true, 0), start(peer, "c1"));
    peer.tell(RaftPeer.Stop.INSTANCE);
    assertEquals(ApplyMsg.Stopped.INSTANCE, out.receiveMessage());
    out.expectTerminated(peer);
    storage.complete(2);
    out.expectNoMessage(QUIET);
  }

  /**
   * When the storage hands back a completed stage (as in-memory storage does), the effects go out
   * while the peer still handles the input that caused them: the storage slips a GetState into the
   * mailbox from inside the persist, and its answer already shows the apply. A detour through a
   * completion message would have queued that message behind the GetState.
   */
  @Test
  void anAlreadyCompletePersistIsCarriedOutInline() {
    GatedStorage storage = new GatedStorage();
    storage.completeAtOnce = true;
    TestProbe<Object> out = testKit.createTestProbe();
    ActorRef<RaftPeer.Command> peer = spawn(1, storage, out);
    tickUntil(peer, () -> storage.count() == 1);
    assertEquals(new ApplyMsg.LeadershipChanged(1, true), out.receiveMessage());

    TestProbe<RaftPeer.State> slipped = testKit.createTestProbe();
    storage.duringPersist = () -> peer.tell(new RaftPeer.GetState(slipped.getRef()));
    assertEquals(new Proposal(1, 1, true, 0), start(peer, "c1"));
    assertEquals(1, slipped.receiveMessage().appliedIndex());
    assertCommand(1, "c1", out.receiveMessage());
    testKit.stop(peer);
  }

  // ---------------------------------------------------------------- helpers

  private static ActorRef<RaftPeer.Command> spawn(int n, GatedStorage storage, TestProbe<Object> out) {
    PeerTransport transport = e -> out.getRef().tell(e);
    PeerSettings settings = new PeerSettings(0, n, CONFIG, TICK, 42);
    ActorRef<RaftPeer.Command> peer = testKit.spawn(RaftPeer.create(settings, storage, transport, out.getRef().narrow()));
    state(peer); // set up, so its tick timer runs from now on
    return peer;
  }

  /** A group of one elects itself at its first election timeout; its vote must persist first. */
  private static void becomeSoleLeader(ActorRef<RaftPeer.Command> peer, GatedStorage storage, TestProbe<Object> out) {
    tickUntil(peer, () -> storage.count() == 1);
    assertEquals(Role.LEADER, state(peer).role());
    out.expectNoMessage(QUIET);
    storage.complete(1);
    assertEquals(new ApplyMsg.LeadershipChanged(1, true), out.receiveMessage());
  }

  /** Moves time one tick at a time (each tick handled before the next) until {@code done}. */
  private static void tickUntil(ActorRef<RaftPeer.Command> peer, BooleanSupplier done) {
    for (int i = 0; i < 1000 && !done.getAsBoolean(); i++) {
      time.timePasses(TICK);
      state(peer); // the tick is in the mailbox before this ask: its answer means it was handled
    }
    assertTrue(done.getAsBoolean(), "not reached within 1000 ticks");
  }

  private static RaftPeer.State state(ActorRef<RaftPeer.Command> peer) {
    TestProbe<RaftPeer.State> p = testKit.createTestProbe();
    peer.tell(new RaftPeer.GetState(p.getRef()));
    return p.receiveMessage();
  }

  private static Proposal start(ActorRef<RaftPeer.Command> peer, String cmd) {
    TestProbe<Proposal> p = testKit.createTestProbe();
    peer.tell(new RaftPeer.Start(cmd.getBytes(StandardCharsets.UTF_8), p.getRef()));
    return p.receiveMessage();
  }

  private static Envelope sent(TestProbe<Object> out, int to) {
    Envelope e = assertInstanceOf(Envelope.class, out.receiveMessage());
    assertEquals(to, e.to());
    return e;
  }

  private static void assertEntries(List<Long> indices, Envelope e) {
    AppendEntries ae = assertInstanceOf(AppendEntries.class, e.message());
    assertEquals(indices, ae.entries().stream().map(LogEntry::index).toList());
  }

  private static void assertCommand(long index, String cmd, Object m) {
    ApplyMsg.Command c = assertInstanceOf(ApplyMsg.Command.class, m);
    assertEquals(index, c.index());
    assertEquals(cmd, new String(c.command(), StandardCharsets.UTF_8));
  }

  private static LogEntry entry(long index, long term, String cmd) {
    return new LogEntry(index, term, cmd.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * A storage whose persists complete when the test says so, in call order as the contract
   * requires. It keeps what it was given in a MemoryStorage, so sizes reflect every call. A
   * synchronous {@code persist} fails the test: the peer must never block on one.
   */
  static final class GatedStorage implements RaftStorage {
    record Call(Ready ready, CompletableFuture<Void> stage) {}

    private final MemoryStorage inner = new MemoryStorage();
    private final List<Call> calls = new ArrayList<>(); // guarded by this
    volatile boolean completeAtOnce;
    volatile boolean failAtOnce;
    volatile Runnable duringPersist = () -> {};

    @Override
    public PersistentState load() {
      return inner.load();
    }

    @Override
    public void persist(Ready ready) {
      throw new AssertionError("RaftPeer called the blocking persist");
    }

    @Override
    public CompletionStage<Void> persistAsync(Ready ready) {
      duringPersist.run();
      if (failAtOnce) return CompletableFuture.failedFuture(new UncheckedIOException(new IOException("simulated")));
      inner.persist(ready);
      CompletableFuture<Void> stage = completeAtOnce ? CompletableFuture.completedFuture(null) : new CompletableFuture<>();
      synchronized (this) {
        calls.add(new Call(ready, stage));
      }
      return stage;
    }

    synchronized int count() {
      return calls.size();
    }

    /** The {@code seq}-th call, from 1. */
    synchronized Call call(int seq) {
      return calls.get(seq - 1);
    }

    /** Completes calls 1..{@code seq} in order (stages complete in call order). */
    void complete(int seq) {
      for (int i = 1; i <= seq; i++) call(i).stage().complete(null);
    }

    void fail(int seq, Throwable cause) {
      call(seq).stage().completeExceptionally(cause);
    }

    @Override
    public long raftStateSize() {
      return inner.raftStateSize();
    }

    @Override
    public long snapshotSize() {
      return inner.snapshotSize();
    }
  }
}
