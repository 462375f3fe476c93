package io.raftkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.raft.RaftPeer;
import io.raftkv.raft.Role;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class MetricsTest {
  static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

  static double sample(String text, String series) {
    Matcher m = Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE).matcher(text);
    assertTrue(m.find(), "no sample " + series + " in\n" + text);
    return Double.parseDouble(m.group(1));
  }

  @Test
  void bucketsAreInclusiveUpperBounds() {
    assertEquals(0, Metrics.bucketOf(0));
    assertEquals(0, Metrics.bucketOf(MS)); // le="0.001"
    assertEquals(1, Metrics.bucketOf(MS + 1));
    assertEquals(Metrics.BUCKETS_SECONDS.length - 1, Metrics.bucketOf(10_000 * MS));
    assertEquals(Metrics.BUCKETS_SECONDS.length, Metrics.bucketOf(10_000 * MS + 1)); // only +Inf
  }

  @Test
  void countsByOpAndOutcome() {
    Metrics m = new Metrics();
    m.record(Metrics.Op.GET, Metrics.Outcome.OK, MS);
    m.record(Metrics.Op.GET, Metrics.Outcome.OK, MS);
    m.record(Metrics.Op.GET, Metrics.Outcome.NO_KEY, MS);
    m.record(Metrics.Op.DELETE, Metrics.Outcome.VERSION_CONFLICT, MS);
    assertEquals(2, m.count(Metrics.Op.GET, Metrics.Outcome.OK));
    assertEquals(1, m.count(Metrics.Op.GET, Metrics.Outcome.NO_KEY));
    assertEquals(1, m.count(Metrics.Op.DELETE, Metrics.Outcome.VERSION_CONFLICT));
    assertEquals(0, m.count(Metrics.Op.PUT, Metrics.Outcome.OK));
    String text = m.render(null);
    assertEquals(2, sample(text, "raftkv_http_requests_total{op=\"get\",outcome=\"ok\"}"));
    assertEquals(1, sample(text, "raftkv_http_requests_total{op=\"delete\",outcome=\"version_conflict\"}"));
    assertEquals(0, sample(text, "raftkv_http_requests_total{op=\"append\",outcome=\"too_large\"}"));
  }

  @Test
  void histogramIsCumulativeWithSumAndCount() {
    Metrics m = new Metrics();
    m.record(Metrics.Op.PUT, Metrics.Outcome.OK, 2 * MS); // 0.0025
    m.record(Metrics.Op.PUT, Metrics.Outcome.OK, 40 * MS); // 0.05
    m.record(Metrics.Op.PUT, Metrics.Outcome.MAYBE, 30_000 * MS); // +Inf only
    String t = m.render(null);
    String b = "raftkv_http_request_duration_seconds_bucket{op=\"put\",le=\"";
    assertEquals(0, sample(t, b + "0.001\"}"));
    assertEquals(1, sample(t, b + "0.0025\"}"));
    assertEquals(1, sample(t, b + "0.025\"}"));
    assertEquals(2, sample(t, b + "0.05\"}"));
    assertEquals(2, sample(t, b + "10\"}"));
    assertEquals(3, sample(t, b + "+Inf\"}"));
    assertEquals(3, sample(t, "raftkv_http_request_duration_seconds_count{op=\"put\"}"));
    assertEquals(30.042, sample(t, "raftkv_http_request_duration_seconds_sum{op=\"put\"}"), 1e-9);
    assertEquals(0, sample(t, "raftkv_http_request_duration_seconds_count{op=\"get\"}"));
  }

  @Test
  void raftGaugesComeFromTheState() {
    Metrics m = new Metrics();
    RaftPeer.State s = new RaftPeer.State(2, 7, Role.LEADER, 2, 40, 39, 41, 10, 1234, 567);
    String t = m.render(s);
    assertEquals(1, sample(t, "raftkv_up"));
    assertEquals(2, sample(t, "raftkv_raft_node_id"));
    assertEquals(7, sample(t, "raftkv_raft_term"));
    assertEquals(1, sample(t, "raftkv_raft_role{role=\"leader\"}"));
    assertEquals(0, sample(t, "raftkv_raft_role{role=\"follower\"}"));
    assertEquals(0, sample(t, "raftkv_raft_role{role=\"candidate\"}"));
    assertEquals(2, sample(t, "raftkv_raft_leader"));
    assertEquals(40, sample(t, "raftkv_raft_commit_index"));
    assertEquals(39, sample(t, "raftkv_raft_applied_index"));
    assertEquals(41, sample(t, "raftkv_raft_last_log_index"));
    assertEquals(10, sample(t, "raftkv_raft_snapshot_index"));
    assertEquals(1234, sample(t, "raftkv_raft_state_bytes"));
    assertEquals(567, sample(t, "raftkv_snapshot_bytes"));

    String down = m.render(null);
    assertEquals(0, sample(down, "raftkv_up"));
    assertFalse(down.contains("raftkv_raft_term"));
  }

  @Test
  void everyFamilyHasOneHelpAndTypeBeforeItsSamples() {
    Metrics m = new Metrics();
    m.record(Metrics.Op.APPEND, Metrics.Outcome.OK, MS);
    String t = m.render(new RaftPeer.State(0, 1, Role.FOLLOWER, -1, 0, 0, 0, 0, 0, 0));
    List<String> typed = new ArrayList<>();
    String current = null;
    for (String line : t.split("\n")) {
      if (line.startsWith("# HELP ")) continue;
      if (line.startsWith("# TYPE ")) {
        current = line.split(" ")[2];
        assertFalse(typed.contains(current), "TYPE twice for " + current);
        typed.add(current);
        continue;
      }
      String name = line.split("[{ ]")[0];
      assertTrue(
          name.equals(current) || name.equals(current + "_bucket") || name.equals(current + "_sum")
              || name.equals(current + "_count"),
          name + " outside its family " + current);
    }
    assertTrue(t.endsWith("\n"));
  }

  @Test
  void connectionCountersAreRendered() {
    Metrics m = new Metrics();
    m.connectionOpened();
    m.connectionOpened();
    m.connectionClosed();
    m.countHeadTimeout();
    m.countRefusedBeforeRouting();
    m.countRefusedBeforeRouting();
    m.countSuppressedLogLine();
    String t = m.render(null);
    assertEquals(2, sample(t, "raftkv_http_connections_accepted_total"));
    assertEquals(1, sample(t, "raftkv_http_connections_open"));
    assertEquals(1, sample(t, "raftkv_http_head_timeouts_total"));
    assertEquals(2, sample(t, "raftkv_http_refused_before_routing_total"));
    assertEquals(1, sample(t, "raftkv_http_log_lines_suppressed_total"));
    assertEquals(1, m.connectionsOpen());
  }
}
