package io.raftkv.rsm;

import org.apache.pekko.actor.typed.ActorRef;

/**
 * Where a request's result goes: the {@code replyTo} of a {@link Rsm.Submit} or {@link Rsm.Read},
 * the tagged one of a {@link Rsm.Request}, or nobody (an op this replica did not propose). A value
 * the RSM hands to its {@link ReplicatedService} with each op, so whichever actor computes the
 * result answers the requester itself: no hop back through the RSM.
 */
public sealed interface ReplyTo {
  /** Tells the requester {@code result}; safe from any actor or thread. */
  void tell(Rsm.Result result);

  static ReplyTo of(ActorRef<Rsm.Result> replyTo) {
    return new Plain(replyTo);
  }

  static ReplyTo of(Rsm.Request request) {
    return new Tagged(request.tag(), request.replyTo());
  }

  /** The reply-to of a {@link Rsm.Submit} or {@link Rsm.Read}. */
  record Plain(ActorRef<Rsm.Result> ref) implements ReplyTo {
    @Override
    public void tell(Rsm.Result result) {
      ref.tell(result);
    }
  }

  /** The reply-to of a {@link Rsm.Request}: the result goes as an {@link Rsm.Answer} with the tag. */
  record Tagged(long tag, ActorRef<Rsm.Answer> ref) implements ReplyTo {
    @Override
    public void tell(Rsm.Result result) {
      ref.tell(new Rsm.Answer(tag, result));
    }
  }

  /** No one waits for this op's result. */
  enum Nobody implements ReplyTo {
    INSTANCE;

    @Override
    public void tell(Rsm.Result result) {}
  }
}
