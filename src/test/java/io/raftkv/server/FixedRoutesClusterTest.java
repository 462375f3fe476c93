package io.raftkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.client.KvClient;
import io.raftkv.kv.KvErr;
import io.raftkv.storage.MemoryStorage;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Nodes that know each other's addresses ({@link RaftKvNode.Settings#withNodePaths}) talk over
 * fixed actor paths: they serve without any Pekko cluster having formed, without node 0, and reach a
 * restarted peer (new incarnation, same address) again by themselves. The node's Clerk gives each
 * try a short timeout, so a dead node costs one short try, not the call's deadline.
 */
@Timeout(120)
class FixedRoutesClusterTest {
  private static final int N = 3;
  private static final Duration DEADLINE = Duration.ofSeconds(5);
  private static final Duration TRY = Duration.ofMillis(500);

  private final ActorSystem<?>[] systems = new ActorSystem<?>[N];
  private final MemoryStorage[] storages = new MemoryStorage[N];
  private final List<Integer> ports = new ArrayList<>();
  private final List<String> paths = new ArrayList<>();

  @AfterEach
  void stopAll() {
    for (ActorSystem<?> s : systems) if (s != null) s.terminate();
    for (ActorSystem<?> s : systems) if (s != null) s.getWhenTerminated().toCompletableFuture().join();
  }

  private void plan() throws IOException {
    for (int i = 0; i < N; i++) {
      int port = freePort();
      ports.add(port);
      paths.add("pekko://" + NodeConfig.SYSTEM_NAME + "@127.0.0.1:" + port + "/system/kv-" + i);
      storages[i] = new MemoryStorage();
    }
  }

  /** Starts node {@code i} in an ActorSystem of its own that never joins any cluster. */
  private void start(int i) {
    ActorSystem<Void> system =
        ActorSystem.create(Behaviors.empty(), NodeConfig.SYSTEM_NAME, NodeConfig.cluster("127.0.0.1", ports.get(i), List.of()));
    systems[i] = system;
    RaftKvNode.Settings settings = RaftKvNode.Settings.of("kv", i, N).withNodePaths(paths);
    system.systemActorOf(RaftKvNode.create(settings, storages[i]), "kv-" + i, Props.empty());
  }

  private void stop(int i) {
    systems[i].terminate();
    systems[i].getWhenTerminated().toCompletableFuture().join();
    systems[i] = null;
  }

  private KvClient client(int via) {
    return RaftKvNode.client(systems[via], paths, DEADLINE, TRY);
  }

  @Test
  void aMajorityWithoutNodeZeroServesWithNoClusterFormedAndADeadNodeCostsOneShortTry() throws Exception {
    plan();
    start(1);
    start(2);
    assertEquals(KvErr.OK, client(1).putSync("greeting", "hello", 0).err());
    for (int i = 1; i < N; i++) {
      assertTrue(Cluster.get(systems[i]).state().getMembers().iterator().hasNext() == false, "n" + i + " joined no cluster");
    }
    // Fresh Clerks start at a random node, often the dead n0: each try there gives up after TRY.
    for (int c = 0; c < 8; c++) {
      KvClient clerk = client(1 + c % 2);
      long t0 = System.nanoTime();
      KvClient.Result r = clerk.getSync("greeting");
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertEquals(new KvClient.Result(KvErr.OK, "hello", 1), r);
      assertTrue(ms < DEADLINE.toMillis() / 2, "a read took " + ms + " ms with one node dead");
    }
  }

  @Test
  void aRestartedPeerIsReachedAgainThroughTheSamePath() throws Exception {
    plan();
    for (int i = 0; i < N; i++) start(i);
    KvClient clerk = client(0);
    assertEquals(KvErr.OK, clerk.putSync("k", "1", 0).err());

    // n1 restarts: a new incarnation at the same address, its Raft state kept.
    stop(1);
    start(1);
    // Without n2, n0 and the new n1 must talk to each other to commit anything.
    stop(2);
    KvClient survivor = client(0);
    assertEquals(KvErr.OK, survivor.appendSync("k", "2").err());
    assertEquals("12", survivor.getSync("k").value());
    assertEquals("12", client(1).getSync("k").value());
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
