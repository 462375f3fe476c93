package io.raftkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.Trailer;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.Materializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The etcd-grpc target's HTTP/2 clients (the benchmark's own and pekko-http's) against an in-JVM
 * stand-in for etcd's KV service
 * (pekko-http's HTTP/2 server, plaintext with prior knowledge): requests framed and encoded as
 * etcd expects, answers with trailers and trailers-only errors told apart.
 */
@Timeout(30)
class EtcdGrpcTargetTest {
  static final ActorTestKit testKit = ActorTestKit.create();
  static final Map<String, String> store = new ConcurrentHashMap<>();
  static final Map<String, String> seenHeaders = new ConcurrentHashMap<>();
  static ServerBinding binding;

  @BeforeAll
  static void start() {
    Materializer mat = Materializer.matFromSystem(testKit.system());
    binding =
        Http.get(testKit.system())
            .newServerAt("127.0.0.1", 0)
            .adaptSettings(s -> s.withEnableHttp2(true))
            .bind((org.apache.pekko.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>>) req -> serve(req, mat))
            .toCompletableFuture()
            .join();
  }

  @AfterAll
  static void done() {
    binding.unbind().toCompletableFuture().join();
    testKit.shutdownTestKit();
  }

  /** Put stores, Range answers a header and the key's count; the key "unavailable" fails. */
  private static CompletionStage<HttpResponse> serve(HttpRequest req, Materializer mat) {
    seenHeaders.put("content-type", req.entity().getContentType().toString());
    req.getHeader("te").ifPresent(h -> seenHeaders.put("te", h.value()));
    return req.entity().toStrict(5000, mat).thenApply(e -> {
      byte[] message = EtcdGrpc.unframe(e.getData().toArray());
      // field 1 (key), then for Put field 2 (value); one-byte lengths suffice here
      String key = new String(message, 2, message[1], StandardCharsets.UTF_8);
      if (key.equals("unavailable")) {
        // trailers-only: the status in the headers, no body
        return HttpResponse.create()
            .addHeader(RawHeader.create("grpc-status", "14"))
            .addHeader(RawHeader.create("grpc-message", "etcdserver:%20no%20leader"))
            .withEntity(ContentTypes.create(MediaTypes.applicationBinary("grpc", false)), new byte[0]);
      }
      byte[] header = {0x0a, 4, 0x18, 7, 0x20, 2}; // ResponseHeader{revision: 7, raft_term: 2}
      byte[] answer;
      if (req.getUri().path().equals(EtcdGrpc.PUT_PATH)) {
        int at = 2 + message[1];
        store.put(key, new String(message, at + 2, message[at + 1], StandardCharsets.UTF_8));
        answer = header;
      } else {
        answer = new byte[header.length + 2];
        System.arraycopy(header, 0, answer, 0, header.length);
        answer[header.length] = 0x20; // count = 1 or 0
        answer[header.length + 1] = (byte) (store.containsKey(key) ? 1 : 0);
      }
      return HttpResponse.create()
          .withEntity(ContentTypes.create(MediaTypes.applicationBinary("grpc", false)), EtcdGrpc.frame(answer))
          .addAttribute(AttributeKeys.trailer, Trailer.create().addHeader(RawHeader.create("grpc-status", "0")));
    });
  }

  private static String send(LoadTarget.Connection c, LoadOp op, String key, String value) throws Exception {
    CompletableFuture<String> done = new CompletableFuture<>();
    c.send(op, key, value, error -> done.complete(error == null ? "ok" : error));
    return done.get(10, TimeUnit.SECONDS);
  }

  @Test
  void putsAndRangesAreAnsweredOverSharedAndOwnConnectionsByBothClients() throws Exception {
    URI endpoint = URI.create("http://127.0.0.1:" + binding.localAddress().getPort());
    for (boolean pekko : new boolean[] {false, true}) for (int connections : new int[] {0, 1}) {
      store.clear();
      try (LoadTarget t = LoadTargets.create("etcd-grpc", new LoadTarget.Settings(testKit.system(), List.of(endpoint), Duration.ofSeconds(5), connections, pekko))) {
        LoadTarget.Connection a = t.connect(0, 2);
        LoadTarget.Connection b = t.connect(1, 2);
        for (int i = 0; i < 5; i++) { // more than the two streams a stalled HTTP/2 client would open
          assertEquals("ok", send(a, LoadOp.PUT, "k" + i, "v" + i));
          assertEquals("ok", send(b, LoadOp.GET, "k" + i, null));
        }
        assertEquals("v4", store.get("k4"));
        assertEquals("grpc-status 14 etcdserver: no leader", send(a, LoadOp.PUT, "unavailable", "x"));
        assertEquals("ok", send(a, LoadOp.GET, "k0", null), "the connection survives an error");
      }
    }
    assertEquals("application/grpc", seenHeaders.get("content-type"));
    assertEquals("trailers", seenHeaders.get("te"));
    assertNull(store.get("unavailable"));
  }
}
