package io.raftkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.client.KvClient;
import io.raftkv.kv.KvErr;
import io.raftkv.raft.RaftPeer;
import io.raftkv.storage.MemoryStorage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Three ActorSystems in one JVM form a Pekko Cluster over Artery on loopback; each embeds a node
 * through the public API only ({@link RaftKvNode#create}, {@link RaftKvNode#client}).
 */
@Timeout(120)
class EmbeddedClusterTest {
  private final List<ActorSystem<Void>> systems = new ArrayList<>();

  @AfterEach
  void stop() {
    for (ActorSystem<Void> s : systems) s.terminate();
    for (ActorSystem<Void> s : systems) s.getWhenTerminated().toCompletableFuture().join();
  }

  @Test
  void threeEmbeddedNodesServeClientsAndSurviveTheLossOfTheLeader() throws Exception {
    int n = 3;
    List<ActorRef<RaftKvNode.Command>> nodes = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ActorSystem<Void> system =
          ActorSystem.create(Behaviors.empty(), NodeConfig.SYSTEM_NAME, NodeConfig.cluster("127.0.0.1", 0, List.of()));
      systems.add(system);
      Cluster.get(system).manager().tell(Join.create(Cluster.get(systems.get(0)).selfMember().address()));
      nodes.add(
          system.systemActorOf(RaftKvNode.create(RaftKvNode.Settings.of("kv", i, n), new MemoryStorage()), "kv-" + i, Props.empty()));
    }
    KvClient client = RaftKvNode.client(systems.get(1), "kv", n);
    assertEquals(KvErr.OK, client.putSync("greeting", "hello", 0).err());
    assertEquals(new KvClient.Result(KvErr.OK, "hello", 1), client.getSync("greeting"));

    // Larger than ClusterTransport's 128 KiB chunks: the AppendEntries carrying it is split.
    String big = "x".repeat(600 * 1024);
    assertEquals(KvErr.OK, client.putSync("big", big, 0).err());
    assertEquals(big, client.getSync("big").value());

    int leader = leaderOf(nodes, systems.get(0));
    systems.get(leader).terminate();
    systems.get(leader).getWhenTerminated().toCompletableFuture().join();
    KvClient survivor = RaftKvNode.client(systems.get((leader + 1) % n), "kv", n);
    assertEquals(KvErr.OK, survivor.appendSync("greeting", ", world").err());
    assertEquals(new KvClient.Result(KvErr.OK, "hello, world", 2), survivor.getSync("greeting"));
    assertTrue(leaderOf(withoutIndex(nodes, leader), systems.get((leader + 1) % n)) >= 0, "a survivor leads");
  }

  private static List<ActorRef<RaftKvNode.Command>> withoutIndex(List<ActorRef<RaftKvNode.Command>> nodes, int i) {
    List<ActorRef<RaftKvNode.Command>> rest = new ArrayList<>(nodes);
    rest.remove(i);
    return rest;
  }

  private static int leaderOf(List<ActorRef<RaftKvNode.Command>> nodes, ActorSystem<?> via) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      for (int i = 0; i < nodes.size(); i++) {
        RaftPeer.State s =
            AskPattern.<RaftKvNode.Command, RaftPeer.State>ask(
                    nodes.get(i), RaftKvNode.GetStatus::new, Duration.ofSeconds(3), via.scheduler())
                .toCompletableFuture()
                .get();
        if (s.isLeader()) return i;
      }
      Thread.sleep(50);
    }
    return -1;
  }
}
