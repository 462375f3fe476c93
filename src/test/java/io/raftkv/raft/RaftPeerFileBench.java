package io.raftkv.raft;

import io.raftkv.storage.FileStorage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Commits per second of a 3-peer group of {@link RaftPeer}s over {@link FileStorage} (not a test;
 * surefire does not run it). The peers talk through a direct in-JVM transport; a driver keeps
 * {@code window} commands in flight at the leader (a new Start for each command the leader
 * applies), counts the leader's applies and records each command's Start-to-apply latency. The
 * driver does not follow a change of leader: if one happens, that window's run reports a stall
 * (with every peer's state) instead of a figure.
 *
 * <p>Usage: {@code java -cp <test classpath> io.raftkv.raft.RaftPeerFileBench [dir] [seconds]
 * [windows,...] [command bytes]}. Output lines are {@code key=value} pairs.
 */
public final class RaftPeerFileBench {
  public static void main(String[] args) throws Exception {
    Path base = args.length > 0 ? Path.of(args[0]) : Path.of(System.getProperty("java.io.tmpdir"), "raftkv-peer-bench");
    double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 5;
    int[] windows = args.length > 2
        ? java.util.Arrays.stream(args[2].split(",")).mapToInt(Integer::parseInt).toArray()
        : new int[] {1, 16, 128};
    int commandBytes = args.length > 3 ? Integer.parseInt(args[3]) : 128;
    System.out.printf("# dir=%s seconds=%.1f commandBytes=%d%n", base, seconds, commandBytes);
    for (int w : windows) run(base.resolve("w" + w), w, seconds, commandBytes);
    System.exit(0);
  }

  private sealed interface DriverMsg {}

  private record Applied(int peer, ApplyMsg msg) implements DriverMsg {}

  private record Go(int leader, long deadlineNanos, CompletableFuture<String> result) implements DriverMsg {}

  private static void run(Path dir, int window, double seconds, int commandBytes) throws Exception {
    deleteDir(dir);
    int n = 3;
    FileStorage[] storages = new FileStorage[n];
    for (int i = 0; i < n; i++) storages[i] = FileStorage.open(dir.resolve("n" + i));
    AtomicReferenceArray<ActorRef<RaftPeer.Command>> peers = new AtomicReferenceArray<>(n);
    PeerTransport transport = e -> {
      ActorRef<RaftPeer.Command> to = peers.get(e.to());
      if (to != null) to.tell(new RaftPeer.Inbound(e.from(), e.message()));
    };
    ActorSystem<DriverMsg> system = ActorSystem.create(driver(peers, window, commandBytes), "bench");
    try {
      for (int i = 0; i < n; i++) {
        int id = i;
        ActorRef<ApplyMsg> applyTo = system.systemActorOf(
            Behaviors.<ApplyMsg>receiveMessage(m -> {
              system.tell(new Applied(id, m));
              return Behaviors.same();
            }),
            "apply" + i,
            org.apache.pekko.actor.typed.Props.empty());
        peers.set(i, system.systemActorOf(
            RaftPeer.create(PeerSettings.of(i, n), storages[i], transport, applyTo),
            "peer" + i,
            org.apache.pekko.actor.typed.Props.empty()));
      }
      int leader = awaitLeader(system, peers, n);
      Thread.sleep(1000); // warm up the JIT a little with heartbeats
      CompletableFuture<String> result = new CompletableFuture<>();
      system.tell(new Go(leader, System.nanoTime() + (long) (seconds * 1e9), result));
      String line;
      try {
        line = result.get((long) seconds + 30, TimeUnit.SECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        for (int i = 0; i < n; i++) {
          RaftPeer.State s = AskPattern.<RaftPeer.Command, RaftPeer.State>ask(
                  peers.get(i), RaftPeer.GetState::new, Duration.ofSeconds(5), system.scheduler())
              .toCompletableFuture()
              .get();
          System.out.println("stalled: " + s + " " + storages[i].stats());
        }
        // The driver follows no leader change (an election under CPU starvation): no figure.
        System.out.printf("window=%d stalled (leader n%d at the start)%n", window, leader);
        return;
      }
      FileStorage.Stats st = storages[leader].stats();
      System.out.printf("window=%d %s leaderPersists=%d leaderFsyncs=%d%n", window, line, st.requests(), st.logSyncs());
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
      for (FileStorage s : storages) s.close();
      deleteDir(dir);
    }
  }

  private static Behavior<DriverMsg> driver(
      AtomicReferenceArray<ActorRef<RaftPeer.Command>> peers, int window, int commandBytes) {
    return Behaviors.setup(ctx -> {
      ActorRef<Proposal> ignore = ctx.getSystem().ignoreRef();
      Histogram latency = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
      java.util.HashMap<Long, Long> startedAt = new java.util.HashMap<>();
      long[] count = new long[1];
      long[] issued = new long[1];
      long[] t0 = new long[1];
      Go[] go = new Go[1];
      return Behaviors.receive(DriverMsg.class)
          .onMessage(Go.class, g -> {
            go[0] = g;
            t0[0] = System.nanoTime();
            for (int i = 0; i < window; i++) start(peers.get(g.leader()), commandBytes, issued, startedAt, ignore);
            return Behaviors.same();
          })
          .onMessage(Applied.class, a -> {
            Go g = go[0];
            if (g == null || g.result().isDone() || a.peer() != g.leader()) return Behaviors.same();
            if (!(a.msg() instanceof ApplyMsg.Command c)) return Behaviors.same();
            long now = System.nanoTime();
            Long at = startedAt.remove(seqOf(c.command()));
            if (at == null) return Behaviors.same();
            latency.recordValue((now - at) / 1000);
            count[0]++;
            if (now >= g.deadlineNanos()) {
              double secs = (now - t0[0]) / 1e9;
              g.result().complete(String.format(
                  "commits=%d seconds=%.2f commitsPerSec=%.0f p50us=%d p99us=%d",
                  count[0], secs, count[0] / secs,
                  latency.getValueAtPercentile(50), latency.getValueAtPercentile(99)));
            } else {
              start(peers.get(g.leader()), commandBytes, issued, startedAt, ignore);
            }
            return Behaviors.same();
          })
          .build();
    });
  }

  private static void start(
      ActorRef<RaftPeer.Command> leader,
      int commandBytes,
      long[] issued,
      java.util.Map<Long, Long> startedAt,
      ActorRef<Proposal> replyTo) {
    long seq = issued[0]++;
    byte[] cmd = new byte[Math.max(8, commandBytes)];
    for (int i = 0; i < 8; i++) cmd[i] = (byte) (seq >>> (8 * i));
    startedAt.put(seq, System.nanoTime());
    leader.tell(new RaftPeer.Start(cmd, replyTo));
  }

  private static long seqOf(byte[] cmd) {
    long seq = 0;
    for (int i = 0; i < 8; i++) seq |= (cmd[i] & 0xffL) << (8 * i);
    return seq;
  }

  private static int awaitLeader(ActorSystem<?> system, AtomicReferenceArray<ActorRef<RaftPeer.Command>> peers, int n)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      for (int i = 0; i < n; i++) {
        ActorRef<RaftPeer.Command> p = peers.get(i);
        RaftPeer.State s = AskPattern.<RaftPeer.Command, RaftPeer.State>ask(
                p, RaftPeer.GetState::new, Duration.ofSeconds(5), system.scheduler())
            .toCompletableFuture()
            .get();
        if (s.isLeader()) return i;
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException("no leader within 10 s");
  }

  private static void deleteDir(Path dir) throws IOException {
    if (!Files.exists(dir)) return;
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
    }
  }
}
