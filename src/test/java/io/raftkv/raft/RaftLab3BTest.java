package io.raftkv.raft;

import static io.raftkv.testing.RaftTestCluster.ELECTION_TIMEOUT;
import static io.raftkv.testing.RaftTestCluster.TERM_MOVED;
import static io.raftkv.testing.RaftTestCluster.sleep;

import io.raftkv.testing.RaftTestCluster;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/** The lab's Part 3B tests (log replication), step by step (lab-tests-spec §7.2). */
@Timeout(180)
@Execution(ExecutionMode.CONCURRENT) // each test has its own cluster and network
class RaftLab3BTest {
  static final ActorTestKit kit = ActorTestKit.create();

  @AfterAll
  static void done() {
    kit.shutdownTestKit();
  }

  @Test
  void basicAgree3B() {
    int servers = 3;
    try (RaftTestCluster ts = new RaftTestCluster(kit, servers, true, false)) {
      ts.begin("Test (3B): basic agreement");
      int iters = 3;
      for (int index = 1; index < iters + 1; index++) {
        int nd = ts.nCommitted(index).count();
        if (nd > 0) ts.fail("some have committed before Start()");
        long xindex = ts.one(index * 100, servers, false);
        if (xindex != index) ts.fail("got index " + xindex + " but expected " + index);
      }
      ts.end();
    }
  }

  /** Check, based on counting bytes of RPCs, that each command is sent to each peer just once. */
  @Test
  void rpcBytes3B() {
    int servers = 3;
    try (RaftTestCluster ts = new RaftTestCluster(kit, servers, true, false)) {
      ts.begin("Test (3B): RPC byte count");
      ts.one(99, servers, false);
      long bytes0 = ts.bytesTotal();
      int iters = 10;
      long sent = 0;
      for (int index = 2; index < iters + 2; index++) {
        String cmd = ts.randString(5000);
        long xindex = ts.one(cmd, servers, false);
        if (xindex != index) ts.fail("got index " + xindex + " but expected " + index);
        sent += cmd.length();
      }
      long bytes1 = ts.bytesTotal();
      long got = bytes1 - bytes0;
      long expected = (long) servers * sent;
      System.out.printf("RPC bytes for %d bytes of commands: %d (budget %d)%n", sent, got, expected + 50000);
      if (got > expected + 50000) ts.fail("too many RPC bytes; got " + got + ", expected " + expected);
      ts.end();
    }
  }

  /** Test just failure of followers. */
  @Test
  void followerFailure3B() {
    int servers = 3;
    try (RaftTestCluster ts = new RaftTestCluster(kit, servers, true, false)) {
      ts.begin("Test (3B): test progressive failure of followers");
      ts.one(101, servers, false);
      // disconnect one follower from the network
      int leader1 = ts.checkOneLeader();
      ts.disconnectAll((leader1 + 1) % servers);
      // the leader and remaining follower should be able to agree despite the disconnected follower
      ts.one(102, servers - 1, false);
      sleep(ELECTION_TIMEOUT);
      ts.one(103, servers - 1, false);
      // disconnect the remaining follower
      int leader2 = ts.checkOneLeader();
      ts.disconnectAll((leader2 + 1) % servers);
      ts.disconnectAll((leader2 + 2) % servers);
      // submit a command
      Proposal r = ts.start(leader2, 104);
      if (!r.isLeader()) ts.fail("leader rejected Start()");
      if (r.index() != 4) ts.fail("expected index 4, got " + r.index());
      sleep(2 * ELECTION_TIMEOUT.toMillis());
      // check that command 104 did not commit
      ts.checkNoAgreement(r.index());
      ts.end();
    }
  }

  /** Test just failure of leaders. */
  @Test
  void leaderFailure3B() {
    int servers = 3;
    try (RaftTestCluster ts = new RaftTestCluster(kit, servers, true, false)) {
      ts.begin("Test (3B): test failure of leaders");
      ts.one(101, servers, false);
      // disconnect the first leader
      int leader1 = ts.checkOneLeader();
      ts.disconnectAll(leader1);
      // the remaining followers should elect a new leader
      ts.one(102, servers - 1, false);
      sleep(ELECTION_TIMEOUT);
      ts.one(103, servers - 1, false);
      // disconnect the new leader
      int leader2 = ts.checkOneLeader();
      ts.disconnectAll(leader2);
      // submit a command to each server
      for (int i = 0; i < servers; i++) ts.start(i, 104);
      sleep(2 * ELECTION_TIMEOUT.toMillis());
      // check that command 104 did not commit
      ts.checkNoAgreement(4);
      ts.end();
    }
  }

  /** Test that a follower participates after disconnect and re-connect. */
  @Test
  void failAgree3B() {
    int servers = 3;
    try (RaftTestCluster ts = new RaftTestCluster(kit, servers, true, false)) {
      ts.begin("Test (3B): agreement after follower reconnects");
      ts.one(101, servers, false);
      // disconnect one follower from the network
      int leader = ts.checkOneLeader();
      ts.disconnectAll((leader + 1) % servers);
      // the leader and remaining follower should be able to agree despite the disconnected follower
      ts.one(102, servers - 1, false);
      ts.one(103, servers - 1, false);
      sleep(ELECTION_TIMEOUT);
      ts.one(104, servers - 1, false);
      ts.one(105, servers - 1, false);
      // re-connect
      ts.connectOne((leader + 1) % servers);
      // the full set of servers should preserve previous agreements, and be able to agree on new commands
      ts.one(106, servers, true);
      sleep(ELECTION_TIMEOUT);
      ts.one(107, servers, true);
      ts.end();
    }
  }

  @Test
  void failNoAgree3B() {
    int servers = 5;
    try (RaftTestCluster ts = new RaftTestCluster(kit, servers, true, false)) {
      ts.begin("Test (3B): no agreement if too many followers disconnect");
      ts.one(10, servers, false);
      // 3 of 5 followers disconnect
      int leader = ts.checkOneLeader();
      ts.disconnectAll((leader + 1) % servers);
      ts.disconnectAll((leader + 2) % servers);
      ts.disconnectAll((leader + 3) % servers);
      Proposal r = ts.start(leader, 20);
      if (!r.isLeader()) ts.fail("leader rejected Start()");
      if (r.index() != 2) ts.fail("expected index 2, got " + r.index());
      sleep(2 * ELECTION_TIMEOUT.toMillis());
      int n = ts.nCommitted(r.index()).count();
      if (n > 0) ts.fail(n + " committed but no majority");
      // repair
      ts.connectOne((leader + 1) % servers);
      ts.connectOne((leader + 2) % servers);
      ts.connectOne((leader + 3) % servers);
      // the disconnected majority may have chosen a leader from among their own ranks, forgetting index 2
      int leader2 = ts.checkOneLeader();
      Proposal r2 = ts.start(leader2, 30);
      if (!r2.isLeader()) ts.fail("leader2 rejected Start()");
      if (r2.index() < 2 || r2.index() > 3) ts.fail("unexpected index " + r2.index());
      ts.one(1000, servers, true);
      ts.end();
    }
  }

  @Test
  void concurrentStarts3B() throws Exception {
    int servers = 3;
    try (RaftTestCluster ts = new RaftTestCluster(kit, servers, true, false)) {
      ts.begin("Test (3B): concurrent Start()s");
      boolean success = false;
      ExecutorService pool = Executors.newFixedThreadPool(5);
      try {
        loop:
        for (int tryNo = 0; tryNo < 5; tryNo++) {
          if (tryNo > 0) sleep(3000); // give solution some time to settle
          int leader = ts.checkOneLeader();
          Proposal r0 = ts.start(leader, 1);
          if (!r0.isLeader()) continue; // leader moved on really quickly
          long term = r0.term();
          int iters = 5;
          List<Future<Long>> starts = new ArrayList<>();
          for (int ii = 0; ii < iters; ii++) {
            int cmd = 100 + ii;
            starts.add(pool.submit(() -> {
              Proposal r = ts.start(leader, cmd);
              if (r.term() != term || !r.isLeader()) return null;
              return r.index();
            }));
          }
          List<Long> is = new ArrayList<>();
          for (Future<Long> f : starts) {
            Long index = f.get();
            if (index != null) is.add(index);
          }
          for (int j = 0; j < servers; j++) {
            if (ts.term(j) != term) continue loop; // term changed -- can't expect low RPC counts
          }
          boolean failed = false;
          List<Object> cmds = new ArrayList<>();
          for (long index : is) {
            Object cmd = ts.waitFor(index, servers, term);
            if (Objects.equals(cmd, TERM_MOVED)) {
              failed = true; // peers have moved on to later terms so we can't expect all Start()s to have succeeded
              break;
            }
            cmds.add(cmd);
          }
          if (failed) continue; // avoid leaking goroutines
          for (int ii = 0; ii < iters; ii++) {
            int x = 100 + ii;
            if (!cmds.contains(x)) ts.fail("cmd " + x + " missing in " + cmds);
          }
          success = true;
          break;
        }
      } finally {
        pool.shutdownNow();
      }
      if (!success) ts.fail("term changed too often");
      ts.end();
    }
  }

  @Test
  void rejoin3B() {
    int servers = 3;
    try (RaftTestCluster ts = new RaftTestCluster(kit, servers, true, false)) {
      ts.begin("Test (3B): rejoin of partitioned leader");
      ts.one(101, servers, true);
      // leader network failure
      int leader1 = ts.checkOneLeader();
      ts.disconnectAll(leader1);
      // make old leader try to agree on some entries
      ts.start(leader1, 102);
      ts.start(leader1, 103);
      ts.start(leader1, 104);
      // new leader commits, also for index=2
      ts.one(103, 2, true);
      // new leader network failure
      int leader2 = ts.checkOneLeader();
      ts.disconnectAll(leader2);
      // old leader connected again
      ts.connectOne(leader1);
      ts.one(104, 2, true);
      // all together now
      ts.connectOne(leader2);
      ts.one(105, servers, true);
      ts.end();
    }
  }

  @Test
  void backup3B() {
    int servers = 5;
    try (RaftTestCluster ts = new RaftTestCluster(kit, servers, true, false)) {
      ts.begin("Test (3B): leader backs up quickly over incorrect follower logs");
      ts.one(ts.rand(), servers, true);
      // put leader and one follower in a partition
      int leader1 = ts.checkOneLeader();
      ts.disconnectAll((leader1 + 2) % servers);
      ts.disconnectAll((leader1 + 3) % servers);
      ts.disconnectAll((leader1 + 4) % servers);
      // submit lots of commands that won't commit
      for (int i = 0; i < 50; i++) ts.start(leader1, ts.rand());
      sleep(ELECTION_TIMEOUT.toMillis() / 2);
      ts.disconnectAll((leader1 + 0) % servers);
      ts.disconnectAll((leader1 + 1) % servers);
      // allow other partition to recover
      ts.connectOne((leader1 + 2) % servers);
      ts.connectOne((leader1 + 3) % servers);
      ts.connectOne((leader1 + 4) % servers);
      // lots of successful commands to new group
      for (int i = 0; i < 50; i++) ts.one(ts.rand(), 3, true);
      // now another partitioned leader and one follower
      int leader2 = ts.checkOneLeader();
      int other = (leader1 + 2) % servers;
      if (leader2 == other) other = (leader2 + 1) % servers;
      ts.disconnectAll(other);
      // lots more commands that won't commit
      for (int i = 0; i < 50; i++) ts.start(leader2, ts.rand());
      sleep(ELECTION_TIMEOUT.toMillis() / 2);
      // bring original leader back to life
      for (int i = 0; i < servers; i++) ts.disconnectAll(i);
      ts.connectOne((leader1 + 0) % servers);
      ts.connectOne((leader1 + 1) % servers);
      ts.connectOne(other);
      // lots of successful commands to new group
      for (int i = 0; i < 50; i++) ts.one(ts.rand(), 3, true);
      // now everyone
      for (int i = 0; i < servers; i++) ts.connectOne(i);
      ts.one(ts.rand(), servers, true);
      ts.end();
    }
  }

  @Test
  void count3B() {
    int servers = 3;
    try (RaftTestCluster ts = new RaftTestCluster(kit, servers, true, false)) {
      ts.begin("Test (3B): RPC counts aren't too high");
      int leader = ts.checkOneLeader();
      long total1 = ts.rpcsIncoming();
      System.out.printf("RPCs to elect a leader: %d (allowed 1..30)%n", total1);
      if (total1 > 30 || total1 < 1) ts.fail("too many or few RPCs (" + total1 + ") to elect initial leader");

      long total2 = 0;
      boolean success = false;
      loop:
      for (int tryNo = 0; tryNo < 5; tryNo++) {
        if (tryNo > 0) sleep(3000); // give solution some time to settle
        leader = ts.checkOneLeader();
        total1 = ts.rpcsIncoming();
        int iters = 10;
        Proposal r0 = ts.start(leader, 1);
        if (!r0.isLeader()) continue; // leader moved on really quickly
        long starti = r0.index();
        long term = r0.term();
        List<Integer> cmds = new ArrayList<>();
        for (int i = 1; i < iters + 2; i++) {
          int x = ts.rand();
          cmds.add(x);
          Proposal r = ts.start(leader, x);
          if (r.term() != term) continue loop; // Term changed while starting
          if (!r.isLeader()) continue loop; // No longer the leader, so term has changed
          if (starti + i != r.index()) ts.fail("Start() failed");
        }
        for (int i = 1; i < iters + 1; i++) {
          Object cmd = ts.waitFor(starti + i, servers, term);
          if (Objects.equals(cmd, TERM_MOVED)) continue loop; // term changed -- try again
          if (!Objects.equals(cmd, cmds.get(i - 1)))
            ts.fail("wrong value " + cmd + " committed for index " + (starti + i) + "; expected " + cmds);
        }
        boolean failed = false;
        total2 = 0;
        for (int j = 0; j < servers; j++) {
          if (ts.term(j) != term) failed = true; // term changed -- can't expect low RPC counts
        }
        total2 = ts.rpcsIncoming();
        if (failed) continue;
        System.out.printf("RPCs for %d entries: %d (allowed %d)%n", iters + 2, total2 - total1, (iters + 1 + 3) * 3);
        if (total2 - total1 > (iters + 1 + 3) * 3) ts.fail("too many RPCs (" + (total2 - total1) + ") for " + iters + " entries");
        success = true;
        break;
      }
      if (!success) ts.fail("term changed too often");

      sleep(ELECTION_TIMEOUT);
      long total3 = ts.rpcsIncoming();
      System.out.printf("idle RPCs in 1 s: %d (allowed %d)%n", total3 - total2, 3 * 20);
      if (total3 - total2 > 3 * 20) ts.fail("too many RPCs (" + (total3 - total2) + ") for 1 second of idleness");
      ts.end();
    }
  }
}
