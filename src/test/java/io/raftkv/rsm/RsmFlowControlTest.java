package io.raftkv.rsm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.raft.PeerSettings;
import io.raftkv.raft.PersistentState;
import io.raftkv.raft.RaftPeer;
import io.raftkv.raft.RaftStorage;
import io.raftkv.raft.Ready;
import io.raftkv.storage.MemoryStorage;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The RSM's bounds: one snapshot in flight, and admission control on the leader. */
@Timeout(60)
class RsmFlowControlTest {
  static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void done() {
    testKit.shutdownTestKit();
  }

  /** Counts applies; holds every snapshot request until the test releases it. */
  static final class HeldSnapshots implements ReplicatedService {
    final AtomicInteger applied = new AtomicInteger();
    final List<Runnable> held = new ArrayList<>();
    final AtomicInteger requested = new AtomicInteger();

    @Override
    public void apply(long index, byte[] op, ReplyTo replyTo) {
      applied.incrementAndGet();
      replyTo.tell(new Rsm.Result.Ok(index, new byte[0]));
    }

    @Override
    public void snapshot(long index, ActorRef<Rsm.SnapshotReady> replyTo) {
      requested.incrementAndGet();
      byte[] state = ByteBuffer.allocate(4).putInt(applied.get()).array();
      synchronized (held) {
        held.add(() -> replyTo.tell(new Rsm.SnapshotReady(index, state)));
      }
    }

    void releaseAll() {
      List<Runnable> now;
      synchronized (held) {
        now = new ArrayList<>(held);
        held.clear();
      }
      now.forEach(Runnable::run);
    }

    @Override
    public void restore(byte[] snapshot) {}
  }

  /** A storage whose persists wait, while closed, until the test opens it. */
  static final class GatedStorage implements RaftStorage {
    private final MemoryStorage inner = new MemoryStorage();
    private final List<Ready> queued = new ArrayList<>();
    private final List<CompletableFuture<Void>> stages = new ArrayList<>();
    private boolean closed;

    @Override
    public PersistentState load() {
      return inner.load();
    }

    @Override
    public void persist(Ready ready) {
      persistAsync(ready).toCompletableFuture().join();
    }

    @Override
    public synchronized CompletionStage<Void> persistAsync(Ready ready) {
      if (!closed && queued.isEmpty()) {
        inner.persist(ready);
        return CompletableFuture.completedFuture(null);
      }
      CompletableFuture<Void> f = new CompletableFuture<>();
      queued.add(ready);
      stages.add(f);
      return f;
    }

    synchronized void close() {
      closed = true;
    }

    void open() {
      List<CompletableFuture<Void>> done;
      synchronized (this) {
        closed = false;
        for (Ready r : queued) inner.persist(r);
        queued.clear();
        done = new ArrayList<>(stages);
        stages.clear();
      }
      done.forEach(f -> f.complete(null));
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

  private static byte[] op(int size) {
    return new byte[size];
  }

  /** Submits until the single peer leads and one op committed. */
  private static void awaitLeader(ActorRef<Rsm.Command> rsm) {
    TestProbe<Rsm.Result> probe = testKit.createTestProbe();
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (true) {
      rsm.tell(new Rsm.Submit(op(8), probe.getRef()));
      if (probe.receiveMessage(Duration.ofSeconds(5)) instanceof Rsm.Result.Ok) return;
      if (System.nanoTime() > deadline) throw new AssertionError("no leader in 10 s");
      RsmTest.sleep(20);
    }
  }

  @Test
  void atMostOneSnapshotInFlightEvenWhenManyAppliesPassTheThreshold() {
    HeldSnapshots service = new HeldSnapshots();
    MemoryStorage storage = new MemoryStorage();
    ActorRef<Rsm.Command> rsm =
        testKit.spawn(Rsm.create(PeerSettings.of(0, 1), storage, e -> {}, 200, service));
    awaitLeader(rsm);
    TestProbe<Rsm.Result> probe = testKit.createTestProbe();
    int ops = 300;
    for (int i = 0; i < ops; i++) rsm.tell(new Rsm.Submit(op(16), probe.getRef()));
    for (int i = 0; i < ops; i++) assertInstanceOf(Rsm.Result.Ok.class, probe.receiveMessage(Duration.ofSeconds(10)));
    assertTrue(storage.raftStateSize() > 200, "the log is past the threshold");
    assertEquals(1, service.requested.get(), "snapshots asked while one was still being taken");

    // once Raft has the snapshot, the next one can be asked for
    service.releaseAll();
    RsmTest.awaitTrue(() -> storage.snapshotSize() > 0);
    for (int i = 0; i < 50 && service.requested.get() < 2; i++) {
      rsm.tell(new Rsm.Submit(op(16), probe.getRef()));
      assertInstanceOf(Rsm.Result.Ok.class, probe.receiveMessage(Duration.ofSeconds(10)));
    }
    assertEquals(2, service.requested.get(), "a second snapshot once the first was taken");
  }

  @Test
  void aLeaderRefusesSubmitsBeyondItsAdmissionLimitsWithBusy() {
    GatedStorage storage = new GatedStorage();
    AtomicInteger applied = new AtomicInteger();
    StateMachine sm =
        new StateMachine() {
          @Override
          public byte[] apply(byte[] op) {
            applied.incrementAndGet();
            return new byte[0];
          }

          @Override
          public byte[] snapshot() {
            return new byte[0];
          }

          @Override
          public void restore(byte[] snapshot) {}
        };
    ActorRef<Rsm.Command> rsm =
        testKit.spawn(
            Rsm.create(
                PeerSettings.of(0, 1), storage, e -> {}, -1, ReplicatedService.of(sm), new Rsm.Admission(5, 1000), null));
    awaitLeader(rsm);

    // a disk that does not keep up: nothing commits, so proposals stay in flight
    storage.close();
    TestProbe<Rsm.Result> probe = testKit.createTestProbe();
    for (int i = 0; i < 10; i++) rsm.tell(new Rsm.Submit(op(16), probe.getRef()));
    for (int i = 0; i < 5; i++) assertEquals(Rsm.Result.Busy.INSTANCE, probe.receiveMessage(Duration.ofSeconds(5)));
    probe.expectNoMessage(Duration.ofMillis(200));
    storage.open();
    for (int i = 0; i < 5; i++) assertInstanceOf(Rsm.Result.Ok.class, probe.receiveMessage(Duration.ofSeconds(5)));

    // bytes: 400-byte ops, 1000 bytes allowed: two in flight, the third is refused
    storage.close();
    for (int i = 0; i < 3; i++) rsm.tell(new Rsm.Submit(op(400), probe.getRef()));
    assertEquals(Rsm.Result.Busy.INSTANCE, probe.receiveMessage(Duration.ofSeconds(5)));
    probe.expectNoMessage(Duration.ofMillis(200));
    storage.open();
    for (int i = 0; i < 2; i++) assertInstanceOf(Rsm.Result.Ok.class, probe.receiveMessage(Duration.ofSeconds(5)));

    // settled proposals free their room
    for (int i = 0; i < 5; i++) rsm.tell(new Rsm.Submit(op(16), probe.getRef()));
    for (int i = 0; i < 5; i++) assertInstanceOf(Rsm.Result.Ok.class, probe.receiveMessage(Duration.ofSeconds(5)));
  }
}
