package io.raftkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.raftkv.raft.RaftCore;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.spi.ToolProvider;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The package layering of STYLE.md, checked on the compiled main classes with the JDK's own
 * {@code jdeps}: raft <- rsm <- kv <- server; transport and storage are leaves beside Raft that the
 * shells wire in; codec imports nothing of the project; bench and cli are top-level shells. Runs on
 * bytecode, so a dependency hidden in a fully qualified name counts as much as an import.
 */
class ArchitectureTest {
  private static final String ROOT = "io.raftkv.";

  /**
   * Which project packages each main package may depend on: the truth of the code, kept exact
   * (an allowance no class uses fails the test too, so the table never drifts from the code).
   * Adding an edge here is a design decision: it must not point upward or close a cycle.
   */
  private static final Map<String, Set<String>> ALLOWED =
      table(
          "codec", "",
          "raft", "codec",
          // the ports RaftPeer uses (RaftStorage, PeerTransport) live in raft; these implement them
          "storage", "raft codec",
          "transport", "raft codec",
          "rsm", "raft codec",
          // KvServer wires the Raft group under its RSM: skips a layer, still downward
          "kv", "rsm raft codec",
          // a server's answer is the RSM's Result as it arrived; the Clerk decodes the KV result
          "client", "kv rsm",
          // server -> client: the HTTP gateway and the node answer through a KvClient (the Clerk).
          // ARCHITECTURE.md draws client above server, so this edge points up in that drawing;
          // the code has no edge back (client -> server), so there is no cycle.
          "server", "client kv rsm raft storage transport codec",
          "bench", "server",
          "cli", "server bench");

  private static Map<String, Set<String>> edges;
  private static Set<String> packages;

  @BeforeAll
  static void analyse() throws Exception {
    Path classes = mainClasses();
    packages = packagesIn(classes);
    edges = jdepsEdges(classes);
  }

  @Test
  void everyMainPackageHasAPlaceInTheTable() {
    Set<String> unplaced = new TreeSet<>(packages);
    unplaced.removeAll(ALLOWED.keySet());
    assertTrue(unplaced.isEmpty(), "packages missing from ArchitectureTest.ALLOWED: " + unplaced);
    assertTrue(packages.containsAll(ALLOWED.keySet()), "ALLOWED names packages that do not exist: " + ALLOWED.keySet());
  }

  @Test
  void noCycleAmongProjectPackages() {
    List<String> cycle = findCycle(edges);
    assertTrue(cycle.isEmpty(), "package cycle: " + String.join(" -> ", cycle));
  }

  @Test
  void everyDependencyIsAllowed() {
    List<String> forbidden = new ArrayList<>();
    for (var e : edges.entrySet()) {
      for (String to : e.getValue()) {
        if (!ALLOWED.getOrDefault(e.getKey(), Set.of()).contains(to)) forbidden.add(e.getKey() + " -> " + to);
      }
    }
    assertTrue(forbidden.isEmpty(), "dependencies the layering does not allow (upward or sideways): " + forbidden);
  }

  @Test
  void theTableIsTheTruth() {
    List<String> unused = new ArrayList<>();
    for (var e : ALLOWED.entrySet()) {
      for (String to : e.getValue()) {
        if (!edges.getOrDefault(e.getKey(), Set.of()).contains(to)) unused.add(e.getKey() + " -> " + to);
      }
    }
    assertTrue(unused.isEmpty(), "allowed in ArchitectureTest.ALLOWED but no class depends so; remove: " + unused);
    assertTrue(findCycle(ALLOWED).isEmpty(), "the table itself has a cycle");
  }

  @Test
  void theParserSeesJdepsOutput() {
    // a guard against a jdeps whose output format changed: the checks above would pass vacuously
    assertTrue(edges.getOrDefault("rsm", Set.of()).contains("raft"), "no rsm -> raft edge parsed: " + edges);
    assertEquals(Set.of(), edges.getOrDefault("codec", Set.of()), "codec must import nothing of the project");
  }

  // ---------------------------------------------------------------- analysis

  private static Path mainClasses() throws URISyntaxException {
    Path p = Path.of(RaftCore.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    if (!Files.isDirectory(p)) fail("main classes are not a directory (run under Maven): " + p);
    return p;
  }

  private static Set<String> packagesIn(Path classes) throws IOException {
    Set<String> out = new TreeSet<>();
    try (Stream<Path> files = Files.walk(classes)) {
      files
          .filter(f -> f.toString().endsWith(".class"))
          .map(f -> classes.relativize(f.getParent()).toString().replace(f.getFileSystem().getSeparator(), "."))
          .filter(pkg -> pkg.startsWith(ROOT))
          .forEach(pkg -> out.add(pkg.substring(ROOT.length())));
    }
    return out;
  }

  private static final Pattern EDGE = Pattern.compile("^\\s*io\\.raftkv\\.([\\w.]+)\\s+->\\s+io\\.raftkv\\.([\\w.]+)\\s");

  /** Package -> packages it depends on, project packages only, without self-edges. */
  private static Map<String, Set<String>> jdepsEdges(Path classes) {
    ToolProvider jdeps = ToolProvider.findFirst("jdeps").orElseThrow(() -> new AssertionError("no jdeps in this JDK"));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int rc =
        jdeps.run(new PrintWriter(out, true), new PrintWriter(err, true),
            "-verbose:package", "-e", "io\\.raftkv\\..*", classes.toString());
    assertEquals(0, rc, "jdeps failed: " + err + out);
    Map<String, Set<String>> result = new TreeMap<>();
    for (String line : out.toString().split("\\R")) {
      Matcher m = EDGE.matcher(line);
      if (!m.find() || m.group(1).equals(m.group(2))) continue;
      result.computeIfAbsent(m.group(1), k -> new TreeSet<>()).add(m.group(2));
    }
    return result;
  }

  /** A cycle in {@code graph} as the packages along it (first = last), or empty if there is none. */
  static List<String> findCycle(Map<String, Set<String>> graph) {
    Map<String, Integer> state = new HashMap<>(); // absent: unseen, 1: on the path, 2: done
    Deque<String> path = new ArrayDeque<>();
    for (String start : new TreeSet<>(graph.keySet())) {
      List<String> c = visit(start, graph, state, path);
      if (!c.isEmpty()) return c;
    }
    return List.of();
  }

  private static List<String> visit(String node, Map<String, Set<String>> graph, Map<String, Integer> state, Deque<String> path) {
    Integer s = state.get(node);
    if (s != null && s == 2) return List.of();
    if (s != null && s == 1) {
      List<String> cycle = new ArrayList<>();
      boolean in = false;
      for (var it = path.descendingIterator(); it.hasNext(); ) {
        String p = it.next();
        in |= p.equals(node);
        if (in) cycle.add(p);
      }
      cycle.add(node);
      return cycle;
    }
    state.put(node, 1);
    path.push(node);
    for (String next : graph.getOrDefault(node, Set.of())) {
      List<String> c = visit(next, graph, state, path);
      if (!c.isEmpty()) return c;
    }
    path.pop();
    state.put(node, 2);
    return List.of();
  }

  @Test
  void theCycleFinderFindsACycle() {
    Map<String, Set<String>> g = Map.of("a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a"), "d", Set.of("a"));
    List<String> c = findCycle(g);
    assertEquals(4, c.size(), c.toString());
    assertEquals(c.get(0), c.get(3));
    assertEquals(new HashSet<>(List.of("a", "b", "c")), new HashSet<>(c));
    assertEquals(List.of(), findCycle(Map.of("a", Set.of("b"), "b", Set.of())));
  }

  private static Map<String, Set<String>> table(String... pairs) {
    Map<String, Set<String>> t = new TreeMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      Set<String> to = new TreeSet<>();
      for (String p : pairs[i + 1].split(" ")) if (!p.isEmpty()) to.add(p);
      t.put(pairs[i], to);
    }
    return t;
  }
}
