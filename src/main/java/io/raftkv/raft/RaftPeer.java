package io.raftkv.raft;

import io.raftkv.storage.RaftStorage;
import java.time.Duration;
import java.util.Locale;
import java.util.SplittableRandom;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * The actor shell around one {@link RaftCore}: a timer feeds it ticks, incoming peer messages are
 * stepped, and after every input the core's {@link Ready} is carried out in order (persist, send,
 * apply). Committed commands and installed snapshots go to {@code applyTo} in log order, followed by
 * {@link ApplyMsg.Stopped} when the peer stops.
 */
public final class RaftPeer extends AbstractBehavior<RaftPeer.Command> {

  /**
   * @param id this peer's number, {@code 0 <= id < n}
   * @param n the number of peers in the group
   * @param config protocol timing in ticks
   * @param tick how long one tick lasts
   * @param seed seeds the election-timeout randomness
   */
  public record Settings(int id, int n, RaftConfig config, Duration tick, long seed) {
    public static Settings of(int id, int n) {
      return new Settings(id, n, RaftConfig.defaults(), Duration.ofMillis(10), System.nanoTime() ^ id);
    }
  }

  public sealed interface Command {}

  /** Proposes {@code command}; the answer comes at once, before anything is committed. */
  public record Start(byte[] command, ActorRef<StartResult> replyTo) implements Command {}

  public record StartResult(long index, long term, boolean isLeader) {}

  public record GetState(ActorRef<State> replyTo) implements Command {}

  /** A consistent view of the peer at one moment. */
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

  /** A message from another peer of the group. */
  public record Inbound(int from, RaftMessage message) implements Command {}

  /** Stops the peer; {@code applyTo} receives {@link ApplyMsg.Stopped}. */
  public enum Kill implements Command {
    INSTANCE
  }

  private enum Tick implements Command {
    INSTANCE
  }

  public static Behavior<Command> create(
      Settings settings, RaftStorage storage, PeerTransport transport, ActorRef<ApplyMsg> applyTo) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> {
                  // fixed rate: with a fixed delay each tick also waits for the previous one's
                  // processing and scheduling slack, which stretched 10 ms ticks to ~17 ms
                  timers.startTimerAtFixedRate(Tick.INSTANCE, settings.tick());
                  return new RaftPeer(ctx, settings, storage, transport, applyTo);
                }));
  }

  private final RaftCore core;
  private final RaftStorage storage;
  private final PeerTransport transport;
  private final ActorRef<ApplyMsg> applyTo;
  private Role lastRole;
  private long lastTerm;

  private RaftPeer(
      ActorContext<Command> ctx,
      Settings settings,
      RaftStorage storage,
      PeerTransport transport,
      ActorRef<ApplyMsg> applyTo) {
    super(ctx);
    ctx.setLoggerName(RaftPeer.class);
    this.storage = storage;
    this.transport = transport;
    this.applyTo = applyTo;
    this.core =
        new RaftCore(
            settings.id(), settings.n(), settings.config(), new SplittableRandom(settings.seed()), storage.load());
    this.lastRole = core.role();
    this.lastTerm = core.term();
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Tick.class, t -> afterInput(() -> core.tick()))
        .onMessage(Inbound.class, m -> afterInput(() -> core.step(m.from(), m.message())))
        .onMessage(Start.class, this::onStart)
        .onMessage(TakeSnapshot.class, s -> afterInput(() -> core.snapshot(s.index(), s.data())))
        .onMessage(GetState.class, this::onGetState)
        .onMessage(Kill.class, k -> Behaviors.stopped())
        .onSignal(PostStop.class, s -> onStop())
        .build();
  }

  private Behavior<Command> onStart(Start s) {
    RaftCore.Proposal p = core.propose(s.command());
    // The answer goes out before the entry can be applied, so a caller that sends Start and
    // receives applies in the same mailbox always learns the index first.
    s.replyTo().tell(new StartResult(p.index(), p.term(), p.isLeader()));
    process();
    return this;
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
                core.appliedIndex(),
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
    process();
    return this;
  }

  /** Carries out the core's effects: persist, then send, then apply. */
  private void process() {
    Ready ready = core.ready();
    if (ready.isEmpty()) return;
    if (ready.mustPersist()) storage.persist(ready);
    for (Envelope e : ready.messages()) transport.send(e);
    for (ApplyMsg a : ready.applies()) applyTo.tell(a);
    noticeRoleChange();
  }

  private void noticeRoleChange() {
    if (core.role() == lastRole && core.term() == lastTerm) return;
    boolean wasLeader = lastRole == Role.LEADER;
    if (core.role() != lastRole || core.role() == Role.CANDIDATE) {
      // one fixed shape for every role change: "n2 became leader at term 3"
      getContext().getLog().info("n{} became {} at term {}", core.id(), core.role().name().toLowerCase(Locale.ROOT), core.term());
    }
    lastRole = core.role();
    lastTerm = core.term();
    if (wasLeader || core.isLeader()) applyTo.tell(new ApplyMsg.LeadershipChanged(core.term(), core.isLeader()));
  }
}
