package io.raftkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.raftkv.cli.Main;
import io.raftkv.server.HttpApi;
import io.raftkv.server.HttpTestGroup;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code raftkv bench load} for a couple of seconds against a 3-replica raftkv in this JVM. */
@Timeout(60)
class LoadBenchmarkTest {
  static final ActorTestKit testKit = ActorTestKit.create();
  static HttpTestGroup group;

  @BeforeAll
  static void start() {
    group = new HttpTestGroup(testKit, 3, HttpApi.Limits.defaults(), Duration.ofSeconds(5));
  }

  @AfterAll
  static void done() {
    if (group != null) group.unbind();
    testKit.shutdownTestKit();
  }

  private static String endpoints() {
    return group.endpoint(0) + "," + group.endpoint(1) + "," + group.endpoint(2);
  }

  private static String[] run(String... args) {
    var cl = Main.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int code = cl.execute(args);
    return new String[] {Integer.toString(code), out.toString(), err.toString()};
  }

  @Test
  void aMixedLoadIsAcknowledgedAndReported(@TempDir Path dir) throws Exception {
    Path json = dir.resolve("load.json");
    Path csv = dir.resolve("load.csv");
    String[] r =
        run("bench", "load", "--target", "raftkv-http", "--endpoints", endpoints(), "--op", "mixed", "--clients", "4",
            "--duration", "2s", "--warmup", "500ms", "--jit-warmup-max", "0s", "--keys", "200", "--preload", "--quiet",
            "--json", json.toString(), "--csv", csv.toString());
    assertEquals("0", r[0], r[1] + r[2]);
    assertTrue(r[1].contains("raftkv-http  mixed"), r[1]);

    JsonNode runs = new ObjectMapper().readTree(json.toFile());
    assertEquals(1, runs.size());
    JsonNode run = runs.get(0);
    for (String f : List.of("target", "workload", "clients", "read_ratio", "key_size", "value_size", "keys", "warmup_s", "duration_s",
        "ops", "errors", "ops_per_s", "mean_ms", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms", "generator_cpu", "started", "error_kinds")) {
      assertTrue(run.has(f), f + " in " + run);
    }
    assertEquals("raftkv-http", run.get("target").asText());
    assertEquals("mixed", run.get("workload").asText());
    assertEquals(4, run.get("clients").asInt());
    assertTrue(run.get("ops").asLong() > 0, run.toString());
    assertEquals(0, run.get("errors").asLong(), run.toString());
    assertTrue(run.get("ops_per_s").asDouble() > 0, run.toString());
    double p50 = run.get("p50_ms").asDouble();
    double p99 = run.get("p99_ms").asDouble();
    assertTrue(p50 > 0 && p50 <= p99 && p99 <= run.get("max_ms").asDouble(), run.toString());
    assertEquals(2.0, run.get("duration_s").asDouble(), 0.5);

    List<Map<String, String>> rows = LoadReport.parseCsv(Files.readString(csv));
    assertEquals(1, rows.size());
    assertEquals(run.get("ops").asText(), rows.get(0).get("ops"));
  }

  @Test
  void appendsGoThroughTheirOwnRoute(@TempDir Path dir) throws Exception {
    Path json = dir.resolve("append.json");
    String[] r =
        run("bench", "load", "--target", "raftkv-http", "--endpoints", endpoints(), "--op", "append", "--clients", "2",
            "--duration", "2s", "--warmup", "0s", "--keys", "10", "--value-size", "8", "--quiet", "--json", json.toString());
    assertEquals("0", r[0], r[1] + r[2]);
    JsonNode run = new ObjectMapper().readTree(json.toFile()).get(0);
    assertEquals("append", run.get("workload").asText());
    assertTrue(run.get("ops").asLong() > 0, run.toString());
    assertEquals(0, run.get("errors").asLong(), run.toString());
  }
}
