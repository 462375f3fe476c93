package io.raftkv.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.client.KvClient;
import io.raftkv.client.ServerCall;
import io.raftkv.raft.PeerSettings;
import io.raftkv.raft.RaftPeer;
import io.raftkv.rsm.Rsm;
import io.raftkv.storage.MemoryStorage;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A 3-replica KV group over a direct in-memory transport, driven by the Clerk. */
@Timeout(60)
class KvServerTest {
  static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void done() {
    testKit.shutdownTestKit();
  }

  @Test
  void clerkWritesAndReadsThroughTheLeaderAndSnapshotsCompactTheLog() {
    int n = 3;
    DirectReplicas group = new DirectReplicas(testKit, n, i -> PeerSettings.of(i, n), 2000);
    MemoryStorage[] storages = group.storages;
    AtomicReferenceArray<ActorRef<RaftPeer.Command>> rafts = group.rafts;
    ServerCall call = group.call(Duration.ofSeconds(2));
    KvClient clerk = new KvClient(call, n);

    assertEquals(KvErr.ErrNoKey, clerk.getSync("x").err());
    assertEquals(KvErr.OK, clerk.putSync("x", "1", 0).err());
    assertEquals(KvErr.ErrVersion, clerk.putSync("x", "2", 0).err());
    assertEquals(new KvClient.Result(KvErr.OK, "1", 1), clerk.getSync("x"));
    for (int i = 0; i < 200; i++) assertEquals(KvErr.OK, clerk.appendSync("log", "" + (i % 10)).err());
    KvClient.Result log = clerk.getSync("log");
    assertEquals(200, log.value().length());
    assertEquals(200, log.version());
    assertEquals(KvErr.OK, clerk.delete("x").toCompletableFuture().join().err());
    assertEquals(KvErr.ErrNoKey, clerk.getSync("x").err());
    for (int i = 0; i < n; i++) {
      assertTrue(storages[i].snapshotSize() > 0, "replica " + i + " took a snapshot");
      assertTrue(storages[i].raftStateSize() < 2 * 2000, "replica " + i + " log " + storages[i].raftStateSize());
    }
    // a follower serves linearizable reads (ReadIndex through the leader) and names the leader it
    // knows of for writes, so a client need not guess
    TestProbe<RaftPeer.State> state = testKit.createTestProbe();
    int leader = -1;
    for (int i = 0; i < n; i++) {
      rafts.get(i).tell(new RaftPeer.GetState(state.getRef()));
      if (state.receiveMessage().isLeader()) leader = i;
    }
    assertTrue(leader >= 0, "a leader after the clerk's ops");
    int follower = (leader + 1) % n;
    Rsm.Result fromLeader = call.call(leader, KvOp.get("log")).toCompletableFuture().join();
    Rsm.Result fromFollower = call.call(follower, KvOp.get("log")).toCompletableFuture().join();
    assertTrue(fromLeader instanceof Rsm.Result.Ok, "the leader reads: " + fromLeader);
    assertTrue(fromFollower instanceof Rsm.Result.Ok, "the follower reads: " + fromFollower);
    assertEquals(
        KvCodec.decodeResult(((Rsm.Result.Ok) fromLeader).value()),
        KvCodec.decodeResult(((Rsm.Result.Ok) fromFollower).value()),
        "the follower reads what the leader does");
    Rsm.Result writeAtFollower = call.call(follower, KvOp.put("other", "v", 0)).toCompletableFuture().join();
    assertEquals(new Rsm.Result.WrongLeader(leader), writeAtFollower);
    // a session is exactly-once across shards: its seq, retried for a key of another shard, is
    // answered without executing there
    String[] keys = KvStateMachineTest.keysInTwoShards(KvStateMachine.DEFAULT_SHARDS);
    Rsm.Result first = call.call(leader, new KvOp.Append(keys[0], "once", 4242, 1)).toCompletableFuture().join();
    Rsm.Result retried = call.call(leader, new KvOp.Append(keys[1], "once", 4242, 1)).toCompletableFuture().join();
    assertEquals(KvCodec.decodeResult(((Rsm.Result.Ok) first).value()), KvCodec.decodeResult(((Rsm.Result.Ok) retried).value()));
    assertEquals(KvErr.ErrNoKey, clerk.getSync(keys[1]).err());
    Rsm.Result stale = call.call(leader, new KvOp.Append(keys[1], "older", 4242, 0)).toCompletableFuture().join();
    assertEquals(KvResult.staleSeq(1), KvCodec.decodeResult(((Rsm.Result.Ok) stale).value()));
    // the sharded service's snapshot is in the synchronous state machine's format
    KvStateMachine reference = new KvStateMachine();
    reference.restore(storages[0].readSnapshot());
    KvResult fromSnapshot = KvCodec.decodeResult(reference.apply(KvCodec.encode(KvOp.get("log"))));
    assertTrue(fromSnapshot.version() > 0 && fromSnapshot.version() <= 200);
  }
}
