package io.raftkv.server;

import io.raftkv.bench.NodeProcesses;
import io.raftkv.raft.Role;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * For the tests that run {@link NodeServer}s in this JVM: members on loopback ports that were free
 * a moment ago, and waiting for one of the nodes to lead.
 */
final class LocalNodes {
  private LocalNodes() {}

  /** {@code n} members on 127.0.0.1, each with its own cluster and HTTP port (all distinct). */
  static List<NodeServer.Member> members(int n) {
    int[] ports = NodeProcesses.freePorts(2 * n);
    List<NodeServer.Member> ms = new ArrayList<>();
    for (int i = 0; i < n; i++) ms.add(new NodeServer.Member("127.0.0.1", ports[2 * i], "127.0.0.1", ports[2 * i + 1]));
    return ms;
  }

  /** A port that was free a moment ago. */
  static int freePort() {
    return NodeProcesses.freePorts(1)[0];
  }

  /** The index in {@code nodes} of the one that reports itself leader; see {@link #awaitLeader(NodeServer[], Iterable, Duration)}. */
  static int awaitLeader(List<NodeServer> nodes, Duration within) throws InterruptedException {
    List<Integer> all = new ArrayList<>();
    for (int i = 0; i < nodes.size(); i++) all.add(i);
    return awaitLeader(nodes.toArray(NodeServer[]::new), all, within);
  }

  /**
   * The index of the node of {@code among} that reports itself leader, asked every 50 ms until
   * {@code within} has passed. A null entry (a stopped node) and a node that does not answer (it
   * is starting or stopping) are passed over.
   */
  static int awaitLeader(NodeServer[] nodes, Iterable<Integer> among, Duration within) throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (System.nanoTime() < deadline) {
      for (int i : among) {
        if (nodes[i] == null) continue;
        try {
          if (nodes[i].status().toCompletableFuture().get(5, TimeUnit.SECONDS).role() == Role.LEADER) return i;
        } catch (Exception notNow) {
          // starting or stopping
        }
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no leader among " + among + " within " + within);
  }
}
