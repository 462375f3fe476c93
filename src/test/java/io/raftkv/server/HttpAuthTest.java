package io.raftkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.raftkv.server.HttpAuth.Decision;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bearer tokens on the HTTP API: the decision table on its own, then every route with every kind
 * of token against a one-replica group ({@link HttpTestGroup}) served with tokens.
 */
@Timeout(60)
class HttpAuthTest {
  static final ActorTestKit testKit = ActorTestKit.create();
  static final ObjectMapper JSON = new ObjectMapper();
  static final String WRITE = "write-token-0123456789";
  static final String READ = "read-token-0123456789";
  static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  static HttpTestGroup group;
  static final List<HttpApi.Binding> bindings = new ArrayList<>();
  static String open; // status and metrics open
  static String closed; // every route needs a token

  @BeforeAll
  static void start() throws Exception {
    group = new HttpTestGroup(testKit, 1, HttpApi.Limits.defaults(), Duration.ofSeconds(5));
    open = bind(HttpAuth.of(List.of(READ), List.of(WRITE), true));
    closed = bind(HttpAuth.of(List.of(READ), List.of(WRITE), false));
    // the one replica elects itself; then the key "k" exists
    long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (send(open, "PUT", "/v1/kv/k", WRITE).statusCode() != 200) {
      if (System.nanoTime() > until) throw new AssertionError("the replica never took a write");
      Thread.sleep(50);
    }
  }

  private static String bind(HttpAuth auth) {
    HttpApi.Binding b = group.api(0).withAuth(auth).bind(testKit.system(), "127.0.0.1", 0).toCompletableFuture().join();
    bindings.add(b);
    return "http://127.0.0.1:" + b.localAddress().getPort();
  }

  @AfterAll
  static void done() {
    for (HttpApi.Binding b : bindings) b.unbind().toCompletableFuture().join();
    if (group != null) group.unbind();
    testKit.shutdownTestKit();
  }

  // ---------------------------------------------------------------- the decision alone

  @Test
  void theDecisionTable() {
    HttpAuth auth = HttpAuth.of(List.of(READ), List.of(WRITE), true);
    Optional<String> none = Optional.empty();
    Optional<String> read = Optional.of("Bearer " + READ);
    Optional<String> write = Optional.of("bearer  " + WRITE); // the scheme in any case
    Optional<String> bogus = Optional.of("Bearer " + WRITE + "x");
    Optional<String> basic = Optional.of("Basic " + WRITE);
    assertEquals(Decision.NO_TOKEN, auth.decide("GET", "/v1/kv/k", none));
    assertEquals(Decision.NO_TOKEN, auth.decide("GET", "/v1/kv/k", basic));
    assertEquals(Decision.NO_TOKEN, auth.decide("GET", "/v1/kv/k", Optional.of("Bearer ")));
    assertEquals(Decision.INVALID_TOKEN, auth.decide("GET", "/v1/kv/k", bogus));
    assertEquals(Decision.INVALID_TOKEN, auth.decide("GET", "/v1/kv/k", Optional.of("Bearer " + WRITE.substring(1))));
    assertEquals(Decision.ALLOW, auth.decide("GET", "/v1/kv/k", read));
    assertEquals(Decision.ALLOW, auth.decide("HEAD", "/v1/kv/k", read));
    assertEquals(Decision.ALLOW, auth.decide("GET", "/v1/kv/k", write));
    for (String m : List.of("PUT", "POST", "DELETE", "PATCH", "OPTIONS")) {
      assertEquals(Decision.FORBIDDEN, auth.decide(m, "/v1/kv/k", read), m);
      assertEquals(Decision.ALLOW, auth.decide(m, "/v1/kv/k", write), m);
    }
    assertEquals(Decision.ALLOW, auth.decide("GET", "/v1/status", none));
    assertEquals(Decision.ALLOW, auth.decide("GET", "/metrics", bogus));
    assertEquals(Decision.NO_TOKEN, auth.decide("POST", "/v1/status", none), "only GET is open");
    assertEquals(Decision.NO_TOKEN, auth.decide("GET", "/v1/status/", none));
    HttpAuth closedAuth = HttpAuth.of(List.of(), List.of(WRITE), false);
    assertEquals(Decision.NO_TOKEN, closedAuth.decide("GET", "/v1/status", none));
    assertEquals(Decision.INVALID_TOKEN, closedAuth.decide("GET", "/v1/status", read), "no read tokens configured");
  }

  @Test
  void shortOrMalformedTokensAndNoWriteTokenAreRefused(@TempDir Path dir) throws Exception {
    assertThrows(IllegalArgumentException.class, () -> HttpAuth.of(List.of(), List.of("short"), true));
    assertThrows(IllegalArgumentException.class, () -> HttpAuth.of(List.of("has space in it 0123"), List.of(WRITE), true));
    assertThrows(IllegalArgumentException.class, () -> HttpAuth.of(List.of(READ), List.of(), true));
    Path bad = TlsFixtures.tokenFile(dir.resolve("bad"), "tooshort");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HttpAuth.readTokenFile(bad));
    assertTrue(e.getMessage().contains("line 3") && !e.getMessage().contains("tooshort"), "names the line, not the token: " + e.getMessage());
    Path write = TlsFixtures.tokenFile(dir.resolve("write"), WRITE, "  second-token-0123456789  ");
    assertEquals(List.of(WRITE, "second-token-0123456789"), HttpAuth.readTokenFile(write));
    Path empty = TlsFixtures.tokenFile(dir.resolve("empty"));
    assertThrows(IllegalArgumentException.class, () -> HttpAuth.fromFiles(null, empty, true));
    HttpAuth fromConfig =
        HttpAuth.fromConfig(ConfigFactory.parseMap(Map.of("write-token-file", write.toString(), "open-node-endpoints", false)));
    assertEquals(Decision.ALLOW, fromConfig.decide("PUT", "/v1/kv/k", Optional.of("Bearer second-token-0123456789")));
    assertEquals(Decision.NO_TOKEN, fromConfig.decide("GET", "/metrics", Optional.empty()));
    assertEquals(null, HttpAuth.fromConfig(ConfigFactory.parseMap(Map.of("enabled", false))));
    assertTrue(Files.exists(write));
  }

  // ---------------------------------------------------------------- every route, every token

  /** One row: a request and its status without a token, with an unknown one, a read and a write token. */
  record Row(String method, String path, int none, int bogus, int read, int write) {}

  @Test
  void everyRouteWithEveryKindOfToken() throws Exception {
    List<Row> table =
        List.of(
            new Row("GET", "/v1/kv/k", 401, 401, 200, 200),
            new Row("GET", "/v1/kv/absent", 401, 401, 404, 404),
            new Row("PUT", "/v1/kv/k", 401, 401, 403, 200),
            new Row("POST", "/v1/kv/k/append", 401, 401, 403, 200),
            new Row("DELETE", "/v1/kv/absent", 401, 401, 403, 404),
            // no transfer wired into this API: 503 once past the token check
            new Row("POST", "/v1/leader/transfer", 401, 401, 403, 503),
            new Row("GET", "/v1/status", 200, 200, 200, 200),
            new Row("GET", "/metrics", 200, 200, 200, 200),
            new Row("GET", "/no/such/path", 401, 401, 404, 404),
            new Row("POST", "/v1/status", 401, 401, 403, 405));
    for (Row r : table) {
      check(open, r, null, r.none());
      check(open, r, "bogus-token-0123456789", r.bogus());
      check(open, r, READ, r.read());
      check(open, r, WRITE, r.write());
    }
    // with the node endpoints protected too
    check(closed, new Row("GET", "/v1/status", 0, 0, 0, 0), null, 401);
    check(closed, new Row("GET", "/metrics", 0, 0, 0, 0), null, 401);
    check(closed, new Row("GET", "/v1/status", 0, 0, 0, 0), READ, 200);
    check(closed, new Row("GET", "/metrics", 0, 0, 0, 0), WRITE, 200);
  }

  @Test
  void refusalsCarryTheChallengeAndAJsonError() throws Exception {
    HttpResponse<String> none = send(open, "GET", "/v1/kv/k", null);
    assertEquals("Bearer realm=\"raftkv\"", none.headers().firstValue("WWW-Authenticate").orElse(null));
    assertEquals("{\"error\":\"Unauthorized\"}", none.body());
    assertTrue(none.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
    HttpResponse<String> bogus = send(open, "GET", "/v1/kv/k", "bogus-token-0123456789");
    assertTrue(bogus.headers().firstValue("WWW-Authenticate").orElse("").replace("\"", "").contains("error=invalid_token"), bogus.headers().toString());
    assertEquals("{\"error\":\"Unauthorized\"}", bogus.body());
    HttpResponse<String> forbidden = send(open, "PUT", "/v1/kv/k", READ);
    JsonNode f = JSON.readTree(forbidden.body());
    assertEquals("Forbidden", f.get("error").textValue());
    assertTrue(forbidden.headers().firstValue("WWW-Authenticate").isEmpty());
  }

  private static void check(String endpoint, Row r, String token, int expected) throws Exception {
    HttpResponse<String> a = send(endpoint, r.method(), r.path(), token);
    String kind = token == null ? "no token" : token.equals(READ) ? "read token" : token.equals(WRITE) ? "write token" : "unknown token";
    assertEquals(expected, a.statusCode(), r.method() + " " + r.path() + " with " + kind + ": " + a.body());
  }

  private static HttpResponse<String> send(String endpoint, String method, String path, String token) throws Exception {
    boolean body = method.equals("PUT") || (method.equals("POST") && path.endsWith("/append"));
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(endpoint + path))
            .timeout(Duration.ofSeconds(10))
            .method(method, body ? HttpRequest.BodyPublishers.ofString("{\"value\":\"v\"}") : HttpRequest.BodyPublishers.noBody());
    if (token != null) b.header("Authorization", "Bearer " + token);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
