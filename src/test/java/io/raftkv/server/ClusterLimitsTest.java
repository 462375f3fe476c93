package io.raftkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every size limit holds on every path between nodes: three {@link NodeServer}s in this JVM, a
 * Pekko Cluster over Artery on loopback, each request sent to a follower (which forwards it to the
 * leader and carries the answer back). The largest key with the largest value crosses both ways;
 * what would make a value outgrow the limit is refused with 413 and changes nothing.
 */
@Timeout(120)
class ClusterLimitsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpApi.Limits LIMITS = HttpApi.Limits.defaults();
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static final List<NodeServer> nodes = new ArrayList<>();
  private static String follower;
  private static String otherFollower;

  @TempDir static Path dir;

  @BeforeAll
  static void startCluster() throws Exception {
    List<NodeServer.Member> members = LocalNodes.members(3);
    for (int i = 0; i < 3; i++) {
      nodes.add(NodeServer.start(new NodeServer.Settings("kv", i, members, dir.resolve("n" + i), 64 << 20, LIMITS)));
    }
    int leader = LocalNodes.awaitLeader(nodes, Duration.ofSeconds(60));
    follower = endpoint((leader + 1) % 3);
    otherFollower = endpoint((leader + 2) % 3);
  }

  @AfterAll
  static void stopCluster() {
    for (NodeServer n : nodes) n.stop();
  }

  @Test
  void theLargestKeyWithTheLargestValueCrossesBetweenNodesBothWays() throws Exception {
    // 3-byte characters: the limit is in UTF-8 bytes, and the Artery frame must hold the bytes
    String key = "€".repeat(LIMITS.maxKeyBytes() / 3) + "k".repeat(LIMITS.maxKeyBytes() % 3);
    String value = "€".repeat(LIMITS.maxValueBytes() / 3) + "v".repeat(LIMITS.maxValueBytes() % 3);
    HttpResponse<String> put = send(follower, "PUT", kv(key), body(value));
    assertEquals(200, put.statusCode(), put.body());
    HttpResponse<String> get = send(otherFollower, "GET", kv(key), null);
    assertEquals(200, get.statusCode(), abbreviated(get.body()));
    JsonNode answer = JSON.readTree(get.body());
    assertEquals(value, answer.get("value").textValue());
    assertEquals(key, answer.get("key").textValue());
  }

  @Test
  void anAppendWhoseResultWouldOutgrowTheValueLimitIsRefusedAndChangesNothing() throws Exception {
    String value = "x".repeat(LIMITS.maxValueBytes() - 1);
    assertEquals(200, send(follower, "PUT", kv("grows"), body(value)).statusCode());
    assertEquals(200, send(follower, "POST", kv("grows") + "/append", body("y")).statusCode(), "exactly at the limit");
    HttpResponse<String> over = send(follower, "POST", kv("grows") + "/append", body("z"));
    assertEquals(413, over.statusCode(), over.body());
    assertEquals("TooLarge", JSON.readTree(over.body()).get("error").textValue());
    // with a session, the refusal is the session's answer too: its retry gets the same
    HttpResponse<String> session = send(follower, "POST", kv("grows") + "/append", body("z", 77, 1));
    assertEquals(413, session.statusCode(), session.body());
    assertEquals(413, send(otherFollower, "POST", kv("grows") + "/append", body("z", 77, 1)).statusCode());
    JsonNode now = JSON.readTree(send(otherFollower, "GET", kv("grows"), null).body());
    assertEquals(value + "y", now.get("value").textValue());
    assertEquals(2, now.get("version").longValue());
  }

  @Test
  void aValueOrKeyOverItsLimitIsRefusedAtTheFollower() throws Exception {
    HttpResponse<String> value = send(follower, "PUT", kv("big"), body("x".repeat(LIMITS.maxValueBytes() + 1)));
    assertEquals(413, value.statusCode(), value.body());
    HttpResponse<String> key = send(follower, "PUT", kv("k".repeat(LIMITS.maxKeyBytes() + 1)), body("v"));
    assertEquals(413, key.statusCode(), key.body());
    assertEquals(404, send(otherFollower, "GET", kv("big"), null).statusCode());
  }

  @Test
  void limitsTheArteryFrameCannotCarryAreRefusedAtStart() {
    HttpApi.Limits huge = new HttpApi.Limits(4096, 4 << 20);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> NodeConfig.checkLimitsFitFrames(huge, NodeConfig.cluster("127.0.0.1", 0, List.of())));
    assertTrue(e.getMessage().contains(NodeConfig.FRAME_SIZE_PATH), e.getMessage());
    NodeConfig.checkLimitsFitFrames(LIMITS, NodeConfig.cluster("127.0.0.1", 0, List.of()));
  }

  // ---------------------------------------------------------------- helpers



  private static String endpoint(int i) {
    return "http://127.0.0.1:" + nodes.get(i).httpAddress().getPort();
  }



  private static String kv(String key) {
    return "/v1/kv/" + URLEncoder.encode(key, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static String body(String value) {
    return JSON.createObjectNode().put("value", value).toString();
  }

  private static String body(String value, long client, long seq) {
    ObjectNode b = JSON.createObjectNode().put("value", value).put("client", client).put("seq", seq);
    return b.toString();
  }

  private static HttpResponse<String> send(String endpoint, String method, String path, String body) throws Exception {
    HttpRequest.BodyPublisher publisher =
        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8);
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(endpoint + path)).timeout(Duration.ofSeconds(20)).method(method, publisher);
    if (body != null) b.header("Content-Type", "application/json");
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String abbreviated(String s) {
    return s.length() <= 300 ? s : s.substring(0, 300) + "...";
  }
}
