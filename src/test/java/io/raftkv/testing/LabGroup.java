package io.raftkv.testing;

import io.raftkv.raft.Envelope;
import io.raftkv.storage.MemoryStorage;
import io.raftkv.transport.SimNetwork;
import io.raftkv.transport.SimPeerTransport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * tester1's Config (spec §3), the one harness under every lab suite: n server slots on a {@link
 * SimNetwork}, each with its own ends and saved persister; connectivity (server to server only),
 * crash and restart with persister copies, and clients with their own ends that partitions do not
 * touch. What a server is comes from a {@link ServerFactory}: {@link RaftTestCluster} starts a
 * Raft peer and the tester's applier, the RSM tests an Rsm, {@link KvLabCluster} a KvServer.
 *
 * <p>Thread-safe. The seed (system property {@code raftkv.seed}, else random) is printed and seeds
 * the network, the servers and {@link #rand}.
 */
public final class LabGroup implements AutoCloseable {
  /** Starts one incarnation of server {@code i}; binds {@code transport} to its Raft peer. */
  @FunctionalInterface
  public interface ServerFactory {
    Server start(int i, int n, MemoryStorage storage, SimPeerTransport transport, long seed);
  }

  /**
   * One running server: what answers client requests (null if none) and how to kill it (the lab
   * kills its services; only Raft needs it, the rest follows).
   */
  public record Server(SimNetwork.Service clientService, Runnable kill) {}

  /** The lab's per-test limit (tester1's CheckTimeout), counted from the group's creation. */
  public static final Duration TEST_LIMIT = Duration.ofSeconds(120);

  /** Generous: a live actor answers in milliseconds. */
  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(10);

  private final ActorTestKit kit;
  private final int n;
  private final ServerFactory factory;
  private final long seed;
  private final SplittableRandom random;
  private final ActorRef<SimNetwork.Command> net;
  private final Slot[] slots;
  private int endCounter;
  private int incarnations;
  private volatile boolean reliable = true;
  private final long t0 = System.nanoTime();

  private static final class Slot {
    List<String> ends = List.of();
    boolean connected;
    MemoryStorage saved;
    Server current; // null when not running
  }

  /** @param wire how client requests and replies cross the network (Raft messages are known) */
  public LabGroup(ActorTestKit kit, int n, boolean reliable, SimNetwork.Wire wire, ServerFactory factory) {
    this(kit, n, reliable, false, wire, "", factory);
  }

  /**
   * @param longDelays RPCs to dead or disconnected servers fail after 0–7 s instead of 0–99 ms,
   *     from before the first server starts (the Raft tests' makeTest)
   * @param label appended to the printed seed line
   */
  public LabGroup(
      ActorTestKit kit,
      int n,
      boolean reliable,
      boolean longDelays,
      SimNetwork.Wire wire,
      String label,
      ServerFactory factory) {
    this.kit = kit;
    this.n = n;
    this.factory = factory;
    String s = System.getProperty("raftkv.seed");
    this.seed = s != null && !s.isBlank() ? Long.parseLong(s.trim()) : System.nanoTime();
    System.out.printf("raftkv.seed=%d (n=%d, reliable=%s%s)%n", seed, n, reliable, label);
    this.random = new SplittableRandom(seed);
    this.net = kit.spawn(SimNetwork.create(seed, SimPeerTransport.WIRE.or(wire)));
    this.slots = new Slot[n];
    for (int i = 0; i < n; i++) slots[i] = new Slot();
    if (longDelays) setLongDelays(true);
    setReliable(reliable);
    for (int i = 0; i < n; i++) startServer(i);
    connectAll();
  }

  public static String serverName(int i) {
    return "server-0-" + i;
  }

  public int n() {
    return n;
  }

  public long seed() {
    return seed;
  }

  /** A non-negative random int. */
  public synchronized int rand() {
    return random.nextInt(Integer.MAX_VALUE);
  }

  /** Uniform in {@code [0, bound)}. */
  public synchronized int rand(int bound) {
    return random.nextInt(bound);
  }

  /** A random string of {@code len} URL-safe characters (tester1's Randstring). */
  public synchronized String randString(int len) {
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    StringBuilder b = new StringBuilder(len);
    for (int i = 0; i < len; i++) b.append(alphabet.charAt(random.nextInt(alphabet.length())));
    return b.toString();
  }

  /**
   * Fails if more than {@link #TEST_LIMIT} passed since the group was made. Like the lab's, it
   * fails a test that finished too late; it does not stop a hung one.
   */
  public void checkTimeout() {
    if (System.nanoTime() - t0 > TEST_LIMIT.toNanos()) {
      throw new AssertionError("test took longer than " + TEST_LIMIT.toSeconds() + " seconds (raftkv.seed=" + seed + ")");
    }
  }

  // ---------------------------------------------------------------- network settings

  public void setReliable(boolean on) {
    reliable = on;
    ask(net, (ActorRef<Done> r) -> new SimNetwork.SetReliable(on, r));
  }

  /**
   * Replaces the network's fault profile, e.g. with the CS162 tests' harsh one ({@link
   * SimNetwork.Faults#CS162_UNRELIABLE}); {@link #setReliable} switches back to the lab's.
   */
  public void setFaults(SimNetwork.Faults faults) {
    reliable = faults.equals(SimNetwork.Faults.NONE);
    ask(net, (ActorRef<Done> r) -> new SimNetwork.SetFaults(faults, r));
  }

  public boolean isReliable() {
    return reliable;
  }

  public void setLongDelays(boolean on) {
    ask(net, (ActorRef<Done> r) -> new SimNetwork.SetLongDelays(on, r));
  }

  public void setLongReordering(boolean on) {
    ask(net, (ActorRef<Done> r) -> new SimNetwork.SetLongReordering(on, r));
  }

  public SimNetwork.Stats stats() {
    return ask(net, SimNetwork.GetStats::new);
  }

  // ---------------------------------------------------------------- connectivity (§3.3)

  public synchronized boolean isConnected(int i) {
    return slots[i].connected;
  }

  public synchronized boolean isAlive(int i) {
    return slots[i].current != null;
  }

  public void connectOne(int i) {
    Map<String, Boolean> changes = new HashMap<>();
    synchronized (this) {
      connect(i, all(), changes);
    }
    enable(changes);
  }

  public void disconnectAll(int i) {
    Map<String, Boolean> changes = new HashMap<>();
    synchronized (this) {
      disconnect(i, all(), changes);
    }
    enable(changes);
  }

  public void connectAll() {
    Map<String, Boolean> changes = new HashMap<>();
    synchronized (this) {
      for (int i = 0; i < n; i++) connect(i, all(), changes);
    }
    enable(changes);
  }

  public void partition(int[] p1, int[] p2) {
    Map<String, Boolean> changes = new HashMap<>();
    synchronized (this) {
      for (int i : p1) {
        disconnect(i, p2, changes);
        connect(i, p1, changes);
      }
      for (int i : p2) {
        disconnect(i, p1, changes);
        connect(i, p2, changes);
      }
    }
    enable(changes);
  }

  /** MakePartition(l): p1 = ⌊n/2⌋+1 non-leaders, p2 = the rest with l last. */
  public int[][] makePartition(int leader) {
    int[] p1 = new int[n / 2 + 1];
    int[] p2 = new int[n / 2];
    int j = 0;
    for (int i = 0; i < n; i++) {
      if (i == leader) continue;
      if (j < p1.length) p1[j] = i;
      else p2[j - p1.length] = i;
      j++;
    }
    p2[p2.length - 1] = leader;
    return new int[][] {p1, p2};
  }

  public int[] all() {
    int[] a = new int[n];
    for (int i = 0; i < n; i++) a[i] = i;
    return a;
  }

  private void connect(int i, int[] to, Map<String, Boolean> changes) {
    slots[i].connected = true;
    for (int j : to) {
      if (slots[j].connected) {
        if (!slots[i].ends.isEmpty()) changes.put(slots[i].ends.get(j), true);
        if (!slots[j].ends.isEmpty()) changes.put(slots[j].ends.get(i), true);
      }
    }
  }

  private void disconnect(int i, int[] from, Map<String, Boolean> changes) {
    slots[i].connected = false;
    for (int j : from) {
      if (!slots[i].ends.isEmpty()) changes.put(slots[i].ends.get(j), false);
      if (!slots[j].ends.isEmpty()) changes.put(slots[j].ends.get(i), false);
    }
  }

  private void enable(Map<String, Boolean> changes) {
    if (!changes.isEmpty()) ask(net, (ActorRef<Done> r) -> new SimNetwork.Enable(changes, r));
  }

  // ---------------------------------------------------------------- crash and restart (§3.4)

  /** ShutdownServer(i): disconnect, unregister, copy the persister, kill. */
  public void shutdownServer(int i) {
    disconnectAll(i);
    ask(net, (ActorRef<Done> r) -> new SimNetwork.DeleteServer(serverName(i), r));
    Server dying;
    synchronized (this) {
      Slot s = slots[i];
      if (s.saved != null) s.saved = s.saved.copy();
      dying = s.current;
      s.current = null;
    }
    if (dying != null) dying.kill().run();
  }

  public void shutdown() {
    for (int i = 0; i < n; i++) shutdownServer(i);
  }

  /** StartServer(i): new ends, a copy of the saved persister, registered, not connected. */
  public void startServer(int i) {
    if (isAlive(i)) shutdownServer(i);
    List<String> ends = new ArrayList<>();
    synchronized (this) {
      for (int j = 0; j < n; j++) ends.add("end-" + (endCounter++) + "-" + i + "to" + j);
    }
    for (int j = 0; j < n; j++) {
      String end = ends.get(j);
      String to = serverName(j);
      ask(net, (ActorRef<Done> r) -> new SimNetwork.MakeEnd(end, to, r));
    }
    MemoryStorage storage;
    long serverSeed;
    synchronized (this) {
      Slot s = slots[i];
      s.saved = s.saved == null ? new MemoryStorage() : s.saved.copy();
      storage = s.saved;
      s.ends = List.copyOf(ends);
      serverSeed = seed * 1_000_003L + (++incarnations) * 101L + i;
    }
    SimPeerTransport transport = new SimPeerTransport(net, i, ends);
    Server server = factory.start(i, n, storage, transport, serverSeed);
    synchronized (this) {
      slots[i].current = server;
    }
    SimNetwork.Service raft = transport.service();
    SimNetwork.Service clients = server.clientService();
    SimNetwork.Service both = req -> req instanceof Envelope || clients == null ? raft.handle(req) : clients.handle(req);
    ask(net, (ActorRef<Done> r) -> new SimNetwork.AddServer(serverName(i), both, r));
  }

  /** StartServers(): start all, then ConnectAll. */
  public void startServers() {
    for (int i = 0; i < n; i++) startServer(i);
    connectAll();
  }

  public synchronized MemoryStorage storage(int i) {
    return slots[i].saved;
  }

  /** The maximum over servers of the current persister's Raft state size. */
  public synchronized long logSize() {
    long max = 0;
    for (Slot s : slots) if (s.saved != null) max = Math.max(max, s.saved.raftStateSize());
    return max;
  }

  public synchronized long snapshotSize() {
    long max = 0;
    for (Slot s : slots) if (s.saved != null) max = Math.max(max, s.saved.snapshotSize());
    return max;
  }

  // ---------------------------------------------------------------- clients (§3.5)

  /** A client's ends, one per server, each enabled only while allowed. */
  public final class Client {
    private final List<String> ends = new ArrayList<>();

    private Client(int[] allowed) {
      for (int j = 0; j < n; j++) {
        String end;
        synchronized (LabGroup.this) {
          end = "client-end-" + (endCounter++) + "-to" + j;
        }
        String to = serverName(j);
        ask(net, (ActorRef<Done> r) -> new SimNetwork.MakeEnd(end, to, r));
        ends.add(end);
      }
      connectTo(allowed);
    }

    /** Calls server {@code i}; empty when the request or the reply was lost. */
    public CompletableFuture<Optional<Object>> call(int i, Object request) {
      return SimNetwork.call(net, ends.get(i), request);
    }

    /** Enables the ends to {@code servers} (others keep their state). */
    public void connectTo(int[] servers) {
      Map<String, Boolean> changes = new HashMap<>();
      for (int j : servers) changes.put(ends.get(j), true);
      enable(changes);
    }

    public void connectAll() {
      connectTo(all());
    }

    public void delete() {
      ask(net, (ActorRef<Done> r) -> new SimNetwork.DeleteEnds(List.copyOf(ends), r));
    }
  }

  public Client makeClient() {
    return new Client(all());
  }

  public Client makeClientTo(int[] servers) {
    return new Client(servers);
  }

  // ---------------------------------------------------------------- plumbing

  /** The lab's Cleanup: kills every server, shuts the network down, then checks the 120 s limit. */
  @Override
  public void close() {
    try {
      shutdown();
      ask(net, SimNetwork.Cleanup::new);
    } finally {
      kit.stop(net);
    }
    checkTimeout();
  }

  private <T, M> T ask(RecipientRef<M> to, Function<ActorRef<T>, M> msg) {
    CompletionStage<T> s = AskPattern.ask(to, msg::apply, ASK_TIMEOUT, kit.scheduler());
    try {
      return s.toCompletableFuture().get(ASK_TIMEOUT.toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (Exception e) {
      throw new IllegalStateException("ask failed: " + e, e);
    }
  }

  public static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
