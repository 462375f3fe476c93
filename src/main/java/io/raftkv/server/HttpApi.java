package io.raftkv.server;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.delete;
import static org.apache.pekko.http.javadsl.server.Directives.extractMaterializer;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequestEntity;
import static org.apache.pekko.http.javadsl.server.Directives.extractUri;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEndOrSingleSlash;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;
import static org.apache.pekko.http.javadsl.server.Directives.put;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.raftkv.client.KvClient;
import io.raftkv.client.Stages;
import io.raftkv.kv.KvOp;
import io.raftkv.raft.RaftPeer;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpMethod;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.RequestEntity;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.Uri;
import org.apache.pekko.http.javadsl.model.headers.Allow;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.MethodRejection;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.apache.pekko.http.scaladsl.model.IllegalRequestException;
import org.apache.pekko.stream.Materializer;

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
 * UTF-8, percent-encoded; a {@code /} in a key must be sent as {@code %2F}). Bodies are JSON objects
 * (read as UTF-8 whatever the Content-Type says); unknown fields and unknown query parameters are
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
 * not valid Unicode); 413 TooLarge (key over {@link Limits#maxKeyBytes}, value over {@link
 * Limits#maxValueBytes}, both in UTF-8 bytes); 404 NotFound (unknown path); 405 MethodNotAllowed
 * (with an Allow header); 409 ErrStaleSeq (a write's seq is below its session's latest; not
 * executed); 503 Busy (the leader has too much in flight and refused the op: it did not execute;
 * retry later); 503 Unavailable (a read or status query got no answer within the
 * deadline: no leader, no quorum); 504 ErrMaybe (a write got no answer within the deadline, or an
 * answer that cannot tell whether it executed: it may have happened, now or later). Bad input is
 * rejected before anything reaches the store.
 *
 * <p>The deadline: the Clerk's own {@link KvClient.Settings#deadline()} should be set (so that it
 * stops retrying); this API also gives up after {@code deadline} regardless.
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

    /** The largest body any valid request can have: a maximal value, each byte escaped as \\u00XX. */
    long maxBodyBytes() {
      return 6L * maxValueBytes + 4096;
    }
  }

  public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(5);

  private static final ObjectMapper JSON =
      JsonMapper.builder()
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();
  private static final Duration BODY_TIMEOUT = Duration.ofSeconds(10);
  private static final Set<String> PUT_FIELDS = Set.of("value", "version", "client", "seq");
  private static final Set<String> APPEND_FIELDS = Set.of("value", "client", "seq");
  private static final Set<String> SESSION_PARAMS = Set.of("client", "seq");
  private static final Set<String> DELETE_PARAMS = Set.of("version", "client", "seq");

  private final KvClient clerk;
  private final Supplier<CompletionStage<RaftPeer.State>> status;
  private final Limits limits;
  private final Duration deadline;
  private final Metrics metrics;
  private final ServerSessions sessions = new ServerSessions();

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
    this.clerk = Objects.requireNonNull(clerk, "clerk");
    this.status = Objects.requireNonNull(status, "status");
    this.limits = Objects.requireNonNull(limits, "limits");
    this.deadline = Objects.requireNonNull(deadline, "deadline");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    if (deadline.isNegative() || deadline.isZero()) throw new IllegalArgumentException("deadline must be positive");
  }

  /** With the {@link #DEFAULT_DEADLINE} and fresh {@link Metrics}. */
  public HttpApi(KvClient clerk, Supplier<CompletionStage<RaftPeer.State>> status, Limits limits) {
    this(clerk, status, limits, DEFAULT_DEADLINE, new Metrics());
  }

  public Metrics metrics() {
    return metrics;
  }

  /**
   * Serves {@link #routes()} on {@code host:port} (port 0 = any free port; see {@link
   * ServerBinding#localAddress()}). The server's URI and body size limits and its request timeout
   * are raised to fit {@link Limits} and the deadline.
   */
  public CompletionStage<ServerBinding> bind(ActorSystem<?> system, String host, int port) {
    long uriLength = 3L * limits.maxKeyBytes() + 1024; // a key percent-encoded in full, plus the rest
    Config overrides =
        ConfigFactory.parseMap(
            Map.of(
                "pekko.http.server.parsing.max-uri-length", Long.toString(uriLength),
                "pekko.http.server.parsing.max-content-length", Long.toString(limits.maxBodyBytes()),
                "pekko.http.server.request-timeout", (deadline.toMillis() + 5000) + "ms"));
    ServerSettings settings = ServerSettings.create(overrides.withFallback(system.settings().config()));
    return Http.get(system).newServerAt(host, port).withSettings(settings).bind(routes());
  }

  /** All endpoints, sealed: rejections and failures become JSON error responses. */
  public Route routes() {
    Route api =
        concat(
            pathPrefix(
                "v1",
                () ->
                    concat(
                        path("status", () -> get(this::statusRoute)),
                        path(PathMatchers.segment("leader").slash("transfer"), () -> post(this::leaderTransferRoute)),
                        pathPrefix("kv", this::kvRoutes))),
            path("metrics", () -> get(this::metricsRoute)));
    return api.seal(rejectionHandler(), exceptionHandler());
  }

  private Route kvRoutes() {
    return concat(
        // /v1/kv and /v1/kv/: a key-shaped request with an empty key
        pathEndOrSingleSlash(() -> complete(error(StatusCodes.BAD_REQUEST, "BadRequest", "empty key"))),
        path(PathMatchers.slash().concat(PathMatchers.segment("append")), () -> complete(error(StatusCodes.BAD_REQUEST, "BadRequest", "empty key"))),
        path(
            PathMatchers.segment(),
            key ->
                concat(
                    get(() -> kvRequest(Metrics.Op.GET, key)),
                    put(() -> kvRequest(Metrics.Op.PUT, key)),
                    delete(() -> kvRequest(Metrics.Op.DELETE, key)))),
        path(PathMatchers.segment().slash("append"), key -> post(() -> kvRequest(Metrics.Op.APPEND, key))));
  }

  // ---------------------------------------------------------------- KV requests

  /** Input the API refuses before anything reaches the store. */
  private static final class BadInput extends RuntimeException {
    final Metrics.Outcome outcome;

    BadInput(Metrics.Outcome outcome, String message) {
      super(message, null, false, false);
      this.outcome = outcome;
    }

    static BadInput bad(String message) {
      return new BadInput(Metrics.Outcome.BAD_REQUEST, message);
    }

    static BadInput tooLarge(String message) {
      return new BadInput(Metrics.Outcome.TOO_LARGE, message);
    }

    HttpResponse response() {
      return outcome == Metrics.Outcome.TOO_LARGE
          ? error(StatusCodes.CONTENT_TOO_LARGE, "TooLarge", getMessage())
          : error(StatusCodes.BAD_REQUEST, "BadRequest", getMessage());
    }
  }

  /** What a write asks for, before a session is attached. */
  private record WriteArgs(String value, OptionalLong version, long client, long seq) {}

  private Route kvRequest(Metrics.Op op, String key) {
    return extractUri(
        uri ->
            extractRequestEntity(
                entity ->
                    extractMaterializer(
                        mat -> {
                          long start = System.nanoTime();
                          return completeWithFuture(
                              readBody(entity, mat)
                                  .thenCompose(body -> execute(op, parse(op, key, uri, body)))
                                  .exceptionally(HttpApi::refusal)
                                  .thenApply(
                                      outcome -> {
                                        metrics.record(op, outcome.kind(), System.nanoTime() - start);
                                        return outcome.response();
                                      }));
                        })));
  }

  /**
   * The whole body, or a failed stage ({@link BadInput}) when it is longer than any valid request
   * can be. Reads it ourselves: pekko's toStrictEntity directive reports an oversized body as 400.
   */
  private CompletionStage<byte[]> readBody(RequestEntity entity, Materializer mat) {
    long max = limits.maxBodyBytes();
    OptionalLong declared = entity.getContentLengthOption();
    if (declared.isPresent() && declared.getAsLong() > max) {
      entity.discardBytes(mat);
      return CompletableFuture.failedFuture(BadInput.tooLarge("request body is longer than " + max + " bytes"));
    }
    return Stages.direct(entity.withSizeLimit(max).toStrict(BODY_TIMEOUT.toMillis(), mat))
        .thenApply(strict -> strict.getData().toArray())
        .exceptionally(
            e -> {
              Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
              if (cause instanceof EntityStreamSizeException) {
                throw new CompletionException(BadInput.tooLarge("request body is longer than " + max + " bytes"));
              }
              throw new CompletionException(BadInput.bad("cannot read the request body: " + cause.getMessage()));
            });
  }

  /** The answer to a request refused before it reached the store. */
  private static Outcome refusal(Throwable failure) {
    Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    if (cause instanceof BadInput bad) return new Outcome(bad.outcome, bad.response());
    throw failure instanceof CompletionException ce ? ce : new CompletionException(failure);
  }

  private Parsed parse(Metrics.Op op, String key, Uri uri, byte[] body) {
    if (key.isEmpty()) throw BadInput.bad("empty key");
    checkText("key", key);
    if (utf8Length(key) > limits.maxKeyBytes()) {
      throw BadInput.tooLarge("key is longer than " + limits.maxKeyBytes() + " bytes");
    }
    Map<String, String> params = queryParams(uri);
    switch (op) {
      case GET -> {
        checkKnown(params.keySet(), Set.of(), "query parameter");
        return new Parsed(key, KvOp.get(key), null);
      }
      case DELETE -> {
        checkKnown(params.keySet(), DELETE_PARAMS, "query parameter");
        OptionalLong version =
            params.containsKey("version")
                ? OptionalLong.of(parseVersion(params.get("version")))
                : OptionalLong.empty();
        long[] session = session(params.get("client"), params.get("seq"));
        WriteArgs w = new WriteArgs("", version, session[0], session[1]);
        return Parsed.write(key, w, (c, s) -> new KvOp.Delete(key, version, c, s));
      }
      case PUT, APPEND -> {
        checkKnown(params.keySet(), SESSION_PARAMS, "query parameter");
        WriteArgs w = parseBody(op, body, params);
        if (op == Metrics.Op.PUT) {
          return Parsed.write(key, w, (c, s) -> new KvOp.Put(key, w.value(), w.version(), c, s));
        }
        return Parsed.write(key, w, (c, s) -> new KvOp.Append(key, w.value(), c, s));
      }
      default -> throw new AssertionError(op);
    }
  }

  /** Builds a write op once its session is known. */
  @FunctionalInterface
  private interface WriteOp {
    KvOp withSession(long clientId, long seq);
  }

  /** A valid request: its op, or (a write without a session) how to build it once given one. */
  private record Parsed(String key, KvOp op, WriteOp needsServerSession) {
    static Parsed write(String key, WriteArgs w, WriteOp build) {
      return w.client() == KvOp.NO_CLIENT
          ? new Parsed(key, null, build)
          : new Parsed(key, build.withSession(w.client(), w.seq()), null);
    }
  }

  private WriteArgs parseBody(Metrics.Op op, byte[] body, Map<String, String> params) {
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (JsonProcessingException e) {
      throw BadInput.bad("malformed JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw BadInput.bad("malformed JSON: " + e.getMessage());
    }
    if (root == null || root.isMissingNode()) throw BadInput.bad("a JSON object body is required");
    if (!root.isObject()) throw BadInput.bad("the body must be a JSON object");
    List<String> fields = new ArrayList<>();
    root.fieldNames().forEachRemaining(fields::add);
    checkKnown(fields, op == Metrics.Op.PUT ? PUT_FIELDS : APPEND_FIELDS, "field");

    JsonNode value = field(root, "value");
    if (value == null) throw BadInput.bad("\"value\" is required");
    if (!value.isTextual()) throw BadInput.bad("\"value\" must be a string");
    String v = value.textValue();
    checkText("value", v);
    if (utf8Length(v) > limits.maxValueBytes()) {
      throw BadInput.tooLarge("value is longer than " + limits.maxValueBytes() + " bytes");
    }

    OptionalLong version = OptionalLong.empty();
    JsonNode ver = field(root, "version");
    if (ver != null) {
      if (!ver.isIntegralNumber() || !ver.canConvertToLong() || ver.longValue() < 0) {
        throw BadInput.bad("\"version\" must be a non-negative integer");
      }
      version = OptionalLong.of(ver.longValue());
    }

    String client = onlyOnce("client", field(root, "client"), params.get("client"));
    String seq = onlyOnce("seq", field(root, "seq"), params.get("seq"));
    long[] session = session(client, seq);
    return new WriteArgs(v, version, session[0], session[1]);
  }

  /** The field, or null when absent or JSON null. */
  private static JsonNode field(JsonNode root, String name) {
    JsonNode n = root.get(name);
    return n == null || n.isNull() ? null : n;
  }

  /** A session field given in the body or the query (not both), as text; null when absent. */
  private static String onlyOnce(String name, JsonNode inBody, String inQuery) {
    if (inBody != null && inQuery != null) throw BadInput.bad("\"" + name + "\" given both in the body and the query");
    if (inQuery != null) return inQuery;
    if (inBody == null) return null;
    if (inBody.isIntegralNumber() && inBody.canConvertToLong()) return Long.toString(inBody.longValue());
    if (inBody.isTextual()) return inBody.textValue();
    throw BadInput.bad("\"" + name + "\" must be an integer");
  }

  /** {client, seq}, or {NO_CLIENT, 0} when neither is given. */
  private static long[] session(String client, String seq) {
    if (client == null && seq == null) return new long[] {KvOp.NO_CLIENT, 0};
    if (client == null || seq == null) throw BadInput.bad("\"client\" and \"seq\" go together");
    long c;
    long s;
    try {
      c = Long.parseLong(client);
    } catch (NumberFormatException e) {
      throw BadInput.bad("\"client\" must be a 64-bit integer");
    }
    if (c == KvOp.NO_CLIENT) throw BadInput.bad("\"client\" must not be 0");
    try {
      s = Long.parseLong(seq);
    } catch (NumberFormatException e) {
      throw BadInput.bad("\"seq\" must be a positive 64-bit integer");
    }
    if (s < 1) throw BadInput.bad("\"seq\" must be a positive 64-bit integer");
    return new long[] {c, s};
  }

  private static long parseVersion(String text) {
    if (text.isEmpty() || !text.chars().allMatch(ch -> ch >= '0' && ch <= '9')) {
      throw BadInput.bad("version must be a non-negative integer");
    }
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw BadInput.bad("version must be a non-negative integer");
    }
  }

  private static Map<String, String> queryParams(Uri uri) {
    Map<String, List<String>> multi = uri.query().toMultiMap();
    Map<String, String> out = new java.util.HashMap<>();
    for (Map.Entry<String, List<String>> e : multi.entrySet()) {
      if (e.getValue().size() > 1) throw BadInput.bad("query parameter \"" + e.getKey() + "\" given twice");
      out.put(e.getKey(), e.getValue().get(0));
    }
    return out;
  }

  private static void checkKnown(Iterable<String> names, Set<String> allowed, String what) {
    for (String n : names) {
      if (!allowed.contains(n)) throw BadInput.bad("unknown " + what + " \"" + n + "\"");
    }
  }

  /** Rejects unpaired surrogates: they have no UTF-8 form and would be stored as '?'. */
  private static void checkText(String what, String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw BadInput.bad(what + " is not valid Unicode (unpaired surrogate)");
      }
    }
  }

  static long utf8Length(String s) {
    long n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) n += 1;
      else if (c < 0x800) n += 2;
      else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        n += 4;
        i++;
      } else n += 3;
    }
    return n;
  }

  private CompletionStage<Outcome> execute(Metrics.Op op, Parsed parsed) {
    ServerSessions.Session borrowed = null;
    KvOp toSubmit = parsed.op();
    if (toSubmit == null) {
      borrowed = sessions.borrow();
      toSubmit = parsed.needsServerSession().withSession(borrowed.clientId(), borrowed.nextSeq());
    }
    CompletableFuture<KvClient.Result> answer;
    try {
      answer = Stages.direct(clerk.submit(toSubmit));
    } catch (RuntimeException e) {
      answer = CompletableFuture.failedFuture(e);
    }
    ServerSessions.Session session = borrowed;
    return answer
        .completeOnTimeout(new KvClient.Result(KvClient.Err.Timeout, "", 0), deadline.toNanos(), TimeUnit.NANOSECONDS)
        .handle(
            (result, failure) -> {
              if (session != null) sessions.giveBack(session);
              KvClient.Result r = failure == null ? result : new KvClient.Result(KvClient.Err.Timeout, "", 0);
              return respond(op, parsed.key(), r);
            });
  }

  private record Outcome(Metrics.Outcome kind, HttpResponse response) {}

  private static Outcome respond(Metrics.Op op, String key, KvClient.Result r) {
    boolean read = op == Metrics.Op.GET;
    return switch (r.err()) {
      case OK -> {
        ObjectNode body = JSON.createObjectNode();
        if (read) body.put("key", key).put("value", r.value()).put("version", r.version());
        else if (op == Metrics.Op.DELETE) body.put("deleted", true);
        else body.put("version", r.version());
        yield new Outcome(Metrics.Outcome.OK, json(StatusCodes.OK, body));
      }
      case ErrNoKey -> new Outcome(Metrics.Outcome.NO_KEY, error(StatusCodes.NOT_FOUND, "ErrNoKey", null));
      case ErrVersion -> {
        ObjectNode body = JSON.createObjectNode().put("error", "ErrVersion").put("version", r.version());
        yield new Outcome(Metrics.Outcome.VERSION_CONFLICT, json(StatusCodes.CONFLICT, body));
      }
      case ErrStaleSeq -> {
        ObjectNode body =
            JSON.createObjectNode()
                .put("error", "ErrStaleSeq")
                .put("message", "the session has moved past this seq; the write was not executed now")
                .put("seq", r.version());
        yield new Outcome(Metrics.Outcome.STALE_SEQ, json(StatusCodes.CONFLICT, body));
      }
      case Busy -> new Outcome(Metrics.Outcome.BUSY, error(StatusCodes.SERVICE_UNAVAILABLE, "Busy", null));
      case ErrMaybe, Timeout ->
          read
              ? new Outcome(Metrics.Outcome.UNAVAILABLE, error(StatusCodes.SERVICE_UNAVAILABLE, "Unavailable", null))
              : new Outcome(Metrics.Outcome.MAYBE, error(StatusCodes.GATEWAY_TIMEOUT, "ErrMaybe", null));
    };
  }

  // ---------------------------------------------------------------- status and metrics

  private Route statusRoute() {
    return completeWithFuture(
        askStatus()
            .thenApply(
                s -> {
                  if (s == null) return error(StatusCodes.SERVICE_UNAVAILABLE, "Unavailable", null);
                  ObjectNode body =
                      JSON.createObjectNode()
                          .put("id", s.id())
                          .put("role", s.role().name().toLowerCase(Locale.ROOT))
                          .put("term", s.term());
                  if (s.leader() >= 0) body.put("leader", s.leader());
                  else body.putNull("leader");
                  body.put("commitIndex", s.commitIndex())
                      .put("appliedIndex", s.appliedIndex())
                      .put("lastLogIndex", s.lastLogIndex())
                      .put("snapshotIndex", s.snapshotIndex())
                      .put("raftStateBytes", s.raftStateSize())
                      .put("snapshotBytes", s.snapshotSize());
                  return json(StatusCodes.OK, body);
                }));
  }

  private Route metricsRoute() {
    return completeWithFuture(
        askStatus()
            .thenApply(
                s ->
                    HttpResponse.create()
                        .withStatus(StatusCodes.OK)
                        .withEntity(HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8, metrics.render(s)))));
  }

  /** The node's Raft state, or null when it did not answer within the deadline. */
  private CompletableFuture<RaftPeer.State> askStatus() {
    CompletableFuture<RaftPeer.State> f;
    try {
      f = Stages.direct(status.get());
    } catch (RuntimeException e) {
      f = CompletableFuture.failedFuture(e);
    }
    return f.completeOnTimeout(null, deadline.toNanos(), TimeUnit.NANOSECONDS).exceptionally(e -> null);
  }

  // ---------------------------------------------------------------- leadership transfer

  private volatile java.util.function.IntFunction<CompletionStage<RaftPeer.TransferResult>> leaderTransfer;

  /**
   * Serves {@code POST /v1/leader/transfer[?to=N]} through {@code transfer} (called with -1 when
   * {@code to} is absent: the most up-to-date follower). 200 {@code {"done":true,"leader":n,"term":t}}
   * when it happened; 409 {@code {"error":"NotTransferred","message":why,"leader":n|null,"term":t}}
   * when the peer declined (not the leader, unknown target, timed out); 503 when the peer did not
   * answer; 400 for a bad {@code to}.
   */
  public HttpApi withLeaderTransfer(java.util.function.IntFunction<CompletionStage<RaftPeer.TransferResult>> transfer) {
    this.leaderTransfer = Objects.requireNonNull(transfer, "transfer");
    return this;
  }

  private Route leaderTransferRoute() {
    return extractUri(
        uri -> {
          int to;
          try {
            Map<String, String> params = queryParams(uri);
            checkKnown(params.keySet(), Set.of("to"), "query parameter");
            String t = params.get("to");
            to = t == null ? -1 : Integer.parseInt(t);
            if (to < -1) throw new NumberFormatException();
          } catch (NumberFormatException e) {
            return complete(error(StatusCodes.BAD_REQUEST, "BadRequest", "\"to\" must be a node id"));
          } catch (BadInput e) {
            return complete(e.response());
          }
          var transfer = leaderTransfer;
          if (transfer == null) {
            return complete(error(StatusCodes.SERVICE_UNAVAILABLE, "Unavailable", "this node does not transfer leadership"));
          }
          CompletableFuture<RaftPeer.TransferResult> answer;
          try {
            answer = Stages.direct(transfer.apply(to));
          } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
          }
          return completeWithFuture(
              answer
                  .completeOnTimeout(null, deadline.toNanos(), TimeUnit.NANOSECONDS)
                  .exceptionally(e -> null)
                  .thenApply(
                      r -> {
                        if (r == null) return error(StatusCodes.SERVICE_UNAVAILABLE, "Unavailable", null);
                        ObjectNode body = JSON.createObjectNode();
                        if (r.done()) body.put("done", true);
                        else body.put("error", "NotTransferred").put("message", r.error());
                        if (r.leader() >= 0) body.put("leader", r.leader());
                        else body.putNull("leader");
                        body.put("term", r.term());
                        return json(r.done() ? StatusCodes.OK : StatusCodes.CONFLICT, body);
                      }));
        });
  }

  // ---------------------------------------------------------------- responses and rejections

  private static HttpResponse json(StatusCode status, JsonNode body) {
    byte[] bytes;
    try {
      bytes = JSON.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize a JSON tree", e);
    }
    return HttpResponse.create().withStatus(status).withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, bytes));
  }

  static HttpResponse error(StatusCode status, String error, String message) {
    ObjectNode body = JSON.createObjectNode().put("error", error);
    if (message != null) body.put("message", message);
    return json(status, body);
  }

  private RejectionHandler rejectionHandler() {
    return RejectionHandler.newBuilder()
        .handleAll(
            MethodRejection.class,
            rejections -> {
              HttpMethod[] allowed = rejections.stream().map(MethodRejection::supported).distinct().toArray(HttpMethod[]::new);
              return complete(
                  error(StatusCodes.METHOD_NOT_ALLOWED, "MethodNotAllowed", null).addHeader(Allow.create(allowed)));
            })
        .handleNotFound(complete(error(StatusCodes.NOT_FOUND, "NotFound", null)))
        .build()
        .withFallback(RejectionHandler.defaultHandler())
        .mapRejectionResponse(HttpApi::asJsonError);
  }

  private ExceptionHandler exceptionHandler() {
    return ExceptionHandler.newBuilder()
        .match(IllegalRequestException.class, e -> complete(illegalRequest(e)))
        .matchAny(e -> complete(error(StatusCodes.INTERNAL_SERVER_ERROR, "Internal", e.toString())))
        .build();
  }

  private static HttpResponse illegalRequest(IllegalRequestException e) {
    String name = e.status().intValue() == 413 ? "TooLarge" : "BadRequest";
    return error(e.status(), name, e.info().summary());
  }

  /** Turns the default handler's plain-text rejections into the API's JSON error shape. */
  private static HttpResponse asJsonError(HttpResponse r) {
    if (r.entity().getContentType().equals(ContentTypes.APPLICATION_JSON)) return r;
    String text =
        r.entity() instanceof org.apache.pekko.http.javadsl.model.HttpEntity.Strict s ? s.getData().utf8String() : null;
    String name = r.status().intValue() == 413 ? "TooLarge" : r.status().intValue() < 500 ? "BadRequest" : "Internal";
    return error(r.status(), name, text);
  }

  // ---------------------------------------------------------------- server sessions

  /**
   * Sessions for writes that come without one. The store keeps one seq per session and takes any
   * op at or below it for a retransmission, so a session serves one write at a time: a write
   * borrows an idle session (or a new one) and gives it back once answered. A write that timed
   * out may still commit later; if the session has moved on by then, its seq is below the
   * session's newest and the store refuses it as stale, which its 504 answer allowed.
   */
  private static final class ServerSessions {
    record Session(long clientId, AtomicLong seq) {
      long nextSeq() {
        return seq.incrementAndGet();
      }
    }

    private final ConcurrentLinkedDeque<Session> idle = new ConcurrentLinkedDeque<>();

    Session borrow() {
      Session s = idle.pollFirst();
      if (s != null) return s;
      long id;
      do {
        id = ThreadLocalRandom.current().nextLong();
      } while (id == KvOp.NO_CLIENT);
      return new Session(id, new AtomicLong());
    }

    /** Most recently used first, so a quiet node keeps using few sessions. */
    void giveBack(Session s) {
      idle.offerFirst(s);
    }
  }
}
