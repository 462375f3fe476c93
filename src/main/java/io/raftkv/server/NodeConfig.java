package io.raftkv.server;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.util.List;

/** Builds the configuration of a clustered ActorSystem that hosts raftkv nodes. */
public final class NodeConfig {
  private NodeConfig() {}

  /** The name every ActorSystem of one raftkv cluster shares. */
  public static final String SYSTEM_NAME = "raftkv";

  /**
   * @param host the address other nodes reach this one at
   * @param port Artery's TCP port (0 = any free port, for tests)
   * @param seeds seed node addresses, e.g. {@code pekko://raftkv@10.0.0.1:25520}; empty = join
   *     programmatically
   */
  public static Config cluster(String host, int port, List<String> seeds) {
    // precedence: system properties, these arguments, application.conf, raftkv-cluster.conf, reference.conf
    return ConfigFactory.defaultOverrides()
        .withValue("pekko.remote.artery.canonical.hostname", ConfigValueFactory.fromAnyRef(host))
        .withValue("pekko.remote.artery.canonical.port", ConfigValueFactory.fromAnyRef(port))
        .withValue("pekko.cluster.seed-nodes", ConfigValueFactory.fromIterable(seeds))
        .withFallback(ConfigFactory.defaultApplication())
        .withFallback(ConfigFactory.parseResources(NodeConfig.class.getClassLoader(), "raftkv-cluster.conf"))
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
  }

  static final String FRAME_SIZE_PATH = "pekko.remote.artery.advanced.maximum-frame-size";

  /**
   * Refuses limits under which a request or its answer could not cross between nodes: a follower
   * forwards each op to the leader, and a Get's answer comes back, in one Artery message (Raft's own
   * traffic is chunked, whatever the size).
   */
  static void checkLimitsFitFrames(HttpApi.Limits limits, Config config) {
    long frame = config.getBytes(FRAME_SIZE_PATH);
    if (limits.largestMessageBytes() > frame) {
      throw new IllegalArgumentException(
          "a " + limits.maxValueBytes() + "-byte value with a " + limits.maxKeyBytes() + "-byte key needs Artery frames of "
              + limits.largestMessageBytes() + " bytes; " + FRAME_SIZE_PATH + " is " + frame);
    }
  }
}
