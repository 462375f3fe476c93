package io.raftkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.raftkv.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
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
 * are added as learners, promoted together in one joint change, the first leader is removed, and a promoted node restarted from
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
    members = LocalNodes.members(5);
    for (int i = 0; i < 5; i++) nodes[i] = start(i);
    String all = IntStream.range(0, 5).mapToObj(this::endpoint).collect(Collectors.joining(","));
    int first = awaitLeader(Set.of(0, 1, 2));
    for (int i = 0; i < 10; i++) assertEquals(200, put(endpoint(first), "k" + i, "v" + i));
    JsonNode before = JSON.readTree(cli("member", "list", "--endpoints", endpoint(3)));
    assertEquals("[3]", before.get("learners").toString(), "a node outside the group sees only itself: " + before);

    assertEquals(Main.OK, code("member", "add", "3", "--endpoints", all));
    assertEquals(Main.OK, code("member", "add", "4", "--endpoints", all));
    // both promoted in one joint change (two voters change), answered once it has been left
    JsonNode five = JSON.readTree(cli("member", "change", "voter:3,voter:4", "--endpoints", all)).get("members");
    assertEquals("[0,1,2,3,4]", five.get("voters").toString(), five.toString());
    assertTrue(five.get("outgoing") == null, "not joint any more: " + five);
    assertEquals(Main.USAGE, code("member", "change", "voter:3,boss:4", "--endpoints", all), "an unknown role: 400");
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

  /**
   * {@code node --join}'s path ({@link NodeJoin}, then {@link NodeServer#start}): a node outside the
   * --members list gets id 3 and the address book from the group, catches up as a learner and is
   * promoted; a retried join changes nothing; an old node restarted with the old --members list
   * still reaches it (the address is in its log), so once two of the old nodes are gone, the
   * restarted one and the joined one carry the group; the joined node restarts from its data as
   * the same voter.
   */
  @Test
  void aNodeOutsideTheMemberListJoinsThroughTheGroupAndCarriesItAfterRestarts() throws Exception {
    members = LocalNodes.members(3);
    for (int i = 0; i < 3; i++) nodes[i] = start(i);
    int first = awaitLeader(Set.of(0, 1, 2));
    for (int i = 0; i < 10; i++) assertEquals(200, put(endpoint(first), "k" + i, "v" + i));

    String address = LocalNodes.members(1).get(0).spec();
    List<URI> group = IntStream.range(0, 3).mapToObj(i -> URI.create(endpoint(i))).toList();
    Path data = dir.resolve("joined");
    long t0 = System.nanoTime();
    NodeJoin.Identity me = NodeJoin.joinOrRecorded(group, address, data, Duration.ofSeconds(30), null, null);
    long joinedMs = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(3, me.id(), "the first id past --members");
    assertEquals(address, me.addresses().get(3));
    assertEquals(Set.of(0, 1, 2), me.voters());
    assertEquals(me, NodeJoin.joinOrRecorded(group, address, data, Duration.ofSeconds(30), null, null), "recorded: not asked again");
    HttpResponse<String> again = send(endpoint(awaitLeader(Set.of(0, 1, 2))), "POST", "/v1/members?address=" + address, null);
    assertEquals(200, again.statusCode(), again.body());
    assertEquals(3, JSON.readTree(again.body()).get("id").asInt(), "a retried join gets the same id: " + again.body());
    assertEquals(400, send(endpoint(first), "POST", "/v1/members?address=nonsense", null).statusCode());
    HttpResponse<String> fixed = send(endpoint(awaitLeader(Set.of(0, 1, 2))), "POST", "/v1/members?address=" + members.get(1).spec(), null);
    assertEquals(409, fixed.statusCode(), "a --members address is that member's: " + fixed.body());

    members = new ArrayList<>(me.members());
    t0 = System.nanoTime();
    nodes[3] = NodeServer.start(new NodeServer.Settings("kv", 3, members, data, 8 << 20, HttpApi.Limits.defaults()).withVoters(me.voters()));
    awaitCaughtUp(3);
    long caughtUpMs = (System.nanoTime() - t0) / 1_000_000;
    String all = IntStream.range(0, 4).mapToObj(this::endpoint).collect(Collectors.joining(","));
    t0 = System.nanoTime();
    assertEquals(Main.OK, code("member", "promote", "3", "--endpoints", all));
    long promotedMs = (System.nanoTime() - t0) / 1_000_000;
    JsonNode four = JSON.readTree(cli("member", "list", "--endpoints", endpoint(0)));
    assertEquals("[0,1,2,3]", four.get("voters").toString(), four.toString());
    assertEquals(address, four.get("addresses").get("3").textValue(), four.toString());

    // node 0 restarts with the old three-node --members: its log tells it where node 3 is
    nodes[0].stop();
    members = members.subList(0, 3);
    nodes[0] = start(0);
    members = new ArrayList<>(me.members());
    int leader = awaitLeader(Set.of(0, 1, 2, 3));
    int gone = leader == 2 ? 1 : 2; // remove one of 1 and 2 (not the leader), then stop the other: 0 and 3 remain
    t0 = System.nanoTime();
    assertEquals(Main.OK, code("member", "remove", Integer.toString(gone), "--endpoints", all));
    long removedMs = (System.nanoTime() - t0) / 1_000_000;
    nodes[gone].stop();
    nodes[gone] = null;
    int other = 3 - gone;
    nodes[other].stop();
    nodes[other] = null;
    int now = awaitLeader(Set.of(0, 3));
    for (int i = 10; i < 20; i++) assertEquals(200, put(endpoint(now), "k" + i, "v" + i), "nodes 0 and 3 are a majority of 0, 3 and " + other);

    nodes[3].stop();
    assertEquals(me, NodeJoin.recorded(data));
    nodes[3] = NodeServer.start(new NodeServer.Settings("kv", 3, members, data, 8 << 20, HttpApi.Limits.defaults()).withVoters(me.voters()));
    awaitLeader(Set.of(0, 3));
    for (int i = 0; i < 20; i++) {
      HttpResponse<String> r = send(endpoint(3), "GET", "/v1/kv/k" + i, null);
      assertEquals(200, r.statusCode(), r.body());
      assertEquals("v" + i, JSON.readTree(r.body()).get("value").textValue());
    }
    System.out.printf(
        "membership timing (in-process): join %d ms, start and catch up %d ms, promote %d ms, remove %d ms%n",
        joinedMs, caughtUpMs, promotedMs, removedMs);

    // joins of nodes that never come up: learners, harmless to the quorum, but only so many
    int at = awaitLeader(Set.of(0, 3));
    List<Integer> ghosts = new ArrayList<>();
    for (int k = 0; k < io.raftkv.raft.RaftPeer.MAX_LEARNERS; k++) {
      HttpResponse<String> r = send(endpoint(at), "POST", "/v1/members?address=" + LocalNodes.members(1).get(0).spec(), null);
      assertEquals(200, r.statusCode(), r.body());
      ghosts.add(JSON.readTree(r.body()).get("id").asInt());
    }
    assertEquals(List.of(4, 5, 6, 7, 8, 9, 10, 11), ghosts, "each one above every id given out");
    HttpResponse<String> full = send(endpoint(at), "POST", "/v1/members?address=" + LocalNodes.members(1).get(0).spec(), null);
    assertEquals(409, full.statusCode(), full.body());
    assertTrue(full.body().contains("learners: promote or remove some first"), full.body());
    assertEquals(200, put(endpoint(at), "after-ghosts", "still writes"));
  }

  /** Until node {@code i} has applied what the leader had committed when this was called. */
  private void awaitCaughtUp(int i) throws Exception {
    int leader = awaitLeader(Set.of(0, 1, 2));
    long target = nodes[leader].status().toCompletableFuture().get().commitIndex();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (nodes[i].status().toCompletableFuture().get().appliedIndex() < target) {
      if (System.nanoTime() > deadline) throw new AssertionError("n" + i + " did not catch up to " + target);
      Thread.sleep(20);
    }
  }

  private NodeServer start(int i) {
    return NodeServer.start(
        new NodeServer.Settings("kv", i, members, dir.resolve("n" + i), 8 << 20, HttpApi.Limits.defaults()).withVoters(Set.of(0, 1, 2)));
  }

  private int awaitLeader(Set<Integer> among) throws InterruptedException {
    return LocalNodes.awaitLeader(nodes, among, Duration.ofSeconds(30));
  }

  private String endpoint(int i) {
    return "http://127.0.0.1:" + members.get(i).httpPort();
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
    StringWriter out = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(out, true));
    int code = cl.execute(args);
    System.out.println("raftkv " + String.join(" ", args) + " -> " + code + ": " + out.toString().strip());
    return code;
  }


}
