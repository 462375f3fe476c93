package io.raftkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NodeTimeoutsTest {
  @Test
  void theDefaultsAreRaftkvClusterConfsAndAnyKeyCanBeSet() {
    NodeTimeouts d = NodeTimeouts.defaults();
    assertEquals(
        new NodeTimeouts(
            Duration.ofMillis(50), Duration.ofMillis(500), Duration.ofMillis(100), Duration.ofSeconds(5), Duration.ofSeconds(2),
            Duration.ofSeconds(1)),
        d);
    NodeTimeouts set =
        NodeTimeouts.fromConfig(
            ConfigFactory.parseMap(Map.of("raftkv.node.try-timeout", "300ms", "raftkv.node.request-deadline", "9s"))
                .withFallback(NodeConfig.cluster("127.0.0.1", 0, List.of())));
    assertEquals(Duration.ofMillis(300), set.tryTimeout());
    assertEquals(Duration.ofSeconds(9), set.requestDeadline());
    assertEquals(d.raftTick(), set.raftTick());
  }

  @Test
  void aTimeoutMustBePositive() {
    assertThrows(
        IllegalArgumentException.class,
        () -> new NodeTimeouts(Duration.ZERO, Duration.ofMillis(1), Duration.ofMillis(1), Duration.ofMillis(1), Duration.ofMillis(1), Duration.ofMillis(1)));
  }
}
