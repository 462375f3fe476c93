package io.raftkv.raft;

import static io.raftkv.testing.RaftTestCluster.MAX_LOG_SIZE;
import static io.raftkv.testing.RaftTestCluster.SNAPSHOT_INTERVAL;

import io.raftkv.testing.RaftTestCluster;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * The lab's Part 3D tests (snapshots; the tester snapshots every 10 entries), step by step
 * (lab-tests-spec §7.4).
 */
@Timeout(180)
@Execution(ExecutionMode.CONCURRENT) // each test has its own cluster and network
class RaftLab3DTest {
  static final ActorTestKit kit = ActorTestKit.create();

  @AfterAll
  static void done() {
    kit.shutdownTestKit();
  }

  private void snapcommon(String name, boolean disconnect, boolean reliable, boolean crash) {
    int iters = 30;
    int servers = 3;
    try (RaftTestCluster ts = new RaftTestCluster(kit, servers, reliable, true)) {
      ts.begin(name);
      ts.one(ts.rand(), servers, true);
      int leader1 = ts.checkOneLeader();
      long maxLogSize = 0;
      for (int i = 0; i < iters; i++) {
        int victim = (leader1 + 1) % servers;
        int sender = leader1;
        if (i % 3 == 1) {
          sender = (leader1 + 1) % servers;
          victim = leader1;
        }
        if (disconnect) {
          ts.disconnectAll(victim);
          ts.one(ts.rand(), servers - 1, true);
        }
        if (crash) {
          ts.crash(victim);
          ts.one(ts.rand(), servers - 1, true);
        }
        // perhaps send enough to get a snapshot
        int nn = (SNAPSHOT_INTERVAL / 2) + ts.rand(SNAPSHOT_INTERVAL);
        for (int k = 0; k < nn; k++) ts.start(sender, ts.rand());
        // let applier threads catch up with the Start()'s
        if (!disconnect && !crash) {
          // make sure all followers have caught up, so that an InstallSnapshot RPC isn't required
          // for TestSnapshotBasic3D()
          ts.one(ts.rand(), servers, true);
        } else {
          ts.one(ts.rand(), servers - 1, true);
        }
        long logSize = ts.logSize();
        maxLogSize = Math.max(maxLogSize, logSize);
        if (logSize >= MAX_LOG_SIZE) ts.fail("Log size too large: " + logSize);
        if (disconnect) {
          // reconnect a follower, who maybe behind and needs to receive a snapshot to catch up
          ts.connectOne(victim);
          ts.one(ts.rand(), servers, true);
          leader1 = ts.checkOneLeader();
        }
        if (crash) {
          ts.restart(victim);
          ts.one(ts.rand(), servers, true);
          leader1 = ts.checkOneLeader();
        }
      }
      System.out.printf("max log size %d bytes (limit %d)%n", maxLogSize, MAX_LOG_SIZE);
      ts.end();
    }
  }

  @Test
  void snapshotBasic3D() {
    snapcommon("Test (3D): snapshots basic", false, true, false);
  }

  @Test
  void snapshotInstall3D() {
    snapcommon("Test (3D): install snapshots (disconnect)", true, true, false);
  }

  @Test
  void snapshotInstallUnreliable3D() {
    snapcommon("Test (3D): install snapshots (disconnect)", true, false, false);
  }

  @Test
  void snapshotInstallCrash3D() {
    snapcommon("Test (3D): install snapshots (crash)", false, true, true);
  }

  @Test
  void snapshotInstallUnCrash3D() {
    snapcommon("Test (3D): install snapshots (crash)", false, false, true);
  }

  /** Crash and restart all servers, often and without waiting for snapshots to settle. */
  @Test
  void snapshotAllCrash3D() {
    int servers = 3;
    int iters = 5;
    try (RaftTestCluster ts = new RaftTestCluster(kit, servers, false, true)) {
      ts.begin("Test (3D): crash and restart all servers");
      ts.one(ts.rand(), servers, true);
      for (int i = 0; i < iters; i++) {
        // perhaps enough to get a snapshot
        int nn = (SNAPSHOT_INTERVAL / 2) + ts.rand(SNAPSHOT_INTERVAL);
        for (int k = 0; k < nn; k++) ts.one(ts.rand(), servers, true);
        long index1 = ts.one(ts.rand(), servers, true);
        // crash all
        ts.shutdown();
        ts.startServers();
        long index2 = ts.one(ts.rand(), servers, true);
        if (index2 < index1 + 1) ts.fail("index decreased from " + index1 + " to " + index2);
      }
      ts.end();
    }
  }

  /** Do servers correctly initialize their in-memory copy of the snapshot, making sure that future
   * writes to persistent state don't lose state? */
  @Test
  void snapshotInit3D() {
    int servers = 3;
    try (RaftTestCluster ts = new RaftTestCluster(kit, servers, false, true)) {
      ts.begin("Test (3D): snapshot initialization after crash");
      ts.one(ts.rand(), servers, true);
      // enough ops to make a snapshot
      int nn = SNAPSHOT_INTERVAL + 1;
      for (int i = 0; i < nn; i++) ts.one(ts.rand(), servers, true);
      ts.shutdown();
      ts.startServers();
      // a single op, to get something to be written back to persistent storage
      ts.one(ts.rand(), servers, true);
      ts.shutdown();
      ts.startServers();
      // do another op to trigger potential bug
      ts.one(ts.rand(), servers, true);
      ts.end();
    }
  }
}
