package io.raftkv.rsm;

import io.raftkv.codec.ByteReader;
import io.raftkv.codec.ByteWriter;
import io.raftkv.raft.PeerSettings;
import io.raftkv.raft.ApplyMsg;
import io.raftkv.raft.PeerTransport;
import io.raftkv.raft.PersistentState;
import io.raftkv.raft.Proposal;
import io.raftkv.raft.RaftPeer;
import io.raftkv.raft.RaftStorage;
import io.raftkv.raft.Snapshot;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongPredicate;
import java.util.function.Predicate;
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
 * machine's result). Not the leader: {@link Result.WrongLeader} at once, with the leader Raft
 * knows of as a hint. Another op at that index, or this peer loses the leadership of that term:
 * {@code WrongLeader}. A leader cut off in a minority keeps the ask waiting until it learns of a
 * newer term. When Raft stops, every waiting ask completes with {@link Result.Stopped}.
 *
 * <p>{@link Read} is a linearizable read that costs no log entry: Raft's ReadIndex gives it a read
 * point, and once everything up to that point is applied the service's {@link
 * ReplicatedService#query} answers it ({@link Result.Ok} with the read point as index). Reads that
 * arrive while a read point is being fetched share the next one. No read point (this peer is not
 * confirmed as leader, or knows of none to ask): {@code WrongLeader}.
 *
 * <p>{@link Request} is either of the two with a tag, for a long-lived reply-to that waits for many
 * requests at once: the answer is an {@link Answer} with the request's tag.
 *
 * <p>Admission control: at most {@link Admission#maxProposals} submits (and {@link
 * Admission#maxBytes} bytes of their ops) are in flight, from Submit until applied or given up on;
 * beyond that a Submit is answered {@link Result.Busy} at once and nothing is proposed. So a slow
 * disk or follower makes clients wait and retry, instead of making the leader's memory grow.
 *
 * <p>Snapshots: when the persisted Raft state reaches {@code maxRaftState} bytes (-1 = never) the
 * state machine's snapshot is handed to Raft; at most one is in flight: the next is asked for only
 * after Raft has taken the previous one (an apply may arrive in a batch of hundreds, all past the
 * threshold until Raft compacts). On start the state machine is restored from the stored
 * snapshot, and again whenever Raft installs one from the leader.
 */
public final class Rsm extends AbstractBehavior<Rsm.Command> {

  public sealed interface Command {}

  public record Submit(byte[] op, ActorRef<Result> replyTo) implements Command {}

  /** A linearizable read-only {@code op}, answered by {@link ReplicatedService#query}. */
  public record Read(byte[] op, ActorRef<Result> replyTo) implements Command {}

  /**
   * A {@link Submit} ({@code read} false) or {@link Read} (true) whose answer carries {@code tag}:
   * one long-lived {@code replyTo} can then wait for many requests at once (a client's inbox across
   * the network), with no temporary actor per request as an ask would make.
   */
  public record Request(long tag, byte[] op, boolean read, ActorRef<Answer> replyTo) implements Command {}

  /** The outcome of the {@link Request} with this {@code tag}. */
  public record Answer(long tag, Result result) {}

  /**
   * Bounds on the submits in flight (proposed or about to be, not yet applied or given up on).
   *
   * @param maxProposals how many at once; more are answered {@link Result.Busy}
   * @param maxBytes how many bytes of ops at once; a single op larger than this is still admitted
   *     when nothing else is in flight, so no op is refused forever
   */
  public record Admission(int maxProposals, long maxBytes) {
    public static final int DEFAULT_MAX_PROPOSALS = 4096;
    public static final long DEFAULT_MAX_BYTES = 64L << 20;

    public Admission {
      if (maxProposals < 1 || maxBytes < 1) throw new IllegalArgumentException("admission limits must be positive");
    }

    /** 4096 proposals, 64 MiB. */
    public static Admission defaults() {
      return new Admission(DEFAULT_MAX_PROPOSALS, DEFAULT_MAX_BYTES);
    }

    /** No limit in practice (the lab's RSM). */
    public static Admission unbounded() {
      return new Admission(Integer.MAX_VALUE, Long.MAX_VALUE);
    }
  }

  /** The outcome of a {@link Submit}. */
  public sealed interface Result {
    /** Committed at {@code index}; {@code value} is what the state machine returned. */
    record Ok(long index, byte[] value) implements Result {}

    /**
     * This peer is not (or no longer) the leader: try another. The op may still commit. {@code
     * leader} is the peer this one believes leads, or -1 when it knows none.
     */
    record WrongLeader(int leader) implements Result {
      public static final WrongLeader UNKNOWN = new WrongLeader(-1);
    }

    /** Too much is in flight (see {@link Admission}): nothing was proposed; retry later. */
    enum Busy implements Result {
      INSTANCE
    }

    /** This peer's Raft has stopped. */
    enum Stopped implements Result {
      INSTANCE
    }
  }

  /** Answers with the Raft peer this RSM drives (tests use it to reach Raft). */
  public record GetRaft(ActorRef<ActorRef<RaftPeer.Command>> replyTo) implements Command {}

  /** This RSM's Raft peer, told once to whoever asked at creation to hear of it. */
  public record RaftStarted(ActorRef<RaftPeer.Command> raft) {}

  /**
   * Hands {@code command} to this RSM's Raft peer, for the few callers that talk to Raft itself
   * (status, leadership transfer) but reach the replica only through its owner. The peer exists from
   * the RSM's start, so nothing needs to wait for it.
   */
  public record ToRaft(RaftPeer.Command command) implements Command {}

  /** Stops Raft (and with it this RSM); waiting asks complete with {@link Result.Stopped}. */
  public enum Stop implements Command {
    INSTANCE
  }

  private record Applied(ApplyMsg msg) implements Command {}

  private record Started(Proposal result) implements Command {}

  /**
   * The service's state at {@code index}: its answer to {@link ReplicatedService#snapshot}. Only
   * the service sends it; the RSM hands it to Raft.
   */
  public record SnapshotReady(long index, byte[] data) implements Command {}

  /** Raft has handled every TakeSnapshot sent before the GetState this answers. */
  private record SnapshotTaken(RaftPeer.State state) implements Command {}

  /** A read waiting for its read point. */
  private record PendingRead(byte[] op, ReplyTo replyTo) {}

  public static Behavior<Command> create(
      PeerSettings settings,
      RaftStorage storage,
      PeerTransport transport,
      int maxRaftState,
      StateMachine stateMachine) {
    return create(settings, storage, transport, maxRaftState, ReplicatedService.of(stateMachine));
  }

  /** With {@link Admission#unbounded()}, as the lab's RSM. */
  public static Behavior<Command> create(
      PeerSettings settings,
      RaftStorage storage,
      PeerTransport transport,
      int maxRaftState,
      ReplicatedService service) {
    return create(settings, storage, transport, maxRaftState, service, Admission.unbounded(), null);
  }

  /**
   * {@code raftStarted} (may be null) is told the Raft peer's ref once, as the RSM spawns it
   * ({@link RaftStarted}): the owner that must wire the peer to something of its own (a node's
   * transport inbox) learns it by construction, with no ask.
   */
  public static Behavior<Command> create(
      PeerSettings settings,
      RaftStorage storage,
      PeerTransport transport,
      int maxRaftState,
      ReplicatedService service,
      Admission admission,
      ActorRef<RaftStarted> raftStarted) {
    return Behaviors.setup(
        ctx -> {
          Rsm rsm = new Rsm(ctx, settings, storage, transport, maxRaftState, service, admission);
          if (raftStarted != null) raftStarted.tell(new RaftStarted(rsm.raft));
          return rsm;
        });
  }

  private final RaftStorage storage;
  private final int maxRaftState;
  private final ReplicatedService sm;
  private final ActorRef<RaftPeer.Command> raft;
  private final ActorRef<Proposal> startAdapter;
  private final ActorRef<RaftPeer.State> snapshotTakenAdapter;
  /** Submits in flight, and admission control over them. */
  private final PendingSubmits<ReplyTo> proposals;
  private final long incarnation = ThreadLocalRandom.current().nextLong();
  private long nextId; // submit ids and read-point contexts alike
  private long lastApplied;
  private long lastSnapshot;
  /** A snapshot was asked of the state machine and Raft has not confirmed taking it yet. */
  private boolean snapshotInFlight;
  private boolean stopped;
  /** Reads waiting for a read point, or for it to be applied. */
  private final PendingReads<PendingRead> reads = new PendingReads<>();

  private Rsm(
      ActorContext<Command> ctx,
      PeerSettings settings,
      RaftStorage storage,
      PeerTransport transport,
      int maxRaftState,
      ReplicatedService sm,
      Admission admission) {
    super(ctx);
    this.storage = storage;
    this.proposals = new PendingSubmits<>(admission);
    this.maxRaftState = maxRaftState;
    this.sm = sm;
    // The one read of the storage at start: the peer starts from the same state.
    PersistentState loaded = storage.load();
    Snapshot snap = loaded.snapshot();
    if (!snap.isEmpty()) {
      sm.restore(snap.data());
      lastApplied = snap.index();
      lastSnapshot = snap.index();
    }
    ActorRef<ApplyMsg> applyTo = ctx.messageAdapter(ApplyMsg.class, Applied::new);
    this.startAdapter = ctx.messageAdapter(Proposal.class, Started::new);
    this.snapshotTakenAdapter = ctx.messageAdapter(RaftPeer.State.class, SnapshotTaken::new);
    this.raft = ctx.spawn(RaftPeer.create(settings, storage, loaded, transport, applyTo), "raft");
    ctx.watch(raft);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Submit.class, s -> onSubmit(s.op(), ReplyTo.of(s.replyTo())))
        .onMessage(Read.class, r -> onRead(r.op(), ReplyTo.of(r.replyTo())))
        .onMessage(Request.class, r -> r.read() ? onRead(r.op(), ReplyTo.of(r)) : onSubmit(r.op(), ReplyTo.of(r)))
        .onMessage(Started.class, this::onStarted)
        .onMessage(SnapshotReady.class, this::onSnapshotReady)
        .onMessage(SnapshotTaken.class, t -> {
          snapshotInFlight = false;
          return this;
        })
        .onMessage(Applied.class, this::onApplied)
        .onMessage(GetRaft.class, this::onGetRaft)
        .onMessage(ToRaft.class, t -> {
          raft.tell(t.command());
          return this;
        })
        .onMessage(Stop.class, this::onStop)
        .onSignal(Terminated.class, t -> onRaftStopped())
        .build();
  }

  private Behavior<Command> onSubmit(byte[] op, ReplyTo replyTo) {
    if (stopped) {
      replyTo.tell(Result.Stopped.INSTANCE);
      return this;
    }
    if (!proposals.admit(nextId, op.length, replyTo)) {
      replyTo.tell(Result.Busy.INSTANCE);
      return this;
    }
    long id = nextId++;
    raft.tell(new RaftPeer.Start(encodeOp(id, op), startAdapter));
    return this;
  }

  private Behavior<Command> onRead(byte[] op, ReplyTo replyTo) {
    if (stopped) {
      replyTo.tell(Result.Stopped.INSTANCE);
      return this;
    }
    if (reads.add(new PendingRead(op, replyTo))) askReadPoint();
    return this;
  }

  private void askReadPoint() {
    long ctx = ++nextId;
    reads.asking(ctx);
    raft.tell(new RaftPeer.ReadIndex(ctx));
  }

  private void onReadReady(ApplyMsg.ReadReady rr) {
    List<PendingRead> failed = reads.answer(rr.ctx(), rr.ok(), rr.index());
    if (failed == null) return; // not ours: asked before a restart of this RSM
    for (PendingRead r : failed) r.replyTo().tell(new Result.WrongLeader(rr.leader()));
    serveReadyReads();
    if (reads.hasNext()) askReadPoint();
  }

  /** Serves the reads whose read point is now applied. */
  private void serveReadyReads() {
    for (PendingReads.Due<PendingRead> d : reads.due(lastApplied)) sm.query(d.index(), d.read().op(), d.read().replyTo());
  }

  private Behavior<Command> onStarted(Started s) {
    PendingSubmits.Pending<ReplyTo> p = proposals.started();
    if (p == null) return this;
    Proposal r = s.result();
    if (!r.isLeader()) {
      p.replyTo().tell(new Result.WrongLeader(r.leader()));
    } else {
      PendingSubmits.Pending<ReplyTo> old = proposals.accepted(p, r.index(), r.term());
      if (old != null) old.replyTo().tell(Result.WrongLeader.UNKNOWN); // index reused by a later term
    }
    return this;
  }

  private Behavior<Command> onApplied(Applied a) {
    ApplyMsg msg = a.msg();
    if (msg instanceof ApplyMsg.Command c) {
      applyCommand(c);
      serveReadyReads();
    } else if (msg instanceof ApplyMsg.ReadReady rr) {
      onReadReady(rr);
    } else if (msg instanceof ApplyMsg.SnapshotInstalled s) {
      if (s.index() > lastApplied) {
        sm.restore(s.data());
        lastApplied = s.index();
        lastSnapshot = s.index();
        giveUp(index -> index <= s.index(), p -> true);
        serveReadyReads();
      }
    } else if (msg instanceof ApplyMsg.LeadershipChanged lc) {
      // Ops proposed in an older term may never commit, and nothing tells us when: give up on
      // them (the lab's rule); a client retrying elsewhere is told by its session if they did.
      giveUp(index -> true, p -> p.term() < lc.term() || !lc.isLeader());
    } else if (msg instanceof ApplyMsg.Stopped) {
      return onRaftStopped();
    }
    return this;
  }

  private void applyCommand(ApplyMsg.Command c) {
    if (c.index() <= lastApplied) return; // covered by a snapshot already restored
    if (c.command().length == 0) { // the no-op a new leader appends to serve reads
      lastApplied = c.index();
      PendingSubmits.Pending<ReplyTo> p = proposals.applied(c.index());
      if (p != null) p.replyTo().tell(Result.WrongLeader.UNKNOWN);
      return;
    }
    ByteReader r = new ByteReader(c.command());
    long opIncarnation = r.varintSigned();
    long opId = r.varint();
    byte[] op = r.bytes();
    long index = c.index();
    lastApplied = index;
    PendingSubmits.Pending<ReplyTo> p = proposals.applied(index);
    if (p != null && opIncarnation == incarnation && opId == p.id()) {
      sm.apply(index, op, p.replyTo());
    } else {
      if (p != null) p.replyTo().tell(Result.WrongLeader.UNKNOWN);
      sm.apply(index, op, ReplyTo.Nobody.INSTANCE);
    }
    if (maxRaftState > 0
        && !snapshotInFlight
        && storage.raftStateSize() >= maxRaftState
        && index > lastSnapshot) {
      lastSnapshot = index;
      snapshotInFlight = true;
      sm.snapshot(index, getContext().getSelf().narrow());
    }
  }

  private Behavior<Command> onSnapshotReady(SnapshotReady s) {
    raft.tell(new RaftPeer.TakeSnapshot(s.index(), s.data()));
    // Raft handles its mailbox in order: the answer to this comes once the snapshot is taken
    // and the persisted Raft state has shrunk.
    raft.tell(new RaftPeer.GetState(snapshotTakenAdapter));
    return this;
  }

  private void giveUp(LongPredicate where, Predicate<PendingSubmits.Pending<ReplyTo>> which) {
    for (PendingSubmits.Pending<ReplyTo> p : proposals.giveUp(where, which)) p.replyTo().tell(Result.WrongLeader.UNKNOWN);
  }

  private Behavior<Command> onGetRaft(GetRaft g) {
    g.replyTo().tell(raft);
    return this;
  }

  private Behavior<Command> onStop(Stop s) {
    raft.tell(RaftPeer.Stop.INSTANCE);
    return this;
  }

  private Behavior<Command> onRaftStopped() {
    if (stopped) return Behaviors.stopped();
    stopped = true;
    for (PendingSubmits.Pending<ReplyTo> p : proposals.drain()) p.replyTo().tell(Result.Stopped.INSTANCE);
    for (PendingRead r : reads.drain()) r.replyTo().tell(Result.Stopped.INSTANCE);
    return Behaviors.stopped();
  }

  private byte[] encodeOp(long id, byte[] op) {
    return new ByteWriter().varintSigned(incarnation).varint(id).bytes(op).toByteArray();
  }
}
