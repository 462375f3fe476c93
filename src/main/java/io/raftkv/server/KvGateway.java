package io.raftkv.server;

import io.raftkv.kv.KvCodec;
import io.raftkv.kv.KvOp;
import io.raftkv.kv.KvServer;
import io.raftkv.rsm.Rsm;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * A node's door for KV requests from anywhere in the cluster: registered with the Receptionist
 * under {@link #key}(group, id), it checks each {@link Forward}'s op and hands it on to the local
 * {@link KvServer} with a tell. The {@link Rsm.Answer} goes from the RSM straight back to the
 * forward's {@code replyTo}, tagged as the forward was: no actor on the way waits for it. {@link
 * KvWireSerializer} carries both across the network.
 */
public final class KvGateway {
  private KvGateway() {}

  /**
   * Run {@code op} (a {@link KvCodec}-encoded {@link KvOp}) on this node's replica and answer {@code
   * replyTo} with an {@link Rsm.Answer} tagged {@code tag}. No answer comes when the op is malformed
   * (a sender's bug, logged here) or the node dies: the sender's own timeout covers both.
   */
  public record Forward(long tag, byte[] op, ActorRef<Rsm.Answer> replyTo) {}

  public static ServiceKey<Forward> key(String group, int id) {
    return ServiceKey.create(Forward.class, "raftkv-" + group + "-kv-" + id);
  }

  public static Behavior<Forward> create(String group, int id, ActorRef<KvServer.Command> server) {
    return Behaviors.setup(
        ctx -> {
          ctx.getSystem().receptionist().tell(Receptionist.register(key(group, id), ctx.getSelf()));
          return Behaviors.receiveMessage(
              f -> {
                KvOp op;
                try {
                  op = KvCodec.decodeOp(f.op());
                } catch (KvCodec.MalformedException e) {
                  ctx.getLog().warn("dropped a malformed op from {}: {}", f.replyTo().path().address(), e.getMessage());
                  return Behaviors.same();
                }
                server.tell(new KvServer.Execute(new Rsm.Request(f.tag(), f.op(), op instanceof KvOp.Get, f.replyTo())));
                return Behaviors.same();
              });
        });
  }
}
