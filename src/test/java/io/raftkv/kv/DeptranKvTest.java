package io.raftkv.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.raftkv.client.KvClient;
import io.raftkv.testing.KvLabCluster;
import io.raftkv.testing.LabGroup;
import io.raftkv.testing.lin.KvHistoryChecks;
import io.raftkv.testing.lin.KvModel;
import io.raftkv.transport.SimNetwork;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * deptran/Janus "Lab 2: Fault-tolerant KV" tests that 6.5840 has no equivalent for (spec §14.1),
 * on a 5-server group. deptran's Put is unconditional and its Append exactly-once; here they are
 * the Clerk's {@code putUnconditional} and {@code append}, which carry a client session.
 *
 * <ul>
 *   <li>TEST 4 "No progress with a minority": {@link #test4NoProgressWithAMinority}
 *   <li>TEST 5 "Kv operations through re-election": {@link #test5KvOperationsThroughReElection}
 *   <li>TEST 7 "Progress with a majority writing the same key": {@link
 *       #test7MajorityWritingTheSameKey}, and again on a network that loses half the replies (not
 *       the requests), so that the clients almost surely resend Appends that did execute ({@link
 *       #test7MajorityWritingTheSameKeyLosingReplies})
 *   <li>TEST 8 "Progress with a majority testing linearizability": {@link
 *       #test8MajoritySequentialAppends}
 * </ul>
 *
 * <p>Every Get, Put and Append is recorded, and each test ends by checking the history with
 * {@link KvModel#strict()} (Gets' versions checked too; timed-out writes may or may not have
 * happened).
 */
@Timeout(240)
class DeptranKvTest {
  static final ActorTestKit testKit = ActorTestKit.create();
  static final int N = 5;
  static final long ET = KvLabCluster.ELECTION_TIMEOUT.toMillis();

  @AfterAll
  static void done() {
    testKit.shutdownTestKit();
  }

  static void checkHistory(KvLabCluster ts, String label) {
    KvHistoryChecks.assertLinearizable(label, ts.history(), Duration.ofSeconds(5), KvModel.strict());
  }

  /**
   * Disconnect leader+1..leader+3: the leader and leader+4 are a minority. A clerk with a 1 s
   * deadline that reaches only them gets Timeout for Put (deptran's unconditional one, and the
   * lab's versioned one) and for Get, each within the deadline and not the server's 5 s. Then
   * (beyond deptran) reconnect and check that the group serves again.
   */
  @Test
  void test4NoProgressWithAMinority() {
    try (KvLabCluster ts = new KvLabCluster(testKit, N, true, -1)) {
      ts.begin("Test 4: no progress with a minority");
      int leader = ts.checkOneLeader();
      for (int d = 1; d <= 3; d++) ts.group().disconnectAll((leader + d) % N);
      Duration deadline = KvLabCluster.ELECTION_TIMEOUT;
      KvLabCluster.Clerk ck =
          ts.makeClerkTo(new int[] {leader, (leader + 4) % N}, new KvClient.Settings(Duration.ofMillis(100), deadline));
      String k = "1";
      String v1 = Integer.toString(ts.group().rand(10_000));
      assertTimesOut(() -> ck.putUnconditional(k, v1), deadline, "unconditional Put");
      assertTimesOut(() -> ck.put(k, v1, 0), deadline, "versioned Put");
      assertTimesOut(() -> ck.get(k).err(), deadline, "Get");
      for (int d = 1; d <= 3; d++) ts.group().connectOne((leader + d) % N);

      KvLabCluster.Clerk all = ts.makeClerk();
      all.append(k, "x");
      KvClient.Result r = all.get(k);
      assertEquals(KvErr.OK, r.err());
      assertTrue(r.value().endsWith("x"), "got " + r.value());
      checkHistory(ts, "deptran-test4");
      ts.end();
    }
  }

  interface Op {
    KvErr run();
  }

  static void assertTimesOut(Op op, Duration deadline, String what) {
    long t0 = System.nanoTime();
    KvErr err = op.run();
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertEquals(KvErr.Timeout, err, what + " in a minority");
    assertTrue(ms >= deadline.toMillis(), what + " gave up after " + ms + " ms, before its deadline");
    // the server holds a request it cannot commit for 5 s; the clerk's deadline must not wait for it
    assertTrue(
        ms < deadline.toMillis() + 3000, what + " took " + ms + " ms with a " + deadline.toMillis() + " ms deadline");
  }

  /**
   * Put v1; disconnect the leader; after an election timeout a new, different leader exists;
   * Append v2 and Get v1+v2 through it; reconnect the old leader; after an election timeout there
   * is a single leader; Append v4 and Get v1+v2+v4.
   */
  @Test
  void test5KvOperationsThroughReElection() {
    try (KvLabCluster ts = new KvLabCluster(testKit, N, true, -1)) {
      ts.begin("Test 5: kv operations through re-election");
      int leader = ts.checkOneLeader();
      KvLabCluster.Clerk ck = ts.makeClerk();
      String k = "reelection";
      String v1 = Integer.toString(ts.group().rand(10_000));
      assertEquals(KvErr.OK, ck.putUnconditional(k, v1));

      ts.group().disconnectAll(leader);
      int oldLeader = leader;
      LabGroup.sleep(ET);
      leader = ts.checkOneLeader();
      assertNotEquals(oldLeader, leader, "the disconnected leader still leads");
      // deptran points its clerk at the new leader; this one can reach all but the old leader
      int[] others = new int[N - 1];
      for (int i = 0, j = 0; i < N; i++) if (i != oldLeader) others[j++] = i;
      KvLabCluster.Clerk ck2 = ts.makeClerkTo(others);
      String v2 = Integer.toString(ts.group().rand(10_000));
      assertEquals(KvErr.OK, ck2.append(k, v2));
      assertEquals(v1 + v2, ck2.get(k).value());

      ts.group().connectOne(oldLeader);
      LabGroup.sleep(ET);
      ts.checkOneLeader();
      awaitSingleLeader(ts);
      ck2.connectAll();
      String v4 = Integer.toString(ts.group().rand(10_000));
      assertEquals(KvErr.OK, ck2.append(k, v4));
      assertEquals(v1 + v2 + v4, ck2.get(k).value());
      assertEquals(v1 + v2 + v4, ck.get(k).value());
      checkHistory(ts, "deptran-test5");
      ts.end();
    }
  }

  /**
   * Polls (for at most 5 s) until exactly one server claims to lead: the reconnected old leader,
   * which never heard of the new term, must step down.
   */
  static void awaitSingleLeader(KvLabCluster ts) {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (true) {
      List<Integer> claim = new ArrayList<>();
      for (int i = 0; i < N; i++) if (ts.claimsLeadership(i)) claim.add(i);
      if (claim.size() == 1) return;
      if (System.nanoTime() > end) fail("expected a single leader, these claim to lead: " + claim);
      LabGroup.sleep(50);
    }
  }

  /** Disconnects leader+1 and leader+2 (deptran's "2 followers"); returns the leader. */
  static int disconnectTwoFollowers(KvLabCluster ts) {
    int leader = ts.checkOneLeader();
    ts.group().disconnectAll((leader + 1) % N);
    ts.group().disconnectAll((leader + 2) % N);
    return leader;
  }

  static void reconnectTwoFollowers(KvLabCluster ts, int leader) {
    ts.group().connectOne((leader + 1) % N);
    ts.group().connectOne((leader + 2) % N);
  }

  /** Half the replies lost, no request lost, requests delayed 0–26 ms as in labrpc. */
  static final SimNetwork.Faults LOSING_REPLIES = new SimNetwork.Faults(0, 500, 0, 26);

  @Test
  void test7MajorityWritingTheSameKey() {
    majorityWritingTheSameKey(SimNetwork.Faults.NONE);
  }

  @Test
  void test7MajorityWritingTheSameKeyLosingReplies() {
    majorityWritingTheSameKey(LOSING_REPLIES);
  }

  /**
   * 2 followers disconnected; 5 clients each Append(k, "1") once, concurrently; all must finish
   * within 10 s, and the value must be "11111": each Append took effect exactly once.
   */
  static void majorityWritingTheSameKey(SimNetwork.Faults faults) {
    try (KvLabCluster ts = new KvLabCluster(testKit, N, true, -1)) {
      ts.group().setFaults(faults);
      ts.begin("Test 7: progress with a majority writing the same key");
      int leader = disconnectTwoFollowers(ts);
      String k = "test_key_7";
      List<KvLabCluster.Clerk> clerks = new ArrayList<>();
      for (int i = 0; i < 5; i++) clerks.add(ts.makeClerk());
      long t0 = System.nanoTime();
      List<CompletableFuture<KvErr>> appends = new ArrayList<>();
      for (KvLabCluster.Clerk c : clerks) appends.add(ts.async(() -> c.append(k, "1")));
      try {
        CompletableFuture.allOf(appends.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        fail("run out of time to finish");
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
      System.out.printf("  5 appends in %d ms%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
      for (CompletableFuture<KvErr> a : appends) assertEquals(KvErr.OK, a.join());
      KvClient.Result r = ts.makeClerk().get(k);
      assertEquals(KvErr.OK, r.err());
      assertEquals("11111", r.value());
      assertEquals(5, r.version(), "one version per append");
      reconnectTwoFollowers(ts, leader);
      checkHistory(ts, "deptran-test7" + (faults.equals(SimNetwork.Faults.NONE) ? "" : "-losing-replies"));
      ts.end();
    }
  }

  /** 2 followers disconnected; Appends of "0".."4", one at a time, each by a new clerk; "01234". */
  @Test
  void test8MajoritySequentialAppends() {
    try (KvLabCluster ts = new KvLabCluster(testKit, N, true, -1)) {
      ts.begin("Test 8: progress with a majority testing linearizability");
      int leader = disconnectTwoFollowers(ts);
      String k = "test_key_8";
      long t0 = System.nanoTime();
      for (int i = 0; i < 5; i++) assertEquals(KvErr.OK, ts.makeClerk().append(k, Integer.toString(i)));
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertTrue(ms < 10_000, "run out of time to finish: " + ms + " ms");
      KvClient.Result r = ts.makeClerk().get(k);
      assertEquals(KvErr.OK, r.err());
      assertEquals("01234", r.value());
      reconnectTwoFollowers(ts, leader);
      checkHistory(ts, "deptran-test8");
      ts.end();
    }
  }
}
