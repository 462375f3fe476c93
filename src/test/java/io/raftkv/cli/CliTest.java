package io.raftkv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.raftkv.client.KvClient;
import io.raftkv.client.ServerCall;
import io.raftkv.rsm.Rsm;
import io.raftkv.raft.RaftPeer;
import io.raftkv.server.HttpApi;
import io.raftkv.server.HttpTestGroup;
import io.raftkv.server.Metrics;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/** The raftkv commands, run in-process against the HTTP API of a 3-replica group. */
@Timeout(120)
class CliTest {
  static final ActorTestKit testKit = ActorTestKit.create();
  static final ObjectMapper JSON = new ObjectMapper();
  static final List<HttpApi.Binding> extraBindings = new ArrayList<>();
  static HttpTestGroup group;
  static String live;
  static String dead;
  static String unavailable;

  @BeforeAll
  static void start() throws IOException {
    group = new HttpTestGroup(testKit, 3, HttpApi.Limits.defaults(), Duration.ofSeconds(5));
    live = group.endpoint(0) + "," + group.endpoint(1) + "," + group.endpoint(2);
    try (ServerSocket s = new ServerSocket(0)) {
      dead = "http://127.0.0.1:" + s.getLocalPort(); // nothing listens there once closed
    }
    // a node that cannot reach any replica: 503 for reads
    ServerCall nowhere = (server, op) -> CompletableFuture.failedFuture(new IllegalStateException("no route"));
    KvClient lost = new KvClient(nowhere, 3, new KvClient.Settings(Duration.ofMillis(10), Duration.ofMillis(200)));
    unavailable = bind(lost, Duration.ofMillis(500), new Metrics());
  }

  /** Binds an extra HTTP API over {@code clerk} (status never answers) and returns its endpoint. */
  static String bind(KvClient clerk, Duration deadline, Metrics metrics) {
    Supplier<CompletionStage<RaftPeer.State>> noStatus = () -> CompletableFuture.failedFuture(new IllegalStateException());
    HttpApi api = new HttpApi(clerk, noStatus, HttpApi.Limits.defaults(), deadline, metrics);
    HttpApi.Binding b = api.bind(testKit.system(), "127.0.0.1", 0).toCompletableFuture().join();
    extraBindings.add(b);
    return "http://127.0.0.1:" + b.localAddress().getPort();
  }

  @AfterAll
  static void done() {
    for (HttpApi.Binding b : extraBindings) b.unbind().toCompletableFuture().join();
    if (group != null) group.unbind();
    testKit.shutdownTestKit();
  }

  record Run(int code, String out, String err) {
    JsonNode json() {
      try {
        return JSON.readTree(out);
      } catch (IOException e) {
        throw new AssertionError("not JSON: " + out + " / " + err, e);
      }
    }
  }

  static Run run(String... args) {
    CommandLine cl = Main.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  /** Runs a client subcommand against the live group. */
  static Run kv(String... args) {
    String[] all = new String[args.length + 2];
    System.arraycopy(args, 0, all, 0, args.length);
    all[args.length] = "--endpoints";
    all[args.length + 1] = live;
    return run(all);
  }

  static void assertRun(int code, Run r) {
    assertEquals(code, r.code(), "out: " + r.out() + "\nerr: " + r.err());
  }

  // ---------------------------------------------------------------- help, version, usage

  @Test
  void helpListsTheCommandsAndVersionPrintsOne() {
    Run help = run("--help");
    assertRun(0, help);
    for (String cmd : List.of("get", "put", "append", "delete", "status")) {
      assertTrue(help.out().contains(cmd), help.out());
    }
    Run putHelp = run("put", "--help");
    assertRun(0, putHelp);
    assertTrue(putHelp.out().contains("--endpoints") && putHelp.out().contains("--version"), putHelp.out());
    Run version = run("--version");
    assertRun(0, version);
    assertTrue(version.out().startsWith("raftkv "), version.out());
  }

  @Test
  void usageErrorsExit64() {
    assertRun(Main.USAGE, run());
    assertRun(Main.USAGE, run("frobnicate"));
    assertRun(Main.USAGE, run("get"));
    assertRun(Main.USAGE, run("put", "k"));
    assertRun(Main.USAGE, run("put", "k", "v", "--version", "abc"));
    assertRun(Main.USAGE, kv("put", "k", "v", "--version", "-1"));
    assertRun(Main.USAGE, kv("delete", "k", "--version", "-1"));
    assertRun(Main.USAGE, kv("get", ""));
    assertRun(Main.USAGE, kv("get", ".."));
    assertRun(Main.USAGE, run("get", "k", "--endpoints", "ftp://127.0.0.1:1"));
    assertRun(Main.USAGE, run("get", "k", "--endpoints", "http://127.0.0.1:1/v1"));
    Run tooLong = kv("put", "x".repeat(HttpApi.Limits.DEFAULT_MAX_KEY_BYTES + 1), "v"); // the server refuses it: 413
    assertRun(Main.USAGE, tooLong);
    assertEquals("TooLarge", tooLong.json().get("error").asText());
  }

  // ---------------------------------------------------------------- the KV commands

  @Test
  void putGetAppendDeleteWithTheirExitCodes() {
    Run missing = kv("get", "cli-k");
    assertRun(Main.REFUSED, missing);
    assertEquals("ErrNoKey", missing.json().get("error").asText());

    Run put = kv("put", "cli-k", "hello", "--version", "0");
    assertRun(Main.OK, put);
    assertEquals(1, put.json().get("version").asLong());
    Run conflict = kv("put", "cli-k", "again", "--version", "0");
    assertRun(Main.REFUSED, conflict);
    assertEquals("ErrVersion", conflict.json().get("error").asText());
    assertEquals(1, conflict.json().get("version").asLong());
    assertRun(Main.REFUSED, kv("put", "cli-absent", "v", "--version", "4")); // ErrNoKey

    assertRun(Main.OK, kv("append", "cli-k", ", world"));
    Run get = kv("get", "cli-k");
    assertRun(Main.OK, get);
    assertEquals("hello, world", get.json().get("value").asText());
    assertEquals(2, get.json().get("version").asLong());
    assertEquals("cli-k", get.json().get("key").asText());

    assertRun(Main.OK, kv("put", "cli-k", "plain")); // unconditional
    assertRun(Main.REFUSED, kv("delete", "cli-k", "--version", "1"));
    assertRun(Main.OK, kv("delete", "cli-k", "--version", "3"));
    assertRun(Main.REFUSED, kv("delete", "cli-k"));
    assertRun(Main.REFUSED, kv("get", "cli-k"));
  }

  @Test
  void keysAndValuesAreSentAsUnicode() {
    String key = "ключ/с пробелом?&#%";
    String value = "значение \uD83D\uDE00 \"quoted\"\n";
    assertRun(Main.OK, kv("put", key, value));
    Run get = kv("get", key);
    assertRun(Main.OK, get);
    assertEquals(key, get.json().get("key").asText());
    assertEquals(value, get.json().get("value").asText());
  }

  // ---------------------------------------------------------------- failover

  @Test
  void unreachableAnd503EndpointsAreSkipped() {
    assertRun(Main.OK, kv("put", "cli-f", "v"));
    Run r = run("get", "cli-f", "--endpoints", dead + "," + unavailable + "," + group.endpoint(1));
    assertRun(Main.OK, r);
    assertEquals("v", r.json().get("value").asText());
    assertTrue(r.err().contains(dead), r.err());
    assertTrue(r.err().contains(unavailable + ": 503"), r.err());
  }

  @Test
  void noAnsweringEndpointExits2() {
    Run unreachable = run("get", "k", "--endpoints", dead);
    assertRun(Main.UNAVAILABLE, unreachable);
    assertEquals("Unavailable", unreachable.json().get("error").asText());
    Run only503 = run("get", "k", "--endpoints", unavailable);
    assertRun(Main.UNAVAILABLE, only503);
    assertEquals("Unavailable", only503.json().get("error").asText());
    Run write = run("append", "k", "v", "--endpoints", unavailable); // the node's Clerk times out: 504
    assertRun(Main.UNAVAILABLE, write);
    assertEquals("ErrMaybe", write.json().get("error").asText());
  }

  @Test
  void aWriteWhoseOutcomeIsUnknownIsRetriedOnTheNextEndpointExactlyOnce() {
    // This endpoint's node executes the op but never hears back, so it answers 504 ErrMaybe.
    ServerCall real = group.serverCall();
    Metrics deafMetrics = new Metrics();
    AtomicBoolean executedBefore504 = new AtomicBoolean();
    ServerCall deaf =
        (server, op) ->
            real.call(server, op)
                .handle(
                    (reply, failure) -> {
                      boolean answered = deafMetrics.count(Metrics.Op.APPEND, Metrics.Outcome.MAYBE) > 0;
                      if (reply instanceof Rsm.Result.Ok && !answered) executedBefore504.set(true);
                      return CompletableFuture.<Rsm.Result>failedFuture(new IllegalStateException("the answer is lost"));
                    })
                .thenCompose(lost -> lost);
    KvClient deafClerk = new KvClient(deaf, 3, new KvClient.Settings(Duration.ofMillis(10), Duration.ofMillis(1500)));
    String executesButAnswers504 = bind(deafClerk, Duration.ofSeconds(1), deafMetrics);

    Run r = run("append", "cli-once", "x", "--endpoints", executesButAnswers504 + "," + group.endpoint(2));
    assertRun(Main.OK, r);
    assertTrue(r.err().contains(executesButAnswers504 + ": 504"), r.err());
    assertTrue(executedBefore504.get(), "the first endpoint executed the append before answering 504");
    assertEquals(1, r.json().get("version").asLong(), "the retry got the first execution's answer");
    Run get = kv("get", "cli-once");
    assertEquals("x", get.json().get("value").asText(), "appended once although executed via two nodes");
  }

  // ---------------------------------------------------------------- status

  @Test
  void statusPrintsOneNodeOrAll() {
    Run one = kv("status");
    assertRun(Main.OK, one);
    assertEquals(0, one.json().get("id").asInt());
    assertTrue(one.json().has("role") && one.json().has("term") && one.json().has("commitIndex"), one.out());

    Run all = run("status", "--all", "--endpoints", live + "," + dead);
    assertRun(Main.UNAVAILABLE, all);
    String[] lines = all.out().strip().split("\n");
    assertEquals(4, lines.length, all.out());
    for (int i = 0; i < 3; i++) {
      JsonNode s = readLine(lines[i]);
      assertEquals(group.endpoint(i), s.get("endpoint").asText());
      assertEquals(i, s.get("id").asInt());
    }
    JsonNode down = readLine(lines[3]);
    assertEquals(dead, down.get("endpoint").asText());
    assertEquals("Unavailable", down.get("error").asText());
    assertRun(Main.OK, run("status", "--all", "--endpoints", live));
  }

  static JsonNode readLine(String line) {
    try {
      return JSON.readTree(line);
    } catch (IOException e) {
      throw new AssertionError(line, e);
    }
  }
}
