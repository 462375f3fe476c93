package io.raftkv.server;

import io.raftkv.raft.RaftPeer;
import io.raftkv.raft.Role;
import java.math.BigDecimal;
import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters and latency histograms of the HTTP API, rendered in the Prometheus text exposition
 * format (version 0.0.4) together with a snapshot of the node's Raft state.
 *
 * <p>Thread-safe and lock-free: {@link #record} may be called from any thread, concurrently with
 * {@link #render}. A render taken during updates may be a few requests behind, but each histogram is
 * internally consistent (its {@code +Inf} bucket equals its {@code _count}).
 */
public final class Metrics {

  /** Which KV operation a request asked for. */
  public enum Op {
    GET,
    PUT,
    APPEND,
    DELETE;

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** How a request ended; each maps to one HTTP status. */
  public enum Outcome {
    /** 200 */
    OK,
    /** 404: the key does not exist */
    NO_KEY,
    /** 409: the key's version differs from the expected one */
    VERSION_CONFLICT,
    /** 504: a write's fate is unknown */
    MAYBE,
    /** 503: no answer in time (no leader, no quorum) */
    UNAVAILABLE,
    /** 400 */
    BAD_REQUEST,
    /** 413 */
    TOO_LARGE,
    /** 503: the leader is overloaded and refused the op */
    BUSY,
    /** 409: the session has moved past the write's seq */
    STALE_SEQ;

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Upper bounds of the latency buckets, in seconds (Prometheus' {@code le}); +Inf is implied. */
  public static final double[] BUCKETS_SECONDS = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
  };

  private final LongAdder[][] requests = new LongAdder[Op.values().length][Outcome.values().length];
  // per op: non-cumulative counts, one per bucket plus the overflow (+Inf) bucket at the end
  private final LongAdder[][] buckets = new LongAdder[Op.values().length][BUCKETS_SECONDS.length + 1];
  private final LongAdder[] latencyNanos = new LongAdder[Op.values().length];
  // connections (HttpServer, ConnectionGuard, ConnectionLog)
  private final LongAdder connectionsAccepted = new LongAdder();
  private final LongAdder connectionsOpen = new LongAdder();
  private final LongAdder headTimeouts = new LongAdder();
  private final LongAdder refusedBeforeRouting = new LongAdder();
  private final LongAdder logLinesSuppressed = new LongAdder();

  public Metrics() {
    for (Op op : Op.values()) {
      for (Outcome o : Outcome.values()) requests[op.ordinal()][o.ordinal()] = new LongAdder();
      for (int b = 0; b <= BUCKETS_SECONDS.length; b++) buckets[op.ordinal()][b] = new LongAdder();
      latencyNanos[op.ordinal()] = new LongAdder();
    }
  }

  /** Counts one finished request that took {@code nanos} from arrival to answer. */
  public void record(Op op, Outcome outcome, long nanos) {
    long n = Math.max(0, nanos);
    requests[op.ordinal()][outcome.ordinal()].increment();
    buckets[op.ordinal()][bucketOf(n)].increment();
    latencyNanos[op.ordinal()].add(n);
  }

  /** Requests of {@code op} that ended with {@code outcome} so far. */
  public long count(Op op, Outcome outcome) {
    return requests[op.ordinal()][outcome.ordinal()].sum();
  }

  /** A connection was accepted and is being served. */
  void connectionOpened() {
    connectionsAccepted.increment();
    connectionsOpen.increment();
  }

  /** A served connection ended, however it ended. */
  void connectionClosed() {
    connectionsOpen.decrement();
  }

  /** A connection was closed for not delivering a request head within the header timeout. */
  void countHeadTimeout() {
    headTimeouts.increment();
  }

  /** A request was refused by the HTTP layer before any route saw it (400, 414, 431). */
  void countRefusedBeforeRouting() {
    refusedBeforeRouting.increment();
  }

  /** A log line about a client was suppressed by the node's rate limit. */
  void countSuppressedLogLine() {
    logLinesSuppressed.increment();
  }

  /** Connections open now. */
  public long connectionsOpen() {
    return connectionsOpen.sum();
  }

  /** Connections closed by the header timeout so far. */
  public long headTimeouts() {
    return headTimeouts.sum();
  }

  /** Requests refused before routing so far. */
  public long refusedBeforeRouting() {
    return refusedBeforeRouting.sum();
  }

  static int bucketOf(long nanos) {
    double seconds = nanos / 1e9;
    for (int b = 0; b < BUCKETS_SECONDS.length; b++) {
      if (seconds <= BUCKETS_SECONDS[b]) return b;
    }
    return BUCKETS_SECONDS.length;
  }

  /**
   * The Prometheus text exposition: request counters and latency histograms, then the Raft gauges
   * from {@code state}. A null {@code state} (the node did not answer) renders {@code raftkv_up 0}
   * and no Raft gauges.
   */
  public String render(RaftPeer.State state) {
    StringBuilder sb = new StringBuilder(4096);
    header(sb, "raftkv_up", "gauge", "1 if this node's Raft peer answered the status query behind this scrape.");
    sb.append("raftkv_up ").append(state == null ? 0 : 1).append('\n');
    if (state != null) raftGauges(sb, state);

    header(sb, "raftkv_http_requests_total", "counter", "KV requests over HTTP by operation and outcome.");
    for (Op op : Op.values()) {
      for (Outcome o : Outcome.values()) {
        sb.append("raftkv_http_requests_total{op=\"").append(op.label()).append("\",outcome=\"").append(o.label());
        sb.append("\"} ").append(count(op, o)).append('\n');
      }
    }

    header(
        sb,
        "raftkv_http_request_duration_seconds",
        "histogram",
        "Time from a KV request's arrival to its answer, by operation.");
    for (Op op : Op.values()) {
      long cumulative = 0;
      for (int b = 0; b <= BUCKETS_SECONDS.length; b++) {
        cumulative += buckets[op.ordinal()][b].sum();
        String le = b < BUCKETS_SECONDS.length ? formatDouble(BUCKETS_SECONDS[b]) : "+Inf";
        sb.append("raftkv_http_request_duration_seconds_bucket{op=\"").append(op.label());
        sb.append("\",le=\"").append(le).append("\"} ").append(cumulative).append('\n');
      }
      sb.append("raftkv_http_request_duration_seconds_sum{op=\"").append(op.label()).append("\"} ");
      sb.append(formatDouble(latencyNanos[op.ordinal()].sum() / 1e9)).append('\n');
      sb.append("raftkv_http_request_duration_seconds_count{op=\"").append(op.label()).append("\"} ");
      sb.append(cumulative).append('\n');
    }

    counter(sb, "raftkv_http_connections_accepted_total", "HTTP connections accepted and served.", connectionsAccepted.sum());
    gauge(sb, "raftkv_http_connections_open", "HTTP connections being served now.", connectionsOpen.sum());
    counter(sb, "raftkv_http_head_timeouts_total", "HTTP connections closed for not sending a request head within the header timeout.",
        headTimeouts.sum());
    counter(sb, "raftkv_http_refused_before_routing_total",
        "HTTP requests refused before routing (malformed, over the limits, unsupported).", refusedBeforeRouting.sum());
    counter(sb, "raftkv_http_log_lines_suppressed_total", "Log lines about HTTP clients held back by the rate limit.",
        logLinesSuppressed.sum());
    return sb.toString();
  }

  private static void raftGauges(StringBuilder sb, RaftPeer.State s) {
    gauge(sb, "raftkv_raft_node_id", "This node's id in its Raft group.", s.id());
    header(sb, "raftkv_raft_role", "gauge", "1 for the role this node's Raft peer has now, 0 for the others.");
    for (Role r : Role.values()) {
      sb.append("raftkv_raft_role{role=\"").append(r.name().toLowerCase(Locale.ROOT)).append("\"} ");
      sb.append(s.role() == r ? 1 : 0).append('\n');
    }
    gauge(sb, "raftkv_raft_term", "Current Raft term.", s.term());
    gauge(sb, "raftkv_raft_leader", "Id of the leader this node knows of; -1 when none.", s.leader());
    gauge(sb, "raftkv_raft_commit_index", "Highest log index known to be committed.", s.commitIndex());
    gauge(sb, "raftkv_raft_applied_index", "Highest log index applied to the state machine.", s.appliedIndex());
    gauge(sb, "raftkv_raft_last_log_index", "Index of the last entry in this node's log.", s.lastLogIndex());
    gauge(sb, "raftkv_raft_snapshot_index", "Last log index covered by the stored snapshot.", s.snapshotIndex());
    gauge(sb, "raftkv_raft_state_bytes", "Size of the persisted Raft state (term, vote, log).", s.raftStateSize());
    gauge(sb, "raftkv_snapshot_bytes", "Size of the stored snapshot.", s.snapshotSize());
  }

  private static void gauge(StringBuilder sb, String name, String help, long value) {
    header(sb, name, "gauge", help);
    sb.append(name).append(' ').append(value).append('\n');
  }

  private static void counter(StringBuilder sb, String name, String help, long value) {
    header(sb, name, "counter", help);
    sb.append(name).append(' ').append(value).append('\n');
  }

  private static void header(StringBuilder sb, String name, String type, String help) {
    sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
    sb.append("# TYPE ").append(name).append(' ').append(type).append('\n');
  }

  /** Plain decimal ("0.0025", "10"), not Java's "1.0E-4" or "10.0". */
  private static String formatDouble(double d) {
    return BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
  }
}
