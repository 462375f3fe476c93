package io.raftkv.testing;

import io.raftkv.raft.ApplyMsg;
import io.raftkv.raft.RaftPeer;
import java.time.Duration;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;

/**
 * The Raft tester's applier (raft1/server.go, spec §6.1): takes one server's apply stream in order
 * and, when the service says so, calls Snapshot <em>synchronously</em>, as the Go tester does from
 * its applyCh loop: nothing after that entry is taken until the peer has handled the snapshot.
 * A peer whose snapshot waits on its own apply stream (back-pressure, or a lock held while it
 * hands entries over) then stalls the tester, which notices, instead of queueing behind it for
 * ever.
 *
 * <p>"Handled" is observed without a reply to {@link RaftPeer.TakeSnapshot}: a GetState asked
 * right after it is answered only once the peer processed the snapshot (one sender's messages
 * arrive in order). While it waits, the applier stashes what arrives. If the peer does not answer
 * within {@code snapshotTimeout}, the applier reports it and takes nothing more. If the peer stops
 * meanwhile (a crash), the applier goes on without snapshotting, so that a dead server's record
 * stays complete.
 *
 * <p>Its protocol is {@code Object}: it takes {@link ApplyMsg}s (narrow its ref for the peer) and
 * its own private answers.
 */
final class TesterApplier {
  private TesterApplier() {}

  /** What the tester does with each message; called on the applier's thread, one at a time. */
  interface Service {
    /** Records a committed command; returns the snapshot to take at its index, or null. */
    byte[] onCommand(ApplyMsg.Command m);

    /** Replaces the service's state with an installed snapshot. */
    void onSnapshot(ApplyMsg.SnapshotInstalled m);

    /** The apply stream broke a rule: the test must fail. */
    void failed(String error);
  }

  private static final int STASH_CAPACITY = 1_000_000;

  /** The peer handled the snapshot at {@code index} (or {@code failure}). */
  private record SnapshotReturned(long index, Throwable failure) {}

  /**
   * @param raft the peer, known once it is spawned (after its applier, which it needs)
   */
  static Behavior<Object> create(Service service, Supplier<ActorRef<RaftPeer.Command>> raft, Duration snapshotTimeout) {
    return Behaviors.withStash(
        STASH_CAPACITY,
        stash -> Behaviors.setup(ctx -> new TesterApplier.Running(service, raft, snapshotTimeout, stash, ctx).applying()));
  }

  private static final class Running {
    final Service service;
    final Supplier<ActorRef<RaftPeer.Command>> raft;
    final Duration snapshotTimeout;
    final StashBuffer<Object> stash;
    final ActorContext<Object> ctx;
    boolean watching;
    boolean peerGone; // the peer stopped: snapshots no longer go anywhere

    Running(
        Service service,
        Supplier<ActorRef<RaftPeer.Command>> raft,
        Duration snapshotTimeout,
        StashBuffer<Object> stash,
        ActorContext<Object> ctx) {
      this.service = service;
      this.raft = raft;
      this.snapshotTimeout = snapshotTimeout;
      this.stash = stash;
      this.ctx = ctx;
    }

    Behavior<Object> applying() {
      return Behaviors.receive(Object.class)
          .onMessage(ApplyMsg.Command.class, this::onCommand)
          .onMessage(ApplyMsg.SnapshotInstalled.class, m -> {
            service.onSnapshot(m);
            return Behaviors.same();
          })
          .onMessageEquals(ApplyMsg.Stopped.INSTANCE, Behaviors::stopped)
          .onSignal(Terminated.class, t -> {
            peerGone = true; // Stopped, queued before, still ends the stream
            return Behaviors.same();
          })
          .onAnyMessage(m -> Behaviors.same()) // leadership news, late answers
          .build();
    }

    private Behavior<Object> onCommand(ApplyMsg.Command m) {
      byte[] snapshot = service.onCommand(m);
      if (snapshot == null || peerGone) return Behaviors.same();
      ActorRef<RaftPeer.Command> peer = raft.get();
      if (!watching) {
        ctx.watch(peer);
        watching = true;
      }
      long index = m.index();
      peer.tell(new RaftPeer.TakeSnapshot(index, snapshot));
      ctx.ask(
          RaftPeer.State.class,
          peer,
          snapshotTimeout,
          RaftPeer.GetState::new,
          (state, failure) -> new SnapshotReturned(index, failure));
      return snapshotting(index);
    }

    /** Snapshot(index) has not returned: everything else waits. */
    private Behavior<Object> snapshotting(long index) {
      return Behaviors.receive(Object.class)
          .onMessage(SnapshotReturned.class, r -> r.index() == index, r -> {
            if (r.failure() != null && !peerGone) {
              service.failed("Snapshot(" + index + ") did not return within " + snapshotTimeout.toMillis() + " ms");
              return Behaviors.stopped();
            }
            return stash.unstashAll(applying());
          })
          .onSignal(Terminated.class, t -> {
            peerGone = true;
            return stash.unstashAll(applying());
          })
          .onAnyMessage(m -> {
            stash.stash(m);
            return Behaviors.same();
          })
          .build();
    }
  }
}
