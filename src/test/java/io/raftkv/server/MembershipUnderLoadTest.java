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
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntFunction;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Membership changes of a running group of {@code raftkv node} JVMs (loopback, FileStorage) under
 * client load. The address book ({@code --members}) names five nodes; the group starts with voters
 * 0, 1 and 2. Nodes 3 and 4 are started, added as learners, promoted once caught up; the leader is
 * removed (a new one is elected among the rest) and stopped with SIGTERM; a voter is killed with
 * SIGKILL, removed, and replaced by a sixth node outside the address book, started with {@code
 * node --join} and an empty data directory: the group gives it id 5. Meanwhile clients put,
 * append and read over HTTP. Afterwards every acknowledged append is in its key exactly once, every
 * acknowledged write's version is reached, the membership is the expected one on every member, and
 * the whole history is linearizable.
 *
 * <p>Prints how long each change took on this machine ({@code membership timing: ...}) and writes
 * the same lines to {@code target/membership-timings.txt}.
 */
@Timeout(180)
class MembershipUnderLoadTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MEMBERS = 6;
  /** The node that joins with {@code node --join} instead of being listed in {@code --members}. */
  private static final int JOINER = 5;
  private static final Set<Integer> FIRST_VOTERS = Set.of(0, 1, 2);
  private static final int CLIENTS = 4;
  /** Appends go to these keys, puts to the others: a put would overwrite appended tokens. */
  private static final List<String> APPEND_KEYS = List.of("a", "b");
  private static final List<String> PUT_KEYS = List.of("p", "q");
  private static final List<String> KEYS = List.of("a", "b", "p", "q");
  private static final Duration CHANGE_DEADLINE = Duration.ofSeconds(30);
  private static final long POLL_MS = 20;

  @TempDir Path dir;
  private RaftKvService service;
  private NodeProcesses nodes;
  private NodeHttp http;
  private final HistoryRecorder history = new HistoryRecorder();
  /** Tokens of appends a node acknowledged, per key. */
  private final Map<String, List<String>> ackedAppends = new ConcurrentHashMap<>();
  /** The highest version a node acknowledged for a write, per key. */
  private final Map<String, Long> ackedVersions = new ConcurrentHashMap<>();
  /** The nodes clients send to: running members of the group. Replaced, never changed in place. */
  private volatile int[] targets = new int[0];
  /** The group's voters as the test changed them. */
  private final Set<Integer> voters = new TreeSet<>();
  private final List<String> timings = new ArrayList<>();
  /** Client requests each node answered definitely (200, or 404 for a read). */
  private final Map<Integer, Integer> answeredBy = new ConcurrentHashMap<>();

  @AfterEach
  void reap() {
    if (nodes != null) nodes.close();
  }

  @Test
  void growsRemovesTheLeaderAndReplacesAKilledVoterUnderLoad() throws Exception {
    service = new RaftKvService(MEMBERS); // addresses for all six; the five first are --members
    http = new NodeHttp(service);
    IntFunction<List<String>> fixed = withVoters(NodeProcesses.raftkvNode(service.members().subList(0, JOINER), dir), FIRST_VOTERS);
    IntFunction<List<String>> joiner = joining(service.command(dir));
    nodes = new NodeProcesses(MEMBERS, id -> id == JOINER ? joiner.apply(id) : fixed.apply(id), dir);
    try {
      run();
    } catch (Throwable t) {
      System.err.println("MembershipUnderLoadTest failed: " + t + "\n" + nodes.tailLogs(60));
      throw t;
    } finally {
      keepLogs();
    }
  }

  private void run() throws Exception {
    long t0 = System.nanoTime();
    for (int i : FIRST_VOTERS) nodes.start(i);
    voters.addAll(FIRST_VOTERS);
    int leader = awaitLeader(voters, Duration.ofSeconds(60));
    System.out.printf("3 voters of %d members ready (leader n%d) in %.1f s%n", MEMBERS, leader, seconds(t0));
    setTargets(voters);

    AtomicBoolean stop = new AtomicBoolean();
    ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
    List<Future<?>> clients = new ArrayList<>();
    for (int c = 0; c < CLIENTS; c++) {
      int me = c;
      clients.add(pool.submit(() -> clientLoop(me, stop)));
    }
    int removedLeader;
    int killed;
    try {
      NodeHttp.sleep(1500); // let the load run before the first change

      // grow 3 -> 5
      bringInAsVoter(3);
      bringInAsVoter(4);
      awaitMembers(voters, Set.of(0, 1, 2, 3, 4), Set.of());
      NodeHttp.sleep(1000);

      // remove the leader: a new one among the rest, then the removed node stops cleanly
      removedLeader = awaitLeader(voters, Duration.ofSeconds(30));
      removeLeader(removedLeader);
      NodeHttp.sleep(1000); // the removed node still serves clients (through the new leader) until it stops
      setTargets(voters);
      stopRemoved(removedLeader);
      NodeHttp.sleep(1000);

      // replace a voter that died for good by node 5
      int now = awaitLeader(voters, Duration.ofSeconds(30));
      killed = voters.stream().filter(v -> v != now).findFirst().orElseThrow();
      voters.remove(killed);
      setTargets(voters);
      System.out.println("kill -9 voter n" + killed + " (leader n" + now + ")");
      nodes.kill(killed);
      remove(killed);
      joinAsVoter(JOINER);
      NodeHttp.sleep(1500); // the load runs on the final group
    } finally {
      stop.set(true);
      for (Future<?> f : clients) f.get(60, TimeUnit.SECONDS);
      pool.shutdown();
    }

    Set<Integer> expected = new TreeSet<>(Set.of(0, 1, 2, 3, 4, 5));
    expected.remove(removedLeader);
    expected.remove(killed);
    assertEquals(expected, voters);
    awaitMembers(voters, expected, Set.of());
    awaitLeader(voters, Duration.ofSeconds(30));
    checkWrites();
    writeTimings();
    var ops = history.history();
    long uncertain = ops.stream().filter(o -> o.output() == null || o.output().uncertain()).count();
    System.out.printf("membership under load done in %.1f s, history of %d ops (%d without a definite answer); answered per node %s%n",
        seconds(t0), ops.size(), uncertain, new java.util.TreeMap<>(answeredBy));
    KvHistoryChecks.assertLinearizable("membership-under-load", ops, Duration.ofSeconds(20), KvModel.strict());
  }

  /**
   * Starts node {@code id} (from an empty data directory: it has never run), adds it as a learner,
   * waits until it has applied what the group had committed when it was added, and promotes it.
   * Clients use it from then on.
   */
  private void bringInAsVoter(int id) {
    long start = System.nanoTime();
    nodes.start(id);
    awaitUp(id, Duration.ofSeconds(60));
    timing("start n" + id, start);

    long add = System.nanoTime();
    JsonNode added = change("POST", id, "learner", m -> ids(m, "learners").contains(id));
    timing("add-learner n" + id, add);
    assertTrue(ids(added, "learners").contains(id), added.toString());
    catchUpAndPromote(id);
  }

  /** Waits until learner {@code id} has applied what the group had committed, then promotes it; clients use it from then on. */
  private void catchUpAndPromote(int id) {
    long caughtUp = System.nanoTime();
    long target = status(awaitLeader(voters, Duration.ofSeconds(30))).get("commitIndex").asLong();
    awaitApplied(id, target, Duration.ofSeconds(30));
    timing("catch-up n" + id + " (to index " + target + ")", caughtUp);

    long promote = System.nanoTime();
    JsonNode promoted = change("POST", id, "voter", m -> ids(m, "voters").contains(id));
    timing("promote n" + id, promote);
    assertTrue(ids(promoted, "voters").contains(id), promoted.toString());
    voters.add(id);
    setTargets(voters);
  }

  /**
   * Starts the node outside the address book with {@code node --join}: it must get id {@code id}
   * and join as a learner by itself; then, caught up, it is promoted.
   */
  private void joinAsVoter(int id) {
    long start = System.nanoTime();
    nodes.start(id);
    awaitUp(id, Duration.ofSeconds(60));
    timing("join and start n" + id, start);
    JsonNode members = request(awaitLeader(voters, Duration.ofSeconds(30)), "GET", "/v1/members", null).json();
    assertTrue(ids(members, "learners").contains(id), "joined as a learner: " + members);
    assertEquals(service.members().get(id), members.get("addresses").get(Integer.toString(id)).textValue(), members.toString());
    String log = readLog(id);
    assertTrue(log.contains("joined the group as n" + id), log);
    catchUpAndPromote(id);
  }

  private String readLog(int id) {
    try {
      return java.nio.file.Files.readString(nodes.log(id));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** The command of a node that joins: the fixed ones' endpoints to ask, its own address, no id or --members. */
  private IntFunction<List<String>> joining(IntFunction<List<String>> command) {
    return id -> {
      List<String> cmd = new ArrayList<>(command.apply(id));
      int at = cmd.indexOf("--id");
      cmd.subList(at, at + 4).clear(); // --id ID --members LIST
      List<String> endpoints = new ArrayList<>();
      for (int i = 0; i < JOINER; i++) endpoints.add("http://" + httpOf(service.members().get(i)));
      cmd.addAll(List.of("--join", String.join(",", endpoints), "--address", service.members().get(id)));
      return cmd;
    };
  }

  private static String httpOf(String member) {
    String[] p = member.split(":");
    return p[0] + ":" + p[2];
  }

  /** Removes the leader {@code id}; a new leader must be elected among the remaining voters. */
  private void removeLeader(int id) {
    long start = System.nanoTime();
    JsonNode members = change("DELETE", id, null, m -> !member(m, id));
    timing("remove-leader n" + id + " answered", start);
    assertTrue(!member(members, id), members.toString());
    voters.remove(id);
    int next = awaitLeader(voters, Duration.ofSeconds(30));
    timing("remove-leader n" + id + " -> new leader n" + next, start);
    String role = status(id).get("role").asText();
    assertTrue(!role.equals("leader"), "the removed n" + id + " still leads");
  }

  private void remove(int id) {
    long start = System.nanoTime();
    JsonNode members = change("DELETE", id, null, m -> !member(m, id));
    timing("remove n" + id, start);
    assertTrue(!member(members, id), members.toString());
  }

  /** SIGTERM to a node the group removed: it must exit on its own, as a graceful stop does. */
  private void stopRemoved(int id) throws IOException {
    long start = System.nanoTime();
    nodes.terminate(id);
    int code = nodes.awaitExit(id, 30); // throws if still running
    timing("stop removed n" + id + " (exit " + code + ")", start);
    String log = Files.readString(nodes.log(id));
    // 143: the JVM's exit after SIGTERM once its shutdown hooks ran; NodeCommand.FAILED (4) would
    // mean the node had stopped serving on its own
    assertTrue(code == 143 || code == 0, "removed n" + id + " exited " + code);
    assertTrue(!log.contains("no longer serves"), "removed n" + id + " stopped serving before its SIGTERM");
    assertTrue(log.contains("n" + id + " stops without a leadership transfer") || log.contains("n" + id + " handed leadership"),
        "removed n" + id + " went through its graceful stop");
  }

  /**
   * Sends a membership change ({@code role} null: remove) to the leader, following NotLeader and
   * retrying a change refused because another is still committing, until one is answered 200 or
   * {@code done} holds for the leader's membership (after an uncertain answer). Returns the
   * membership.
   */
  private JsonNode change(String method, int id, String role, Predicate<JsonNode> done) {
    String path = "/v1/members/" + id + (role == null ? "" : "?role=" + role);
    long deadline = System.nanoTime() + CHANGE_DEADLINE.toNanos();
    String last = "nothing";
    while (System.nanoTime() < deadline) {
      int leader = awaitLeader(voters, Duration.ofSeconds(30));
      NodeHttp.Answer a = request(leader, method, path, null);
      if (a != null && a.status() == 200) return a.json().get("members");
      last = a == null ? "no answer from n" + leader : a.status() + " " + a.json();
      if (a == null || a.status() >= 500) {
        NodeHttp.Answer m = request(leader, "GET", "/v1/members", null);
        if (m != null && m.status() == 200 && done.test(m.json())) return m.json();
      }
      NodeHttp.sleep(50);
    }
    throw new AssertionError(method + " " + path + " not done within " + CHANGE_DEADLINE + "; last answer: " + last);
  }

  /** Waits until every node of {@code on} reports these voters and learners. */
  private void awaitMembers(Set<Integer> on, Set<Integer> wantVoters, Set<Integer> wantLearners) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    for (int i : on) {
      JsonNode m = null;
      while (true) {
        NodeHttp.Answer a = request(i, "GET", "/v1/members", null);
        if (a != null && a.status() == 200) {
          m = a.json();
          if (ids(m, "voters").equals(wantVoters) && ids(m, "learners").equals(wantLearners) && !m.has("outgoing")) break;
        }
        if (System.nanoTime() > deadline) {
          throw new AssertionError("n" + i + " reports members " + m + ", not voters " + wantVoters + " learners " + wantLearners);
        }
        NodeHttp.sleep(POLL_MS);
      }
    }
  }

  private void checkWrites() {
    int appends = 0;
    for (String key : KEYS) {
      JsonNode got = http.getUntilAnswered(history, key, () -> java.util.Arrays.stream(targets).boxed().toList());
      String value = got == null ? "" : got.get("value").asText();
      long version = got == null ? 0 : got.get("version").asLong();
      for (String token : ackedAppends.getOrDefault(key, List.of())) {
        int first = value.indexOf(token);
        assertTrue(first >= 0, "acknowledged append " + token + " lost from " + key);
        assertEquals(-1, value.indexOf(token, first + 1), "append " + token + " applied twice");
        appends++;
      }
      long acked = ackedVersions.getOrDefault(key, 0L);
      assertTrue(version >= acked, key + " is at version " + version + " but a write was acknowledged at " + acked);
    }
    System.out.printf("%d acknowledged appends checked; acknowledged versions %s%n", appends, new java.util.TreeMap<>(ackedVersions));
    assertTrue(appends > 0, "no append was acknowledged");
    for (String key : PUT_KEYS) assertTrue(ackedVersions.containsKey(key), "no put of " + key + " was acknowledged");
  }

  /** Puts, appends (exactly-once sessions) and reads on a few keys, against the current targets. */
  private void clientLoop(int me, AtomicBoolean stop) {
    SplittableRandom rnd = new SplittableRandom(me * 7919L + 1);
    long clientId = (me + 1) * 1_000_003L;
    long seq = 0;
    while (!stop.get()) {
      // A steady, modest load: appended values make the checker's states long strings.
      NodeHttp.sleep(80);
      int kind = rnd.nextInt(3);
      if (kind == 0) {
        String key = KEYS.get(rnd.nextInt(KEYS.size()));
        int[] to = targets;
        long h = history.begin(me, KvInput.get(key));
        NodeHttp.Answer a = request(to[rnd.nextInt(to.length)], "GET", NodeHttp.path(key), null);
        if (a == null || a.status() >= 500) history.end(h, KvOutput.err(KvOutput.TIMEOUT));
        else if (a.status() == 404) history.end(h, KvOutput.noKey());
        else history.end(h, KvOutput.value(a.json().get("value").asText(), a.json().get("version").asLong()));
        continue;
      }
      boolean append = kind == 1;
      String key = append ? APPEND_KEYS.get(rnd.nextInt(APPEND_KEYS.size())) : PUT_KEYS.get(rnd.nextInt(PUT_KEYS.size()));
      String token = "<" + me + "." + (++seq) + ">";
      String body = "{\"value\":\"" + token + "\",\"client\":" + clientId + ",\"seq\":" + seq + "}";
      long h = history.begin(me, append ? KvInput.append(key, token) : KvInput.put(key, token));
      KvOutput out = KvOutput.err(KvOutput.TIMEOUT);
      // The same (client, seq) on every try: the store applies it once whichever node gets it.
      for (int attempt = 0; attempt < 6 && !stop.get(); attempt++) {
        int[] to = targets;
        NodeHttp.Answer a = request(to[(me + attempt) % to.length], append ? "POST" : "PUT", append ? NodeHttp.path(key) + "/append" : NodeHttp.path(key), body);
        if (a != null && a.status() == 200) {
          out = KvOutput.ok();
          if (append) ackedAppends.computeIfAbsent(key, k -> Collections.synchronizedList(new ArrayList<>())).add(token);
          ackedVersions.merge(key, a.json().get("version").asLong(), Math::max);
          break;
        }
        NodeHttp.sleep(100);
      }
      history.end(h, out);
    }
  }

  /** A request to node {@code node}; reads and writes it answered are counted by node. */
  private NodeHttp.Answer request(int node, String method, String path, String body) {
    NodeHttp.Answer a = http.request(node, method, path, body);
    if (a != null && path.startsWith("/v1/kv/") && (a.status() == 200 || a.status() == 404)) answeredBy.merge(node, 1, Integer::sum);
    return a;
  }

  private JsonNode status(int node) {
    NodeHttp.Answer a = request(node, "GET", "/v1/status", null);
    if (a == null || a.status() != 200) throw new AssertionError("n" + node + " status: " + (a == null ? "no answer" : a.status()));
    return a.json();
  }

  /** The node of {@code among} that reports itself leader. */
  private int awaitLeader(Set<Integer> among, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      for (int i : among) {
        if (!nodes.isRunning(i)) continue;
        NodeHttp.Answer a = request(i, "GET", "/v1/status", null);
        if (a != null && a.status() == 200 && "leader".equals(a.json().get("role").asText())) return i;
      }
      NodeHttp.sleep(POLL_MS);
    }
    throw new AssertionError("no leader among " + among + " within " + timeout);
  }

  private void awaitUp(int id, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      NodeHttp.Answer a = request(id, "GET", "/v1/status", null);
      if (a != null && a.status() == 200) return;
      if (System.nanoTime() > deadline || !nodes.isRunning(id)) throw new AssertionError("n" + id + " not up within " + timeout);
      NodeHttp.sleep(POLL_MS);
    }
  }

  private void awaitApplied(int id, long index, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    long applied = -1;
    while (System.nanoTime() < deadline) {
      NodeHttp.Answer a = request(id, "GET", "/v1/status", null);
      if (a != null && a.status() == 200) {
        applied = a.json().get("appliedIndex").asLong();
        if (applied >= index) return;
      }
      NodeHttp.sleep(POLL_MS);
    }
    throw new AssertionError("n" + id + " applied only " + applied + " of " + index + " within " + timeout);
  }

  private void setTargets(Set<Integer> ids) {
    targets = ids.stream().mapToInt(Integer::intValue).toArray();
  }

  private static Set<Integer> ids(JsonNode members, String field) {
    Set<Integer> s = new TreeSet<>();
    for (JsonNode n : members.path(field)) s.add(n.asInt());
    return s;
  }

  private static boolean member(JsonNode members, int id) {
    return ids(members, "voters").contains(id) || ids(members, "learners").contains(id) || ids(members, "outgoing").contains(id);
  }

  /** The nodes' command lines with the group's first voters. */
  private static IntFunction<List<String>> withVoters(IntFunction<List<String>> command, Set<Integer> voters) {
    String list = new TreeSet<>(voters).stream().map(String::valueOf).collect(Collectors.joining(","));
    return id -> {
      List<String> cmd = new ArrayList<>(command.apply(id));
      cmd.addAll(List.of("--voters", list));
      return cmd;
    };
  }

  /** One line per measured step; the wall-clock start is there to line it up with the node logs. */
  private void timing(String what, long since) {
    long ms = (System.nanoTime() - since) / 1_000_000;
    String from = java.time.LocalTime.now().minus(Duration.ofMillis(ms)).truncatedTo(java.time.temporal.ChronoUnit.MILLIS).toString();
    String line = "membership timing: " + what + " " + ms + " ms (from " + from + ")";
    System.out.println(line);
    timings.add(line);
  }

  private void writeTimings() throws IOException {
    Path out = Path.of("target", "membership-timings.txt");
    Files.createDirectories(out.getParent());
    Files.write(out, timings);
  }

  /** The nodes' logs outlive the temp dir (in target/, the last run's only), for a post-mortem. */
  private void keepLogs() {
    try {
      Path keep = Path.of("target", "membership-under-load-logs");
      Files.createDirectories(keep);
      for (int i = 0; i < MEMBERS; i++) {
        if (Files.exists(nodes.log(i))) Files.copy(nodes.log(i), keep.resolve("node-" + i + ".log"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
      System.err.println("node logs kept in " + keep.toAbsolutePath());
    } catch (IOException e) {
      System.err.println("could not keep the node logs: " + e);
    }
  }



  private static double seconds(long since) {
    return (System.nanoTime() - since) / 1e9;
  }


}
