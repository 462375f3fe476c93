package io.raftkv.server;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;
import static org.apache.pekko.http.javadsl.server.Directives.withRequestTimeoutResponse;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.raftkv.client.KvClient;
import io.raftkv.raft.RaftPeer;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.settings.ServerSettings;

/**
 * The HTTP/JSON front door of one node. Every KV request goes through the node's own {@link
 * KvClient} (the Clerk), which finds the group's leader and retries there; so any node answers any
 * request, and every read is linearizable (it goes through the Raft log).
 *
 * <h2>Endpoints</h2>
 *
 * <pre>
 * GET    /v1/kv/{key}                 200 {"key":k,"value":v,"version":n}   404 ErrNoKey
 * PUT    /v1/kv/{key}  {"value":v[,"version":n]}
 *                                     200 {"version":n+1}  409 {"error":"ErrVersion","version":cur}
 *                                     404 ErrNoKey (version &gt; 0 and the key is absent)
 * POST   /v1/kv/{key}/append {"value":v}        200 {"version":n}
 * DELETE /v1/kv/{key}[?version=n]     200 {"deleted":true}  404 ErrNoKey  409 ErrVersion
 * (writes with a session: also 409 {"error":"ErrStaleSeq","seq":latest}; any KV request: 503 Busy)
 * GET    /v1/status                   200 the node's Raft state (JSON)
 * GET    /metrics                     200 Prometheus text format (see {@link Metrics})
 * </pre>
 *
 * <p>A PUT without {@code version} creates or overwrites; {@code "version":0} creates only if the
 * key is absent. The key is one URL-decoded path segment and may hold any Unicode text (sent as
 * UTF-8, percent-encoded; a {@code /} in a key must be sent as {@code %2F}; invalid UTF-8 is refused).
 * Bodies are JSON objects in strict UTF-8 (no byte order mark, no other charset in the
 * Content-Type); unknown fields and unknown query parameters are
 * rejected rather than ignored, so that a misspelt {@code version} cannot turn a conditional write
 * into an unconditional one. A {@code null} field counts as absent.
 *
 * <h2>Exactly-once writes</h2>
 *
 * A write may name a client session: {@code client} (a non-zero signed 64-bit id the HTTP client
 * picks at random, as a JSON number or a decimal string) and {@code seq} (a positive number that
 * increases with each new write of that client), as body fields or query parameters (DELETE: query
 * parameters only). The op then carries that session, and the store executes each (client, seq)
 * once: a retry with the same pair, sent to this node or any other, gets the first answer and
 * changes nothing. The client must wait for each write's answer (or give up on it) before it sends
 * the next seq; a seq below the client's last one is answered 409 ErrStaleSeq and not executed. A
 * store forgets the least recently used sessions beyond its limit.
 *
 * <p>A write without a session gets a session of this server's own, so the Clerk's internal retries
 * (to other replicas, after a lost reply) are exactly-once, but a retry by the HTTP client is a new
 * write. These server sessions are never used by two requests at once (the store keeps one seq per
 * session, so of two concurrent ops of one session the older could be refused as stale): each write
 * borrows an idle session and returns it when answered; there are as many as the most writes ever
 * in flight at once on this node.
 *
 * <h2>Errors</h2>
 *
 * Every error body is {@code {"error":name[,"message":text]}}: 400 BadRequest (malformed JSON, a
 * wrong field type, an unknown field, a negative or non-numeric version, an empty key, text that is
 * not valid Unicode or not valid UTF-8); 413 TooLarge (key over {@link Limits#maxKeyBytes}, value over {@link
 * Limits#maxValueBytes}, both in UTF-8 bytes); 404 NotFound (unknown path); 405 MethodNotAllowed
 * (with an Allow header); 409 ErrStaleSeq (a write's seq is below its session's latest; not
 * executed); 503 Busy (the leader has too much in flight and refused the op: it did not execute;
 * retry later); 503 Unavailable (a read or status query got no answer within the
 * deadline: no leader, no quorum); 504 ErrMaybe (a write got no answer within the deadline, or an
 * answer that cannot tell whether it executed: it may have happened, now or later). Bad input is
 * rejected before anything reaches the store. Errors found before routing (400, 408, 414, 431)
 * have the same JSON shape ({@link JsonParsingErrorHandler}, {@code ConnectionGuard}).
 *
 * <p>The deadline: the Clerk's own {@link KvClient.Settings#deadline()} should be set (so that it
 * stops retrying); this API also gives up after {@code deadline} regardless.
 *
 * <p>This class only wires the parts together (package-private, next to it): {@code RequestParser}
 * decides what a request asks for or why it is refused, {@code HttpOutcomes} maps each result to a
 * status and body, {@code KvRoutes} and {@code NodeRoutes} connect them to pekko-http, and {@code
 * JsonRejections} answers what no route took.
 */
public final class HttpApi {

  /** Size limits, in UTF-8 bytes. */
  public record Limits(int maxKeyBytes, int maxValueBytes) {
    public static final int DEFAULT_MAX_KEY_BYTES = 4096;
    public static final int DEFAULT_MAX_VALUE_BYTES = 1 << 20;

    public Limits {
      if (maxKeyBytes < 1 || maxValueBytes < 0) throw new IllegalArgumentException("limits must be positive");
    }

    /** 4 KiB keys, 1 MiB values. */
    public static Limits defaults() {
      return new Limits(DEFAULT_MAX_KEY_BYTES, DEFAULT_MAX_VALUE_BYTES);
    }

    /**
     * The largest message a request of these limits puts on the wire between nodes: the op or its
     * answer with the longest key and value, plus room for the envelope (actor paths, tags).
     */
    public long largestMessageBytes() {
      return (long) maxKeyBytes + maxValueBytes + 16 * 1024;
    }

    /** The largest body any valid request can have: a maximal value, each byte escaped as \\u00XX. */
    long maxBodyBytes() {
      return 6L * maxValueBytes + 4096;
    }
  }

  /**
   * How the node's HTTP server treats connections (HOCON {@code raftkv.http}, see {@code
   * reference.conf} and docs/http-api.md "Connections").
   *
   * @param headerTimeout a connection that has not delivered a complete request head (request line
   *     and headers) this long after it was accepted, or after the first byte of a later head, is
   *     closed (with a 408 if part of a head had arrived)
   * @param idleTimeout a connection with no traffic in either direction this long is closed
   * @param requestTimeout a request not answered this long after it arrived is answered 503 (reads)
   *     or 504 (writes); above the API's deadline, so it only fires if a route hangs
   * @param maxConnections connections served at once; a new one beyond takes the slot of the one
   *     waiting longest for its first request head, or is refused with 503 Busy ({@code
   *     ConnectionSlots})
   * @param backlog the listen backlog (a hint to the OS)
   * @param maxHeadBytes the longest request head taken (414 or 431 beyond); raised to the URI limit
   *     plus 16 KiB if below it, so that a maximal key always fits
   * @param logLinesPerSecond WARN lines about misbehaving clients per second, for the whole node
   */
  public record Connections(
      Duration headerTimeout,
      Duration idleTimeout,
      Duration requestTimeout,
      int maxConnections,
      int backlog,
      int maxHeadBytes,
      int logLinesPerSecond) {
    public static final String CONFIG_PATH = "raftkv.http";

    public Connections {
      for (Duration d : new Duration[] {headerTimeout, idleTimeout, requestTimeout}) {
        if (d == null || d.isNegative() || d.isZero()) throw new IllegalArgumentException("timeouts must be positive");
      }
      if (maxConnections < 1 || backlog < 1 || logLinesPerSecond < 1) {
        throw new IllegalArgumentException("max-connections, backlog and log-lines-per-second must be positive");
      }
      if (maxHeadBytes < 1024) throw new IllegalArgumentException("max-head-bytes must be at least 1024");
    }

    /** The defaults of raftkv's {@code reference.conf}. */
    public static Connections defaults() {
      return fromConfig(ConfigFactory.defaultReference());
    }

    /** From {@code raftkv.http} in {@code config}; keys it lacks take reference.conf's defaults. */
    public static Connections fromConfig(Config config) {
      Config c = config.withFallback(ConfigFactory.defaultReference()).getConfig(CONFIG_PATH);
      return new Connections(
          c.getDuration("header-timeout"),
          c.getDuration("idle-timeout"),
          c.getDuration("request-timeout"),
          c.getInt("max-connections"),
          c.getInt("backlog"),
          (int) Math.min(Integer.MAX_VALUE, c.getBytes("max-head-bytes")),
          c.getInt("log-lines-per-second"));
    }
  }

  /** A bound server: where it listens, and how to stop accepting connections. */
  public interface Binding {
    InetSocketAddress localAddress();

    /** Stops accepting new connections; those open stay until they close. */
    CompletionStage<Done> unbind();
  }

  private final Limits limits;
  private final Duration deadline;
  private final Metrics metrics;
  private final KvRoutes kv;
  private final NodeRoutes node;
  private volatile HttpAuth auth; // null: no tokens needed
  private volatile MemberRoutes members; // null: /v1/members answers 503
  private volatile SSLContext https; // null: plain HTTP

  /**
   * @param clerk this node's Clerk; the API submits every KV op through it
   * @param status asks this node's Raft peer for its state (e.g. {@code RaftPeer.GetState})
   * @param limits key and value size limits
   * @param deadline how long a request may wait for its answer before 503 / 504
   * @param metrics where request counts and latencies go
   */
  public HttpApi(
      KvClient clerk,
      Supplier<CompletionStage<RaftPeer.State>> status,
      Limits limits,
      Duration deadline,
      Metrics metrics) {
    Objects.requireNonNull(clerk, "clerk");
    Objects.requireNonNull(status, "status");
    this.limits = Objects.requireNonNull(limits, "limits");
    this.deadline = Objects.requireNonNull(deadline, "deadline");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    if (deadline.isNegative() || deadline.isZero()) throw new IllegalArgumentException("deadline must be positive");
    this.kv = new KvRoutes(clerk, limits, deadline, metrics);
    this.node = new NodeRoutes(status, limits, deadline, metrics);
  }

  /** With the request deadline of {@link NodeTimeouts#defaults()} and fresh {@link Metrics}. */
  public HttpApi(KvClient clerk, Supplier<CompletionStage<RaftPeer.State>> status, Limits limits) {
    this(clerk, status, limits, NodeTimeouts.defaults().requestDeadline(), new Metrics());
  }

  /** The request counts and latencies of this API (also served at {@code GET /metrics}). */
  public Metrics metrics() {
    return metrics;
  }

  /**
   * Serves {@code POST /v1/leader/transfer[?to=N]} through {@code transfer} (called with -1 when
   * {@code to} is absent: the most up-to-date follower). 200 {@code {"done":true,"leader":n,"term":t}}
   * when it happened; 409 {@code {"error":"NotTransferred","message":why,"leader":n|null,"term":t}}
   * when the peer declined (not the leader, unknown target, timed out); 503 when the peer did not
   * answer; 400 for a bad {@code to}.
   */
  public HttpApi withLeaderTransfer(IntFunction<CompletionStage<RaftPeer.TransferResult>> transfer) {
    node.leaderTransfer(transfer);
    return this;
  }

  /** Requires the bearer tokens of {@code auth} on every request {@link #routes()} serves (see {@link HttpAuth}). */
  public HttpApi withAuth(HttpAuth auth) {
    this.auth = auth;
    return this;
  }

  /** Serves {@code /v1/members} through {@code m} (see {@link MemberRoutes}); without it, 503. */
  HttpApi withMembership(MemberRoutes.Membership m) {
    this.members = new MemberRoutes(m, deadline);
    return this;
  }

  /** {@link #bind} serves HTTPS only, with {@code context}'s certificate. */
  public HttpApi withHttps(SSLContext context) {
    this.https = context;
    return this;
  }

  /** {@link #bind(ActorSystem, String, int, Connections)} with the system's {@code raftkv.http} settings. */
  public CompletionStage<Binding> bind(ActorSystem<?> system, String host, int port) {
    return bind(system, host, port, Connections.fromConfig(system.settings().config()));
  }

  /**
   * Serves {@link #routes()} on {@code host:port} (port 0 = any free port; see {@link
   * Binding#localAddress()}), each connection behind a guard that enforces {@code connections}. The
   * server's URI and body size limits are raised to fit {@link Limits}; errors found before routing
   * are answered in the API's JSON shape ({@link JsonParsingErrorHandler}); HEAD is answered as GET
   * without the body; an HTTP/1.0 request without Host is taken (HTTP/1.1 still needs one).
   */
  public CompletionStage<Binding> bind(ActorSystem<?> system, String host, int port, Connections connections) {
    long uriLength = 3L * limits.maxKeyBytes() + 1024; // a key percent-encoded in full, plus the rest
    Map<String, Object> server = new HashMap<>();
    server.put("parsing.max-uri-length", Long.toString(uriLength));
    server.put("parsing.max-content-length", Long.toString(limits.maxBodyBytes()));
    server.put("parsing.error-handler", JsonParsingErrorHandler.class.getName());
    server.put("request-timeout", connections.requestTimeout().toMillis() + "ms");
    server.put("idle-timeout", connections.idleTimeout().toMillis() + "ms");
    server.put("max-connections", Integer.toString(connections.maxConnections()));
    server.put("backlog", Integer.toString(connections.backlog()));
    server.put("transparent-head-requests", "on");
    server.put("raw-request-uri-header", "on");
    server.put("default-host-header", host.contains(":") ? "[" + host + "]" : host);
    Config overrides = ConfigFactory.parseMap(Map.of("pekko.http.server", server));
    ServerSettings settings = ServerSettings.create(overrides.withFallback(system.settings().config()));
    // a maximal key must fit in a head, whatever max-head-bytes says
    long maxHead = Math.max(connections.maxHeadBytes(), uriLength + 16 * 1024);
    Connections effective =
        new Connections(
            connections.headerTimeout(),
            connections.idleTimeout(),
            connections.requestTimeout(),
            connections.maxConnections(),
            connections.backlog(),
            (int) Math.min(Integer.MAX_VALUE, maxHead),
            connections.logLinesPerSecond());
    return HttpServer.bind(
        system, host, port, settings, effective, https, new LogLimiter(connections.logLinesPerSecond()), metrics, routes().flow(system));
  }

  private Route membersRoute() {
    MemberRoutes m = members;
    return m != null ? m.route() : complete(HttpOutcomes.error(StatusCodes.SERVICE_UNAVAILABLE, "Unavailable", "this node does not change its membership"));
  }

  /** All endpoints, sealed: rejections and failures become JSON error responses; behind the token check of {@link #withAuth}, if set. */
  public Route routes() {
    Route api =
        concat(
            pathPrefix(
                "v1",
                () ->
                    concat(
                        path("status", () -> get(node::status)),
                        path(PathMatchers.segment("leader").slash("transfer"), () -> post(node::leaderTransfer)),
                        pathPrefix("members", this::membersRoute),
                        pathPrefix("kv", kv::route))),
            path("metrics", () -> get(node::metrics)));
    HttpAuth a = auth;
    return withRequestTimeoutResponse(
        JsonRejections::requestTimeout,
        () -> {
          Route sealed = api.seal(JsonRejections.rejectionHandler(), JsonRejections.exceptionHandler());
          return a == null ? sealed : a.protect(sealed);
        });
  }
}
