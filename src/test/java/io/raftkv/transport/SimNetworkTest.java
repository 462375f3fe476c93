package io.raftkv.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.raft.PeerSettings;
import io.raftkv.raft.ApplyMsg;
import io.raftkv.raft.Proposal;
import io.raftkv.raft.RaftPeer;
import io.raftkv.storage.MemoryStorage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** labrpc's self-tests (§2.4 of the lab spec) plus crash, reordering and the Raft transport. */
@Timeout(60)
class SimNetworkTest {
  static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void done() {
    testKit.shutdownTestKit();
  }

  /** Strings cost their UTF-8 length; the receiver gets a new String. */
  static final SimNetwork.Wire STRINGS =
      m -> m instanceof String s
          ? new SimNetwork.Transmission(new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8),
              s.getBytes(StandardCharsets.UTF_8).length)
          : null;

  final ActorRef<SimNetwork.Command> net = testKit.spawn(SimNetwork.create(42, STRINGS));

  <T> T ask(Function<ActorRef<T>, SimNetwork.Command> msg) {
    CompletionStage<T> s = AskPattern.ask(net, msg::apply, Duration.ofSeconds(5), testKit.scheduler());
    return s.toCompletableFuture().join();
  }

  void end(String end, String server, boolean enabled) {
    ask((ActorRef<Done> r) -> new SimNetwork.MakeEnd(end, server, r));
    ask((ActorRef<Done> r) -> new SimNetwork.Enable(Map.of(end, enabled), r));
  }

  void server(String name, SimNetwork.Service s) {
    ask((ActorRef<Done> r) -> new SimNetwork.AddServer(name, s, r));
  }

  static SimNetwork.Service echo(String prefix) {
    return req -> CompletableFuture.completedFuture(prefix + req);
  }

  Optional<Object> call(String end, String req) {
    return callAsync(end, req).join();
  }

  CompletableFuture<Optional<Object>> callAsync(String end, String req) {
    return SimNetwork.call(net, end, req);
  }

  SimNetwork.Stats stats() {
    return ask(SimNetwork.GetStats::new);
  }

  @Test
  void basic() {
    server("s", echo("handler-"));
    end("e", "s", true);
    assertEquals(Optional.of("handler-111"), call("e", "111"));
  }

  @Test
  void disconnectedEndGetsNoReplyButAfterEnablingDoes() {
    server("s", echo(""));
    end("e", "s", false);
    assertEquals(Optional.empty(), call("e", "x"));
    ask((ActorRef<Done> r) -> new SimNetwork.Enable(Map.of("e", true), r));
    assertEquals(Optional.of("x"), call("e", "x"));
  }

  @Test
  void countsEveryRequestAndHandlerDispatch() {
    server("s", echo(""));
    end("e", "s", true);
    for (int i = 0; i < 17; i++) assertTrue(call("e", "r" + i).isPresent());
    assertEquals(17, stats().rpcs());
    assertEquals(17, stats().incoming("s"));
  }

  @Test
  void bytesCountRequestsAndDeliveredReplies() {
    String args = "a".repeat(288);
    String reply = "r".repeat(107);
    server("s", req -> CompletableFuture.completedFuture(reply));
    end("e", "s", true);
    long b0 = stats().bytes();
    for (int i = 0; i < 17; i++) call("e", args);
    long b1 = stats().bytes();
    assertTrue(b1 - b0 >= 4828 && b1 - b0 <= 6000 + 2500, "bytes " + (b1 - b0));
    assertEquals(17 * (288 + 107), b1 - b0);
  }

  @Test
  void manyConcurrentClients() {
    server("s", echo(""));
    List<CompletableFuture<Optional<Object>>> calls = new ArrayList<>();
    for (int c = 0; c < 20; c++) {
      end("c" + c, "s", true);
      for (int i = 0; i < 10; i++) calls.add(callAsync("c" + c, c + "/" + i));
    }
    for (CompletableFuture<Optional<Object>> f : calls) assertTrue(f.join().isPresent());
    assertEquals(200, stats().incoming("s"));
  }

  @Test
  void unreliableLosesSomeButNotAll() {
    server("s", echo(""));
    end("e", "s", true);
    ask((ActorRef<Done> r) -> new SimNetwork.SetReliable(false, r));
    List<CompletableFuture<Optional<Object>>> calls = new ArrayList<>();
    for (int i = 0; i < 300; i++) calls.add(callAsync("e", "r" + i));
    int ok = 0;
    for (CompletableFuture<Optional<Object>> f : calls) if (f.join().isPresent()) ok++;
    // about 81 % succeed: 10 % of requests and 10 % of replies are lost
    assertTrue(ok > 200 && ok < 290, "ok " + ok);
    assertEquals(300, stats().rpcs());
    long handled = stats().incoming("s");
    assertTrue(handled > ok && handled < 300, "handled " + handled);
  }

  /** A custom fault profile (the CS162 proxy's) replaces labrpc's; SetReliable ends it. */
  @Test
  void faultProfileLosesRequestsAndRepliesAtItsRates() {
    AtomicInteger handled = new AtomicInteger();
    server("s", req -> {
      handled.incrementAndGet();
      return CompletableFuture.completedFuture(req);
    });
    end("e", "s", true);
    ask((ActorRef<Done> r) -> new SimNetwork.SetFaults(SimNetwork.Faults.CS162_UNRELIABLE, r));
    List<CompletableFuture<Optional<Object>>> calls = new ArrayList<>();
    for (int i = 0; i < 400; i++) calls.add(callAsync("e", "r" + i));
    int ok = 0;
    for (CompletableFuture<Optional<Object>> f : calls) if (f.join().isPresent()) ok++;
    // half the requests reach the handler, and half of their replies come back: about 25 %
    assertTrue(ok > 60 && ok < 140, "ok " + ok);
    assertTrue(handled.get() > 150 && handled.get() < 250, "handled " + handled.get());
    assertEquals(handled.get(), stats().incoming("s"));
    ask((ActorRef<Done> r) -> new SimNetwork.SetReliable(true, r));
    for (int i = 0; i < 20; i++) assertTrue(call("e", "again" + i).isPresent());
  }

  @Test
  void faultProfileDelaysEveryRequestWithinItsBounds() {
    server("s", echo(""));
    end("e", "s", true);
    ask((ActorRef<Done> r) -> new SimNetwork.SetFaults(new SimNetwork.Faults(0, 0, 60, 80), r));
    long t0 = System.nanoTime();
    assertTrue(call("e", "x").isPresent());
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertTrue(ms >= 60, "delivered after " + ms + " ms");
  }

  /** labrpc TestRegression1: calls held back while the end was disabled do not delay a later one. */
  @Test
  void callsDelayedWhileDisabledDoNotDelayLaterOnes() {
    ask((ActorRef<Done> r) -> new SimNetwork.SetLongDelays(true, r));
    AtomicInteger handled = new AtomicInteger();
    server("s", req -> {
      handled.incrementAndGet();
      return CompletableFuture.completedFuture(req);
    });
    end("e", "s", false);
    List<CompletableFuture<Optional<Object>>> early = new ArrayList<>();
    for (int i = 0; i < 20; i++) early.add(callAsync("e", "early" + i));
    ask((ActorRef<Done> r) -> new SimNetwork.Enable(Map.of("e", true), r));
    long t0 = System.nanoTime();
    assertTrue(call("e", "late").isPresent());
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertTrue(ms < 30, "late call took " + ms + " ms");
    assertEquals(1, handled.get());
    for (CompletableFuture<Optional<Object>> f : early) assertFalse(f.join().isPresent());
    assertEquals(1, handled.get());
  }

  /** labrpc TestKilled: a call stuck in a handler returns within ~100 ms of DeleteServer. */
  @Test
  void callStuckInHandlerFailsSoonAfterServerIsDeleted() {
    CompletableFuture<Object> never = new CompletableFuture<>();
    server("s", req -> never);
    end("e", "s", true);
    CompletableFuture<Optional<Object>> stuck = callAsync("e", "x");
    assertFalse(completesWithin(stuck, 300));
    ask((ActorRef<Done> r) -> new SimNetwork.DeleteServer("s", r));
    long t0 = System.nanoTime();
    assertEquals(Optional.empty(), stuck.join());
    assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) < 250);
  }

  /** A restarted server is a new incarnation: the old one's late replies are never delivered. */
  @Test
  void repliesOfACrashedIncarnationAreNeverDelivered() {
    CompletableFuture<Object> slow = new CompletableFuture<>();
    server("s", req -> slow);
    end("e", "s", true);
    CompletableFuture<Optional<Object>> old = callAsync("e", "x");
    assertFalse(completesWithin(old, 150));
    server("s", echo("new-")); // restart under the same name
    slow.complete("old-x"); // the dead incarnation answers late
    assertEquals(Optional.empty(), old.join());
    assertEquals(Optional.of("new-y"), call("e", "y"));
  }

  /** A reply whose end was disabled while the handler ran is suppressed. */
  @Test
  void disablingTheEndSuppressesTheReplyOfARunningHandler() {
    CompletableFuture<Object> slow = new CompletableFuture<>();
    server("s", req -> slow);
    end("e", "s", true);
    CompletableFuture<Optional<Object>> c = callAsync("e", "x");
    assertFalse(completesWithin(c, 100));
    ask((ActorRef<Done> r) -> new SimNetwork.Enable(Map.of("e", false), r));
    slow.complete("late"); // finishes while its end is disabled
    assertEquals(Optional.empty(), c.join());
  }

  @Test
  void longReorderingDelaysAboutTwoThirdsOfReplies() {
    server("s", echo(""));
    end("e", "s", true);
    ask((ActorRef<Done> r) -> new SimNetwork.SetLongReordering(true, r));
    List<CompletableFuture<Optional<Object>>> calls = new ArrayList<>();
    for (int i = 0; i < 60; i++) calls.add(callAsync("e", "r" + i));
    assertFalse(completesWithin(CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)), 150));
    int early = 0;
    for (CompletableFuture<Optional<Object>> f : calls) if (f.isDone()) early++;
    assertTrue(early > 5 && early < 40, "delivered before 150 ms: " + early);
    for (CompletableFuture<Optional<Object>> f : calls) assertTrue(f.join().isPresent());
  }

  @Test
  void aMessageTheWireCannotEncodeIsCountedAndGetsNoReply() {
    server("s", echo(""));
    end("e", "s", true);
    CompletableFuture<Optional<Object>> reply = new CompletableFuture<>();
    net.tell(new SimNetwork.Call("e", 42, reply)); // STRINGS knows no Integer
    assertEquals(Optional.empty(), reply.join());
    assertEquals(1, stats().untransmittable());
    assertEquals(0, stats().incoming("s"));
  }

  @Test
  void cleanupFailsEverythingInFlightAndAfter() {
    server("s", req -> new CompletableFuture<>());
    end("e", "s", true);
    CompletableFuture<Optional<Object>> c = callAsync("e", "x");
    ask(SimNetwork.Cleanup::new);
    assertEquals(Optional.empty(), c.join());
    assertEquals(Optional.empty(), call("e", "y"));
  }

  /** Three Raft peers over the network elect a leader and commit; a crashed peer's ends go dark. */
  @Test
  void raftPeersTalkThroughTheNetwork() {
    ActorRef<SimNetwork.Command> rnet = testKit.spawn(SimNetwork.create(7, SimPeerTransport.WIRE));
    int n = 3;
    List<ActorRef<RaftPeer.Command>> peers = new ArrayList<>();
    List<TestProbe<ApplyMsg>> applied = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      List<String> ends = new ArrayList<>();
      for (int j = 0; j < n; j++) {
        String e = "e" + i + "-" + j;
        ends.add(e);
        String end = e;
        String srv = "server-0-" + j;
        AskPattern.<SimNetwork.Command, Done>ask(rnet, r -> new SimNetwork.MakeEnd(end, srv, r), Duration.ofSeconds(5), testKit.scheduler())
            .toCompletableFuture().join();
      }
      SimPeerTransport t = new SimPeerTransport(rnet, i, ends);
      TestProbe<ApplyMsg> probe = testKit.createTestProbe();
      applied.add(probe);
      ActorRef<RaftPeer.Command> p = testKit.spawn(RaftPeer.create(PeerSettings.of(i, n), new MemoryStorage(), t, probe.getRef()));
      t.bind(p);
      peers.add(p);
      String srv = "server-0-" + i;
      AskPattern.<SimNetwork.Command, Done>ask(rnet, r -> new SimNetwork.AddServer(srv, t.service(), r), Duration.ofSeconds(5), testKit.scheduler())
          .toCompletableFuture().join();
    }
    Map<String, Boolean> all = new java.util.HashMap<>();
    for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) all.put("e" + i + "-" + j, true);
    AskPattern.<SimNetwork.Command, Done>ask(rnet, r -> new SimNetwork.Enable(all, r), Duration.ofSeconds(5), testKit.scheduler())
        .toCompletableFuture().join();

    TestProbe<Proposal> started = testKit.createTestProbe();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    Proposal ok = null;
    while (ok == null && System.nanoTime() < deadline) {
      for (ActorRef<RaftPeer.Command> p : peers) {
        p.tell(new RaftPeer.Start("hello".getBytes(StandardCharsets.UTF_8), started.getRef()));
        Proposal r = started.receiveMessage();
        if (r.isLeader()) {
          ok = r;
          break;
        }
      }
      if (ok == null) sleep(100);
    }
    assertTrue(ok != null, "no leader");
    for (TestProbe<ApplyMsg> probe : applied) {
      ApplyMsg m;
      do {
        m = probe.receiveMessage(Duration.ofSeconds(5));
      } while (!(m instanceof ApplyMsg.Command));
      assertEquals("hello", new String(((ApplyMsg.Command) m).command(), StandardCharsets.UTF_8));
    }
    SimNetwork.Stats s = AskPattern.<SimNetwork.Command, SimNetwork.Stats>ask(rnet, SimNetwork.GetStats::new, Duration.ofSeconds(5), testKit.scheduler())
        .toCompletableFuture().join();
    assertTrue(s.rpcs() > 0 && s.bytes() > 0);
    for (ActorRef<RaftPeer.Command> p : peers) p.tell(RaftPeer.Stop.INSTANCE);
  }

  static boolean completesWithin(CompletableFuture<?> f, long ms) {
    try {
      f.get(ms, TimeUnit.MILLISECONDS);
      return true;
    } catch (java.util.concurrent.TimeoutException e) {
      return false;
    } catch (Exception e) {
      throw new AssertionError(e);
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
