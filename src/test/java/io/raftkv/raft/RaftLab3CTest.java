package io.raftkv.raft;

import static io.raftkv.testing.RaftTestCluster.ELECTION_TIMEOUT;
import static io.raftkv.testing.RaftTestCluster.sleep;

import io.raftkv.testing.RaftTestCluster;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/** The lab's Part 3C tests (persistence), step by step (lab-tests-spec §7.3). */
@Timeout(180)
@Execution(ExecutionMode.CONCURRENT) // each test has its own cluster and network
class RaftLab3CTest {
  static final ActorTestKit kit = ActorTestKit.create();

  @AfterAll
  static void done() {
    kit.shutdownTestKit();
  }

  @Test
  void persist13C() {
    int servers = 3;
    try (RaftTestCluster ts = new RaftTestCluster(kit, servers, true, false)) {
      ts.begin("Test (3C): basic persistence");
      ts.one(11, servers, true);
      ts.shutdown();
      ts.startServers();
      ts.one(12, servers, true);
      int leader1 = ts.checkOneLeader();
      ts.crash(leader1);
      ts.restart(leader1);
      ts.one(13, servers, true);
      int leader2 = ts.checkOneLeader();
      ts.crash(leader2);
      ts.one(14, servers - 1, true);
      ts.restart(leader2);
      ts.waitFor(4, servers, -1); // wait for leader2 to join before killing i3
      int i3 = (ts.checkOneLeader() + 1) % servers;
      ts.crash(i3);
      ts.one(15, servers - 1, true);
      ts.restart(i3);
      ts.one(16, servers, true);
      ts.end();
    }
  }

  @Test
  void persist23C() {
    int servers = 5;
    try (RaftTestCluster ts = new RaftTestCluster(kit, servers, true, false)) {
      ts.begin("Test (3C): more persistence");
      int index = 1;
      for (int iters = 0; iters < 5; iters++) {
        ts.one(10 + index, servers, true);
        index++;
        int leader1 = ts.checkOneLeader();
        ts.crash((leader1 + 1) % servers);
        ts.crash((leader1 + 2) % servers);
        ts.one(10 + index, servers - 2, true);
        index++;
        ts.crash((leader1 + 0) % servers);
        ts.crash((leader1 + 3) % servers);
        ts.crash((leader1 + 4) % servers);
        ts.restart((leader1 + 1) % servers);
        ts.restart((leader1 + 2) % servers);
        sleep(ELECTION_TIMEOUT);
        ts.restart((leader1 + 3) % servers);
        ts.one(10 + index, servers - 2, true);
        index++;
        ts.restart((leader1 + 4) % servers);
        ts.restart((leader1 + 0) % servers);
      }
      ts.one(1000, servers, true);
      ts.end();
    }
  }

  @Test
  void persist33C() {
    int servers = 3;
    try (RaftTestCluster ts = new RaftTestCluster(kit, servers, true, false)) {
      ts.begin("Test (3C): partitioned leader and one follower crash, leader restarts");
      ts.one(101, 3, true);
      int leader = ts.checkOneLeader();
      ts.disconnectAll((leader + 2) % servers);
      ts.one(102, 2, true);
      ts.crash((leader + 0) % servers);
      ts.crash((leader + 1) % servers);
      ts.connectOne((leader + 2) % servers);
      ts.restart((leader + 0) % servers);
      ts.one(103, 2, true);
      ts.restart((leader + 1) % servers);
      ts.one(104, servers, true);
      ts.end();
    }
  }

  /**
   * Test the scenarios described in Figure 8 of the extended Raft paper. Each iteration asks a
   * leader, if there is one, to insert a command in the Raft log. If there is a leader, that leader
   * will fail quickly with a high probability (perhaps without committing the command), or crash
   * after a while with low probability (most likely committing the command). If the number of
   * alive servers isn't enough to form a majority, perhaps start a new server. The leader in a new
   * term may try to finish replicating log entries that haven't been committed yet.
   */
  @Test
  void figure83C() {
    int servers = 5;
    try (RaftTestCluster ts = new RaftTestCluster(kit, servers, true, false)) {
      ts.begin("Test (3C): Figure 8");
      ts.one(ts.rand(), 1, true);
      int nup = servers;
      for (int iters = 0; iters < 1000; iters++) {
        int leader = -1;
        for (int i = 0; i < servers; i++) {
          if (ts.isAlive(i) && ts.start(i, ts.rand()).isLeader()) leader = i;
        }
        sleep(figure8Pause(ts));
        if (leader != -1) {
          ts.crash(leader);
          nup -= 1;
        }
        if (nup < 3) {
          int s = ts.rand(servers);
          if (!ts.isAlive(s)) {
            ts.restart(s);
            nup += 1;
          }
        }
      }
      for (int i = 0; i < servers; i++) {
        if (!ts.isAlive(i)) ts.restart(i);
      }
      ts.one(ts.rand(), servers, true);
      ts.end();
    }
  }

  /** Mostly 0–12 ms, one time in ten 0–499 ms (half the election timeout). */
  private static long figure8Pause(RaftTestCluster ts) {
    if (ts.rand(1000) < 100) return ts.rand((int) ELECTION_TIMEOUT.toMillis() / 2);
    return ts.rand(13);
  }

  @Test
  void unreliableAgree3C() throws Exception {
    int servers = 5;
    try (RaftTestCluster ts = new RaftTestCluster(kit, servers, false, false)) {
      ts.begin("Test (3C): unreliable agreement");
      ExecutorService pool = Executors.newCachedThreadPool();
      try {
        List<Future<?>> wg = new ArrayList<>();
        for (int iters = 1; iters < 50; iters++) {
          for (int j = 0; j < 4; j++) {
            int cmd = (100 * iters) + j;
            wg.add(pool.submit(() -> ts.one(cmd, 1, true)));
          }
          ts.one(iters, 1, true);
        }
        ts.setReliable(true);
        for (Future<?> f : wg) f.get();
      } finally {
        pool.shutdownNow();
      }
      ts.one(100, servers, true);
      ts.end();
    }
  }

  @Test
  void figure8Unreliable3C() {
    int servers = 5;
    try (RaftTestCluster ts = new RaftTestCluster(kit, servers, false, false)) {
      ts.begin("Test (3C): Figure 8 (unreliable)");
      ts.one(ts.rand() % 10000, 1, true);
      int nup = servers;
      for (int iters = 0; iters < 1000; iters++) {
        if (iters == 200) ts.setLongReordering(true);
        int leader = -1;
        for (int i = 0; i < servers; i++) {
          boolean ok = ts.start(i, ts.rand() % 10000).isLeader();
          if (ok && ts.isConnected(i)) leader = i;
        }
        sleep(figure8Pause(ts));
        if (leader != -1 && ts.rand(1000) < (int) ELECTION_TIMEOUT.toMillis() / 2) {
          ts.disconnectAll(leader);
          nup -= 1;
        }
        if (nup < 3) {
          int s = ts.rand(servers);
          if (!ts.isConnected(s)) {
            ts.connectOne(s);
            nup += 1;
          }
        }
      }
      for (int i = 0; i < servers; i++) {
        if (!ts.isConnected(i)) ts.connectOne(i);
      }
      ts.one(ts.rand() % 10000, servers, true);
      ts.end();
    }
  }

  @Test
  void reliableChurn3C() throws Exception {
    internalChurn(true);
  }

  @Test
  void unreliableChurn3C() throws Exception {
    internalChurn(false);
  }

  private void internalChurn(boolean reliable) throws Exception {
    int servers = 5;
    try (RaftTestCluster ts = new RaftTestCluster(kit, servers, reliable, false)) {
      ts.begin(reliable ? "Test (3C): churn" : "Test (3C): unreliable churn");
      AtomicBoolean stop = new AtomicBoolean();
      int ncli = 3;
      ExecutorService pool = Executors.newFixedThreadPool(ncli);
      List<Future<List<Integer>>> cha = new ArrayList<>();
      try {
        for (int c = 0; c < ncli; c++) {
          int me = c;
          cha.add(pool.submit(() -> churnClient(ts, servers, me, stop)));
        }
        for (int iters = 0; iters < 20; iters++) {
          if (ts.rand(1000) < 200) {
            ts.disconnectAll(ts.rand(servers));
          }
          if (ts.rand(1000) < 500) {
            int i = ts.rand(servers);
            if (!ts.isAlive(i)) ts.restart(i);
            ts.connectOne(i);
          }
          if (ts.rand(1000) < 200) {
            int i = ts.rand(servers);
            if (ts.isAlive(i)) ts.crash(i);
          }
          // Make crash/restart infrequent enough that the peers can often keep up, but not so
          // infrequent that everything has settled down from one change to the next.
          sleep(ELECTION_TIMEOUT.toMillis() * 7 / 10);
        }
        sleep(ELECTION_TIMEOUT);
        ts.setReliable(true);
        for (int i = 0; i < servers; i++) {
          if (!ts.isAlive(i)) ts.restart(i);
          ts.connectOne(i);
        }
        stop.set(true);
        List<Integer> values = new ArrayList<>();
        for (Future<List<Integer>> f : cha) {
          List<Integer> vv;
          try {
            vv = f.get();
          } catch (java.util.concurrent.ExecutionException e) {
            throw new AssertionError("client failed", e.getCause());
          }
          values.addAll(vv);
        }
        sleep(ELECTION_TIMEOUT);
        long lastIndex = ts.one(ts.rand(), servers, true);
        Set<Object> really = new HashSet<>();
        for (long index = 1; index <= lastIndex; index++) {
          Object v = ts.waitFor(index, servers, -1);
          if (!(v instanceof Integer)) ts.fail("not an int");
          really.add(v);
        }
        for (Integer v1 : values) {
          if (!really.contains(v1)) ts.fail("didn't find a value");
        }
        System.out.printf("churn: %d values seen committed by clients, log of %d%n", values.size(), lastIndex);
      } finally {
        stop.set(true);
        pool.shutdownNow();
      }
      ts.end();
    }
  }

  /** One churn client: Start on every live server, record values it then sees committed. */
  private static List<Integer> churnClient(RaftTestCluster ts, int servers, int me, AtomicBoolean stop) {
    List<Integer> values = new ArrayList<>();
    while (!stop.get()) {
      int x = ts.rand();
      long index = -1;
      boolean ok = false;
      for (int i = 0; i < servers; i++) {
        // try them all, maybe one of them is a leader
        if (ts.isAlive(i)) {
          Proposal r = ts.start(i, x);
          if (r.isLeader()) {
            ok = true;
            index = r.index();
          }
        }
      }
      if (ok) {
        // maybe leader will commit our value, maybe not; but don't wait forever
        for (int to : new int[] {10, 20, 50, 100, 200}) {
          RaftTestCluster.Committed c = ts.nCommitted(index);
          if (c.count() > 0) {
            if (!(c.cmd() instanceof Integer)) ts.fail("wrong command type");
            if (Objects.equals(c.cmd(), x)) values.add(x);
            break;
          }
          sleep(to);
        }
      } else {
        sleep(79 + me * 17);
      }
    }
    return values;
  }
}
