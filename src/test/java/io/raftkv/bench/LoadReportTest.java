package io.raftkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/** The table, CSV, JSON and comparison of load runs, from histograms with known values. */
class LoadReportTest {
  /** 1000 latencies of 1..1000 ms (in microseconds), so p50 = 500 ms, p99 = 990 ms, max = 1000 ms. */
  private static Histogram oneToThousandMs() {
    Histogram h = new Histogram(3_600_000_000L, 3);
    for (int ms = 1; ms <= 1000; ms++) h.recordValue(ms * 1000L);
    return h;
  }

  private static LoadResult run(String target, String workload, int clients, double seconds, Histogram h, Map<String, Long> errors) {
    long n = errors.values().stream().mapToLong(Long::longValue).sum();
    return new LoadResult(target, workload, clients, 0, 16, 128, 10000, 3, seconds, h.getTotalCount(), n, LoadResult.Latencies.of(h), 0.25, errors, "2026-01-01T00:00:00Z");
  }

  @Test
  void aRunsFiguresComeFromItsHistogram() {
    LoadResult r = run("raftkv-http", "put", 16, 2.0, oneToThousandMs(), Map.of("HTTP 503 Busy", 2L));
    assertEquals(1000, r.ops());
    assertEquals(500.0, r.opsPerSecond(), 1e-9);
    assertEquals(500.0, r.latencies().p50Ms(), 0.5);
    assertEquals(900.0, r.latencies().p90Ms(), 0.5);
    assertEquals(990.0, r.latencies().p99Ms(), 0.5);
    assertEquals(999.0, r.latencies().p999Ms(), 0.5);
    assertEquals(1000.0, r.latencies().maxMs(), 0.5);
    assertEquals(500.5, r.latencies().meanMs(), 0.5);
    assertEquals(2, r.errors());
  }

  @Test
  void tableCsvAndJsonCarryTheSameFigures() throws Exception {
    List<LoadResult> runs =
        List.of(
            run("raftkv-http", "put", 1, 2.0, oneToThousandMs(), Map.of()),
            run("etcd-grpc", "get", 64, 4.0, oneToThousandMs(), Map.of("timeout after 10000 ms", 3L, "grpc-status 14 a, b", 1L)));

    String table = LoadReport.table(runs);
    String[] lines = table.split("\n");
    assertTrue(lines[0].startsWith("target"), table);
    assertTrue(lines[1].matches("raftkv-http +put +1 +500\\.0 +0 +500\\.\\d\\d +900\\.\\d\\d +990\\.\\d\\d +999\\.\\d\\d +1000\\.\\d\\d +0\\.25"), lines[1]);
    assertTrue(lines[2].matches("etcd-grpc +get +64 +250\\.0 +4 .*"), lines[2]);
    assertTrue(table.contains("errors of etcd-grpc get x64: grpc-status 14 a, b (1) timeout after 10000 ms (3)"), table);

    List<Map<String, String>> rows = LoadReport.parseCsv(LoadReport.csv(runs));
    assertEquals(2, rows.size());
    assertEquals("raftkv-http", rows.get(0).get("target"));
    assertEquals("500.0", rows.get(0).get("ops_per_s"));
    assertEquals(500.0, Double.parseDouble(rows.get(0).get("p50_ms")), 0.5);
    assertEquals("", rows.get(0).get("error_kinds"));
    assertEquals("grpc-status 14 a, b=1; timeout after 10000 ms=3", rows.get(1).get("error_kinds"), "a quoted cell with a comma");
    assertEquals("64", rows.get(1).get("clients"));

    JsonNode json = new ObjectMapper().readTree(LoadReport.json(runs));
    assertEquals(2, json.size());
    for (String field : List.of("target", "workload", "clients", "ops", "errors", "ops_per_s", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms", "generator_cpu", "error_kinds")) {
      assertTrue(json.get(0).has(field), field);
    }
    assertEquals(1000, json.get(1).get("ops").asLong());
    assertEquals(3, json.get(1).get("error_kinds").get("timeout after 10000 ms").asLong());
    assertEquals(990.0, json.get(0).get("p99_ms").asDouble(), 0.5);
  }

  @Test
  void aRunWithoutAcknowledgedRequestsHasNoLatencies() throws Exception {
    LoadResult r = run("etcd-http", "put", 1, 1.0, new Histogram(3_600_000_000L, 3), Map.of("HTTP 503", 7L));
    assertEquals(0, r.ops());
    assertTrue(LoadReport.table(List.of(r)).split("\n")[1].matches("etcd-http +put +1 +0\\.0 +7 +- +- +- +- +- +0\\.25"));
    JsonNode o = new ObjectMapper().readTree(LoadReport.json(List.of(r))).get(0);
    assertTrue(o.get("p50_ms").isNull());
  }

  @Test
  void theComparisonShowsMediansAndTheirRatio() {
    List<LoadResult> runs = new ArrayList<>();
    // three sittings: raftkv 400, 500, 900 ops/s (median 500); etcd-grpc 1000, 1200 (median 1100)
    for (double seconds : new double[] {2.5, 2.0, 1000 / 900.0}) runs.add(run("raftkv-http", "put", 16, seconds, oneToThousandMs(), Map.of()));
    for (double seconds : new double[] {1.0, 1000 / 1200.0}) runs.add(run("etcd-grpc", "put", 16, seconds, oneToThousandMs(), Map.of()));
    runs.add(run("raftkv-http", "get", 1, 1.0, oneToThousandMs(), Map.of()));
    List<Map<String, String>> rows = LoadReport.parseCsv(LoadReport.csv(runs));

    String table = LoadReport.compare(rows, List.of("raftkv-http", "etcd-http", "etcd-grpc"), List.<String[]>of(new String[] {"raftkv-http", "etcd-grpc"}));
    String[] lines = table.split("\n");
    assertTrue(lines[0].startsWith("| op | clients | raftkv-http ops/s | etcd-http ops/s | etcd-grpc ops/s | raftkv-http / etcd-grpc ops/s | raftkv-http p50 ms"), lines[0]);
    assertEquals(4, lines.length, table); // head, rule, put 16, get 1
    List<String> put = List.of(lines[2].split(" \\| "));
    assertEquals("| put", put.get(0));
    assertEquals("16", put.get(1));
    assertEquals("500", put.get(2));
    assertEquals("-", put.get(3), "no etcd-http runs");
    assertEquals("1100", put.get(4));
    assertEquals("0.45", put.get(5));
    assertEquals("1.00", put.get(9), "equal p50s");
    assertTrue(lines[2].endsWith("| 3/0/2 |"), lines[2]);
    assertTrue(lines[3].startsWith("| get | 1 | 1000 | - | - | - |"), lines[3]);
  }
}
