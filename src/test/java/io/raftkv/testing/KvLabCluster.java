package io.raftkv.testing;

import static org.junit.jupiter.api.Assertions.fail;

import io.raftkv.client.KvClient;
import io.raftkv.client.ServerCall;
import io.raftkv.kv.KvCodec;
import io.raftkv.kv.KvErr;
import io.raftkv.kv.KvOp;
import io.raftkv.kv.KvServer;
import io.raftkv.raft.PeerSettings;
import io.raftkv.raft.RaftConfig;
import io.raftkv.raft.RaftPeer;
import io.raftkv.rsm.Rsm;
import io.raftkv.testing.lin.HistoryRecorder;
import io.raftkv.testing.lin.KvHistoryChecks;
import io.raftkv.testing.lin.KvInput;
import io.raftkv.testing.lin.KvOutput;
import io.raftkv.transport.SimNetwork;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * The kvraft tester (spec §12.2) and kvtest1's helpers (spec §9): a group of {@link KvServer}s on a
 * {@link LabGroup}, Clerks ({@link KvClient}) whose calls travel the simulated network through their
 * own ends, every Get and Put recorded for the linearizability checker.
 */
public final class KvLabCluster implements AutoCloseable {
  /** The tester's election timeout (ET): partitions last ET + 0–199 ms. */
  public static final Duration ELECTION_TIMEOUT = Duration.ofMillis(1000);

  /** KV requests and replies on the simulated wire, in their binary forms. */
  public static final SimNetwork.Wire KV_WIRE =
      m -> {
        if (m instanceof KvOp op) {
          byte[] b = KvCodec.encode(op);
          return new SimNetwork.Transmission(KvCodec.decodeOp(b), b.length);
        }
        if (m instanceof Rsm.Result.Ok ok) {
          byte[] b = ok.value();
          return new SimNetwork.Transmission(new Rsm.Result.Ok(ok.index(), b.clone()), b.length + 1);
        }
        if (m instanceof Rsm.Result || m == GaveUp.INSTANCE) return new SimNetwork.Transmission(m, 1);
        return null;
      };

  /**
   * How long a server waits for its op's result before it answers {@link GaveUp}: so a leader cut
   * off in a minority sends its clerks elsewhere (labrpc itself never times out a call).
   */
  static final Duration SERVER_GIVES_UP = Duration.ofSeconds(5);

  /** A server's answer that it gave up waiting for the op's result; the op's fate is unknown. */
  enum GaveUp {
    INSTANCE
  }

  /** What a clerk's try completes with when no result came back. */
  private static final CompletableFuture<Rsm.Result> NO_RESULT =
      CompletableFuture.failedFuture(new IllegalStateException("no result: lost, or the server gave up"));

  private final ActorTestKit kit;
  /** The current incarnation's Raft peer of each server. */
  private final java.util.Map<Integer, ActorRef<RaftPeer.Command>> rafts = new java.util.concurrent.ConcurrentHashMap<>();
  private final LabGroup group;
  private final HistoryRecorder history = new HistoryRecorder();
  private final AtomicInteger nextClient = new AtomicInteger();
  private final AtomicInteger ops = new AtomicInteger();
  private final ExecutorService pool = Executors.newCachedThreadPool();
  private final boolean unsafeReads;
  /** False once some clerk ran ops the recorder did not see: the whole history cannot be checked. */
  private volatile boolean historyComplete = true;
  private long beginNanos;

  public KvLabCluster(ActorTestKit kit, int n, boolean reliable, int maxRaftState) {
    this(kit, n, reliable, maxRaftState, false);
  }

  /** @param unsafeReads serve Gets from local state (broken on purpose; see {@link UnsafeLocalReadKvServer}) */
  public KvLabCluster(ActorTestKit kit, int n, boolean reliable, int maxRaftState, boolean unsafeReads) {
    this.kit = kit;
    this.unsafeReads = unsafeReads;
    this.group = new LabGroup(kit, n, reliable, KV_WIRE, (i, size, storage, transport, seed) -> {
      PeerSettings raft = new PeerSettings(i, size, RaftConfig.defaults(), Duration.ofMillis(10), seed);
      KvServer.Settings settings = KvServer.Settings.of(raft, maxRaftState);
      ActorRef<KvServer.Command> server =
          kit.spawn(
              this.unsafeReads
                  ? UnsafeLocalReadKvServer.create(settings, storage, transport)
                  : KvServer.create(settings, storage, transport));
      ActorRef<Rsm.Command> rsm = ask(server, KvServer.GetRsm::new);
      ActorRef<RaftPeer.Command> peer = ask(rsm, Rsm.GetRaft::new);
      transport.bind(peer);
      rafts.put(i, peer);
      SimNetwork.Service clients =
          req ->
              io.raftkv.client.Stages.direct(
                      AskPattern.<KvServer.Command, Rsm.Result>ask(
                          server, r -> new KvServer.Request((KvOp) req, r), SERVER_GIVES_UP, kit.scheduler()))
                  .handle((r, failure) -> failure == null ? (Object) r : GaveUp.INSTANCE);
      return new LabGroup.Server(clients, () -> server.tell(KvServer.Stop.INSTANCE));
    });
  }

  public LabGroup group() {
    return group;
  }

  public HistoryRecorder history() {
    return history;
  }

  public void begin(String title) {
    beginNanos = System.nanoTime();
    System.out.printf("%s (%s network)...%n", title, group.isReliable() ? "reliable" : "unreliable");
  }

  /** The lab's End(): the 120 s limit since the cluster was made, and the pass line. */
  public void end() {
    group.checkTimeout();
    System.out.printf(
        "  ... Passed --  time %4.1fs #peers %d #RPCs %5d #Ops %d (seed %d)%n",
        (System.nanoTime() - beginNanos) / 1e9, group.n(), group.stats().rpcs(), ops.get(), group.seed());
  }

  /** The lab's title for MakeTest (spec §12.2). */
  public static String title(
      String part, int nclients, boolean crash, boolean partitions, int maxRaftState, boolean randomKeys) {
    StringBuilder t = new StringBuilder("Test: ");
    if (crash) t.append("restarts, ");
    if (partitions) t.append("partitions, ");
    if (maxRaftState != -1) t.append("snapshots, ");
    if (randomKeys) t.append("random keys, ");
    t.append(nclients > 1 ? "many clients" : "one client").append(" (").append(part).append(")");
    return t.toString();
  }

  // ---------------------------------------------------------------- clerks

  /** A Clerk with its own client ends; every Get and Put it makes is recorded. */
  public final class Clerk {
    final int id = nextClient.getAndIncrement();
    final LabGroup.Client ends;
    final KvClient client;

    Clerk(LabGroup.Client ends, KvClient.Settings settings) {
      this.ends = ends;
      ServerCall call =
          (server, op) ->
              ends.call(server, op)
                  .thenCompose(
                      (Optional<Object> r) ->
                          r.isPresent() && r.get() instanceof Rsm.Result result
                              ? CompletableFuture.completedFuture(result)
                              : NO_RESULT);
      this.client = new KvClient(call, group.n(), settings);
    }

    public KvClient.Result get(String key) {
      long h = history.begin(id, KvInput.get(key));
      KvClient.Result r = client.getSync(key);
      ops.incrementAndGet();
      history.end(h, switch (r.err()) {
        case OK -> KvOutput.value(r.value(), r.version());
        case Timeout -> KvOutput.err(KvOutput.TIMEOUT);
        default -> KvOutput.noKey();
      });
      return r;
    }

    public KvErr put(String key, String value, long version) {
      long h = history.begin(id, KvInput.put(key, value, version));
      KvClient.Result r = client.putSync(key, value, version);
      ops.incrementAndGet();
      history.end(h, KvOutput.err(r.err().name()));
      return r.err();
    }

    /** Appends exactly once (the clerk's session deduplicates retries); recorded. */
    public KvErr append(String key, String value) {
      long h = history.begin(id, KvInput.append(key, value));
      KvClient.Result r = client.appendSync(key, value);
      ops.incrementAndGet();
      history.end(h, KvOutput.err(r.err().name()));
      return r.err();
    }

    /** Creates or overwrites exactly once; recorded. */
    public KvErr putUnconditional(String key, String value) {
      long h = history.begin(id, KvInput.put(key, value));
      KvClient.Result r = client.putUnconditional(key, value).toCompletableFuture().join();
      ops.incrementAndGet();
      history.end(h, KvOutput.err(r.err().name()));
      return r.err();
    }

    /** Restricts this clerk to {@code servers} (MakeClerkTo / ConnectTo). */
    public void connectTo(int[] servers) {
      ends.connectTo(servers);
    }

    public void connectAll() {
      ends.connectAll();
    }

    public void delete() {
      ends.delete();
    }

    /** The unrecorded Clerk (for KvLock and the like): the test's history is then incomplete. */
    public KvClient raw() {
      historyComplete = false;
      return client;
    }
  }

  public Clerk makeClerk() {
    return makeClerk(KvClient.Settings.defaults());
  }

  public Clerk makeClerkTo(int[] servers) {
    return makeClerkTo(servers, KvClient.Settings.defaults());
  }

  /** A clerk with its own retry settings, e.g. a deadline (its calls may then end in Timeout). */
  public Clerk makeClerk(KvClient.Settings settings) {
    return new Clerk(group.makeClient(), settings);
  }

  public Clerk makeClerkTo(int[] servers, KvClient.Settings settings) {
    return new Clerk(group.makeClientTo(servers), settings);
  }

  // ---------------------------------------------------------------- kvtest1 helpers (§9)

  /** PutAtLeastOnce: this clerk is the key's only writer; returns the version after the write. */
  public long putAtLeastOnce(Clerk ck, String key, String value, long ver) {
    while (true) {
      KvErr err = ck.put(key, value, ver);
      if (err == KvErr.OK) return ver + 1;
      if (err == KvErr.ErrMaybe || err == KvErr.ErrVersion) {
        ver++;
        continue;
      }
      if (err == KvErr.ErrNoKey && ver == 0) continue;
      fail("putAtLeastOnce(" + key + ") got " + err + " at version " + ver);
    }
  }

  public void checkGet(Clerk ck, String key, String value, long version) {
    KvClient.Result r = ck.get(key);
    if (r.err() != KvErr.OK || !r.value().equals(value) || r.version() != version) {
      fail("checkGet(" + key + "): got " + r + ", wanted (" + value + ", " + version + ", OK)");
    }
  }

  /** A client's tally: puts that returned OK, and ErrMaybe. */
  public record ClntRes(int nok, int nmaybe) {}

  @FunctionalInterface
  public interface ClientFn {
    ClntRes run(int me, Clerk ck, AtomicBoolean done);
  }

  /** SpawnClientsAndWait: n clients with their own clerks for {@code t}, then stop and collect. */
  public List<ClntRes> spawnClientsAndWait(int nclnt, Duration t, ClientFn fn) {
    AtomicBoolean done = new AtomicBoolean();
    List<CompletableFuture<ClntRes>> clients = new ArrayList<>();
    for (int i = 0; i < nclnt; i++) {
      int me = i;
      clients.add(
          CompletableFuture.supplyAsync(
              () -> {
                Clerk ck = makeClerk();
                try {
                  return fn.run(me, ck, done);
                } finally {
                  ck.delete();
                }
              },
              pool));
    }
    LabGroup.sleep(t.toMillis());
    done.set(true);
    List<ClntRes> res = new ArrayList<>();
    for (CompletableFuture<ClntRes> c : clients) res.add(join(c));
    return res;
  }

  /** OnePut: keep trying one versioned put of ({@code me}, ver) until OK or ErrMaybe. */
  public long[] onePut(int me, Clerk ck, String key, long ver) {
    while (true) {
      String value = me + ":" + ver;
      KvErr err = ck.put(key, value, ver);
      if (err != KvErr.OK && err != KvErr.ErrVersion && err != KvErr.ErrMaybe) {
        fail("Wrong error " + err);
      }
      KvClient.Result r = ck.get(key);
      if (r.err() != KvErr.OK) fail("get(" + key + ") after put: " + r.err());
      if (err == KvErr.OK && r.version() == ver + 1 && !r.value().equals(value)) {
        String[] parts = r.value().split(":");
        if (!parts[0].equals(Integer.toString(me)) && !parts[1].equals(Long.toString(ver))) {
          fail("wrong value " + r.value() + " after my put " + value);
        }
      }
      ver = r.version();
      if (err == KvErr.OK || err == KvErr.ErrMaybe) return new long[] {ver, err == KvErr.OK ? 1 : 0};
    }
  }

  /** OneClientPut: until done, one put at a time on keys[0] (or a random key). */
  public ClntRes oneClientPut(int cli, Clerk ck, List<String> keys, boolean randomKeys, AtomicBoolean done) {
    java.util.Map<String, Long> versions = new java.util.HashMap<>();
    int nok = 0;
    int nmaybe = 0;
    java.util.SplittableRandom rnd = new java.util.SplittableRandom(group.seed() + cli);
    while (!done.get()) {
      String k = randomKeys ? keys.get(rnd.nextInt(keys.size())) : keys.get(0);
      long[] r = onePut(cli, ck, k, versions.getOrDefault(k, 0L));
      versions.put(k, r[0]);
      if (r[1] == 1) nok++;
      else nmaybe++;
    }
    return new ClntRes(nok, nmaybe);
  }

  /**
   * CheckPutConcurrent: the key's version against the cumulative tallies. The lab reads it with
   * GetJson, which fails on anything but OK.
   */
  public void checkPutConcurrent(Clerk ck, String key, List<ClntRes> results, int[] acc, boolean reliable) {
    KvClient.Result r = ck.get(key);
    if (r.err() != KvErr.OK) fail("CheckPutConcurrent: get(" + key + ") failed: " + r.err());
    for (ClntRes c : results) {
      acc[0] += c.nok();
      acc[1] += c.nmaybe();
    }
    if (reliable) {
      if (r.version() != acc[0]) fail("Wrong number of puts: server " + r.version() + " clnts " + acc[0]);
    } else if (r.version() > acc[0] + acc[1]) {
      fail("Wrong number of puts: server " + r.version() + " clnts " + acc[0] + "+" + acc[1]);
    }
  }

  /** The Partitioner: random 2-way splits every ET + 0–199 ms until {@link #stop}. */
  public final class Partitioner {
    private final AtomicBoolean stop = new AtomicBoolean();
    private final CompletableFuture<Void> stopped;

    Partitioner() {
      stopped =
          CompletableFuture.runAsync(
              () -> {
                while (!stop.get()) {
                  List<Integer> a = new ArrayList<>();
                  List<Integer> b = new ArrayList<>();
                  for (int i = 0; i < group.n(); i++) (group.rand(2) == 0 ? a : b).add(i);
                  group.partition(a.stream().mapToInt(x -> x).toArray(), b.stream().mapToInt(x -> x).toArray());
                  LabGroup.sleep(ELECTION_TIMEOUT.toMillis() + group.rand(200));
                }
              },
              pool);
    }

    public void stop() {
      stop.set(true);
      join(stopped);
    }
  }

  public Partitioner startPartitioner() {
    return new Partitioner();
  }

  /** CheckPorcupine over the cumulative history with the lab's model. */
  public void checkPorcupine(String label, Duration budget) {
    KvHistoryChecks.assertLinearizable(label, history, budget);
  }

  public <T> CompletableFuture<T> async(java.util.function.Supplier<T> task) {
    return CompletableFuture.supplyAsync(task, pool);
  }

  /** The first server whose Raft says it leads (may be stale), or -1. */
  public int leader() {
    for (int i = 0; i < group.n(); i++) {
      if (!group.isAlive(i)) continue;
      try {
        RaftPeer.State s = raftState(i);
        if (s != null && s.isLeader()) return i;
      } catch (RuntimeException e) {
        // died meanwhile
      }
    }
    return -1;
  }

  /**
   * checkOneLeader (spec §6.2): up to 10 rounds of sleeping 450–549 ms and asking the connected,
   * running servers; fails if a term has two leaders; returns the leader of the highest term.
   */
  public int checkOneLeader() {
    for (int round = 0; round < 10; round++) {
      LabGroup.sleep(450 + group.rand(100));
      java.util.TreeMap<Long, List<Integer>> leaders = new java.util.TreeMap<>();
      for (int i = 0; i < group.n(); i++) {
        if (!group.isConnected(i) || !group.isAlive(i)) continue;
        RaftPeer.State s;
        try {
          s = raftState(i);
        } catch (RuntimeException e) {
          continue; // died meanwhile
        }
        if (s != null && s.isLeader()) leaders.computeIfAbsent(s.term(), t -> new ArrayList<>()).add(i);
      }
      leaders.forEach((term, ls) -> {
        if (ls.size() > 1) fail("term " + term + " has " + ls.size() + " (>1) leaders: " + ls);
      });
      if (!leaders.isEmpty()) return leaders.lastEntry().getValue().get(0);
    }
    fail("expected one leader, got none");
    return -1;
  }

  /** Whether server {@code i} is running and its Raft says it leads (possibly in a stale term). */
  public boolean claimsLeadership(int i) {
    if (!group.isAlive(i)) return false;
    try {
      RaftPeer.State s = raftState(i);
      return s != null && s.isLeader();
    } catch (RuntimeException e) {
      return false; // died meanwhile
    }
  }

  private RaftPeer.State raftState(int i) {
    ActorRef<RaftPeer.Command> raft = rafts.get(i);
    return raft == null ? null : ask(raft, RaftPeer.GetState::new);
  }

  @Override
  public void close() {
    pool.shutdownNow();
    group.close();
    // Every KV test's history is checked, also where the lab checks none (Lab 2's reliable put,
    // the partition and snapshot scenarios); the stricter model also checks Get versions and
    // ErrNoKey answers. Not for the deliberately broken read path, whose test checks on its own.
    if (!unsafeReads && historyComplete && history.size() > 0) {
      KvHistoryChecks.assertLinearizable(
          "whole-test-" + group.seed(), history.history(), Duration.ofSeconds(1), io.raftkv.testing.lin.KvModel.strict());
    }
  }

  private <T, M> T ask(org.apache.pekko.actor.typed.RecipientRef<M> to, java.util.function.Function<ActorRef<T>, M> msg) {
    return AskPattern.ask(to, msg::apply, Duration.ofSeconds(5), kit.scheduler()).toCompletableFuture().join();
  }

  static <T> T join(CompletableFuture<T> f) {
    try {
      return f.get(300, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof AssertionError a) throw a;
      throw new IllegalStateException(e.getCause());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
