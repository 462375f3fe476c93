package io.raftkv.server;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * Every timeout of a deployed node outside its HTTP server ({@link HttpApi.Connections} has those),
 * in one place: read from {@code raftkv.node} (raftkv-cluster.conf has the defaults and says why
 * each is what it is).
 *
 * @param raftTick Raft's clock; the protocol's timeouts keep their length in time whatever it is
 * @param tryTimeout how long the node's Clerk waits for one node's answer before it tries the next
 * @param retryBackoff the Clerk's first pause between rounds of tries (it doubles, capped)
 * @param requestDeadline how long a client's request may take in all before it is answered 503
 *     (reads) or 504 ErrMaybe (writes)
 * @param statusTimeout how long {@code GET /v1/status} waits for the Raft peer's state
 * @param stopTransferTimeout how long a stopping leader waits for a successor to take over
 */
public record NodeTimeouts(
    Duration raftTick,
    Duration tryTimeout,
    Duration retryBackoff,
    Duration requestDeadline,
    Duration statusTimeout,
    Duration stopTransferTimeout) {
  public static final String CONFIG_PATH = "raftkv.node";

  public NodeTimeouts {
    for (Duration d : new Duration[] {raftTick, tryTimeout, retryBackoff, requestDeadline, statusTimeout, stopTransferTimeout}) {
      if (d == null || d.isNegative() || d.isZero()) throw new IllegalArgumentException("timeouts must be positive");
    }
  }

  /** What raftkv-cluster.conf (under system properties and application.conf) says, read once. */
  public static NodeTimeouts defaults() {
    return Defaults.VALUE;
  }

  /** Loaded on first use: building a node's whole configuration for a few durations is not cheap. */
  private static final class Defaults {
    static final NodeTimeouts VALUE = fromConfig(NodeConfig.cluster("127.0.0.1", 0, java.util.List.of()));
  }

  /** From {@code raftkv.node} of a node's configuration (one {@link NodeConfig#cluster} made). */
  public static NodeTimeouts fromConfig(Config config) {
    Config c = config.getConfig(CONFIG_PATH);
    return new NodeTimeouts(
        c.getDuration("raft-tick"),
        c.getDuration("try-timeout"),
        c.getDuration("retry-backoff"),
        c.getDuration("request-deadline"),
        c.getDuration("status-timeout"),
        c.getDuration("stop-transfer-timeout"));
  }
}
