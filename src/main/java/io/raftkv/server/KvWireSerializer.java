package io.raftkv.server;

import io.raftkv.codec.ByteReader;
import io.raftkv.codec.ByteWriter;
import io.raftkv.codec.CorruptDataException;
import io.raftkv.rsm.Rsm;
import java.io.NotSerializableException;
import java.nio.charset.StandardCharsets;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/**
 * Compact binary form of the two messages of a client's request across the network: {@link
 * KvGateway.Forward} (manifest "F1") and its {@link Rsm.Answer} ("A1"). The op and the result are
 * already {@link io.raftkv.kv.KvCodec} bytes; what is added is the tag, the reply-to ref (as its
 * serialization string) and the outcome's kind.
 */
public final class KvWireSerializer extends SerializerWithStringManifest {
  /** Its own version byte, not RaftCodec's: a new Raft format must not change this one (both began at 1). */
  private static final int VERSION = 1;
  private static final String FORWARD = "F1";
  private static final String ANSWER = "A1";
  private static final int OK = 0;
  private static final int WRONG_LEADER = 1;
  private static final int BUSY = 2;
  private static final int STOPPED = 3;

  private final ExtendedActorSystem system;
  private volatile ActorRefResolver resolver;

  public KvWireSerializer(ExtendedActorSystem system) {
    this.system = system;
  }

  @Override
  public int identifier() {
    return 731_002;
  }

  @Override
  public String manifest(Object o) {
    if (o instanceof KvGateway.Forward) return FORWARD;
    if (o instanceof Rsm.Answer) return ANSWER;
    throw new IllegalArgumentException("not a KV wire message: " + o.getClass().getName());
  }

  private ActorRefResolver resolver() {
    ActorRefResolver r = resolver;
    if (r == null) resolver = r = ActorRefResolver.get(Adapter.toTyped(system));
    return r;
  }

  @Override
  public byte[] toBinary(Object o) {
    ByteWriter w = new ByteWriter().u8(VERSION);
    if (o instanceof KvGateway.Forward f) {
      byte[] ref = resolver().toSerializationFormat(f.replyTo()).getBytes(StandardCharsets.UTF_8);
      return w.varint(f.tag()).bytes(f.op()).bytes(ref).toByteArray();
    }
    Rsm.Answer a = (Rsm.Answer) o;
    w.varint(a.tag());
    Rsm.Result r = a.result();
    if (r instanceof Rsm.Result.Ok ok) {
      w.u8(OK).varint(ok.index()).bytes(ok.value());
    } else if (r instanceof Rsm.Result.WrongLeader wl) {
      w.u8(WRONG_LEADER).varintSigned(wl.leader());
    } else {
      w.u8(r == Rsm.Result.Busy.INSTANCE ? BUSY : STOPPED);
    }
    return w.toByteArray();
  }

  @Override
  public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
    try {
      ByteReader r = new ByteReader(bytes);
      r.expectVersion(VERSION);
      Object o;
      if (FORWARD.equals(manifest)) {
        long tag = r.varint();
        byte[] op = r.bytes();
        ActorRef<Rsm.Answer> replyTo = resolver().resolveActorRef(new String(r.bytes(), StandardCharsets.UTF_8));
        o = new KvGateway.Forward(tag, op, replyTo);
      } else if (ANSWER.equals(manifest)) {
        long tag = r.varint();
        int kind = r.u8();
        Rsm.Result result =
            switch (kind) {
              case OK -> new Rsm.Result.Ok(r.varint(), r.bytes());
              case WRONG_LEADER -> {
                long leader = r.varintSigned();
                yield leader == -1 ? Rsm.Result.WrongLeader.UNKNOWN : new Rsm.Result.WrongLeader((int) leader);
              }
              case BUSY -> Rsm.Result.Busy.INSTANCE;
              case STOPPED -> Rsm.Result.Stopped.INSTANCE;
              default -> throw new CorruptDataException("unknown outcome " + kind);
            };
        o = new Rsm.Answer(tag, result);
      } else {
        throw new NotSerializableException("unknown manifest " + manifest);
      }
      r.expectEnd();
      return o;
    } catch (CorruptDataException | IllegalArgumentException e) {
      throw new NotSerializableException("malformed KV wire message: " + e.getMessage());
    }
  }
}
