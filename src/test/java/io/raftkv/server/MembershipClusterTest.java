package io.raftkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.raftkv.cli.Main;
import io.raftkv.raft.Role;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A running cluster changes its membership through the CLI and {@code /v1/members}: five nodes in
 * this JVM over Artery, the group starting with voters 0, 1 and 2 ({@code --voters}); nodes 3 and 4
 * are added as learners, promoted, the first leader is removed, and a promoted node restarted from
 * its data is still a voter. Writes before, during and after are all there.
 */
@Timeout(120)
class MembershipClusterTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final NodeServer[] nodes = new NodeServer[5];
  private List<NodeServer.Member> members;

  @TempDir Path dir;

  @AfterEach
  void stop() {
    for (NodeServer n : nodes) if (n != null) n.stop();
  }

  @Test
  void threeVotersGrowToFiveLoseTheFirstLeaderAndKeepEveryWrite() throws Exception {
    members = new ArrayList<>();
    for (int i = 0; i < 5; i++) members.add(new NodeServer.Member("127.0.0.1", freePort(), "127.0.0.1", freePort()));
    for (int i = 0; i < 5; i++) nodes[i] = start(i);
    String all = IntStream.range(0, 5).mapToObj(this::endpoint).collect(Collectors.joining(","));
    int first = awaitLeader(Set.of(0, 1, 2));
    for (int i = 0; i < 10; i++) assertEquals(200, put(endpoint(first), "k" + i, "v" + i));
    JsonNode before = JSON.readTree(cli("member", "list", "--endpoints", endpoint(3)));
    assertEquals("[3]", before.get("learners").toString(), "a node outside the group sees only itself: " + before);

    assertEquals(Main.OK, code("member", "add", "3", "--endpoints", all));
    assertEquals(Main.OK, code("member", "add", "4", "--endpoints", all));
    assertEquals(Main.OK, code("member", "promote", "3", "--endpoints", all));
    assertEquals(Main.OK, code("member", "promote", "4", "--endpoints", all));
    JsonNode five = JSON.readTree(cli("member", "list", "--endpoints", endpoint(first)));
    assertEquals("[0,1,2,3,4]", five.get("voters").toString(), five.toString());
    assertEquals(Main.USAGE, code("member", "add", "9", "--endpoints", all), "no node 9 in --members: 400");

    int leader = awaitLeader(Set.of(0, 1, 2, 3, 4));
    assertEquals(Main.OK, code("member", "remove", Integer.toString(leader), "--endpoints", all));
    nodes[leader].stop();
    nodes[leader] = null;
    Set<Integer> rest = new java.util.TreeSet<>(Set.of(0, 1, 2, 3, 4));
    rest.remove(leader);
    int now = awaitLeader(rest);
    for (int i = 10; i < 20; i++) assertEquals(200, put(endpoint(now), "k" + i, "v" + i));

    // a promoted node restarted from its data is still a voter
    int restart = rest.contains(3) && now != 3 ? 3 : 4;
    nodes[restart].stop();
    nodes[restart] = start(restart);
    JsonNode after = JSON.readTree(cli("member", "list", "--endpoints", endpoint(restart)));
    assertTrue(after.get("voters").toString().contains(Integer.toString(restart)), after.toString());
    for (int i = 0; i < 20; i++) {
      HttpResponse<String> r = send(endpoint(restart), "GET", "/v1/kv/k" + i, null);
      assertEquals(200, r.statusCode(), r.body());
      assertEquals("v" + i, JSON.readTree(r.body()).get("value").textValue());
    }
  }

  private NodeServer start(int i) {
    return NodeServer.start(
        new NodeServer.Settings("kv", i, members, dir.resolve("n" + i), 8 << 20, HttpApi.Limits.defaults()).withVoters(Set.of(0, 1, 2)));
  }

  private String endpoint(int i) {
    return "http://127.0.0.1:" + members.get(i).httpPort();
  }

  private int awaitLeader(Set<Integer> among) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      for (int i : among) {
        if (nodes[i] == null) continue;
        try {
          if (nodes[i].status().toCompletableFuture().get().role() == Role.LEADER) return i;
        } catch (Exception notYet) {
          // stopping or starting
        }
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no leader among " + among);
  }

  private int put(String endpoint, String key, String value) throws Exception {
    return send(endpoint, "PUT", "/v1/kv/" + key, "{\"value\":\"" + value + "\"}").statusCode();
  }

  private HttpResponse<String> send(String endpoint, String method, String path, String body) throws Exception {
    HttpRequest.BodyPublisher p = body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body);
    return http.send(
        HttpRequest.newBuilder(URI.create(endpoint + path)).timeout(Duration.ofSeconds(20)).method(method, p).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private String cli(String... args) {
    StringWriter out = new StringWriter();
    CommandLine cl = Main.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(new StringWriter(), true));
    assertEquals(Main.OK, cl.execute(args), out.toString());
    return out.toString();
  }

  private int code(String... args) {
    CommandLine cl = Main.commandLine();
    cl.setOut(new PrintWriter(new StringWriter(), true));
    cl.setErr(new PrintWriter(new StringWriter(), true));
    return cl.execute(args);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
