package io.raftkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.raftkv.bench.NodeProcesses;
import io.raftkv.bench.RaftKvService;
import io.raftkv.testing.lin.HistoryRecorder;
import io.raftkv.testing.lin.KvHistoryChecks;
import io.raftkv.testing.lin.KvInput;
import io.raftkv.testing.lin.KvModel;
import io.raftkv.testing.lin.KvOutput;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three node JVMs (the {@code raftkv node} command, started from the built classes by {@link
 * NodeProcesses}) on loopback
 * with FileStorage: concurrent HTTP clients while the leader and then a follower are killed with
 * SIGKILL and restarted, the leader stopped with SIGTERM (it hands leadership on) and restarted,
 * then a graceful stop and restart of all. Afterwards every acknowledged
 * append is in its key exactly once, every acknowledged put's version is reached, and the whole
 * recorded history is linearizable.
 */
@Timeout(420)
class MultiProcessClusterTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int N = 3;
  private static final int CLIENTS = 4;
  private static final List<String> KEYS = List.of("a", "b", "c");

  @TempDir Path dir;
  private RaftKvService service;
  private NodeProcesses nodes;
  private NodeHttp http;
  private final HistoryRecorder history = new HistoryRecorder();
  /** Tokens of appends a node acknowledged, per key. */
  private final Map<String, List<String>> ackedAppends = new ConcurrentHashMap<>();

  @AfterEach
  void reap() {
    if (nodes != null) nodes.close();
  }

  @Test
  void survivesKillNineOfLeaderAndFollowerAndAFullRestart() throws Exception {
    service = new RaftKvService(N);
    http = new NodeHttp(service);
    nodes = new NodeProcesses(N, service.command(dir), dir);
    long t0 = System.nanoTime();
    for (int i = 0; i < N; i++) start(i);
    int leader = awaitLeader(Duration.ofSeconds(60));
    System.out.printf("3-JVM cluster ready (leader n%d) in %.1f s%n", leader, (System.nanoTime() - t0) / 1e9);

    AtomicBoolean stop = new AtomicBoolean();
    ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
    List<Future<?>> clients = new ArrayList<>();
    for (int c = 0; c < CLIENTS; c++) {
      int me = c;
      clients.add(pool.submit(() -> clientLoop(me, stop)));
    }
    try {
      Thread.sleep(2000);
      leader = awaitLeader(Duration.ofSeconds(30));
      System.out.println("kill -9 leader n" + leader);
      kill(leader);
      Thread.sleep(3000);
      start(leader);
      awaitAllUp(Duration.ofSeconds(60));
      Thread.sleep(2000);
      int follower = (awaitLeader(Duration.ofSeconds(30)) + 1) % N;
      System.out.println("kill -9 follower n" + follower);
      kill(follower);
      Thread.sleep(3000);
      start(follower);
      awaitAllUp(Duration.ofSeconds(60));
      Thread.sleep(2000);
      leader = awaitLeader(Duration.ofSeconds(30));
      System.out.println("SIGTERM leader n" + leader);
      nodes.terminate(leader);
      nodes.awaitExit(leader, 30); // throws if still running
      String stopped = Files.readString(nodes.log(leader));
      assertTrue(
          stopped.contains("n" + leader + " handed leadership to"),
          "a leader stopped with SIGTERM hands leadership on first; " + dumpLogs());
      start(leader);
      awaitAllUp(Duration.ofSeconds(60));
      Thread.sleep(2000);
    } finally {
      stop.set(true);
      for (Future<?> f : clients) f.get(120, TimeUnit.SECONDS);
      pool.shutdown();
    }

    System.out.println("graceful stop of all, then restart");
    for (int i = 0; i < N; i++) nodes.terminate(i); // SIGTERM
    for (int i = 0; i < N; i++) nodes.awaitExit(i, 30); // throws if still running
    for (int i = 0; i < N; i++) start(i);
    awaitLeader(Duration.ofSeconds(60));

    int appends = 0;
    for (String key : KEYS) {
      JsonNode got = http.getUntilAnswered(history, key, () -> java.util.stream.IntStream.range(0, N).boxed().toList());
      String value = got == null ? "" : got.get("value").asText();
      for (String token : ackedAppends.getOrDefault(key, List.of())) {
        int first = value.indexOf(token);
        assertTrue(first >= 0, "acknowledged append " + token + " lost from " + key);
        assertEquals(-1, value.indexOf(token, first + 1), "append " + token + " applied twice");
        appends++;
      }
    }
    System.out.printf("history of %d ops, %d acknowledged appends checked%n", history.size(), appends);
    assertTrue(appends > 0, "no append was acknowledged");
    KvHistoryChecks.assertLinearizable("multi-process", history.history(), Duration.ofSeconds(10), KvModel.strict());
  }

  /** Appends unique tokens (exactly-once sessions) and reads, on a few keys. */
  private void clientLoop(int me, AtomicBoolean stop) {
    SplittableRandom rnd = new SplittableRandom(me * 7919L + 1);
    long clientId = (me + 1) * 1_000_003L;
    long seq = 0;
    while (!stop.get()) {
      // A steady, modest load: the point is faults under traffic, and the history must stay small
      // enough for the checker (appended values make its states long strings).
      NodeHttp.sleep(150);
      String key = KEYS.get(rnd.nextInt(KEYS.size()));
      if (rnd.nextInt(3) == 0) {
        long h = history.begin(me, KvInput.get(key));
        NodeHttp.Answer a = http.request(rnd.nextInt(N), "GET", NodeHttp.path(key), null);
        if (a == null || a.status() >= 500) {
          history.end(h, KvOutput.err(KvOutput.TIMEOUT));
        } else if (a.status() == 404) {
          history.end(h, KvOutput.noKey());
        } else {
          history.end(h, KvOutput.value(a.json().get("value").asText(), a.json().get("version").asLong()));
        }
        continue;
      }
      String token = "<" + me + "." + (++seq) + ">";
      String body = "{\"value\":\"" + token + "\",\"client\":" + clientId + ",\"seq\":" + seq + "}";
      long h = history.begin(me, KvInput.append(key, token));
      KvOutput out = KvOutput.err(KvOutput.TIMEOUT);
      // The same (client, seq) on every try: the store applies it once whichever node gets it.
      for (int attempt = 0; attempt < 6 && !stop.get(); attempt++) {
        NodeHttp.Answer a = http.request((me + attempt) % N, "POST", NodeHttp.path(key) + "/append", body);
        if (a != null && a.status() == 200) {
          out = new KvOutput("", a.json().get("version").asLong(), KvOutput.OK);
          ackedAppends.computeIfAbsent(key, k -> java.util.Collections.synchronizedList(new ArrayList<>())).add(token);
          break;
        }
        NodeHttp.sleep(100);
      }
      history.end(h, out.err().equals(KvOutput.OK) ? KvOutput.ok() : out);
    }
  }

  private void start(int i) {
    nodes.start(i);
  }

  private void kill(int i) {
    nodes.kill(i); // SIGKILL, and waits until it is gone
  }

  private int awaitLeader(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      for (int i = 0; i < N; i++) {
        if (!nodes.isRunning(i)) continue;
        NodeHttp.Answer a = http.request(i, "GET", "/v1/status", null);
        if (a != null && a.status() == 200 && "leader".equals(a.json().get("role").asText())) return i;
      }
      NodeHttp.sleep(200);
    }
    throw new AssertionError("no leader within " + timeout + "; logs in " + dumpLogs());
  }

  private void awaitAllUp(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (int i = 0; i < N; i++) {
      while (true) {
        NodeHttp.Answer a = http.request(i, "GET", "/v1/status", null);
        if (a != null && a.status() == 200) break;
        if (System.nanoTime() > deadline) throw new AssertionError("n" + i + " not up; logs in " + dumpLogs());
        NodeHttp.sleep(200);
      }
    }
  }

  private String dumpLogs() {
    return nodes.tailLogs(30);
  }


}
