package io.raftkv.server;

import io.raftkv.kv.KvCodec;
import io.raftkv.kv.KvOp;
import io.raftkv.kv.KvServer;
import io.raftkv.transport.WireMessage;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * A node's door for KV requests from anywhere in the cluster: registered with the Receptionist
 * under {@link #key}(group, id), it hands each {@link Forward} to the local {@link KvServer} and
 * sends back its answer. Ops travel in {@link KvCodec} form inside Jackson CBOR messages.
 */
public final class KvGateway {
  private KvGateway() {}

  public sealed interface Command {}

  /** Run {@code op} (a {@link KvCodec}-encoded {@link KvOp}) on this node's replica. */
  public record Forward(byte[] op, ActorRef<Answer> replyTo) implements Command, WireMessage {}

  public enum Outcome {
    /** {@code result} is the op's {@link KvCodec}-encoded result. */
    DONE,
    /** {@code leader} is the node this one believes leads, or -1. */
    WRONG_LEADER,
    /** The leader has too much in flight and did not propose the op: retry later. */
    BUSY,
    /** The op did not commit within the server's deadline; its fate is unknown. */
    TIMEOUT,
    /** The op's bytes were not a valid op; nothing was done. */
    MALFORMED
  }

  /** @param leader with WRONG_LEADER, the node's leader hint (-1: none); else -1 */
  public record Answer(Outcome outcome, byte[] result, int leader) implements WireMessage {
    public Answer(Outcome outcome, byte[] result) {
      this(outcome, result, -1);
    }
  }

  private record Answered(KvServer.Reply reply, ActorRef<Answer> replyTo) implements Command {}

  public static ServiceKey<Forward> key(String group, int id) {
    return ServiceKey.create(Forward.class, "raftkv-" + group + "-kv-" + id);
  }

  /** @param timeout how long to wait for the local server (a little more than its submit timeout) */
  public static Behavior<Command> create(String group, int id, ActorRef<KvServer.Command> server, Duration timeout) {
    return Behaviors.setup(
        ctx -> {
          ActorRef<Forward> self = ctx.getSelf().narrow();
          ctx.getSystem().receptionist().tell(Receptionist.register(key(group, id), self));
          return Behaviors.receive(Command.class)
              .onMessage(
                  Forward.class,
                  f -> {
                    KvOp op;
                    try {
                      op = KvCodec.decodeOp(f.op());
                    } catch (KvCodec.MalformedException e) {
                      f.replyTo().tell(new Answer(Outcome.MALFORMED, new byte[0]));
                      return Behaviors.same();
                    }
                    ctx.ask(
                        KvServer.Reply.class,
                        server,
                        timeout,
                        ref -> new KvServer.Request(op, ref),
                        (reply, failure) -> new Answered(failure == null ? reply : KvServer.Reply.Timeout.INSTANCE, f.replyTo()));
                    return Behaviors.same();
                  })
              .onMessage(
                  Answered.class,
                  a -> {
                    a.replyTo().tell(toAnswer(a.reply()));
                    return Behaviors.same();
                  })
              .build();
        });
  }

  static Answer toAnswer(KvServer.Reply reply) {
    if (reply instanceof KvServer.Reply.Done done) return new Answer(Outcome.DONE, KvCodec.encode(done.result()));
    if (reply instanceof KvServer.Reply.WrongLeader w) return new Answer(Outcome.WRONG_LEADER, new byte[0], w.leader());
    if (reply == KvServer.Reply.Busy.INSTANCE) return new Answer(Outcome.BUSY, new byte[0]);
    return new Answer(Outcome.TIMEOUT, new byte[0]);
  }

  static KvServer.Reply toReply(Answer a) {
    return switch (a.outcome()) {
      case DONE -> new KvServer.Reply.Done(KvCodec.decodeResult(a.result()));
      case WRONG_LEADER -> new KvServer.Reply.WrongLeader(a.leader());
      case BUSY -> KvServer.Reply.Busy.INSTANCE;
      case TIMEOUT, MALFORMED -> KvServer.Reply.Timeout.INSTANCE;
    };
  }
}
