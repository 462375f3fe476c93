package io.raftkv.bench;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * {@value LoadTargets#ETCD_GRPC}: etcd's own protocol, gRPC ({@code etcdserverpb.KV/Put} and
 * {@code /Range}) over plaintext HTTP/2 with prior knowledge; by default one connection per
 * client, or {@code connections} shared ones (HTTP/2 multiplexes the clients' requests).
 */
final class EtcdGrpcTarget extends LoadTargetBase {
  /**
   * etcd's default {@code --max-concurrent-streams} is 2^32-1, which pekko-http 1.3's HTTP/2
   * client reads into a signed int as -1: it then opens no stream beyond the two it had asked
   * for before the server's settings came, and every later request times out.
   */
  static final String STALL_HINT = " (is etcd running with --max-concurrent-streams below 2^31, e.g. 1000? its default stalls pekko-http's HTTP/2 client)";

  private static final ContentType GRPC = ContentTypes.create(MediaTypes.applicationBinary("grpc", false));
  private static final HttpHeader TE_TRAILERS = RawHeader.create("te", "trailers");

  private final Map<Integer, Object> shared = new ConcurrentHashMap<>(); // PekkoConnection or Http2Connection

  EtcdGrpcTarget(LoadTarget.Settings settings) {
    super(LoadTargets.ETCD_GRPC, false, settings);
  }

  @Override
  public LoadTarget.Connection connect(int client, int clients) {
    int connections = settings.connections() <= 0 ? clients : Math.min(settings.connections(), clients);
    int index = client % connections;
    int perConnection = (clients + connections - 1) / connections;
    if (!settings.pekkoClient()) {
      Http2Connection c = (Http2Connection) shared.computeIfAbsent(index, this::openHttp2);
      Http2Connection.Judge put = (status, headers, body) -> grpcVerdict(status, headers.get("grpc-status"), headers.get("grpc-message"), body, false);
      Http2Connection.Judge range = (status, headers, body) -> grpcVerdict(status, headers.get("grpc-status"), headers.get("grpc-message"), body, true);
      return unary((path, message, isRange, done) -> c.send(path, EtcdGrpc.frame(message), isRange ? range : put, done));
    }
    PekkoConnection c = (PekkoConnection) shared.computeIfAbsent(index, i -> openPekko(i, true, perConnection));
    URI e = endpoint(index);
    String base = "http://" + e.getHost() + ":" + e.getPort();
    PekkoConnection.Judge put = r -> judgeGrpc(r, false);
    PekkoConnection.Judge range = r -> judgeGrpc(r, true);
    return unary((path, message, isRange, done) -> {
      LoadTarget.Completion hinted = error -> done.completed(error != null && error.startsWith("timeout") ? error + STALL_HINT : error);
      c.send(call(base + path, message), isRange ? range : put, hinted);
    });
  }

  /** Sends one unary call of {@code path} with {@code message} (not yet gRPC-framed). */
  @FunctionalInterface
  private interface Unary {
    void call(String path, byte[] message, boolean range, LoadTarget.Completion done);
  }

  /** A client's share of a connection: puts and ranges as unary calls through {@code unary}. */
  private static LoadTarget.Connection unary(Unary unary) {
    return connection((op, key, value, done) -> {
      byte[] k = key.getBytes(StandardCharsets.UTF_8);
      switch (op) {
        case PUT -> unary.call(EtcdGrpc.PUT_PATH, EtcdGrpc.putRequest(k, value.getBytes(StandardCharsets.UTF_8)), false, done);
        case GET -> unary.call(EtcdGrpc.RANGE_PATH, EtcdGrpc.rangeRequest(k), true, done);
        case APPEND -> throw new IllegalArgumentException("etcd has no append");
      }
    }, () -> {
      // shared by several clients: closed with the target
    });
  }

  @Override
  public void disconnect() {
    super.disconnect();
    shared.clear();
  }

  private static HttpRequest call(String uri, byte[] message) {
    return HttpRequest.POST(uri).addHeader(TE_TRAILERS).withEntity(GRPC, EtcdGrpc.frame(message));
  }

  /**
   * A unary call's answer: HTTP 200, then either the message and trailers carrying {@code
   * grpc-status}, or (an error) a trailers-only answer with {@code grpc-status} in its headers.
   */
  private static Source<String, ?> judgeGrpc(HttpResponse r, boolean range) {
    int status = r.status().intValue();
    HttpEntity entity = r.entity();
    Source<GrpcAnswer, ?> answer;
    if (entity instanceof HttpEntity.Chunked chunked) {
      answer = chunked.getChunks().fold(GrpcAnswer.EMPTY, GrpcAnswer::add);
    } else {
      // a trailers-only answer (an error: grpc-status in the headers), or a body without trailers
      answer = entity.getDataBytes().fold(ByteString.emptyByteString(), ByteString::concat).map(b -> new GrpcAnswer(b, List.of()));
    }
    return answer.map(a -> LoadTargets.orOk(a.verdict(status, r.getHeaders(), range)));
  }

  /** The body and trailers of one gRPC answer, collected from its chunks. */
  record GrpcAnswer(ByteString body, Iterable<HttpHeader> trailers) {
    static final GrpcAnswer EMPTY = new GrpcAnswer(ByteString.emptyByteString(), List.of());

    GrpcAnswer add(HttpEntity.ChunkStreamPart part) {
      if (part.isLastChunk()) return new GrpcAnswer(body, part.getTrailerHeaders());
      return new GrpcAnswer(body.concat(part.data()), trailers);
    }

    String verdict(int status, Iterable<HttpHeader> headers, boolean range) {
      String code = header(trailers, "grpc-status").or(() -> header(headers, "grpc-status")).orElse(null);
      String message = header(trailers, "grpc-message").or(() -> header(headers, "grpc-message")).orElse(null);
      return grpcVerdict(status, code, message, body.toArray(), range);
    }

    private static Optional<String> header(Iterable<HttpHeader> headers, String name) {
      for (HttpHeader h : headers) if (h.is(name)) return Optional.of(h.value());
      return Optional.empty();
    }
  }

  /**
   * A unary gRPC answer's verdict: null if HTTP 200, {@code grpc-status} 0 (in the trailers, or
   * the headers of a trailers-only answer) and one message that decodes; else what went wrong.
   */
  static String grpcVerdict(int status, String grpcStatus, String grpcMessage, byte[] body, boolean range) {
    if (status != 200) return "HTTP " + status;
    if (grpcStatus == null) return "no grpc-status";
    if (!grpcStatus.equals("0")) {
      String message = grpcMessage == null ? "" : EtcdGrpc.decodeMessage(grpcMessage);
      return "grpc-status " + grpcStatus + (message.isEmpty() ? "" : " " + message);
    }
    try {
      byte[] message = EtcdGrpc.unframe(body);
      if (range) EtcdGrpc.decodeRangeResponse(message);
      else EtcdGrpc.decodePutResponse(message);
      return null;
    } catch (IllegalArgumentException e) {
      return "malformed answer: " + e.getMessage();
    }
  }
}
