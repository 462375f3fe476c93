package io.raftkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.raftkv.client.KvClient;
import io.raftkv.rsm.Rsm;
import io.raftkv.raft.RaftPeer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The HTTP API of a 3-replica group (direct in-memory transport), driven by java.net.http: every
 * endpoint, every error, exactly-once retries across nodes, and loss of quorum.
 */
@Timeout(120)
class HttpApiTest {
  static final ActorTestKit testKit = ActorTestKit.create();
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpApi.Limits LIMITS = new HttpApi.Limits(64, 1024);
  static final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  static HttpTestGroup group;

  @BeforeAll
  static void start() {
    group = new HttpTestGroup(testKit, 3, LIMITS, Duration.ofSeconds(5));
  }

  @AfterAll
  static void done() {
    if (group != null) group.unbind();
    testKit.shutdownTestKit();
  }

  // ---------------------------------------------------------------- helpers

  record Answer(int status, String text, HttpResponse<String> raw) {
    JsonNode json() {
      try {
        return JSON.readTree(text);
      } catch (IOException e) {
        throw new AssertionError("not JSON (" + status + "): " + text, e);
      }
    }

    String error() {
      return json().path("error").asText(null);
    }

    long version() {
      JsonNode v = json().get("version");
      assertNotNull(v, "no version in " + text);
      return v.asLong();
    }
  }

  static Answer send(HttpRequest.Builder b) {
    try {
      HttpResponse<String> r = http.send(b.timeout(Duration.ofSeconds(30)).build(), BodyHandlers.ofString());
      return new Answer(r.statusCode(), r.body(), r);
    } catch (IOException e) {
      throw new AssertionError(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  static URI uri(int node, String rawPath) {
    return URI.create(group.endpoint(node) + rawPath);
  }

  static String kvPath(String key) {
    return "/v1/kv/" + encode(key);
  }

  /** Percent-encodes every byte of the UTF-8 form but letters, digits and "-_~" (dots too: "." and ".." are dot-segments otherwise). */
  static String encode(String s) {
    StringBuilder sb = new StringBuilder();
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      char c = (char) (b & 0xff);
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "-_~".indexOf(c) >= 0) {
        sb.append(c);
      } else {
        sb.append('%').append(String.format("%02X", b & 0xff));
      }
    }
    return sb.toString();
  }

  static Answer get(int node, String key) {
    return send(HttpRequest.newBuilder(uri(node, kvPath(key))).GET());
  }

  static Answer put(int node, String key, String jsonBody) {
    return send(HttpRequest.newBuilder(uri(node, kvPath(key))).PUT(BodyPublishers.ofString(jsonBody)));
  }

  static Answer append(int node, String key, String jsonBody) {
    return send(HttpRequest.newBuilder(uri(node, kvPath(key) + "/append")).POST(BodyPublishers.ofString(jsonBody)));
  }

  static Answer delete(int node, String key, String query) {
    return send(HttpRequest.newBuilder(uri(node, kvPath(key) + query)).DELETE());
  }

  static Answer raw(int node, String method, String rawPath, String body) {
    HttpRequest.BodyPublisher p = body == null ? BodyPublishers.noBody() : BodyPublishers.ofString(body);
    return send(HttpRequest.newBuilder(uri(node, rawPath)).method(method, p));
  }

  static String value(String v) {
    return JSON.createObjectNode().put("value", v).toString();
  }

  static void assertAnswer(int status, String error, Answer a) {
    assertEquals(status, a.status(), a.text());
    assertEquals("application/json", a.raw().headers().firstValue("Content-Type").orElse(""), a.text());
    assertEquals(error, a.error(), a.text());
  }

  // ---------------------------------------------------------------- KV endpoints

  @Test
  void getOfAnAbsentKeyIs404() {
    assertAnswer(404, "ErrNoKey", get(0, "absent"));
  }

  @Test
  void unconditionalPutCreatesAndOverwritesAndAnyNodeReadsIt() {
    Answer created = put(0, "u", value("one"));
    assertEquals(200, created.status(), created.text());
    assertEquals(1, created.version());
    assertEquals(2, put(1, "u", value("two")).version());
    for (int node = 0; node < 3; node++) {
      Answer a = get(node, "u");
      assertEquals(200, a.status());
      assertEquals(JSON.createObjectNode().put("key", "u").put("value", "two").put("version", 2), a.json());
    }
  }

  @Test
  void conditionalPutFollowsTheVersionRules() {
    assertEquals(1, put(0, "c", "{\"value\":\"a\",\"version\":0}").version()); // 0 = create if absent
    Answer conflict = put(0, "c", "{\"value\":\"b\",\"version\":0}");
    assertAnswer(409, "ErrVersion", conflict);
    assertEquals(1, conflict.version());
    assertEquals(2, put(2, "c", "{\"value\":\"b\",\"version\":1}").version());
    Answer stale = put(1, "c", "{\"value\":\"x\",\"version\":1}");
    assertAnswer(409, "ErrVersion", stale);
    assertEquals(2, stale.version());
    assertAnswer(404, "ErrNoKey", put(0, "c-absent", "{\"value\":\"a\",\"version\":3}"));
    assertAnswer(404, "ErrNoKey", get(0, "c-absent"));
    assertEquals("b", get(0, "c").json().get("value").asText());
  }

  @Test
  void appendCreatesThenExtends() {
    assertEquals(1, append(0, "ap", value("x")).version());
    assertEquals(2, append(1, "ap", value("yz")).version());
    Answer a = get(2, "ap");
    assertEquals("xyz", a.json().get("value").asText());
    assertEquals(2, a.version());
  }

  @Test
  void deleteIsUnconditionalOrVersioned() {
    assertAnswer(404, "ErrNoKey", delete(0, "d", ""));
    put(0, "d", value("v"));
    put(0, "d", value("w"));
    Answer conflict = delete(0, "d", "?version=1");
    assertAnswer(409, "ErrVersion", conflict);
    assertEquals(2, conflict.version());
    Answer deleted = delete(1, "d", "?version=2");
    assertEquals(200, deleted.status(), deleted.text());
    assertTrue(deleted.json().get("deleted").asBoolean());
    assertAnswer(404, "ErrNoKey", get(0, "d"));
    assertEquals(1, put(0, "d", value("again")).version()); // a re-created key starts over
    assertEquals(200, delete(2, "d", "").status());
    assertAnswer(404, "ErrNoKey", get(0, "d"));
  }

  @Test
  void keysMayHoldAnyUnicodeIncludingSlashesAndReservedCharacters() {
    // "." and ".." are the exception: as path segments they are dot-segments, even percent-encoded
    List<String> keys =
        List.of("ключ", "空 間", "a/b", "?x=1&y#z", "%41", "emoji \uD83D\uDE00", "tab\tnewline\n", "...", "a/..", "+ &=;");
    for (String key : keys) {
      Answer w = put(0, key, value("v:" + key));
      assertEquals(200, w.status(), key + ": " + w.text());
      Answer r = get(1, key);
      assertEquals(200, r.status(), key + ": " + r.text());
      assertEquals(key, r.json().get("key").asText());
      assertEquals("v:" + key, r.json().get("value").asText());
    }
    assertAnswer(404, "ErrNoKey", get(0, "A")); // "%41" was stored as the three characters, not as "A"
  }

  // ---------------------------------------------------------------- exactly-once

  @Test
  void aRetriedAppendWithTheSameClientAndSeqIsAppliedOnceOnAnyNode() {
    long client = 0x1234_5678_9abc_def0L;
    String body = "{\"value\":\"+\",\"client\":" + client + ",\"seq\":1}";
    Answer first = append(0, "once", body);
    assertEquals(200, first.status(), first.text());
    Answer retry = append(1, "once", body); // e.g. the answer was lost and the client tried another node
    assertEquals(first.json(), retry.json());
    Answer sameAgain = send(
        HttpRequest.newBuilder(uri(2, kvPath("once") + "/append?client=" + client + "&seq=1"))
            .POST(BodyPublishers.ofString(value("+"))));
    assertEquals(first.json(), sameAgain.json());
    assertEquals("+", get(0, "once").json().get("value").asText());

    assertEquals(2, append(2, "once", "{\"value\":\"+\",\"client\":\"" + client + "\",\"seq\":2}").version());
    assertEquals("++", get(0, "once").json().get("value").asText());
  }

  @Test
  void retriedUnconditionalPutsAndDeletesAreExactlyOnceToo() {
    long client = -42; // any non-zero 64-bit id
    String put = "{\"value\":\"p\",\"client\":" + client + ",\"seq\":7}";
    assertEquals(1, put(0, "once-put", put).version());
    assertEquals(1, put(1, "once-put", put).version()); // not a second write
    assertEquals(1, get(2, "once-put").version());

    String session = "?client=" + client + "&seq=8";
    assertEquals(200, delete(0, "once-put", session).status());
    Answer retried = delete(2, "once-put", session);
    assertEquals(200, retried.status(), "the retry gets the first answer, not ErrNoKey: " + retried.text());
    assertAnswer(404, "ErrNoKey", get(0, "once-put"));
  }

  @Test
  void aSeqBelowTheSessionsLatestIs409ErrStaleSeqAndNotExecuted() {
    long client = 0x0bad_5eedL;
    assertEquals(1, append(0, "stale", "{\"value\":\"b\",\"client\":" + client + ",\"seq\":2}").version());
    Answer stale = append(1, "stale", "{\"value\":\"a\",\"client\":" + client + ",\"seq\":1}");
    assertAnswer(409, "ErrStaleSeq", stale);
    assertEquals(2, stale.json().get("seq").asLong(), "the session's latest seq");
    assertAnswer(409, "ErrStaleSeq", delete(2, "stale", "?client=" + client + "&seq=1"));
    assertEquals("b", get(0, "stale").json().get("value").asText(), "nothing executed");
    assertTrue(group.api(1).metrics().count(Metrics.Op.APPEND, Metrics.Outcome.STALE_SEQ) >= 1);
  }

  @Test
  void anOverloadedLeaderIsAFast503Busy() {
    // a Clerk whose leader refuses every op as Busy (what Rsm.Admission does beyond its limits)
    KvClient busyClerk =
        new KvClient(
            (server, op) -> CompletableFuture.completedFuture(Rsm.Result.Busy.INSTANCE),
            3,
            new KvClient.Settings(Duration.ofMillis(20), Duration.ofSeconds(5)));
    HttpApi api =
        new HttpApi(
            busyClerk, () -> CompletableFuture.failedFuture(new IllegalStateException("no raft")), LIMITS,
            Duration.ofSeconds(5), new Metrics());
    HttpApi.Binding binding = api.bind(testKit.system(), "127.0.0.1", 0).toCompletableFuture().join();
    try {
      String base = "http://127.0.0.1:" + binding.localAddress().getPort();
      long start = System.nanoTime();
      assertAnswer(503, "Busy", send(HttpRequest.newBuilder(URI.create(base + kvPath("k"))).GET()));
      assertAnswer(
          503, "Busy", send(HttpRequest.newBuilder(URI.create(base + kvPath("k"))).PUT(BodyPublishers.ofString(value("v")))));
      assertAnswer(
          503,
          "Busy",
          send(HttpRequest.newBuilder(URI.create(base + kvPath("k") + "/append")).POST(BodyPublishers.ofString(value("v")))));
      assertTrue(System.nanoTime() - start < Duration.ofSeconds(2).toNanos(), "fast, not at the 5 s deadline");
      assertEquals(1, api.metrics().count(Metrics.Op.GET, Metrics.Outcome.BUSY));
      assertEquals(1, api.metrics().count(Metrics.Op.PUT, Metrics.Outcome.BUSY));
    } finally {
      binding.unbind().toCompletableFuture().join();
    }
  }

  @Test
  void concurrentWritesWithoutSessionsAreEachAppliedOnce() throws Exception {
    // They share the node's Clerk; each must get a session of its own, or the store would take one
    // for a retransmission of another and skip it.
    int writes = 24;
    List<CompletableFuture<HttpResponse<String>>> inFlight = new ArrayList<>();
    for (int i = 0; i < writes; i++) {
      HttpRequest r =
          HttpRequest.newBuilder(uri(i % 2, kvPath("concurrent") + "/append"))
              .timeout(Duration.ofSeconds(30))
              .POST(BodyPublishers.ofString(value("x")))
              .build();
      inFlight.add(http.sendAsync(r, BodyHandlers.ofString()));
    }
    Set<Long> versions = new TreeSet<>();
    for (CompletableFuture<HttpResponse<String>> f : inFlight) {
      HttpResponse<String> r = f.get();
      assertEquals(200, r.statusCode(), r.body());
      versions.add(JSON.readTree(r.body()).get("version").asLong());
    }
    assertEquals(writes, versions.size(), "every append saw its own version: " + versions);
    Answer a = get(0, "concurrent");
    assertEquals("x".repeat(writes), a.json().get("value").asText());
    assertEquals(writes, a.version());
  }

  // ---------------------------------------------------------------- bad input

  @Test
  void malformedRequestsAre400AndNeverReachTheStore() {
    String key = "bad";
    List<String> badPutBodies =
        List.of(
            "",
            "{",
            "not json",
            "[\"value\"]",
            "\"value\"",
            "null",
            "{}",
            "{\"value\":1}",
            "{\"value\":null}",
            "{\"value\":[\"a\"]}",
            "{\"value\":\"a\",\"version\":\"1\"}",
            "{\"value\":\"a\",\"version\":-1}",
            "{\"value\":\"a\",\"version\":1.5}",
            "{\"value\":\"a\",\"version\":99999999999999999999}",
            "{\"value\":\"a\",\"version\":true}",
            "{\"value\":\"a\",\"verison\":1}",
            "{\"value\":\"a\",\"value\":\"b\"}",
            "{\"value\":\"a\"} {}",
            "{\"value\":\"\\uD800\"}",
            "{\"value\":\"a\",\"client\":5}",
            "{\"value\":\"a\",\"seq\":1}",
            "{\"value\":\"a\",\"client\":0,\"seq\":1}",
            "{\"value\":\"a\",\"client\":5,\"seq\":0}",
            "{\"value\":\"a\",\"client\":5,\"seq\":-3}",
            "{\"value\":\"a\",\"client\":\"five\",\"seq\":1}",
            "{\"value\":\"a\",\"client\":1.5,\"seq\":1}");
    for (String body : badPutBodies) {
      Answer a = put(0, key, body);
      assertAnswer(400, "BadRequest", a);
      assertFalse(a.json().path("message").asText().isEmpty(), "a message for " + body);
    }
    for (String body : List.of("{\"value\":\"a\",\"version\":1}", "{}", "{\"value\":7}")) {
      assertAnswer(400, "BadRequest", append(0, key, body));
    }
    for (String query : List.of("?version=abc", "?version=-1", "?version=", "?version=1.0", "?version=1&version=2",
        "?force=true", "?client=3", "?client=3&seq=x")) {
      assertAnswer(400, "BadRequest", delete(0, key, query));
    }
    assertAnswer(400, "BadRequest", send(
        HttpRequest.newBuilder(uri(0, kvPath(key) + "/append?client=3&seq=1"))
            .POST(BodyPublishers.ofString("{\"value\":\"a\",\"client\":3,\"seq\":1}"))));
    assertAnswer(400, "BadRequest", send(HttpRequest.newBuilder(uri(0, kvPath(key) + "?version=1")).GET()));
    // empty keys
    assertAnswer(400, "BadRequest", raw(0, "GET", "/v1/kv/", null));
    assertAnswer(400, "BadRequest", raw(0, "PUT", "/v1/kv", value("a")));
    assertAnswer(400, "BadRequest", raw(0, "POST", "/v1/kv//append", value("a")));
    // nothing happened
    assertAnswer(404, "ErrNoKey", get(1, key));
    assertTrue(group.api(0).metrics().count(Metrics.Op.PUT, Metrics.Outcome.BAD_REQUEST) >= badPutBodies.size());
  }

  @Test
  void invalidUtf8InABodyIs400() {
    byte[] body = {'{', '"', 'v', 'a', 'l', 'u', 'e', '"', ':', '"', (byte) 0xff, '"', '}'};
    Answer a = send(HttpRequest.newBuilder(uri(0, kvPath("bad-utf8"))).PUT(BodyPublishers.ofByteArray(body)));
    assertAnswer(400, "BadRequest", a);
    assertEquals("the body is not valid UTF-8 (at byte 10)", a.json().path("message").asText(), a.text());
    assertAnswer(404, "ErrNoKey", get(1, "bad-utf8"));
  }

  @Test
  void oversizedKeysAndValuesAre413ByUtf8Bytes() {
    String keyAtLimit = "é".repeat(LIMITS.maxKeyBytes() / 2); // 2 bytes each
    assertEquals(200, put(0, keyAtLimit, value("ok")).status());
    String keyOver = "é".repeat(LIMITS.maxKeyBytes() / 2) + "a"; // 33 characters, 65 bytes
    assertAnswer(413, "TooLarge", put(0, keyOver, value("v")));
    assertAnswer(413, "TooLarge", get(0, keyOver));
    assertAnswer(413, "TooLarge", append(0, keyOver, value("v")));
    assertAnswer(413, "TooLarge", delete(0, keyOver, ""));

    String valueAtLimit = "€".repeat(LIMITS.maxValueBytes() / 3) + "x"; // 341*3+1 = 1024 bytes
    assertEquals(200, put(0, "big", value(valueAtLimit)).status());
    assertAnswer(413, "TooLarge", put(0, "big", value(valueAtLimit + "y")));
    assertAnswer(413, "TooLarge", append(0, "big", value(valueAtLimit + "y")));
    // a body beyond any valid request is cut off while it is read
    assertAnswer(413, "TooLarge", put(0, "big", value("z".repeat(20 * LIMITS.maxValueBytes()))));
    assertEquals(valueAtLimit, get(1, "big").json().get("value").asText());
    assertTrue(group.api(0).metrics().count(Metrics.Op.PUT, Metrics.Outcome.TOO_LARGE) >= 3);
  }

  @Test
  void defaultLimitsAre4KiBKeysAnd1MiBValues() {
    assertEquals(new HttpApi.Limits(4096, 1 << 20), HttpApi.Limits.defaults());
  }

  @Test
  void unknownPathsAre404AndWrongMethods405WithAllow() {
    for (String path : List.of("/", "/v1", "/v2/kv/x", "/v1/nope", "/v1/kv/x/y", "/v1/kv/x/append/z", "/metrics/x")) {
      assertAnswer(404, "NotFound", raw(0, "GET", path, null));
    }
    Answer post = raw(0, "POST", "/v1/kv/x", value("a"));
    assertAnswer(405, "MethodNotAllowed", post);
    Set<String> allowed = new TreeSet<>(List.of(post.raw().headers().firstValue("Allow").orElse("").split(",\\s*")));
    assertEquals(new TreeSet<>(List.of("GET", "PUT", "DELETE")), allowed);
    Answer getAppend = raw(0, "GET", "/v1/kv/x/append", null);
    assertAnswer(405, "MethodNotAllowed", getAppend);
    assertEquals("POST", getAppend.raw().headers().firstValue("Allow").orElse(""));
    assertAnswer(405, "MethodNotAllowed", raw(0, "DELETE", "/v1/status", null));
    assertAnswer(405, "MethodNotAllowed", raw(0, "PUT", "/metrics", "x"));
    assertAnswer(404, "ErrNoKey", get(0, "x")); // none of that wrote anything
  }

  // ---------------------------------------------------------------- status and metrics

  @Test
  void statusShowsEachNodesRaftState() {
    put(0, "s", value("v")); // a committed entry, so there is a leader known to all
    int leaders = 0;
    for (int node = 0; node < 3; node++) {
      Answer a = raw(node, "GET", "/v1/status", null);
      assertEquals(200, a.status(), a.text());
      JsonNode s = a.json();
      assertEquals(node, s.get("id").asInt());
      String role = s.get("role").asText();
      assertTrue(Set.of("leader", "follower", "candidate").contains(role), role);
      if (role.equals("leader")) {
        leaders++;
        assertEquals(node, s.get("leader").asInt());
      }
      assertTrue(s.get("term").asLong() >= 1);
      long commit = s.get("commitIndex").asLong();
      long applied = s.get("appliedIndex").asLong();
      long last = s.get("lastLogIndex").asLong();
      assertTrue(applied <= commit && commit <= last, s.toString());
      assertTrue(s.get("raftStateBytes").asLong() > 0, s.toString());
      assertTrue(s.has("snapshotBytes") && s.has("snapshotIndex"), s.toString());
    }
    assertTrue(leaders <= 1, "at most one leader among the answers");
  }

  static final Pattern SAMPLE =
      Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"[^\"]*\",?)*\\})? (-?[0-9.eE+-]+|\\+Inf|NaN)$");

  @Test
  void metricsAreValidPrometheusTextWithRaftGaugesAndRequestCounts() {
    put(2, "m", value("v"));
    get(2, "m");
    get(2, "m-absent");
    Answer a = raw(2, "GET", "/metrics", null);
    assertEquals(200, a.status());
    assertTrue(a.raw().headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
    for (String line : a.text().split("\n")) {
      if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) continue;
      assertTrue(SAMPLE.matcher(line).matches(), "not a sample line: " + line);
    }
    assertEquals(1, sample(a.text(), "raftkv_up"));
    assertEquals(2, sample(a.text(), "raftkv_raft_node_id"));
    assertTrue(sample(a.text(), "raftkv_raft_term") >= 1);
    // this node may be a follower that has not yet heard of the latest commit: no exact values
    assertTrue(sample(a.text(), "raftkv_raft_commit_index") >= sample(a.text(), "raftkv_raft_applied_index"));
    double roles = 0;
    for (String role : List.of("leader", "follower", "candidate")) roles += sample(a.text(), "raftkv_raft_role{role=\"" + role + "\"}");
    assertEquals(1, roles);
    assertTrue(sample(a.text(), "raftkv_http_requests_total{op=\"put\",outcome=\"ok\"}") >= 1);
    assertTrue(sample(a.text(), "raftkv_http_requests_total{op=\"get\",outcome=\"ok\"}") >= 1);
    assertTrue(sample(a.text(), "raftkv_http_requests_total{op=\"get\",outcome=\"no_key\"}") >= 1);
    double gets = sample(a.text(), "raftkv_http_request_duration_seconds_count{op=\"get\"}");
    assertTrue(gets >= 2);
    assertEquals(gets, sample(a.text(), "raftkv_http_request_duration_seconds_bucket{op=\"get\",le=\"+Inf\"}"));
  }

  static double sample(String text, String series) {
    Matcher m = Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE).matcher(text);
    assertTrue(m.find(), "no sample " + series);
    return Double.parseDouble(m.group(1));
  }

  // ---------------------------------------------------------------- leadership transfer

  @Test
  void leaderTransferAnswersThePeersVerdictOrItsSilenceAndSoDoStatusAndMetrics() {
    // a node whose peer never answers status queries, and hands over to 1, declines 2, never answers for 3; absent "to" is -1
    KvClient unused = new KvClient((server, op) -> new CompletableFuture<>(), 1, new KvClient.Settings(Duration.ofMillis(20), Duration.ofSeconds(1)));
    List<Integer> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
    HttpApi api =
        new HttpApi(unused, () -> new CompletableFuture<>(), LIMITS, Duration.ofMillis(300), new Metrics())
            .withLeaderTransfer(
                to -> {
                  asked.add(to);
                  if (to == 1 || to == -1) return CompletableFuture.completedFuture(new RaftPeer.TransferResult(true, 1, 7, null));
                  if (to == 2) return CompletableFuture.completedFuture(new RaftPeer.TransferResult(false, -1, 6, "not the leader"));
                  return new CompletableFuture<>();
                });
    HttpApi without = new HttpApi(unused, () -> new CompletableFuture<>(), LIMITS, Duration.ofMillis(300), new Metrics());
    HttpApi.Binding binding = api.bind(testKit.system(), "127.0.0.1", 0).toCompletableFuture().join();
    HttpApi.Binding bindingWithout = without.bind(testKit.system(), "127.0.0.1", 0).toCompletableFuture().join();
    try {
      String base = "http://127.0.0.1:" + binding.localAddress().getPort() + "/v1/leader/transfer";
      Answer done = send(HttpRequest.newBuilder(URI.create(base + "?to=1")).POST(BodyPublishers.noBody()));
      assertEquals(200, done.status(), done.text());
      assertEquals(JSON.createObjectNode().put("done", true).put("leader", 1).put("term", 7), done.json());
      assertEquals(200, send(HttpRequest.newBuilder(URI.create(base)).POST(BodyPublishers.noBody())).status());
      Answer declined = send(HttpRequest.newBuilder(URI.create(base + "?to=2")).POST(BodyPublishers.noBody()));
      assertAnswer(409, "NotTransferred", declined);
      assertEquals(
          JSON.createObjectNode().put("error", "NotTransferred").put("message", "not the leader").putNull("leader").put("term", 6),
          declined.json());
      assertAnswer(503, "Unavailable", send(HttpRequest.newBuilder(URI.create(base + "?to=3")).POST(BodyPublishers.noBody())));
      for (String bad : List.of("?to=x", "?to=-2", "?to=1&to=2", "?bogus=1")) {
        assertAnswer(400, "BadRequest", send(HttpRequest.newBuilder(URI.create(base + bad)).POST(BodyPublishers.noBody())));
      }
      assertAnswer(405, "MethodNotAllowed", send(HttpRequest.newBuilder(URI.create(base)).GET()));
      assertEquals(List.of(1, -1, 2, 3), asked, "bad requests never reach the peer");
      String baseWithout = "http://127.0.0.1:" + bindingWithout.localAddress().getPort() + "/v1/leader/transfer";
      Answer none = send(HttpRequest.newBuilder(URI.create(baseWithout)).POST(BodyPublishers.noBody()));
      assertAnswer(503, "Unavailable", none);
      assertEquals("this node does not transfer leadership", none.json().get("message").asText());

      String root = "http://127.0.0.1:" + binding.localAddress().getPort();
      assertAnswer(503, "Unavailable", send(HttpRequest.newBuilder(URI.create(root + "/v1/status")).GET()));
      Answer metrics = send(HttpRequest.newBuilder(URI.create(root + "/metrics")).GET());
      assertEquals(200, metrics.status(), "a scrape still has the request counts");
      assertEquals(0, sample(metrics.text(), "raftkv_up"));
    } finally {
      binding.unbind().toCompletableFuture().join();
      bindingWithout.unbind().toCompletableFuture().join();
    }
  }

  // ---------------------------------------------------------------- loss of quorum

  @Test
  void withoutAQuorumReadsAre503AndWritesAre504() {
    HttpTestGroup minority = new HttpTestGroup(testKit, 3, LIMITS, Duration.ofMillis(900));
    try {
      String endpoint = minority.endpoint(0);
      // a write that commits shows the group is up; the short deadline may expire before the
      // first election, so try a few times
      Answer ok = null;
      for (int attempt = 0; attempt < 20 && (ok == null || ok.status() != 200); attempt++) {
        ok = send(HttpRequest.newBuilder(URI.create(endpoint + kvPath("q"))).PUT(BodyPublishers.ofString(value("v"))));
      }
      assertEquals(200, ok.status(), ok.text());
      Metrics m = minority.api(0).metrics();
      long putsMaybe = m.count(Metrics.Op.PUT, Metrics.Outcome.MAYBE);
      minority.kill(1);
      minority.kill(2);

      Answer read = send(HttpRequest.newBuilder(URI.create(endpoint + kvPath("q"))).GET());
      assertAnswer(503, "Unavailable", read);
      Answer write = send(HttpRequest.newBuilder(URI.create(endpoint + kvPath("q"))).PUT(BodyPublishers.ofString(value("w"))));
      assertAnswer(504, "ErrMaybe", write);
      Answer appendWithSession =
          send(HttpRequest.newBuilder(URI.create(endpoint + kvPath("q") + "/append"))
              .POST(BodyPublishers.ofString("{\"value\":\"w\",\"client\":9,\"seq\":1}")));
      assertAnswer(504, "ErrMaybe", appendWithSession);
      Answer status = send(HttpRequest.newBuilder(URI.create(endpoint + "/v1/status")).GET());
      assertEquals(200, status.status(), "the surviving node still reports its state");
      assertEquals(0, status.json().get("id").asInt());
      assertEquals(1, m.count(Metrics.Op.GET, Metrics.Outcome.UNAVAILABLE));
      assertEquals(putsMaybe + 1, m.count(Metrics.Op.PUT, Metrics.Outcome.MAYBE));
      assertEquals(1, m.count(Metrics.Op.APPEND, Metrics.Outcome.MAYBE));
    } finally {
      minority.unbind();
    }
  }
}
