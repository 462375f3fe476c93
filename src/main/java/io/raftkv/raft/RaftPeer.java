package io.raftkv.raft;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * The actor shell around one {@link RaftCore}: a timer feeds it ticks, incoming peer messages are
 * stepped, and after every input the core's {@link Ready} is carried out in order: persist, then
 * send, then apply. Committed commands and installed snapshots go to {@code applyTo} in log order,
 * followed by {@link ApplyMsg.Stopped} when the peer stops.
 *
 * <p>Persisting never blocks the mailbox: each Ready is handed to {@link
 * RaftStorage#persistAsync} and the peer goes on taking inputs while the storage makes it durable.
 * A Ready's messages and applies wait in a queue until its persist and every earlier one
 * completed, and go out in Ready order: Figure 2's persistent state is "updated on stable storage
 * before responding to RPCs", and the apply stream stays in log order.
 *
 * <p>Some messages depend on nothing being persisted and go out at once, so that heartbeats never
 * wait behind unrelated persists: pre-votes and their answers (they change no state), TimeoutNow,
 * snapshot chunks, a follower's ReadIndex, and a leader's AppendEntries and ReadIndexResult (entries may reach followers before the leader's
 * own copy is durable, as in etcd) whose commit index was already reached by a durable state:
 * {@link RaftCore} counts the leader's own entries at once, so a commit index computed from a
 * persist still in flight must wait for it. Messages to one peer keep their order: once one waits,
 * the later ones to that peer wait behind it. When the stage is already complete (in-memory storage), the effects go out inline, exactly as a
 * synchronous persist would. A failed persist stops the peer: continuing could acknowledge votes or
 * entries that a restart would forget.
 */
public final class RaftPeer extends AbstractBehavior<RaftPeer.Command> {

  public sealed interface Command {}

  /** Proposes {@code command}; the answer comes at once, before anything is committed. */
  public record Start(byte[] command, ActorRef<Proposal> replyTo) implements Command {}

  /**
   * Proposes a membership change ({@link RaftCore#proposeConfiguration}). The answer comes at once:
   * the proposal (its index; its commit shows as {@link ApplyMsg.ConfigurationApplied} there), or
   * why it was refused.
   */
  public record ChangeMembership(
      List<? extends Configuration.Change> changes, Configuration.Transition transition, ActorRef<MembershipProposal> replyTo)
      implements Command {}

  /**
   * The answer to {@link ChangeMembership}: {@code refused} null and {@code proposal} the entry, or
   * why not; {@code retryLater}: the refusal is about timing (a change still committing, a new
   * leader's first commit pending), and the same change may be accepted soon.
   */
  public record MembershipProposal(Proposal proposal, String refused, boolean retryLater) {
    public MembershipProposal(Proposal proposal, String refused) {
      this(proposal, refused, false);
    }
  }

  /**
   * Adds the node at {@code address} (opaque to Raft: the service's address of a node) as a learner
   * under a new id, one above every id the group has known (the {@link PeerSettings#n} given at
   * start, the members, the configuration's addresses): one configuration entry recording the
   * address ({@link Configuration.SetAddress}) and the learner. If a member already lives at {@code
   * address} (a retried join), nothing is proposed and the answer is its id, with the last log
   * index as the index to wait for.
   */
  public record AddNode(String address, ActorRef<AddedNode> replyTo) implements Command {}

  /** The answer to {@link AddNode}: the node's id, and the proposal as for {@link ChangeMembership}. */
  public record AddedNode(int id, MembershipProposal proposal) {}

  /** Answers with the membership in effect at this peer. */
  public record GetConfiguration(ActorRef<Configuration> replyTo) implements Command {}

  /**
   * Hands leadership to peer {@code to} (-1: the most up-to-date follower) by Raft's leadership
   * transfer (dissertation §3.10): the leader stops accepting proposals, brings the target up to
   * date and tells it to campaign at once. {@code replyTo} hears when the target leads, or why the
   * transfer did not happen (not the leader, unknown target, or the election timeout passed).
   */
  public record TransferLeader(int to, ActorRef<TransferResult> replyTo) implements Command {}

  /**
   * @param done true if {@code leader} now leads {@code term} because of this transfer (or already
   *     led it)
   * @param leader the leader this peer knows of afterwards, or -1
   * @param error why it did not happen, or null when done
   */
  public record TransferResult(boolean done, int leader, long term, String error) {}

  public record GetState(ActorRef<State> replyTo) implements Command {}

  /**
   * A consistent view of the peer at one moment. Term, role and log are the core's, which may be
   * ahead of what is durable yet; {@code appliedIndex} is the last index handed to the service.
   */
  public record State(
      int id,
      long term,
      Role role,
      int leader,
      long commitIndex,
      long appliedIndex,
      long lastLogIndex,
      long snapshotIndex,
      long raftStateSize,
      long snapshotSize) {
    public boolean isLeader() {
      return role == Role.LEADER;
    }
  }

  /** The service's state includes every entry up to {@code index}; Raft may compact its log. */
  public record TakeSnapshot(long index, byte[] data) implements Command {}

  /**
   * Asks for a linearizable read point (see {@link RaftCore#readIndex}): an {@link
   * ApplyMsg.ReadReady} with {@code ctx} follows in the apply stream, after every apply it depends on.
   */
  public record ReadIndex(long ctx) implements Command {}

  /** A message from another peer of the group. */
  public record Inbound(int from, RaftMessage message) implements Command {}

  /** Stops the peer; {@code applyTo} receives {@link ApplyMsg.Stopped}. */
  public enum Stop implements Command {
    INSTANCE
  }

  private enum Tick implements Command {
    INSTANCE
  }

  /** Persist number {@code seq} is durable, and with it every earlier one. */
  private record Persisted(long seq) implements Command {}

  /** Persist number {@code seq} could not be made durable. */
  private record PersistFailed(long seq, Throwable cause) implements Command {}

  /**
   * What a Ready asks for once durable: its messages, then its applies (with a leadership change
   * after them, where there was one). {@code seq} is the persist that must complete first: the
   * Ready's own, or for a Ready with nothing to persist the last one issued before it.
   */
  private record Effects(long seq, List<Envelope> messages, List<ApplyMsg> applies) {}

  /** A peer that loads its state from {@code storage} itself (a peer started on its own). */
  public static Behavior<Command> create(
      PeerSettings settings, RaftStorage storage, PeerTransport transport, ActorRef<ApplyMsg> applyTo) {
    return Behaviors.setup(ctx -> create(settings, storage, storage.load(), transport, applyTo));
  }

  /**
   * A peer starting from {@code loaded}, what {@code storage} held at start: the owner that has
   * loaded the storage already (the RSM reads the snapshot from it) hands it down, so the storage
   * is read once per start.
   */
  public static Behavior<Command> create(
      PeerSettings settings,
      RaftStorage storage,
      PersistentState loaded,
      PeerTransport transport,
      ActorRef<ApplyMsg> applyTo) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> {
                  // fixed rate: with a fixed delay each tick also waits for the previous one's
                  // processing and scheduling slack, which stretched 10 ms ticks to ~17 ms
                  timers.startTimerAtFixedRate(Tick.INSTANCE, settings.tick());
                  return new RaftPeer(ctx, settings, storage, loaded, transport, applyTo);
                }));
  }

  private final RaftCore core;
  private final PeerSettings settings;
  private final LeaderTransfers transfers;
  private long ticks;
  private final RaftStorage storage;
  private final PeerTransport transport;
  private final ActorRef<ApplyMsg> applyTo;
  private Role lastRole;
  private long lastTerm;
  private long issued; // persists handed to the storage so far; durable <= issued
  private long durable; // every persist up to this one completed
  private final ArrayDeque<Effects> waiting = new ArrayDeque<>(); // by seq; head.seq > durable
  private int[] queuedTo; // messages in waiting, by destination (grows with the highest id sent to)
  private Configuration announced; // the configuration the transport was last told of
  /** (seq, commit index reached by the Ready of that persist), for commits not yet durable. */
  private final ArrayDeque<long[]> commitsInFlight = new ArrayDeque<>();
  private long recordedCommit; // the highest commit index recorded
  private long durableCommit; // the highest commit index reached by a durable state
  private long applied; // the last index handed to applyTo; <= core.appliedIndex()

  private RaftPeer(
      ActorContext<Command> ctx,
      PeerSettings settings,
      RaftStorage storage,
      PersistentState loaded,
      PeerTransport transport,
      ActorRef<ApplyMsg> applyTo) {
    super(ctx);
    ctx.setLoggerName(RaftPeer.class);
    this.settings = settings;
    this.queuedTo = new int[settings.n()];
    this.transfers = new LeaderTransfers(settings.config().electionTicksMax());
    this.storage = storage;
    this.transport = transport;
    this.applyTo = applyTo;
    this.core =
        new RaftCore(
            settings.id(), settings.initialOrVoters(), settings.config(), new SplittableRandom(settings.seed()), loaded);
    this.lastRole = core.role();
    this.lastTerm = core.term();
    this.applied = core.appliedIndex();
    announceConfiguration();
  }

  /** Tells the transport the configuration in effect if it changed since it was last told. */
  private void announceConfiguration() {
    Configuration c = core.configuration();
    if (c == announced) return;
    if (!c.equals(announced)) transport.configurationChanged(c);
    announced = c;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Tick.class, t -> afterInput(this::tick))
        .onMessage(Inbound.class, this::onInbound)
        .onMessage(Start.class, this::onStart)
        .onMessage(ChangeMembership.class, this::onChangeMembership)
        .onMessage(AddNode.class, this::onAddNode)
        .onMessage(GetConfiguration.class, g -> {
          g.replyTo().tell(core.configuration());
          return this;
        })
        .onMessage(ReadIndex.class, r -> afterInput(() -> core.readIndex(r.ctx())))
        .onMessage(TakeSnapshot.class, s -> afterInput(() -> core.snapshot(s.index(), s.data())))
        .onMessage(GetState.class, this::onGetState)
        .onMessage(TransferLeader.class, this::onTransferLeader)
        .onMessage(Persisted.class, this::onPersisted)
        .onMessage(PersistFailed.class, f -> persistFailed(f.seq(), f.cause()))
        .onMessage(Stop.class, s -> Behaviors.stopped()) // persists in flight: their effects are dropped
        .onSignal(PostStop.class, s -> onStop())
        .build();
  }

  private void tick() {
    ticks++;
    core.tick();
  }

  private Behavior<Command> onInbound(Inbound m) {
    String invalid = !transport.reaches(m.from()) ? "no route to n" + m.from() : core.invalid(m.from(), m.message());
    if (invalid != null) {
      // a broken or hostile sender must not stop this peer
      getContext().getLog().warn("n{} dropped a message from n{}: {}", core.id(), m.from(), invalid);
      return this;
    }
    return afterInput(() -> core.step(m.from(), m.message()));
  }

  /**
   * Joins are refused while the group has this many learners: each costs the leader a stream of
   * AppendEntries, and a join is one unauthenticated request when the API runs without tokens.
   */
  public static final int MAX_LEARNERS = 8;

  private Behavior<Command> onAddNode(AddNode a) {
    Configuration c = core.configuration();
    Set<Integer> members = c.members();
    int highest = settings.n() - 1;
    for (int id : members) highest = Math.max(highest, id);
    for (Map.Entry<Integer, String> e : c.addresses().entrySet()) {
      highest = Math.max(highest, e.getKey());
      if (e.getValue().equals(a.address()) && members.contains(e.getKey())) {
        boolean leads = core.role() == Role.LEADER;
        Proposal at = new Proposal(leads ? core.lastLogIndex() : -1, core.term(), leads, core.leader());
        a.replyTo().tell(new AddedNode(e.getKey(), new MembershipProposal(at, null)));
        return this;
      }
    }
    int id = highest + 1;
    if (c.learners().size() >= MAX_LEARNERS && core.role() == Role.LEADER) {
      String why = "the group has " + c.learners().size() + " learners: promote or remove some first";
      a.replyTo().tell(new AddedNode(-1, new MembershipProposal(null, why)));
      return this;
    }
    Configuration.SetAddress address;
    try {
      address = new Configuration.SetAddress(id, a.address());
    } catch (IllegalArgumentException e) {
      a.replyTo().tell(new AddedNode(-1, new MembershipProposal(null, e.getMessage())));
      return this;
    }
    List<Configuration.Change> changes = List.of(address, new Configuration.AddLearner(id));
    return afterInput(() -> a.replyTo().tell(new AddedNode(id, propose(changes, Configuration.Transition.AUTO))));
  }

  /** {@link RaftCore#proposeConfiguration}'s answer, or why it refused. */
  private MembershipProposal propose(List<? extends Configuration.Change> changes, Configuration.Transition transition) {
    try {
      return new MembershipProposal(core.proposeConfiguration(changes, transition), null);
    } catch (Configuration.InvalidChangeException e) {
      return new MembershipProposal(null, e.getMessage(), e.retryLater());
    }
  }

  private static boolean addressed(int id, List<? extends Configuration.Change> changes) {
    for (Configuration.Change ch : changes) if (ch instanceof Configuration.SetAddress a && a.id() == id) return true;
    return false;
  }

  private Behavior<Command> onStart(Start s) {
    // The answer goes out before the entry can be applied, so a caller that sends Start and
    // receives applies in the same mailbox always learns the index first.
    s.replyTo().tell(core.propose(s.command()));
    return process();
  }

  private Behavior<Command> onChangeMembership(ChangeMembership c) {
    for (Configuration.Change ch : c.changes()) {
      if (!transport.reaches(ch.id()) && !addressed(ch.id(), c.changes()) && !(ch instanceof Configuration.Remove)) {
        c.replyTo().tell(new MembershipProposal(null, "no address for n" + ch.id() + ": this node cannot reach it"));
        return this;
      }
    }
    return afterInput(() -> c.replyTo().tell(propose(c.changes(), c.transition())));
  }

  private Behavior<Command> onTransferLeader(TransferLeader t) {
    transfers.started(core, core.transferLeadership(t.to()), t.to(), ticks, t.replyTo());
    return process();
  }

  private Behavior<Command> onGetState(GetState g) {
    g.replyTo()
        .tell(
            new State(
                core.id(),
                core.term(),
                core.role(),
                core.leader(),
                core.commitIndex(),
                applied,
                core.lastLogIndex(),
                core.snapshotIndex(),
                storage.raftStateSize(),
                storage.snapshotSize()));
    return this;
  }

  private Behavior<Command> onStop() {
    applyTo.tell(ApplyMsg.Stopped.INSTANCE);
    return this;
  }

  private Behavior<Command> afterInput(Runnable input) {
    input.run();
    return process();
  }

  /**
   * Takes the core's effects: hands what must persist to the storage, and carries out the rest
   * (send, then apply) at once if nothing it depends on is still being persisted, else queues it.
   */
  private Behavior<Command> process() {
    transfers.settle(core, ticks);
    announceConfiguration();
    Ready ready = core.ready();
    ApplyMsg.LeadershipChanged change = noticeRoleChange();
    if (ready.isEmpty() && change == null) return this;
    List<ApplyMsg> applies = ready.applies();
    if (change != null) {
      applies = new ArrayList<>(applies);
      applies.add(change);
    }
    long seq = issued;
    if (ready.mustPersist()) {
      seq = ++issued;
      CompletableFuture<Void> done = storage.persistAsync(ready).toCompletableFuture();
      if (!done.isDone()) {
        long s = seq;
        // Callbacks run on the storage's thread: they only build the message. The stage is mapped
        // to a non-null value first: Pekko would otherwise pipe a null, which, once the peer has
        // stopped, breaks the dead-letter logger.
        getContext().pipeToSelf(
            done.thenApply(ok -> new Persisted(s)),
            (persisted, failure) -> failure == null ? persisted : new PersistFailed(s, failure));
      } else if (done.isCompletedExceptionally()) {
        return persistFailed(seq, done.handle((ok, failure) -> failure).join());
      } else {
        durable = seq; // stages complete in call order: every earlier one is durable too
      }
    }
    if (core.commitIndex() > recordedCommit) {
      recordedCommit = core.commitIndex();
      commitsInFlight.addLast(new long[] {seq, recordedCommit});
    }
    noteDurable();
    if (waiting.isEmpty() && seq <= durable) {
      carryOut(new Effects(seq, ready.messages(), applies), false); // in-memory storage: no queue
      return this;
    }
    List<Envelope> later = new ArrayList<>(ready.messages().size());
    for (Envelope m : ready.messages()) {
      if ((m.to() >= queuedTo.length || queuedTo[m.to()] == 0) && independentOfPersist(m.message())) {
        transport.send(m);
      } else {
        later.add(m);
        if (m.to() >= queuedTo.length) queuedTo = java.util.Arrays.copyOf(queuedTo, Math.max(m.to() + 1, 2 * queuedTo.length));
        queuedTo[m.to()]++;
      }
    }
    waiting.addLast(new Effects(seq, later, applies));
    release();
    return this;
  }

  /** Moves {@link #durableCommit} up to the commit indexes whose persists have completed. */
  private void noteDurable() {
    while (!commitsInFlight.isEmpty() && commitsInFlight.peekFirst()[0] <= durable) {
      durableCommit = Math.max(durableCommit, commitsInFlight.pollFirst()[1]);
    }
  }

  /** May {@code m} go out before the persists in flight complete? (See the class comment.) */
  private boolean independentOfPersist(RaftMessage m) {
    if (m instanceof RaftMessage.AppendEntries ae) return ae.leaderCommit() <= durableCommit;
    if (m instanceof RaftMessage.RequestVote rv) return rv.preVote();
    if (m instanceof RaftMessage.RequestVoteReply r) return r.preVote();
    if (m instanceof RaftMessage.ReadIndexResult rr) return rr.index() <= durableCommit;
    return m instanceof RaftMessage.InstallSnapshot || m instanceof RaftMessage.TimeoutNow || m instanceof RaftMessage.ReadIndex;
  }

  private Behavior<Command> onPersisted(Persisted p) {
    durable = Math.max(durable, p.seq());
    noteDurable();
    release();
    return this;
  }

  /** Carries out, in order, every queued Ready whose persist (and every earlier one) is durable. */
  private void release() {
    while (!waiting.isEmpty() && waiting.peekFirst().seq() <= durable) carryOut(waiting.pollFirst(), true);
  }

  private void carryOut(Effects e, boolean queued) {
    for (Envelope m : e.messages()) {
      if (queued) queuedTo[m.to()]--;
      transport.send(m);
    }
    for (ApplyMsg a : e.applies()) {
      if (a instanceof ApplyMsg.Command c) {
        applied = c.index();
      } else if (a instanceof ApplyMsg.SnapshotInstalled si) {
        applied = si.index();
      }
      applyTo.tell(a);
    }
  }

  /**
   * The storage could not make persist {@code seq} durable. Carrying on could acknowledge votes or
   * entries that a restart would forget, so the peer stops (the service sees {@link
   * ApplyMsg.Stopped}) and must be restarted from what the disk holds.
   */
  private Behavior<Command> persistFailed(long seq, Throwable cause) {
    Throwable c = cause instanceof CompletionException && cause.getCause() != null ? cause.getCause() : cause;
    getContext().getLog().error("n{} stops: persist {} failed", core.id(), seq, c);
    return Behaviors.stopped();
  }

  /**
   * Logs a role change at once; returns the {@link ApplyMsg.LeadershipChanged} to deliver after
   * the applies of the same Ready (a service failing its waiting requests must first see every
   * entry committed before the change), or null.
   */
  private ApplyMsg.LeadershipChanged noticeRoleChange() {
    if (core.role() == lastRole && core.term() == lastTerm) return null;
    boolean wasLeader = lastRole == Role.LEADER;
    if (core.role() != lastRole || core.role() == Role.CANDIDATE) {
      // one fixed shape for every role change: "n2 became leader at term 3"
      getContext().getLog().info("n{} became {} at term {}", core.id(), core.role().name().toLowerCase(Locale.ROOT), core.term());
    }
    lastRole = core.role();
    lastTerm = core.term();
    if (!wasLeader && !core.isLeader()) return null;
    return new ApplyMsg.LeadershipChanged(core.term(), core.isLeader());
  }
}
