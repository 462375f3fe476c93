package io.raftkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.raftkv.kv.KvResult;
import io.raftkv.kv.KvServer;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The gateway's answers carry leader hints and Busy across the wire. */
class KvGatewayTest {
  static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void done() {
    testKit.shutdownTestKit();
  }

  private static KvGateway.Answer overTheWire(KvGateway.Answer a) {
    Serialization serialization = SerializationExtension.get(testKit.system());
    var serializer = serialization.findSerializerFor(a);
    byte[] bytes = serializer.toBinary(a);
    String manifest = Serializers.manifestFor(serializer, a);
    return (KvGateway.Answer) serialization.deserialize(bytes, serializer.identifier(), manifest).get();
  }

  @Test
  void repliesSurviveTheWire() {
    for (KvServer.Reply reply :
        new KvServer.Reply[] {
          new KvServer.Reply.Done(KvResult.ok("v", 3)),
          new KvServer.Reply.WrongLeader(2),
          KvServer.Reply.WrongLeader.UNKNOWN,
          KvServer.Reply.Busy.INSTANCE,
          KvServer.Reply.Timeout.INSTANCE
        }) {
      assertEquals(reply, KvGateway.toReply(overTheWire(KvGateway.toAnswer(reply))));
    }
  }
}
