package io.raftkv.kv;

import java.util.function.Consumer;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * One partition of the key space as an actor: owns a {@link KvStore} and applies the committed ops
 * the applier dispatches to it, in the order they arrive (the applier sends them in log order, and
 * a mailbox keeps one sender's order). The callbacks in its messages only tell other actors.
 */
public final class KvShard {
  private KvShard() {}

  public sealed interface Command {}

  /** Apply one committed op; {@code result} receives what it returned. */
  public record Apply(KvOp op, Consumer<KvResult> result) implements Command {}

  /** Hand this shard's state, covering every op dispatched before this message, to {@code part}. */
  public record SnapshotPart(Consumer<byte[]> part) implements Command {}

  /** Replace this shard's state. */
  public record Restore(byte[] state) implements Command {}

  public static Behavior<Command> create(int maxSessions) {
    return Behaviors.setup(
        ctx -> {
          KvStore store = new KvStore(maxSessions);
          return Behaviors.receive(Command.class)
              .onMessage(
                  Apply.class,
                  a -> {
                    a.result().accept(store.apply(a.op()));
                    return Behaviors.same();
                  })
              .onMessage(
                  SnapshotPart.class,
                  s -> {
                    s.part().accept(store.snapshot());
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
