package io.raftkv.testing;

import io.raftkv.raft.PeerSettings;
import io.raftkv.raft.ApplyMsg;
import io.raftkv.raft.Proposal;
import io.raftkv.raft.RaftConfig;
import io.raftkv.raft.RaftPeer;
import io.raftkv.storage.MemoryStorage;
import io.raftkv.transport.SimNetwork;
import io.raftkv.transport.SimPeerTransport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * The lab's Raft tester (raft1/test.go, raft1/server.go): a {@link LabGroup} (tester1: slots,
 * persisters, connectivity, crash and restart) of {@link RaftPeer}s, the apply checker (agreement
 * and order) and, in snapshot mode, the applier that snapshots every {@value #SNAPSHOT_INTERVAL}
 * entries, synchronously with the apply stream as the Go tester does ({@link TesterApplier}).
 * Helpers keep the lab's names, steps and time limits.
 *
 * <p>Thread-safe: tests may drive it from several threads, as the lab's churn tests do. A failed
 * check throws {@link AssertionError}; an apply error seen by an applier fails the next check
 * (the lab's process exits at once). The seed (system property {@code raftkv.seed}, else random)
 * is printed; it seeds the network, the peers and {@link #rand()} (thread timing still varies, so
 * a seed makes a failure likelier to recur, not certain).
 *
 * <p>Diagnostics: {@code -Draftkv.log=INFO} shows the peers' role changes ("n2 became leader at
 * term 3"), {@code -Draftkv.debugOne=true} prints how long each {@link #one} took.
 */
public final class RaftTestCluster implements AutoCloseable {
  /** The tester's nominal election timeout (RaftElectionTimeout). */
  public static final Duration ELECTION_TIMEOUT = Duration.ofMillis(1000);

  public static final int SNAPSHOT_INTERVAL = 10;
  public static final int MAX_LOG_SIZE = 2000;
  /** The lab's per-test limit, checked at {@link #end()} and {@link #close()}. */
  public static final Duration TEST_LIMIT = LabGroup.TEST_LIMIT;

  static final boolean DEBUG_SLOW = Boolean.getBoolean("raftkv.debugOne");
  /** Generous: a live actor answers in milliseconds, and asks to a killed peer end at its death. */
  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(10);

  private final ActorTestKit kit;
  private final int n;
  private final boolean snapshotMode;
  private final RaftConfig raftConfig;
  private final Duration tick;
  /** Each slot's current (or last) incarnation: kept after a crash, as nCommitted counts the dead. */
  private final Incarnation[] incarnations;
  private final LabGroup group;
  private long beginNanos;
  private long beginRpcs;
  private volatile String applyError; // the first error any applier saw

  /** One run of a server: its actors and what its applier recorded (guarded by the cluster). */
  private static final class Incarnation {
    final int server;
    volatile boolean alive; // set once raft is spawned: other threads may look meanwhile
    volatile ActorRef<RaftPeer.Command> raft;
    final CompletableFuture<Object> killed = new CompletableFuture<>();
    final Map<Long, Object> logs = new HashMap<>();
    long lastApplied;

    Incarnation(int server) {
      this.server = server;
    }
  }

  private long maxIndex;

  public RaftTestCluster(ActorTestKit kit, int n, boolean reliable, boolean snapshotMode) {
    this(kit, n, reliable, snapshotMode, RaftConfig.defaults(), Duration.ofMillis(10));
  }

  public RaftTestCluster(
      ActorTestKit kit, int n, boolean reliable, boolean snapshotMode, RaftConfig raftConfig, Duration tick) {
    this.kit = kit;
    this.n = n;
    this.snapshotMode = snapshotMode;
    this.raftConfig = raftConfig;
    this.tick = tick;
    this.incarnations = new Incarnation[n];
    // makeTest: long delays for RPCs to dead or disconnected peers
    this.group = new LabGroup(kit, n, reliable, true, m -> null, ", snapshots=" + snapshotMode, this::startPeer);
  }

  public static String serverName(int i) {
    return LabGroup.serverName(i);
  }

  public int n() {
    return n;
  }

  public long seed() {
    return group.seed();
  }

  /** The slots, network and persisters underneath. */
  public LabGroup group() {
    return group;
  }

  // ---------------------------------------------------------------- randomness

  public int rand() {
    return group.rand();
  }

  /** Uniform in {@code [0, bound)}. */
  public int rand(int bound) {
    return group.rand(bound);
  }

  /** A random string of {@code len} URL-safe characters (tester1's Randstring). */
  public String randString(int len) {
    return group.randString(len);
  }

  // ---------------------------------------------------------------- begin / end

  public void begin(String description) {
    synchronized (this) {
      beginNanos = System.nanoTime();
    }
    beginRpcs = rpcTotal();
    System.out.printf("%s (%s network)...%n", description, isReliable() ? "reliable" : "unreliable");
  }

  /** The lab's End(): the pass line, and the 120 s limit since the cluster was made. */
  public void end() {
    checkApplyError();
    checkTimeout();
    long bad = stats().untransmittable();
    if (bad > 0) fail(bad + " messages could not be encoded for the wire (see the log)");
    double secs = (System.nanoTime() - beginNanos) / 1e9;
    System.out.printf("  ... Passed --  time %4.1fs #peers %d #RPCs %5d #Ops %d (seed %d)%n",
        secs, n, rpcTotal() - beginRpcs, 0, seed());
  }

  public void checkTimeout() {
    group.checkTimeout();
  }

  // ---------------------------------------------------------------- network settings

  public void setReliable(boolean reliable) {
    group.setReliable(reliable);
  }

  public boolean isReliable() {
    return group.isReliable();
  }

  public void setLongReordering(boolean on) {
    group.setLongReordering(on);
  }

  public void setLongDelays(boolean on) {
    group.setLongDelays(on);
  }

  public SimNetwork.Stats stats() {
    return group.stats();
  }

  /** Every request that entered the network, dropped ones included. */
  public long rpcTotal() {
    return stats().rpcs();
  }

  public long bytesTotal() {
    return stats().bytes();
  }

  /** Requests dispatched to server {@code i}, across its incarnations. */
  public long rpcCount(int i) {
    return stats().incoming(serverName(i));
  }

  /** The sum over servers of incoming RPCs (TestCount3B's rpcs()). */
  public long rpcsIncoming() {
    SimNetwork.Stats s = stats();
    long total = 0;
    for (int i = 0; i < n; i++) total += s.incoming(serverName(i));
    return total;
  }

  // ---------------------------------------------------------------- connectivity (§3.3)

  public boolean isConnected(int i) {
    return group.isConnected(i);
  }

  public boolean isAlive(int i) {
    return group.isAlive(i);
  }

  public void connectOne(int i) {
    group.connectOne(i);
  }

  public void disconnectAll(int i) {
    group.disconnectAll(i);
  }

  public void connectAll() {
    group.connectAll();
  }

  /** Connects each side within itself and cuts it from the other; either may be empty. */
  public void partition(int[] p1, int[] p2) {
    group.partition(p1, p2);
  }

  // ---------------------------------------------------------------- crash and restart (§3.4)

  /** ShutdownServer: cut off, unregister, keep a copy of what was persisted, kill. */
  public void crash(int i) {
    group.shutdownServer(i);
  }

  /** Crashes every server. */
  public void shutdown() {
    group.shutdown();
  }

  /**
   * StartServer: a new incarnation with brand-new (disabled) ends and a copy of the saved
   * persister. It is not connected.
   */
  public void startServer(int i) {
    group.startServer(i);
  }

  /** StartServers: start every server, then connect all. */
  public void startServers() {
    group.startServers();
  }

  /** The Raft tester's restart: StartServer + ConnectAll (reconnects everyone). */
  public void restart(int i) {
    startServer(i);
    connectAll();
  }

  /** The maximum over servers of the current persister's raft state size. */
  public long logSize() {
    return group.logSize();
  }

  public long snapshotSize() {
    return group.snapshotSize();
  }

  /** The tester's start function: a Raft peer on {@code storage} and its applier. */
  private LabGroup.Server startPeer(int i, int size, MemoryStorage storage, SimPeerTransport transport, long peerSeed) {
    Incarnation inc = new Incarnation(i);
    synchronized (this) {
      incarnations[i] = inc;
    }
    if (snapshotMode) {
      byte[] snap = storage.readSnapshot();
      if (snap.length > 0) {
        // mimic a service restoring its state before Raft delivers anything
        String err = ingestSnapshot(inc, snap, -1);
        if (err != null) fail(err);
      }
    }
    ActorRef<ApplyMsg> applier = kit.spawn(applier(inc)).narrow();
    PeerSettings settings = new PeerSettings(i, size, raftConfig, tick, peerSeed);
    ActorRef<RaftPeer.Command> raft = kit.spawn(RaftPeer.create(settings, storage, transport, applier));
    inc.raft = raft;
    inc.alive = true;
    transport.bind(raft);
    return new LabGroup.Server(null, () -> kill(inc));
  }

  private void kill(Incarnation inc) {
    synchronized (this) {
      if (!inc.alive) return;
      inc.alive = false;
    }
    inc.raft.tell(RaftPeer.Stop.INSTANCE);
    inc.killed.complete(DEAD);
  }

  // ---------------------------------------------------------------- the Raft API

  /** What a dead server answers to Start: not the leader, knowing none. */
  private static final Proposal NOT_STARTED = new Proposal(-1, -1, false, -1);

  /** Start(cmd) on server {@code i}; a dead server answers not-leader. */
  public Proposal start(int i, Object cmd) {
    Incarnation inc = incarnation(i);
    if (inc == null || !inc.alive) return NOT_STARTED;
    byte[] bytes = Commands.encode(cmd);
    Proposal r = askPeer(inc, (ActorRef<Proposal> to) -> new RaftPeer.Start(bytes, to));
    return r != null ? r : NOT_STARTED; // killed meanwhile
  }

  /** Asks server {@code i} to hand its leadership to {@code to}; null if it is dead or killed meanwhile. */
  public RaftPeer.TransferResult transferLeader(int i, int to) {
    Incarnation inc = incarnation(i);
    if (inc == null || !inc.alive) return null;
    return askPeer(inc, (ActorRef<RaftPeer.TransferResult> r) -> new RaftPeer.TransferLeader(to, r));
  }

  /** GetState(): (term, isLeader); a dead server answers (-1, false). */
  public RaftPeer.State state(int i) {
    Incarnation inc = incarnation(i);
    if (inc == null || !inc.alive) return null;
    return askPeer(inc, RaftPeer.GetState::new);
  }

  private static final Object DEAD = new Object();

  /** Asks a peer; null if it is killed before it answers. */
  @SuppressWarnings("unchecked")
  private <T> T askPeer(Incarnation inc, Function<ActorRef<T>, RaftPeer.Command> msg) {
    CompletableFuture<T> answer =
        AskPattern.ask(inc.raft, msg::apply, ASK_TIMEOUT, kit.scheduler()).toCompletableFuture();
    Object r = await(CompletableFuture.anyOf(answer, inc.killed));
    return r == DEAD ? null : (T) r;
  }

  public long term(int i) {
    RaftPeer.State s = state(i);
    return s == null ? -1 : s.term();
  }

  public boolean isLeader(int i) {
    RaftPeer.State s = state(i);
    return s != null && s.isLeader();
  }

  private synchronized Incarnation incarnation(int i) {
    return incarnations[i];
  }

  // ---------------------------------------------------------------- checkers (§6.2)

  /** Up to 10 rounds of 450–549 ms: the leader of the highest term among connected servers. */
  public int checkOneLeader() {
    for (int iters = 0; iters < 10; iters++) {
      sleep(450 + rand(100));
      TreeMap<Long, List<Integer>> leaders = new TreeMap<>();
      for (int i = 0; i < n; i++) {
        if (isConnected(i)) {
          RaftPeer.State s = state(i);
          if (s != null && s.isLeader()) leaders.computeIfAbsent(s.term(), t -> new ArrayList<>()).add(i);
        }
      }
      for (Map.Entry<Long, List<Integer>> e : leaders.entrySet()) {
        if (e.getValue().size() > 1)
          fail("term " + e.getKey() + " has " + e.getValue().size() + " (>1) leaders");
      }
      if (!leaders.isEmpty()) return leaders.lastEntry().getValue().get(0);
    }
    fail("expected one leader, got none");
    return -1;
  }

  /** All connected servers agree on the term; returns it. */
  public long checkTerms() {
    long term = -1;
    for (int i = 0; i < n; i++) {
      if (isConnected(i) && isAlive(i)) {
        long t = term(i);
        if (term == -1) {
          term = t;
        } else if (term != t) {
          fail("servers disagree on term");
        }
      }
    }
    return term;
  }

  public void checkNoLeader() {
    for (int i = 0; i < n; i++) {
      if (isConnected(i) && isLeader(i)) fail("expected no leader among connected servers, but " + i + " claims to be leader");
    }
  }

  /** How many servers (dead and disconnected included) applied {@code index}, and the command. */
  public record Committed(int count, Object cmd) {}

  public Committed nCommitted(long index) {
    checkApplyError();
    synchronized (this) {
      int count = 0;
      Object cmd = null;
      for (int i = 0; i < n; i++) {
        Incarnation inc = incarnations[i];
        if (inc == null || !inc.logs.containsKey(index)) continue;
        Object cmd1 = inc.logs.get(index);
        if (count > 0 && !Objects.equals(cmd, cmd1))
          fail("committed values do not match: index " + index + ", " + cmd + ", " + cmd1);
        count++;
        cmd = cmd1;
      }
      return new Committed(count, cmd);
    }
  }

  public void checkNoAgreement(long index) {
    int c = nCommitted(index).count();
    if (c > 0) fail(c + " committed but no majority");
  }

  /** The biggest index any applier recorded. */
  public synchronized long maxIndex() {
    return maxIndex;
  }

  /**
   * Agreement on {@code cmd} by at least {@code expectedServers}: tries connected live servers in
   * turn until one accepts, then waits up to 2 s for the commit; retries (if {@code retry}) for up
   * to 10 s in all. Returns the index.
   */
  public long one(Object cmd, int expectedServers, boolean retry) {
    long t0 = System.nanoTime();
    int starts = 0;
    while (System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10)) {
      long index = -1;
      for (int k = 0; k < n; k++) {
        starts = (starts + 1) % n;
        if (isConnected(starts) && isAlive(starts)) {
          Proposal r = start(starts, cmd);
          if (r.isLeader()) {
            index = r.index();
            break;
          }
        }
      }
      if (index != -1) {
        long t1 = System.nanoTime();
        while (System.nanoTime() - t1 < TimeUnit.SECONDS.toNanos(2)) {
          Committed c = nCommitted(index);
          if (c.count() > 0 && c.count() >= expectedServers && Objects.equals(c.cmd(), cmd)) {
            if (DEBUG_SLOW) System.out.printf("%tT.%<tL one(%s,%d) took %d ms, index %d%n", System.currentTimeMillis(), abbreviate(cmd), expectedServers, (System.nanoTime() - t0) / 1_000_000, index);
            return index;
          }
          sleep(20);
        }
        if (!retry) fail("one(" + abbreviate(cmd) + ") failed to reach agreement");
      } else {
        sleep(50);
      }
    }
    fail("one(" + abbreviate(cmd) + ") failed to reach agreement");
    return -1;
  }

  /** The marker {@link #waitFor} returns when some server's term passed {@code startTerm}. */
  public static final Integer TERM_MOVED = -1;

  /**
   * The lab's wait(): polls (10 ms doubling to 1 s, 30 times) until {@code count} servers applied
   * {@code index}; returns the command, or {@link #TERM_MOVED} if a term passed {@code startTerm}.
   */
  public Object waitFor(long index, int count, long startTerm) {
    long to = 10;
    for (int iters = 0; iters < 30; iters++) {
      if (nCommitted(index).count() >= count) break;
      sleep(to);
      if (to < 1000) to *= 2;
      if (startTerm > -1) {
        for (int i = 0; i < n; i++) {
          if (term(i) > startTerm) return TERM_MOVED; // the term moved on: no guarantee of a commit
        }
      }
    }
    Committed c = nCommitted(index);
    if (c.count() < count) fail("only " + c.count() + " decided for index " + index + "; wanted " + count);
    return c.cmd();
  }

  // ---------------------------------------------------------------- appliers (§6.1)

  /** How long the applier waits for a Snapshot call to return before it fails the test. */
  static final Duration SNAPSHOT_TIMEOUT = Duration.ofSeconds(10);

  private Behavior<Object> applier(Incarnation inc) {
    return TesterApplier.create(
        new TesterApplier.Service() {
          @Override
          public byte[] onCommand(ApplyMsg.Command m) {
            return RaftTestCluster.this.onCommand(inc, m);
          }

          @Override
          public void onSnapshot(ApplyMsg.SnapshotInstalled m) {
            String err = ingestSnapshot(inc, m.data(), m.index());
            if (err != null) applyFailed(err);
          }

          @Override
          public void failed(String error) {
            applyFailed("server " + inc.server + ": " + error);
          }
        },
        () -> inc.raft,
        SNAPSHOT_TIMEOUT);
  }

  /** checkLogs, and in snapshot mode the order check; returns the snapshot to take here, or null. */
  private byte[] onCommand(Incarnation inc, ApplyMsg.Command m) {
    Object cmd = Commands.decode(m.command());
    String err = null;
    byte[] snapshot = null;
    synchronized (this) {
      if (snapshotMode && m.index() != inc.lastApplied + 1) {
        err = "server " + inc.server + " apply out of order, expected index " + (inc.lastApplied + 1) + ", got " + m.index();
      }
      String e2 = checkLogs(inc, m.index(), cmd);
      if (err == null) err = e2;
      inc.lastApplied = m.index();
      if (snapshotMode && (m.index() + 1) % SNAPSHOT_INTERVAL == 0) {
        List<Object> xlog = new ArrayList<>();
        for (long j = 0; j <= m.index(); j++) xlog.add(inc.logs.get(j));
        snapshot = Commands.encodeSnapshot(m.index(), xlog);
      }
    }
    if (err != null) applyFailed(err);
    return snapshot;
  }

  /** Agreement with every server's record, and this server's order. Caller holds the lock. */
  private String checkLogs(Incarnation inc, long index, Object cmd) {
    String err = null;
    for (int j = 0; j < n; j++) {
      Incarnation other = incarnations[j];
      if (other != null && other.logs.containsKey(index) && !Objects.equals(other.logs.get(index), cmd)) {
        err = "commit index=" + index + " server=" + inc.server + " " + abbreviate(cmd) + " != server=" + j + " "
            + abbreviate(other.logs.get(index));
      }
    }
    boolean prevOk = inc.logs.containsKey(index - 1);
    inc.logs.put(index, cmd);
    if (index > maxIndex) maxIndex = index;
    if (err == null && index > 1 && !prevOk) err = "server " + inc.server + " apply out of order " + index;
    return err;
  }

  /** Loads the tester's snapshot into the incarnation's log map. */
  private String ingestSnapshot(Incarnation inc, byte[] data, long snapshotIndex) {
    Commands.TesterSnapshot s;
    try {
      s = Commands.decodeSnapshot(data);
    } catch (RuntimeException e) {
      return "snapshot decode error: " + e.getMessage();
    }
    if (snapshotIndex != -1 && snapshotIndex != s.lastIncludedIndex())
      return "server " + inc.server + " snapshot doesn't match m.SnapshotIndex";
    synchronized (this) {
      if (s.lastIncludedIndex() < inc.lastApplied)
        return "server " + inc.server + " snapshot at " + s.lastIncludedIndex() + " moves the service back from " + inc.lastApplied;
      for (int j = 0; j < s.commands().size(); j++) inc.logs.put((long) j, s.commands().get(j));
      inc.lastApplied = s.lastIncludedIndex();
    }
    return null;
  }

  private void applyFailed(String err) {
    System.out.println("apply error: " + err + " (seed " + seed() + ")");
    synchronized (this) {
      if (applyError == null) applyError = err;
    }
  }

  private void checkApplyError() {
    String err = applyError;
    if (err != null) fail("apply error: " + err);
  }

  // ---------------------------------------------------------------- cleanup

  @Override
  public void close() {
    group.close();
  }

  // ---------------------------------------------------------------- helpers

  public void fail(String message) {
    throw new AssertionError(message + " (raftkv.seed=" + seed() + ")");
  }

  private static <T> T await(CompletableFuture<T> f) {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("ask failed: " + e.getCause(), e.getCause());
    }
  }

  private static String abbreviate(Object cmd) {
    String s = String.valueOf(cmd);
    return s.length() > 40 ? s.substring(0, 37) + "..." : s;
  }

  public static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public static void sleep(Duration d) {
    sleep(d.toMillis());
  }
}
