package io.raftkv.bench;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * A service the load benchmark drives, and how: which requests it takes and how one client
 * reaches it. The kinds are {@link LoadTargets#RAFTKV_HTTP}, {@link LoadTargets#ETCD_HTTP} and
 * {@link LoadTargets#ETCD_GRPC}.
 */
public interface LoadTarget extends AutoCloseable {
  /** The {@code --target} name, also the first column of every report. */
  String name();

  /** Whether the service has this operation (append is raftkv's alone). */
  boolean supports(LoadOp op);

  /**
   * Opens what client {@code client} of {@code clients} sends through: its own connection to
   * endpoint {@code client % endpoints}, or a share of a multiplexed one. Connecting may be lazy
   * (on the first request).
   */
  Connection connect(int client, int clients);

  /** Closes whatever {@link #connect} opened that is still open (at the end of each run). */
  void disconnect();

  /** Disconnects, and stops what the connections ran on. */
  @Override
  void close();

  /** What one client sends through; one request outstanding at a time per client. */
  interface Connection extends AutoCloseable {
    /**
     * Sends one request; {@code done} runs exactly once, on another thread, when the answer was
     * judged, when the request timed out or when the connection failed.
     */
    void send(LoadOp op, String key, String value, Completion done);

    @Override
    void close();
  }

  /** A request's end. */
  @FunctionalInterface
  interface Completion {
    /** @param error null on success, else what went wrong (short, the same text for the same kind) */
    void completed(String error);
  }

  /**
   * What every kind of target needs to open its connections.
   *
   * @param system runs pekko-http's clients, if {@code pekkoClient} (else it may be null)
   * @param connections etcd-grpc: how many HTTP/2 connections the clients share (0: one each)
   * @param pekkoClient pekko-http's HTTP/1.1 and HTTP/2 clients instead of the benchmark's own
   *     ({@link NioHttpClient}, {@link Http2Connection}), which cost far less CPU per request
   */
  record Settings(ActorSystem<?> system, List<URI> endpoints, Duration timeout, int connections, boolean pekkoClient) {
    public Settings {
      if (endpoints.isEmpty()) throw new IllegalArgumentException("no endpoints");
      endpoints = List.copyOf(endpoints);
    }
  }
}
