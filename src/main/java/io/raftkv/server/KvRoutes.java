package io.raftkv.server;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.delete;
import static org.apache.pekko.http.javadsl.server.Directives.extractMaterializer;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequestEntity;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEndOrSingleSlash;
import static org.apache.pekko.http.javadsl.server.Directives.post;
import static org.apache.pekko.http.javadsl.server.Directives.put;

import io.raftkv.client.KvClient;
import io.raftkv.client.Stages;
import io.raftkv.kv.KvErr;
import io.raftkv.kv.KvOp;
import io.raftkv.server.HttpOutcomes.Outcome;
import io.raftkv.server.RequestParser.Accepted;
import io.raftkv.server.RequestParser.Parsed;
import io.raftkv.server.RequestParser.Refused;
import java.time.Duration;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.RequestEntity;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.Uri;
import org.apache.pekko.http.javadsl.model.headers.RawRequestURI;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.apache.pekko.stream.Materializer;

/**
 * The routes under {@code /v1/kv}: each request is read, handed to the {@link RequestParser},
 * submitted through the Clerk (with a {@link ServerSessions server session} if it has none) and
 * answered by {@link HttpOutcomes}; each is counted in {@link Metrics}.
 */
final class KvRoutes {
  private static final Duration BODY_TIMEOUT = Duration.ofSeconds(10);

  private final KvClient clerk;
  private final RequestParser parser;
  private final long maxBodyBytes;
  private final Duration deadline;
  private final Metrics metrics;
  private final ServerSessions sessions = new ServerSessions();

  KvRoutes(KvClient clerk, HttpApi.Limits limits, Duration deadline, Metrics metrics) {
    this.clerk = Objects.requireNonNull(clerk, "clerk");
    this.parser = new RequestParser(limits);
    this.maxBodyBytes = limits.maxBodyBytes();
    this.deadline = Objects.requireNonNull(deadline, "deadline");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
  }

  /** What follows {@code /v1/kv}. */
  Route route() {
    return concat(
        // /v1/kv and /v1/kv/: a key-shaped request with an empty key
        pathEndOrSingleSlash(() -> complete(emptyKey())),
        path(PathMatchers.slash().concat(PathMatchers.segment("append")), () -> complete(emptyKey())),
        path(
            PathMatchers.segment(),
            key ->
                concat(
                    get(() -> kvRequest(Metrics.Op.GET, key, false)),
                    put(() -> kvRequest(Metrics.Op.PUT, key, false)),
                    delete(() -> kvRequest(Metrics.Op.DELETE, key, false)))),
        path(PathMatchers.segment().slash("append"), key -> post(() -> kvRequest(Metrics.Op.APPEND, key, true))));
  }

  // Not counted in the metrics: no route (so no op) matched.
  private static HttpResponse emptyKey() {
    return HttpOutcomes.error(StatusCodes.BAD_REQUEST, "BadRequest", "empty key");
  }

  private Route kvRequest(Metrics.Op kind, String decodedKey, boolean append) {
    return extractRequest(
        request -> {
          Uri uri = request.getUri();
          // the modeled header is pekko-http's own (raw-request-uri-header); one a client sends is a RawHeader
          String key = request.getHeader(RawRequestURI.class).map(h -> rawKey(h.uri(), append)).orElse(null);
          return kvRequest(kind, key, decodedKey, uri);
        });
  }

  /**
   * The key's segment as the client sent it (still percent-encoded), from the raw request target
   * ({@code /v1/kv/KEY[/append][?query]}, or its absolute form); null if it does not have that shape.
   */
  static String rawKey(String target, boolean append) {
    String path = target;
    int q = path.indexOf('?');
    if (q >= 0) path = path.substring(0, q);
    int scheme = path.indexOf("://");
    if (scheme >= 0) {
      int slash = path.indexOf('/', scheme + 3);
      path = slash < 0 ? "/" : path.substring(slash);
    }
    String[] segments = path.split("/", -1);
    int expected = append ? 5 : 4;
    if (segments.length != expected || !segments[0].isEmpty()) return null;
    return segments[3];
  }

  /** {@code encodedKey}: null when the raw request target is not at hand (routes served without {@link HttpApi#bind}). */
  private Route kvRequest(Metrics.Op kind, String encodedKey, String decodedKey, Uri uri) {
    return extractRequestEntity(
        entity ->
            extractMaterializer(
                mat -> {
                  long start = System.nanoTime();
                  return completeWithFuture(
                      answer(kind, encodedKey, decodedKey, uri, entity, mat)
                          .thenApply(
                              outcome -> {
                                metrics.record(kind, outcome.kind(), System.nanoTime() - start);
                                return outcome.response();
                              }));
                }));
  }

  private CompletionStage<Outcome> answer(
      Metrics.Op kind, String encodedKey, String decodedKey, Uri uri, RequestEntity entity, Materializer mat) {
    return readBody(entity, mat)
        .thenCompose(
            body -> {
              if (body instanceof Refused<byte[]> r) return CompletableFuture.completedFuture(HttpOutcomes.refused(r.error()));
              byte[] bytes = ((Accepted<byte[]>) body).value();
              // pekko refused a malformed query when it parsed the request line, so this cannot throw
              var query = uri.query().toMultiMap();
              Parsed<KvRequest> request =
                  encodedKey != null
                      ? parser.parseEncodedKv(kind, encodedKey, query, bytes)
                      : parser.parseKv(kind, decodedKey, query, bytes);
              if (request instanceof Refused<KvRequest> r) return CompletableFuture.completedFuture(HttpOutcomes.refused(r.error()));
              return execute(((Accepted<KvRequest>) request).value());
            });
  }

  /**
   * The whole body, or the refusal of a body longer than any valid request can be (or one that
   * cannot be read). Reads it ourselves: pekko's toStrictEntity directive reports an oversized body
   * as 400.
   */
  private CompletableFuture<Parsed<byte[]>> readBody(RequestEntity entity, Materializer mat) {
    OptionalLong declared = entity.getContentLengthOption();
    if (declared.isPresent() && declared.getAsLong() > maxBodyBytes) {
      entity.discardBytes(mat);
      return CompletableFuture.completedFuture(new Refused<>(parser.bodyTooLong()));
    }
    return Stages.direct(entity.withSizeLimit(maxBodyBytes).toStrict(BODY_TIMEOUT.toMillis(), mat))
        .<Parsed<byte[]>>thenApply(strict -> new Accepted<>(strict.getData().toArray()))
        .exceptionally(
            e -> {
              Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
              if (cause instanceof EntityStreamSizeException) return new Refused<>(parser.bodyTooLong());
              return new Refused<>(ClientError.badRequest("cannot read the request body: " + cause.getMessage()));
            });
  }

  private CompletionStage<Outcome> execute(KvRequest request) {
    ServerSessions.Session borrowed = null;
    KvOp toSubmit = request.op();
    if (request.needsServerSession()) {
      borrowed = sessions.borrow();
      toSubmit = request.withSession(borrowed.clientId(), borrowed.nextSeq());
    }
    CompletableFuture<KvClient.Result> answer;
    try {
      answer = Stages.direct(clerk.submit(toSubmit));
    } catch (RuntimeException e) {
      answer = CompletableFuture.failedFuture(e);
    }
    ServerSessions.Session session = borrowed;
    return answer
        .completeOnTimeout(new KvClient.Result(KvErr.Timeout, "", 0), deadline.toNanos(), TimeUnit.NANOSECONDS)
        .handle(
            (result, failure) -> {
              if (session != null) sessions.giveBack(session);
              KvClient.Result r = failure == null ? result : new KvClient.Result(KvErr.Timeout, "", 0);
              return HttpOutcomes.of(request.kind(), request.op().key(), r);
            });
  }
}
