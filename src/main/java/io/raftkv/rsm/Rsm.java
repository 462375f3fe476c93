package io.raftkv.rsm;

import io.raftkv.raft.ApplyMsg;
import io.raftkv.raft.PeerTransport;
import io.raftkv.raft.RaftCodec;
import io.raftkv.raft.RaftPeer;
import io.raftkv.raft.Snapshot;
import io.raftkv.storage.RaftStorage;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * A replicated state machine: owns its group's {@link RaftPeer} and applies every committed op to
 * the {@link StateMachine}, in log order, on every replica.
 *
 * <p>{@link Submit} is meant for the ask pattern. The op is wrapped with an id unique across
 * restarts (a random incarnation number and a counter) and proposed; the ask completes when the
 * applier sees that id committed at the index Raft returned ({@link Result.Ok} with the state
 * machine's result). Not the leader: {@link Result.WrongLeader} at once. Another op at that index,
 * or this peer loses the leadership of that term: {@code WrongLeader}. A leader cut off in a
 * minority keeps the ask waiting until it learns of a newer term. When Raft stops, every waiting
 * ask completes with {@link Result.Stopped}.
 *
 * <p>Snapshots: when the persisted Raft state reaches {@code maxRaftState} bytes (-1 = never) the
 * state machine's snapshot is handed to Raft; on start the state machine is restored from the
 * stored snapshot, and again whenever Raft installs one from the leader.
 */
public final class Rsm extends AbstractBehavior<Rsm.Command> {

  public sealed interface Command {}

  public record Submit(byte[] op, ActorRef<Result> replyTo) implements Command {}

  /** The outcome of a {@link Submit}. */
  public sealed interface Result {
    /** Committed at {@code index}; {@code value} is what the state machine returned. */
    record Ok(long index, byte[] value) implements Result {}

    /** This peer is not (or no longer) the leader: try another. The op may still commit. */
    enum WrongLeader implements Result {
      INSTANCE
    }

    /** This peer's Raft has stopped. */
    enum Stopped implements Result {
      INSTANCE
    }
  }

  /** Answers with the Raft peer this RSM drives (tests and the transport use it). */
  public record GetRaft(ActorRef<ActorRef<RaftPeer.Command>> replyTo) implements Command {}

  /** Stops Raft (and with it this RSM); waiting asks complete with {@link Result.Stopped}. */
  public enum Kill implements Command {
    INSTANCE
  }

  private record Applied(ApplyMsg msg) implements Command {}

  private record Started(RaftPeer.StartResult result) implements Command {}

  private record Pending(long id, long term, ActorRef<Result> replyTo) {}

  public static Behavior<Command> create(
      RaftPeer.Settings settings,
      RaftStorage storage,
      PeerTransport transport,
      int maxRaftState,
      StateMachine stateMachine) {
    return create(settings, storage, transport, maxRaftState, ReplicatedService.of(stateMachine));
  }

  public static Behavior<Command> create(
      RaftPeer.Settings settings,
      RaftStorage storage,
      PeerTransport transport,
      int maxRaftState,
      ReplicatedService service) {
    return Behaviors.setup(ctx -> new Rsm(ctx, settings, storage, transport, maxRaftState, service));
  }

  private final RaftStorage storage;
  private final int maxRaftState;
  private final ReplicatedService sm;
  private final ActorRef<RaftPeer.Command> raft;
  private final ActorRef<RaftPeer.StartResult> startAdapter;
  private final long incarnation = ThreadLocalRandom.current().nextLong();
  private long nextId;
  /** Submits whose Start is out, in the order sent: Raft answers Starts in order. */
  private final ArrayDeque<Pending> starting = new ArrayDeque<>();
  /** Submits Raft accepted, by the index it gave them. */
  private final Map<Long, Pending> waiting = new HashMap<>();
  private long lastApplied;
  private long lastSnapshot;
  private boolean stopped;

  private Rsm(
      ActorContext<Command> ctx,
      RaftPeer.Settings settings,
      RaftStorage storage,
      PeerTransport transport,
      int maxRaftState,
      ReplicatedService sm) {
    super(ctx);
    this.storage = storage;
    this.maxRaftState = maxRaftState;
    this.sm = sm;
    Snapshot snap = storage.load().snapshot();
    if (!snap.isEmpty()) {
      sm.restore(snap.data());
      lastApplied = snap.index();
      lastSnapshot = snap.index();
    }
    ActorRef<ApplyMsg> applyTo = ctx.messageAdapter(ApplyMsg.class, Applied::new);
    this.startAdapter = ctx.messageAdapter(RaftPeer.StartResult.class, Started::new);
    this.raft = ctx.spawn(RaftPeer.create(settings, storage, transport, applyTo), "raft");
    ctx.watch(raft);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Submit.class, this::onSubmit)
        .onMessage(Started.class, this::onStarted)
        .onMessage(Applied.class, this::onApplied)
        .onMessage(GetRaft.class, this::onGetRaft)
        .onMessage(Kill.class, this::onKill)
        .onSignal(Terminated.class, t -> onRaftStopped())
        .build();
  }

  private Behavior<Command> onSubmit(Submit s) {
    if (stopped) {
      s.replyTo().tell(Result.Stopped.INSTANCE);
      return this;
    }
    long id = nextId++;
    starting.addLast(new Pending(id, 0, s.replyTo()));
    raft.tell(new RaftPeer.Start(encodeOp(id, s.op()), startAdapter));
    return this;
  }

  private Behavior<Command> onStarted(Started s) {
    Pending p = starting.pollFirst();
    if (p == null) return this;
    RaftPeer.StartResult r = s.result();
    if (!r.isLeader()) {
      p.replyTo().tell(Result.WrongLeader.INSTANCE);
    } else {
      Pending old = waiting.put(r.index(), new Pending(p.id(), r.term(), p.replyTo()));
      if (old != null) old.replyTo().tell(Result.WrongLeader.INSTANCE); // index reused by a later term
    }
    return this;
  }

  private Behavior<Command> onApplied(Applied a) {
    ApplyMsg msg = a.msg();
    if (msg instanceof ApplyMsg.Command c) {
      applyCommand(c);
    } else if (msg instanceof ApplyMsg.SnapshotInstalled s) {
      if (s.index() > lastApplied) {
        sm.restore(s.data());
        lastApplied = s.index();
        lastSnapshot = s.index();
        failWaiting(p -> true, index -> index <= s.index());
      }
    } else if (msg instanceof ApplyMsg.LeadershipChanged lc) {
      // Ops proposed in an older term may never commit, and nothing tells us when: give up on
      // them (the lab's rule); a client retrying elsewhere is told by its session if they did.
      failWaiting(p -> p.term() < lc.term() || !lc.isLeader(), index -> true);
    } else if (msg instanceof ApplyMsg.Stopped) {
      return onRaftStopped();
    }
    return this;
  }

  private void applyCommand(ApplyMsg.Command c) {
    if (c.index() <= lastApplied) return; // covered by a snapshot already restored
    RaftCodec.Reader r = new RaftCodec.Reader(c.command());
    long opIncarnation = r.varintSigned();
    long opId = r.varint();
    byte[] op = r.bytes();
    long index = c.index();
    lastApplied = index;
    Pending p = waiting.remove(index);
    if (p != null && opIncarnation == incarnation && opId == p.id()) {
      ActorRef<Result> replyTo = p.replyTo();
      sm.apply(index, op, result -> replyTo.tell(new Result.Ok(index, result)));
    } else {
      if (p != null) p.replyTo().tell(Result.WrongLeader.INSTANCE);
      sm.apply(index, op, result -> {});
    }
    if (maxRaftState > 0 && storage.raftStateSize() >= maxRaftState && index > lastSnapshot) {
      lastSnapshot = index;
      ActorRef<RaftPeer.Command> raftRef = raft;
      sm.snapshot(index, bytes -> raftRef.tell(new RaftPeer.TakeSnapshot(index, bytes)));
    }
  }

  private interface PendingTest {
    boolean test(Pending p);
  }

  private interface IndexTest {
    boolean test(long index);
  }

  private void failWaiting(PendingTest which, IndexTest where) {
    Iterator<Map.Entry<Long, Pending>> it = waiting.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<Long, Pending> e = it.next();
      if (where.test(e.getKey()) && which.test(e.getValue())) {
        e.getValue().replyTo().tell(Result.WrongLeader.INSTANCE);
        it.remove();
      }
    }
  }

  private Behavior<Command> onGetRaft(GetRaft g) {
    g.replyTo().tell(raft);
    return this;
  }

  private Behavior<Command> onKill(Kill k) {
    raft.tell(RaftPeer.Kill.INSTANCE);
    return this;
  }

  private Behavior<Command> onRaftStopped() {
    if (stopped) return Behaviors.stopped();
    stopped = true;
    for (Pending p : starting) p.replyTo().tell(Result.Stopped.INSTANCE);
    for (Pending p : waiting.values()) p.replyTo().tell(Result.Stopped.INSTANCE);
    starting.clear();
    waiting.clear();
    return Behaviors.stopped();
  }

  private byte[] encodeOp(long id, byte[] op) {
    return new RaftCodec.Writer().varintSigned(incarnation).varint(id).bytes(op).toByteArray();
  }
}
