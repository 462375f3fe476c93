package io.raftkv.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.raft.ApplyMsg;
import io.raftkv.raft.RaftPeer;
import io.raftkv.raft.Role;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The tester's applier calls Snapshot synchronously with the apply stream; a probe is the peer. */
class TesterApplierTest {
  static final ActorTestKit kit = ActorTestKit.create();

  @AfterAll
  static void done() {
    kit.shutdownTestKit();
  }

  /** Records what it is handed; wants a snapshot after index 9. */
  static final class Recorder implements TesterApplier.Service {
    final BlockingQueue<Long> applied = new LinkedBlockingQueue<>();
    final BlockingQueue<String> errors = new LinkedBlockingQueue<>();

    @Override
    public byte[] onCommand(ApplyMsg.Command m) {
      applied.add(m.index());
      return m.index() == 9 ? new byte[] {9} : null;
    }

    @Override
    public void onSnapshot(ApplyMsg.SnapshotInstalled m) {
      applied.add(-m.index());
    }

    @Override
    public void failed(String error) {
      errors.add(error);
    }
  }

  static ApplyMsg.Command cmd(long index) {
    return new ApplyMsg.Command(index, 1, new byte[] {(byte) index});
  }

  static final RaftPeer.State STATE = new RaftPeer.State(0, 1, Role.LEADER, 0, 10, 10, 10, 9, 0, 0);

  static ActorRef<ApplyMsg> applier(Recorder r, TestProbe<RaftPeer.Command> peer, Duration timeout) {
    return kit.spawn(TesterApplier.create(r, peer::getRef, timeout)).narrow();
  }

  static long next(Recorder r) throws InterruptedException {
    Long i = r.applied.poll(5, TimeUnit.SECONDS);
    if (i == null) throw new AssertionError("nothing applied within 5 s");
    return i;
  }

  @Test
  void nothingAfterTheSnapshotPointIsTakenUntilSnapshotReturns() throws Exception {
    TestProbe<RaftPeer.Command> peer = kit.createTestProbe();
    Recorder r = new Recorder();
    ActorRef<ApplyMsg> applier = applier(r, peer, Duration.ofSeconds(10));
    applier.tell(cmd(8));
    applier.tell(cmd(9));
    applier.tell(cmd(10));
    applier.tell(new ApplyMsg.SnapshotInstalled(20, 1, new byte[0]));
    assertEquals(8, next(r));
    assertEquals(9, next(r));
    RaftPeer.TakeSnapshot snap = peer.expectMessageClass(RaftPeer.TakeSnapshot.class);
    assertEquals(9, snap.index());
    RaftPeer.GetState barrier = peer.expectMessageClass(RaftPeer.GetState.class);
    // Snapshot(9) has not returned: the applier must not take 10 (an observation window)
    assertNull(r.applied.poll(200, TimeUnit.MILLISECONDS), "took an entry while Snapshot was out");
    barrier.replyTo().tell(STATE);
    assertEquals(10, next(r));
    assertEquals(-20, next(r), "then the rest, in order");
    peer.expectNoMessage(Duration.ofMillis(50));
    assertTrue(r.errors.isEmpty(), r.errors.toString());
  }

  @Test
  void aSnapshotThatNeverReturnsFailsTheTest() throws Exception {
    TestProbe<RaftPeer.Command> peer = kit.createTestProbe();
    Recorder r = new Recorder();
    ActorRef<ApplyMsg> applier = applier(r, peer, Duration.ofMillis(300));
    applier.tell(cmd(9));
    applier.tell(cmd(10));
    peer.expectMessageClass(RaftPeer.TakeSnapshot.class);
    peer.expectMessageClass(RaftPeer.GetState.class); // never answered: a peer stuck behind its applier
    String err = r.errors.poll(5, TimeUnit.SECONDS);
    assertTrue(err != null && err.contains("Snapshot(9) did not return"), "error: " + err);
    assertEquals(9, next(r));
    assertNull(r.applied.poll(100, TimeUnit.MILLISECONDS), "nothing is taken after the stuck snapshot");
  }

  @Test
  void aPeerThatStopsWhileSnapshotIsOutLeavesTheRestRecorded() throws Exception {
    TestProbe<RaftPeer.Command> peer = kit.createTestProbe();
    Recorder r = new Recorder();
    ActorRef<ApplyMsg> applier = applier(r, peer, Duration.ofSeconds(30));
    applier.tell(cmd(9));
    applier.tell(cmd(10));
    applier.tell(ApplyMsg.Stopped.INSTANCE);
    peer.expectMessageClass(RaftPeer.TakeSnapshot.class);
    peer.expectMessageClass(RaftPeer.GetState.class);
    assertEquals(9, next(r));
    peer.stop(); // the crash: its answer never comes
    assertEquals(10, next(r));
    TestProbe<Object> watcher = kit.createTestProbe();
    watcher.expectTerminated(applier, Duration.ofSeconds(5)); // Stopped still ends the stream
    assertTrue(r.errors.isEmpty(), "a crash is no error: " + r.errors);
  }
}
