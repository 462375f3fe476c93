package io.raftkv.kv;

import io.raftkv.rsm.ReplyTo;
import io.raftkv.rsm.Rsm;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * One partition of the key space as an actor: owns a {@link KvStore} and applies the committed ops
 * the applier dispatches to it, in the order they arrive (the applier sends them in log order, and
 * a mailbox keeps one sender's order). It answers each op's requester itself.
 */
public final class KvShard {
  private KvShard() {}

  /** What a shard is told. */
  public sealed interface Command {}

  /**
   * Apply one committed op and answer {@code replyTo} with {@link Rsm.Result.Ok} ({@code index},
   * the {@link KvCodec} bytes of what it returned).
   */
  public record Apply(KvOp op, long index, ReplyTo replyTo) implements Command {}

  /**
   * Answer {@code replyTo} with a {@link Part}: this shard's state, covering every op dispatched
   * before this message; {@code index} and {@code shard} come back in it.
   */
  public record SnapshotPart(long index, int shard, ActorRef<Part> replyTo) implements Command {}

  /** Replace this shard's state. */
  public record Restore(byte[] state) implements Command {}

  /** Shard {@code shard}'s state for the snapshot at {@code index}. */
  public record Part(long index, int shard, byte[] state) {}

  public static Behavior<Command> create(int maxSessions) {
    return Behaviors.setup(
        ctx -> {
          KvStore store = new KvStore(maxSessions);
          return Behaviors.receive(Command.class)
              .onMessage(
                  Apply.class,
                  a -> {
                    KvResult result = store.apply(a.op());
                    // on a follower no one waits: no need to encode
                    if (a.replyTo() != ReplyTo.Nobody.INSTANCE) {
                      a.replyTo().tell(new Rsm.Result.Ok(a.index(), KvCodec.encode(result)));
                    }
                    return Behaviors.same();
                  })
              .onMessage(
                  SnapshotPart.class,
                  s -> {
                    s.replyTo().tell(new Part(s.index(), s.shard(), store.snapshot()));
                    return Behaviors.same();
                  })
              .onMessage(
                  Restore.class,
                  r -> {
                    store.restore(r.state());
                    return Behaviors.same();
                  })
              .build();
        });
  }
}
