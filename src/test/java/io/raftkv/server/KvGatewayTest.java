package io.raftkv.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.raftkv.kv.KvCodec;
import io.raftkv.kv.KvOp;
import io.raftkv.kv.KvResult;
import io.raftkv.rsm.Rsm;
import java.io.NotSerializableException;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** A request to a gateway and its answer cross the wire whole: tag, op, reply-to, leader hints, Busy. */
class KvGatewayTest {
  static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void done() {
    testKit.shutdownTestKit();
  }

  private static Object overTheWire(Object m) throws NotSerializableException {
    Serialization serialization = SerializationExtension.get(testKit.system());
    Serializer serializer = serialization.findSerializerFor(m);
    assertInstanceOf(KvWireSerializer.class, serializer);
    byte[] bytes = serializer.toBinary(m);
    String manifest = Serializers.manifestFor(serializer, m);
    return serialization.deserialize(bytes, serializer.identifier(), manifest).get();
  }

  @Test
  void answersSurviveTheWire() throws Exception {
    byte[] value = KvCodec.encode(KvResult.ok("v", 3));
    for (Rsm.Result result :
        new Rsm.Result[] {
          new Rsm.Result.WrongLeader(2), Rsm.Result.WrongLeader.UNKNOWN, Rsm.Result.Busy.INSTANCE, Rsm.Result.Stopped.INSTANCE
        }) {
      assertEquals(new Rsm.Answer(Long.MAX_VALUE, result), overTheWire(new Rsm.Answer(Long.MAX_VALUE, result)));
    }
    Rsm.Answer ok = (Rsm.Answer) overTheWire(new Rsm.Answer(7, new Rsm.Result.Ok(42, value)));
    assertEquals(7, ok.tag());
    Rsm.Result.Ok back = (Rsm.Result.Ok) ok.result();
    assertEquals(42, back.index());
    assertArrayEquals(value, back.value());
    assertEquals(KvResult.ok("v", 3), KvCodec.decodeResult(back.value()), "what the Clerk decodes");
  }

  @Test
  void forwardsSurviveTheWire() throws Exception {
    TestProbe<Rsm.Answer> probe = testKit.createTestProbe();
    byte[] op = KvCodec.encode(KvOp.put("k", "v", 0));
    KvGateway.Forward back = (KvGateway.Forward) overTheWire(new KvGateway.Forward(123_456_789_012L, op, probe.getRef()));
    assertEquals(123_456_789_012L, back.tag());
    assertArrayEquals(op, back.op());
    back.replyTo().tell(new Rsm.Answer(1, Rsm.Result.Busy.INSTANCE));
    assertEquals(new Rsm.Answer(1, Rsm.Result.Busy.INSTANCE), probe.receiveMessage());
  }

  @Test
  void truncatedBytesAreRefused() {
    Serialization serialization = SerializationExtension.get(testKit.system());
    KvWireSerializer serializer = (KvWireSerializer) serialization.findSerializerFor(new Rsm.Answer(1, Rsm.Result.Busy.INSTANCE));
    byte[] bytes = serializer.toBinary(new Rsm.Answer(9, new Rsm.Result.Ok(3, new byte[] {1, 2, 3})));
    byte[] cut = java.util.Arrays.copyOf(bytes, bytes.length - 1);
    assertThrows(NotSerializableException.class, () -> serializer.fromBinary(cut, "A1"));
    assertThrows(NotSerializableException.class, () -> serializer.fromBinary(bytes, "Z9"));
  }
}
