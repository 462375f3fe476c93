package io.raftkv.rsm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.raftkv.raft.PeerSettings;
import io.raftkv.raft.RaftConfig;
import io.raftkv.raft.RaftPeer;
import io.raftkv.testing.LabGroup;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The lab's RSM tests (kvraft1/rsm, spec §11): 3 servers on a reliable network, each an {@link Rsm}
 * driving the "increment one integer" state machine; Submit is called on a server's Rsm directly.
 */
@Timeout(180)
class RsmLabTest {
  static final ActorTestKit testKit = ActorTestKit.create();
  static final int NSRV = 3;
  static final Duration NSEC = Duration.ofSeconds(10);

  @AfterAll
  static void done() {
    testKit.shutdownTestKit();
  }

  // ops of the tester's state machine
  static final byte INC = 1;
  static final byte NULL = 2;
  static final byte DEC = 3;

  /** The tester's rsmSrv: Inc adds one and returns the counter; Null does nothing; Dec is fatal. */
  static final class Counter implements StateMachine {
    volatile int counter;
    volatile String fatal;

    @Override
    public byte[] apply(byte[] op) {
      if (op.length == 1 && op[0] == INC) {
        counter++;
        return ByteBuffer.allocate(4).putInt(counter).array();
      }
      if (op.length == 1 && op[0] == NULL) return new byte[0];
      fatal = "applied a forbidden op " + java.util.Arrays.toString(op);
      return new byte[0];
    }

    @Override
    public byte[] snapshot() {
      return ByteBuffer.allocate(4).putInt(counter).array();
    }

    @Override
    public void restore(byte[] snapshot) {
      if (snapshot.length != 4) {
        fatal = "undecodable snapshot of " + snapshot.length + " bytes";
        return;
      }
      counter = ByteBuffer.wrap(snapshot).getInt();
    }
  }

  private LabGroup group;
  private final AtomicReferenceArray<Counter> counters = new AtomicReferenceArray<>(NSRV);
  private final AtomicReferenceArray<ActorRef<Rsm.Command>> rsms = new AtomicReferenceArray<>(NSRV);
  private final List<Counter> everyCounter = new ArrayList<>();
  private volatile int leader;
  private final ExecutorService pool = Executors.newCachedThreadPool();

  private void makeTest(int maxRaftState, String banner) {
    group =
        new LabGroup(
            testKit,
            NSRV,
            true,
            m -> null,
            (i, n, storage, transport, seed) -> {
              Counter sm = new Counter();
              synchronized (everyCounter) {
                everyCounter.add(sm);
              }
              PeerSettings settings = new PeerSettings(i, n, RaftConfig.defaults(), Duration.ofMillis(10), seed);
              ActorRef<Rsm.Command> rsm = testKit.spawn(Rsm.create(settings, storage, transport, maxRaftState, sm));
              ActorRef<RaftPeer.Command> raft =
                  AskPattern.<Rsm.Command, ActorRef<RaftPeer.Command>>ask(
                          rsm, Rsm.GetRaft::new, Duration.ofSeconds(5), testKit.scheduler())
                      .toCompletableFuture()
                      .join();
              transport.bind(raft);
              counters.set(i, sm);
              rsms.set(i, rsm);
              // the tester kills only Raft; the RSM must notice and stop its pending Submits
              return new LabGroup.Server(null, () -> {
                rsms.compareAndSet(i, rsm, null);
                raft.tell(RaftPeer.Stop.INSTANCE);
              });
            });
    System.out.println("Test RSM: " + banner + " (reliable network)...");
  }

  @AfterEach
  void cleanup() {
    pool.shutdownNow();
    if (group != null) group.close();
    checkNoFatal();
  }

  private void checkNoFatal() {
    synchronized (everyCounter) {
      for (Counter c : everyCounter) if (c.fatal != null) fail("a server died: " + c.fatal);
    }
  }

  /** Submit on server i's rsm, blocking like the lab's call (a minority leader may wait long). */
  private Rsm.Result submit(int i, byte op) {
    ActorRef<Rsm.Command> rsm = rsms.get(i);
    if (rsm == null) return Rsm.Result.Stopped.INSTANCE;
    try {
      return AskPattern.<Rsm.Command, Rsm.Result>ask(
              rsm, r -> new Rsm.Submit(new byte[] {op}, r), Duration.ofSeconds(60), testKit.scheduler())
          .toCompletableFuture()
          .join();
    } catch (RuntimeException e) {
      return Rsm.Result.Stopped.INSTANCE; // the rsm is gone
    }
  }

  /** onePartition(p, req): walk the connected live servers in p until one commits; null after 10 s. */
  private Rsm.Result.Ok onePartition(int[] p, byte op) {
    long deadline = System.nanoTime() + NSEC.toNanos();
    while (System.nanoTime() < deadline) {
      int start = leader;
      for (int k = 0; k < NSRV; k++) {
        int i = (start + k) % NSRV;
        if (!contains(p, i) || !group.isConnected(i) || rsms.get(i) == null) continue;
        Rsm.Result r = submit(i, op);
        if (r instanceof Rsm.Result.Ok ok) {
          leader = i;
          return ok;
        }
      }
      LabGroup.sleep(50);
    }
    return null;
  }

  private static boolean contains(int[] p, int i) {
    if (p == null) return true;
    for (int x : p) if (x == i) return true;
    return false;
  }

  private int oneInc() {
    Rsm.Result.Ok ok = onePartition(null, INC);
    assertNotNull(ok, "oneInc did not commit within 10 s");
    return ByteBuffer.wrap(ok.value()).getInt();
  }

  private void oneNull() {
    assertNotNull(onePartition(null, NULL), "oneNull did not commit within 10 s");
  }

  /** checkCounter(v, nsrv): at least nsrv servers reach v, polling with backoff up to ~24 s. */
  private void checkCounter(int v, int nsrv) {
    long to = 10;
    int have = 0;
    for (int iter = 0; iter < 30; iter++) {
      have = 0;
      for (int i = 0; i < NSRV; i++) {
        Counter c = counters.get(i);
        if (c != null && c.counter == v) have++;
      }
      if (have >= nsrv) {
        checkNoFatal();
        return;
      }
      LabGroup.sleep(to);
      to = Math.min(to * 2, 1000);
    }
    fail("only " + have + " srvs have " + v + " instead of " + nsrv);
  }

  private int leaderByState() {
    for (int i = 0; i < NSRV; i++) {
      ActorRef<Rsm.Command> rsm = rsms.get(i);
      if (rsm == null) continue;
      ActorRef<RaftPeer.Command> raft =
          AskPattern.<Rsm.Command, ActorRef<RaftPeer.Command>>ask(rsm, Rsm.GetRaft::new, Duration.ofSeconds(5), testKit.scheduler())
              .toCompletableFuture()
              .join();
      RaftPeer.State s =
          AskPattern.<RaftPeer.Command, RaftPeer.State>ask(raft, RaftPeer.GetState::new, Duration.ofSeconds(5), testKit.scheduler())
              .toCompletableFuture()
              .join();
      if (s.isLeader()) return i;
    }
    fail("no leader");
    return -1;
  }

  @Test
  void basic4A() {
    makeTest(-1, "basic");
    for (int i = 0; i < 10; i++) {
      int r = oneInc();
      assertEquals(i + 1, r, "wrong N");
      checkCounter(r, NSRV);
    }
  }

  @Test
  void concurrent4A() throws Exception {
    makeTest(-1, "concurrent submit");
    List<CompletableFuture<Integer>> incs = new ArrayList<>();
    for (int i = 0; i < 50; i++) incs.add(CompletableFuture.supplyAsync(this::oneInc, pool));
    for (CompletableFuture<Integer> f : incs) f.get(60, TimeUnit.SECONDS);
    checkCounter(50, NSRV);
  }

  @Test
  void leaderFailure4A() {
    makeTest(-1, "Leader Failure");
    int r = oneInc();
    checkCounter(r, NSRV);
    int l = leader;
    group.disconnectAll(l);
    r = oneInc();
    checkCounter(r, NSRV - 1);
    group.connectOne(l);
    checkCounter(r, NSRV);
  }

  @Test
  void leaderPartition4A() throws Exception {
    makeTest(-1, "Leader Partition");
    int r = oneInc();
    checkCounter(r, NSRV);
    int l = leaderByState();
    int[][] p = group.makePartition(l);
    group.partition(p[0], p[1]);
    List<CompletableFuture<Rsm.Result>> decs = new ArrayList<>();
    for (int i = 0; i < 100; i++) decs.add(CompletableFuture.supplyAsync(() -> submit(l, DEC), pool));
    LabGroup.sleep(10);
    Rsm.Result.Ok rep = onePartition(p[0], INC);
    assertNotNull(rep, "the majority did not make progress");
    LabGroup.sleep(1000);
    if (decs.stream().allMatch(CompletableFuture::isDone)) fail("Dec's in minority completed");
    group.connectOne(l);
    CompletableFuture<Void> all = CompletableFuture.allOf(decs.toArray(new CompletableFuture<?>[0]));
    try {
      all.get(1, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      fail("Submit after healing didn't return");
    }
    for (CompletableFuture<Rsm.Result> d : decs) assertTrue(!(d.get() instanceof Rsm.Result.Ok), "a Dec in the minority returned OK");
    checkCounter(ByteBuffer.wrap(rep.value()).getInt(), NSRV);
  }

  @Test
  void restartReplay4A() {
    makeTest(-1, "Restart");
    replayHundredThenRestart();
    LabGroup.sleep(1000);
    checkCounter(101, NSRV);
  }

  private void replayHundredThenRestart() {
    for (int i = 0; i < 100; i++) {
      int r = oneInc();
      assertEquals(i + 1, r, "wrong N");
      checkCounter(r, NSRV);
    }
    group.shutdown();
    LabGroup.sleep(1000);
    group.startServers();
    assertEquals(101, oneInc(), "state not rebuilt by replaying the log");
  }

  @Test
  void shutdown4A() throws Exception {
    makeTest(-1, "Shutdown");
    nullsThenShutdown();
  }

  private void nullsThenShutdown() throws Exception {
    List<CompletableFuture<Void>> nulls = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      nulls.add(
          CompletableFuture.runAsync(
              () -> onePartition(null, NULL), pool)); // may give up after the shutdown: no assertion
    }
    LabGroup.sleep(20);
    group.shutdown();
    try {
      CompletableFuture.allOf(nulls.toArray(new CompletableFuture<?>[0])).get(NSEC.toSeconds() + 1, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      fail("Submit didn't stop after shutdown");
    }
  }

  @Test
  void restartSubmit4A() throws Exception {
    makeTest(-1, "Restart and submit");
    replayHundredThenRestart();
    LabGroup.sleep(1000);
    nullsThenShutdown();
    group.startServers();
    int r = oneInc();
    checkCounter(r, NSRV);
  }

  @Test
  void snapshot4C() {
    makeTest(1000, "creating and restoring snapshot");
    for (int i = 0; i < 100; i++) oneInc();
    checkCounter(100, NSRV);
    long sz = group.logSize();
    assertTrue(sz <= 2 * 1000, "logs were not trimmed (" + sz + " > 2*1000)");
    group.shutdown();
    group.startServers();
    oneInc();
    checkCounter(101, NSRV);
  }
}
