package io.raftkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.raftkv.cli.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A node that stops serving by itself says so ({@link NodeServer#failed}) and the {@code node}
 * process exits non-zero; a requested stop does not count as a failure; the leadership-transfer
 * route and CLI command answer the Raft peer's verdict.
 */
@Timeout(180)
class NodeServerLifecycleTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();

  @TempDir Path dir;




  private static void deleteTree(Path p) throws IOException {
    try (Stream<Path> s = Files.walk(p)) {
      for (Path f : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(f);
    }
  }

  @Test
  void aNodeWhoseDiskFailsReportsItAndARequestedStopDoesNot() throws Exception {
    Path data = dir.resolve("n0");
    List<NodeServer.Member> three = LocalNodes.members(3);
    NodeServer server =
        NodeServer.start(new NodeServer.Settings("kv", 0, three, data, 8 << 20, HttpApi.Limits.defaults()));
    try {
      assertFalse(server.failed().toCompletableFuture().isDone());
      // Alone, n0 only asks for pre-votes, which persist nothing. Once n1 starts, the two elect a
      // leader, and n0's hard state for the new term cannot be written: its Raft peer stops, and
      // with it the node.
      deleteTree(data);
      NodeServer other =
          NodeServer.start(new NodeServer.Settings("kv", 1, three, dir.resolve("n0-peer"), 8 << 20, HttpApi.Limits.defaults()));
      try {
        String reason = server.failed().toCompletableFuture().get(30, TimeUnit.SECONDS);
        assertTrue(reason.contains("Raft node stopped"), reason);
      } finally {
        other.stop();
      }
    } finally {
      server.stop();
    }

    NodeServer healthy =
        NodeServer.start(new NodeServer.Settings("kv", 0, LocalNodes.members(1), dir.resolve("n1"), 8 << 20, HttpApi.Limits.defaults()));
    healthy.stop();
    healthy.system().getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertFalse(healthy.failed().toCompletableFuture().isDone(), "a requested stop is no failure");
  }

  @Test
  void leadershipTransferRouteAndCommandAnswerThePeersVerdict() throws Exception {
    NodeServer server =
        NodeServer.start(new NodeServer.Settings("kv", 0, LocalNodes.members(1), dir.resolve("one"), 8 << 20, HttpApi.Limits.defaults()));
    try {
      String endpoint = "http://127.0.0.1:" + server.httpAddress().getPort();
      awaitLeader(endpoint);
      HttpResponse<String> r = post(endpoint + "/v1/leader/transfer");
      JsonNode body = JSON.readTree(r.body());
      // A single node has no follower to hand leadership to (and the core's transfer may not be
      // there yet): either way the route answers the peer's refusal as JSON.
      assertEquals(409, r.statusCode(), r.body());
      assertEquals("NotTransferred", body.get("error").textValue());
      assertTrue(body.get("message").isTextual());
      assertEquals(0, body.get("leader").intValue());
      assertTrue(body.get("term").longValue() >= 1);

      assertEquals(400, post(endpoint + "/v1/leader/transfer?to=x").statusCode());
      assertEquals(400, post(endpoint + "/v1/leader/transfer?bogus=1").statusCode());
      assertEquals(405, http.send(HttpRequest.newBuilder(URI.create(endpoint + "/v1/leader/transfer")).GET().build(),
          HttpResponse.BodyHandlers.ofString()).statusCode());

      StringWriter out = new StringWriter();
      CommandLine cl = Main.commandLine();
      cl.setOut(new PrintWriter(out, true));
      cl.setErr(new PrintWriter(new StringWriter(), true));
      // to itself: done at once, the node keeps leading
      int code = cl.execute("transfer-leader", "--endpoints", endpoint, "--to", "0");
      assertEquals(Main.OK, code, out.toString());
      assertTrue(JSON.readTree(out.toString()).get("done").booleanValue(), out.toString());
    } finally {
      server.stop();
    }
  }

  @Test
  void theNodeProcessExitsWithFourWhenItStopsServingAndAsStoppedOnSigterm() throws Exception {
    List<NodeServer.Member> ms = LocalNodes.members(3);
    StringBuilder spec = new StringBuilder();
    for (NodeServer.Member m : ms) spec.append(spec.length() == 0 ? "" : ",").append(m.host()).append(':').append(m.port()).append(':').append(m.httpPort());
    Path data = dir.resolve("proc");
    Process p = startNode(spec.toString(), data, dir.resolve("proc.log"));
    try {
      awaitHttp("http://127.0.0.1:" + ms.get(0).httpPort(), p);
      deleteTree(data);
      // a second member makes an election happen: n0 cannot persist the new term
      NodeServer other =
          NodeServer.start(new NodeServer.Settings("kv", 1, ms, dir.resolve("proc-peer"), 8 << 20, HttpApi.Limits.defaults()));
      try {
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the node kept running without its disk");
      } finally {
        other.stop();
      }
      assertEquals(4, p.exitValue(), Files.readString(dir.resolve("proc.log")));
    } finally {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }

    Process q = startNode(spec.toString(), dir.resolve("proc2"), dir.resolve("proc2.log"));
    try {
      awaitHttp("http://127.0.0.1:" + ms.get(0).httpPort(), q);
      q.destroy(); // SIGTERM
      assertTrue(q.waitFor(30, TimeUnit.SECONDS), "no exit on SIGTERM");
      // the JVM's status for a stop by SIGTERM (128 + 15); never the failure code
      assertEquals(143, q.exitValue(), Files.readString(dir.resolve("proc2.log")));
    } finally {
      q.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  private static Process startNode(String members, Path data, Path log) throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    ProcessBuilder pb =
        new ProcessBuilder(
            java, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
            "io.raftkv.cli.Main", "node", "--id", "0", "--members", members, "--data-dir", data.toString());
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    return pb.start();
  }

  private void awaitHttp(String endpoint, Process p) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      assertTrue(p.isAlive(), "the node exited early");
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(endpoint + "/v1/status")).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) return;
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new AssertionError("no HTTP at " + endpoint);
  }

  private void awaitLeader(String endpoint) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(endpoint + "/v1/status")).build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 200 && "leader".equals(JSON.readTree(r.body()).path("role").textValue())) return;
      Thread.sleep(50);
    }
    throw new AssertionError("no leader at " + endpoint);
  }

  private HttpResponse<String> post(String uri) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(uri)).POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
  }
}
