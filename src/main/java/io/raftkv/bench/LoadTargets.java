package io.raftkv.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * The three kinds of {@link LoadTarget}:
 *
 * <ul>
 *   <li>{@value #RAFTKV_HTTP}: raftkv's HTTP API (docs/http-api.md): {@code PUT /v1/kv/KEY} with
 *       {@code {"value":...}}, {@code GET /v1/kv/KEY} (linearizable), {@code POST
 *       /v1/kv/KEY/append}; HTTP/1.1, one keep-alive connection per client.
 *   <li>{@value #ETCD_HTTP}: etcd 3.4's JSON gateway: {@code POST /v3/kv/put} and {@code POST
 *       /v3/kv/range} (linearizable), keys and values base64; HTTP/1.1, one connection per client.
 *   <li>{@value #ETCD_GRPC}: etcd's own protocol, gRPC ({@code etcdserverpb.KV/Put} and {@code
 *       /Range}) over plaintext HTTP/2 with prior knowledge; by default one connection per client,
 *       or {@code connections} shared ones (HTTP/2 multiplexes the clients' requests).
 * </ul>
 */
public final class LoadTargets {
  public static final String RAFTKV_HTTP = "raftkv-http";
  public static final String ETCD_HTTP = "etcd-http";
  public static final String ETCD_GRPC = "etcd-grpc";
  public static final List<String> NAMES = List.of(RAFTKV_HTTP, ETCD_HTTP, ETCD_GRPC);

  /** How long a lost connection waits before it is opened again, and a request without one fails. */
  static final Duration BACKOFF = Duration.ofMillis(100);

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ContentType GRPC = ContentTypes.create(MediaTypes.applicationBinary("grpc", false));
  private static final HttpHeader TE_TRAILERS = RawHeader.create("te", "trailers");

  private LoadTargets() {}

  /** The target called {@code name} (one of {@link #NAMES}). */
  public static LoadTarget create(String name, LoadTarget.Settings settings) {
    return switch (name) {
      case RAFTKV_HTTP -> new RaftKvHttp(settings);
      case ETCD_HTTP -> new EtcdHttp(settings);
      case ETCD_GRPC -> new EtcdGrpcTarget(settings);
      default -> throw new IllegalArgumentException("unknown target '" + name + "' (known: " + String.join(", ", NAMES) + ")");
    };
  }

  /** One client's HTTP/1.1 connection, whichever client implements it. */
  private interface Http1 {
    void send(String method, String path, String contentType, byte[] body, Http1Connection.Judge judge, LoadTarget.Completion done);

    void close();
  }

  /** Opens and remembers the transport connections, to close them all after each run. */
  private abstract static class Base implements LoadTarget {
    final LoadTarget.Settings settings;
    private final List<Runnable> opened = new ArrayList<>();
    private NioHttpClient nio; // guarded by this; started by the first connection of the benchmark's own clients

    Base(LoadTarget.Settings settings) {
      this.settings = settings;
    }

    URI endpoint(int i) {
      return settings.endpoints().get(i % settings.endpoints().size());
    }

    synchronized PekkoConnection openPekko(int endpoint, boolean http2, int maxInFlight) {
      URI e = endpoint(endpoint);
      PekkoConnection c = new PekkoConnection(settings.system(), e.getHost(), e.getPort(), http2, maxInFlight, settings.timeout(), BACKOFF);
      opened.add(c::close);
      return c;
    }

    /** The I/O thread of the benchmark's own connections, started by the first. */
    synchronized NioHttpClient nio() {
      if (nio == null) nio = new NioHttpClient(settings.timeout(), BACKOFF);
      return nio;
    }

    /** An HTTP/2 connection of the benchmark's own client to endpoint {@code endpoint mod n}. */
    synchronized Http2Connection openHttp2(int endpoint) {
      URI e = endpoint(endpoint);
      Http2Connection c = nio().http2Connection(e.getHost(), e.getPort());
      opened.add(c::close);
      return c;
    }

    /** Client {@code client}'s own HTTP/1.1 connection to endpoint {@code client mod n}. */
    synchronized Http1 openHttp1(int client) {
      URI e = endpoint(client);
      if (settings.pekkoClient()) {
        PekkoConnection c = openPekko(client, false, 1);
        String base = "http://" + e.getHost() + ":" + e.getPort();
        return new Http1() {
          @Override
          public void send(String method, String path, String contentType, byte[] body, Http1Connection.Judge judge, LoadTarget.Completion done) {
            HttpRequest r = HttpRequest.create(base + path).withMethod(HttpMethods.lookup(method).orElseThrow());
            if (body != null) r = r.withEntity(ContentTypes.parse(contentType), body);
            c.send(r, answer -> {
              int status = answer.status().intValue();
              return answer.entity().getDataBytes().fold(ByteString.emptyByteString(), ByteString::concat)
                  .map(bytes -> orOk(judge.verdict(status, bytes.toArray())));
            }, done);
          }

          @Override
          public void close() {
            c.close();
          }
        };
      }
      Http1Connection c = nio().connection(e.getHost(), e.getPort());
      opened.add(c::close);
      return new Http1() {
        @Override
        public void send(String method, String path, String contentType, byte[] body, Http1Connection.Judge judge, LoadTarget.Completion done) {
          c.send(method, path, contentType, body, judge, done);
        }

        @Override
        public void close() {
          c.close();
        }
      };
    }

    @Override
    public void disconnect() {
      List<Runnable> all;
      synchronized (this) {
        all = List.copyOf(opened);
        opened.clear();
      }
      for (Runnable c : all) c.run();
    }

    @Override
    public void close() {
      disconnect();
      NioHttpClient n;
      synchronized (this) {
        n = nio;
        nio = null;
      }
      if (n != null) n.close();
    }
  }

  private static final String JSON_TYPE = "application/json";

  private static final class RaftKvHttp extends Base {
    RaftKvHttp(LoadTarget.Settings settings) {
      super(settings);
    }

    @Override
    public String name() {
      return RAFTKV_HTTP;
    }

    @Override
    public boolean supports(LoadOp op) {
      return true;
    }

    @Override
    public LoadTarget.Connection connect(int client, int clients) {
      Http1 c = openHttp1(client);
      return new LoadTarget.Connection() {
        @Override
        public void send(LoadOp op, String key, String value, LoadTarget.Completion done) {
          String path = "/v1/kv/" + URLEncoder.encode(key, StandardCharsets.UTF_8);
          switch (op) {
            case PUT -> c.send("PUT", path, JSON_TYPE, valueBody(value), RaftKvHttp::writeVerdict, done);
            case GET -> c.send("GET", path, null, null, RaftKvHttp::readVerdict, done);
            case APPEND -> c.send("POST", path + "/append", JSON_TYPE, valueBody(value), RaftKvHttp::writeVerdict, done);
          }
        }

        @Override
        public void close() {
          c.close();
        }
      };
    }

    private static byte[] valueBody(String value) {
      return ("{\"value\":" + jsonString(value) + "}").getBytes(StandardCharsets.UTF_8);
    }

    static String writeVerdict(int status, byte[] body) {
      return status == 200 ? null : httpError(status, errorField(body, "error"));
    }

    /** A read of a key never written (404 ErrNoKey) went through the log all the same: a success. */
    static String readVerdict(int status, byte[] body) {
      if (status == 200) return null;
      String error = errorField(body, "error");
      return status == 404 && error.equals("ErrNoKey") ? null : httpError(status, error);
    }
  }

  private static final class EtcdHttp extends Base {
    EtcdHttp(LoadTarget.Settings settings) {
      super(settings);
    }

    @Override
    public String name() {
      return ETCD_HTTP;
    }

    @Override
    public boolean supports(LoadOp op) {
      return op != LoadOp.APPEND;
    }

    @Override
    public LoadTarget.Connection connect(int client, int clients) {
      Http1 c = openHttp1(client);
      return new LoadTarget.Connection() {
        private final Base64Cache values = new Base64Cache();

        @Override
        public void send(LoadOp op, String key, String value, LoadTarget.Completion done) {
          String k = b64(key);
          switch (op) {
            case PUT -> c.send("POST", "/v3/kv/put", JSON_TYPE, utf8("{\"key\":\"" + k + "\",\"value\":\"" + values.of(value) + "\"}"), EtcdHttp::verdict, done);
            case GET -> c.send("POST", "/v3/kv/range", JSON_TYPE, utf8("{\"key\":\"" + k + "\"}"), EtcdHttp::verdict, done);
            case APPEND -> throw new IllegalArgumentException("etcd has no append");
          }
        }

        @Override
        public void close() {
          c.close();
        }
      };
    }

    static String verdict(int status, byte[] body) {
      if (status == 200) return null;
      String message = errorField(body, "message");
      return httpError(status, message.isEmpty() ? errorField(body, "error") : message);
    }
  }

  private static final class EtcdGrpcTarget extends Base {
    /**
     * etcd's default {@code --max-concurrent-streams} is 2^32-1, which pekko-http 1.3's HTTP/2
     * client reads into a signed int as -1: it then opens no stream beyond the two it had asked
     * for before the server's settings came, and every later request times out.
     */
    static final String STALL_HINT = " (is etcd running with --max-concurrent-streams below 2^31, e.g. 1000? its default stalls pekko-http's HTTP/2 client)";

    private final Map<Integer, Object> shared = new ConcurrentHashMap<>(); // PekkoConnection or Http2Connection

    EtcdGrpcTarget(LoadTarget.Settings settings) {
      super(settings);
    }

    @Override
    public String name() {
      return ETCD_GRPC;
    }

    @Override
    public boolean supports(LoadOp op) {
      return op != LoadOp.APPEND;
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
        return new LoadTarget.Connection() {
          @Override
          public void send(LoadOp op, String key, String value, LoadTarget.Completion done) {
            byte[] k = key.getBytes(StandardCharsets.UTF_8);
            switch (op) {
              case PUT -> c.send(EtcdGrpc.PUT_PATH, EtcdGrpc.frame(EtcdGrpc.putRequest(k, value.getBytes(StandardCharsets.UTF_8))), put, done);
              case GET -> c.send(EtcdGrpc.RANGE_PATH, EtcdGrpc.frame(EtcdGrpc.rangeRequest(k)), range, done);
              case APPEND -> throw new IllegalArgumentException("etcd has no append");
            }
          }

          @Override
          public void close() {
            // shared by several clients: closed with the target
          }
        };
      }
      PekkoConnection c = (PekkoConnection) shared.computeIfAbsent(index, i -> openPekko(i, true, perConnection));
      URI e = endpoint(index);
      String base = "http://" + e.getHost() + ":" + e.getPort();
      PekkoConnection.Judge put = r -> judgeGrpc(r, false);
      PekkoConnection.Judge range = r -> judgeGrpc(r, true);
      return new LoadTarget.Connection() {
        @Override
        public void send(LoadOp op, String key, String value, LoadTarget.Completion done) {
          byte[] k = key.getBytes(StandardCharsets.UTF_8);
          LoadTarget.Completion hinted = error -> done.completed(error != null && error.startsWith("timeout") ? error + STALL_HINT : error);
          switch (op) {
            case PUT -> c.send(call(base + EtcdGrpc.PUT_PATH, EtcdGrpc.putRequest(k, value.getBytes(StandardCharsets.UTF_8))), put, hinted);
            case GET -> c.send(call(base + EtcdGrpc.RANGE_PATH, EtcdGrpc.rangeRequest(k)), range, hinted);
            case APPEND -> throw new IllegalArgumentException("etcd has no append");
          }
        }

        @Override
        public void close() {
          // shared by several clients: closed with the target
        }
      };
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
      return answer.map(a -> orOk(a.verdict(status, r.getHeaders(), range)));
    }
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

  /** The base64 of the last value asked for: a client sends the same value again and again. */
  private static final class Base64Cache {
    private String value;
    private String encoded;

    synchronized String of(String v) {
      if (!v.equals(value)) {
        value = v;
        encoded = b64(v);
      }
      return encoded;
    }
  }

  static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  /** {@code s} as a JSON string literal; the benchmark's own values need no escapes (the fast path). */
  static String jsonString(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == '"' || c == '\\' || c > 0x7e) {
        try {
          return JSON.writeValueAsString(s);
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      }
    }
    return "\"" + s + "\"";
  }

  private static String orOk(String verdict) {
    return verdict == null ? PekkoConnection.OK : verdict;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String httpError(int status, String detail) {
    return "HTTP " + status + (detail.isEmpty() ? "" : " " + detail);
  }

  /** A string field of a JSON error body, or "" if there is none (or the body is no JSON). */
  static String errorField(byte[] body, String field) {
    try {
      JsonNode n = JSON.readTree(body);
      return n != null && n.path(field).isTextual() ? n.path(field).asText() : "";
    } catch (IOException e) {
      return "";
    }
  }
}
