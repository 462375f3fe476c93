package io.raftkv.rsm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.raftkv.raft.PeerSettings;
import io.raftkv.raft.PeerTransport;
import io.raftkv.raft.RaftPeer;
import io.raftkv.storage.MemoryStorage;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Submit through the leader's Rsm commits on every replica; followers answer WrongLeader. */
@Timeout(60)
class RsmTest {
  static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void done() {
    testKit.shutdownTestKit();
  }

  /** Adds the op's 8-byte number to a running sum and returns the new sum. */
  static final class Sum implements StateMachine {
    long sum;

    @Override
    public byte[] apply(byte[] op) {
      sum += ByteBuffer.wrap(op).getLong();
      return ByteBuffer.allocate(8).putLong(sum).array();
    }

    @Override
    public byte[] snapshot() {
      return ByteBuffer.allocate(8).putLong(sum).array();
    }

    @Override
    public void restore(byte[] snapshot) {
      sum = ByteBuffer.wrap(snapshot).getLong();
    }
  }

  @Test
  void submitsCommitInOrderAndSnapshotsKeepTheLogSmall() {
    int n = 3;
    AtomicReferenceArray<ActorRef<RaftPeer.Command>> rafts = new AtomicReferenceArray<>(n);
    PeerTransport transport = e -> {
      ActorRef<RaftPeer.Command> to = rafts.get(e.to());
      if (to != null) to.tell(new RaftPeer.Inbound(e.from(), e.message()));
    };
    Sum[] machines = new Sum[n];
    MemoryStorage[] storages = new MemoryStorage[n];
    @SuppressWarnings("unchecked")
    ActorRef<Rsm.Command>[] rsms = new ActorRef[n];
    TestProbe<ActorRef<RaftPeer.Command>> raftProbe = testKit.createTestProbe();
    for (int i = 0; i < n; i++) {
      machines[i] = new Sum();
      storages[i] = new MemoryStorage();
      rsms[i] = testKit.spawn(Rsm.create(PeerSettings.of(i, n), storages[i], transport, 300, machines[i]));
      rsms[i].tell(new Rsm.GetRaft(raftProbe.getRef()));
      rafts.set(i, raftProbe.receiveMessage());
    }
    TestProbe<Rsm.Result> result = testKit.createTestProbe();
    int leader = 0;
    long expected = 0;
    for (long k = 1; k <= 100; k++) {
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (true) {
        if (System.nanoTime() > deadline) throw new AssertionError("op " + k + " did not commit");
        rsms[leader].tell(new Rsm.Submit(ByteBuffer.allocate(8).putLong(k).array(), result.getRef()));
        Rsm.Result r = result.receiveMessage(Duration.ofSeconds(5));
        if (r instanceof Rsm.Result.Ok ok) {
          expected += k;
          assertEquals(expected, ByteBuffer.wrap(ok.value()).getLong());
          break;
        }
        assertInstanceOf(Rsm.Result.WrongLeader.class, r);
        leader = (leader + 1) % n;
        sleep(20);
      }
    }
    long want = expected;
    for (int i = 0; i < n; i++) {
      int peer = i;
      awaitTrue(() -> machines[peer].sum == want);
    }
    // 100 entries of ~20 bytes each would exceed 300 bytes without snapshots
    for (int i = 0; i < n; i++) {
      assertEquals(true, storages[i].raftStateSize() < 2 * 300, "raft state " + storages[i].raftStateSize());
    }
  }

  static void awaitTrue(java.util.function.BooleanSupplier cond) {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("condition not reached in 5 s");
      sleep(20);
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }
}
