package io.raftkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A seeded, bounded fuzz run against a live 3-node cluster (in this JVM, over Artery): random
 * bytes, and valid requests mutated the way hostile or broken clients mutate them, sent raw over
 * TCP to every node. No answer may be a 5xx (a client's fault is a 4xx), every error answer is
 * JSON, and afterwards every node serves, the keys written before are unchanged and the heap is
 * back to about where it was.
 *
 * <p>{@code -Draftkv.fuzz.seed=S} and {@code -Draftkv.fuzz.cases=N} (default 600) choose the run.
 */
@Timeout(120)
class HostileClientFuzzTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<NodeServer> nodes = new ArrayList<>();
  private static final Map<String, String> KNOWN = new LinkedHashMap<>();
  /** How long a case waits for the server to answer or close after the request is sent. */
  private static final int READ_TIMEOUT_MS = 3000;

  @TempDir static Path dir;

  @BeforeAll
  static void startCluster() throws Exception {
    List<NodeServer.Member> members = LocalNodes.members(3);
    for (int i = 0; i < 3; i++) {
      nodes.add(NodeServer.start(new NodeServer.Settings("kv", i, members, dir.resolve("n" + i), 8 << 20, HttpApi.Limits.defaults())));
    }
    LocalNodes.awaitLeader(nodes, Duration.ofSeconds(60));
    for (int i = 0; i < 10; i++) KNOWN.put("known-" + i, "value " + i + " ✓");
    for (Map.Entry<String, String> e : KNOWN.entrySet()) {
      Answer a = exchange(nodes.get(0), put(e.getKey(), e.getValue()));
      assertEquals(200, a.status, a.toString());
    }
  }

  @AfterAll
  static void stopCluster() {
    for (NodeServer n : nodes) n.stop();
  }

  @Test
  void noFuzzedRequestGetsA5xxAndTheClusterIsUnharmed() throws Exception {
    long seed = Long.getLong("raftkv.fuzz.seed", 20261203L);
    int cases = Integer.getInteger("raftkv.fuzz.cases", 600);
    SplittableRandom random = new SplittableRandom(seed);
    long heapBefore = usedHeapAfterGc();
    Map<Integer, Integer> byStatus = new TreeMap<>();
    List<String> failures = new ArrayList<>();
    for (int i = 0; i < cases; i++) {
      byte[] request = random.nextInt(5) == 0 ? randomBytes(random) : mutate(template(random), random);
      NodeServer node = nodes.get(random.nextInt(nodes.size()));
      Answer a = exchange(node, request);
      byStatus.merge(a.status, 1, Integer::sum);
      String what = "case " + i + " (seed " + seed + "): " + printable(request) + " -> " + a;
      if (a.status >= 500) failures.add("a 5xx for a client's request: " + what);
      boolean head = new String(request, 0, Math.min(5, request.length), StandardCharsets.ISO_8859_1).equals("HEAD ");
      JsonNode body = a.status >= 400 && !head ? parseOrNull(a.body) : null; // an answer to HEAD has no body
      if (a.status >= 400 && !head && (body == null || !body.hasNonNull("error"))) failures.add("an error without a JSON body: " + what);
    }
    System.out.printf("hostile-client fuzz: %d cases (seed %d), answers by status %s%n", cases, seed, byStatus);
    assertTrue(failures.isEmpty(), failures.size() + " bad answers, the first ones:\n" + String.join("\n", failures.subList(0, Math.min(25, failures.size()))));

    // every node still serves, and what was there before is unchanged
    for (NodeServer node : nodes) {
      for (Map.Entry<String, String> e : KNOWN.entrySet()) {
        Answer a = exchange(node, get(e.getKey()));
        assertEquals(200, a.status, a.toString());
        JsonNode body = JSON.readTree(a.body);
        assertEquals(e.getValue(), body.get("value").textValue(), e.getKey());
        assertEquals(1, body.get("version").longValue(), e.getKey());
      }
      assertEquals(200, exchange(node, put("after-fuzz-" + node.settings().id(), "ok")).status);
    }
    long heapAfter = usedHeapAfterGc();
    assertTrue(
        heapAfter - heapBefore < 64L << 20,
        "the heap grew by " + ((heapAfter - heapBefore) >> 20) + " MiB over the fuzz run (" + (heapBefore >> 20) + " -> "
            + (heapAfter >> 20) + " MiB)");
  }

  // ---------------------------------------------------------------- what is sent

  private static final String[] METHODS = {"GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS", "PATCH", "TRACE", "CONNECT", "G\u00c9T", ""};
  private static final String[] VERSIONS = {"HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/0.9", "HTTP/1.1x", "http/1.1", ""};

  /** A valid request of a random kind, on a fuzz key (never one of the known keys). */
  private static byte[] template(SplittableRandom r) {
    String key = "f-" + r.nextInt(50);
    return switch (r.nextInt(6)) {
      case 0 -> get(key);
      case 1 -> put(key, "v" + r.nextInt(1000));
      case 2 -> request("POST", "/v1/kv/" + key + "/append", "{\"value\":\"x\",\"client\":\"" + (1 + r.nextInt(5)) + "\",\"seq\":" + (1 + r.nextInt(9)) + "}");
      case 3 -> request("DELETE", "/v1/kv/" + key + "?version=" + r.nextInt(3), null);
      case 4 -> request("PUT", "/v1/kv/" + key, "{\"value\":\"v\",\"version\":" + r.nextInt(3) + "}");
      default -> request("GET", "/v1/status", null);
    };
  }

  /** One to three mutations of the kinds broken and hostile clients send. */
  private static byte[] mutate(byte[] valid, SplittableRandom r) {
    String s = new String(valid, StandardCharsets.ISO_8859_1);
    int mutations = 1 + r.nextInt(3);
    for (int m = 0; m < mutations; m++) {
      s = switch (r.nextInt(16)) {
        case 0 -> replaceRequestLinePart(s, 0, METHODS[r.nextInt(METHODS.length)]);
        case 1 -> replaceRequestLinePart(s, 2, VERSIONS[r.nextInt(VERSIONS.length)]);
        case 2 -> replaceRequestLinePart(s, 1, "/v1/kv/" + "%" + hex(r) + (r.nextBoolean() ? "%C0%AF" : "%FF%FE") + "/x");
        case 3 -> replaceRequestLinePart(s, 1, "/" + "a".repeat(1 + r.nextInt(20_000)));
        case 4 -> insertHeader(s, "X-Long: " + "h".repeat(1 + r.nextInt(20_000)));
        case 5 -> insertHeader(s, "Transfer-Encoding: chunked");
        case 6 -> insertHeader(s, "Content-Length: " + (r.nextBoolean() ? "-1" : Long.toString(r.nextLong() >>> 1)));
        case 7 -> insertHeader(s, "Content-Type: application/json; charset=" + (r.nextBoolean() ? "utf-16" : "latin1"));
        case 8 -> insertHeader(s, "Bad Header Name: x");
        case 9 -> insertHeader(s, "Host: a\r\nHost: b");
        case 10 -> s.replace("\r\n", r.nextBoolean() ? "\n" : "\r");
        case 11 -> flipBytes(s, r);
        case 12 -> s.substring(0, r.nextInt(s.length() + 1)); // truncated
        case 13 -> s + s; // pipelined twice
        case 14 -> replaceBody(s, invalidUtf8Body(r));
        default -> replaceBody(s, "{\"value\":" + (r.nextBoolean() ? "[1,2" : "\"\\ud800\"") + "}");
      };
    }
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  private static String hex(SplittableRandom r) {
    return Integer.toHexString(0x80 + r.nextInt(0x80)).toUpperCase();
  }

  private static String invalidUtf8Body(SplittableRandom r) {
    String[] bad = {"\u00c0\u00af", "\u00ed\u00a0\u0080", "\u00f8\u0088\u0080\u0080\u0080", "\u00ff", "\u00e2\u0082"};
    return "{\"value\":\"a" + bad[r.nextInt(bad.length)] + "b\"}";
  }

  private static String replaceRequestLinePart(String s, int part, String with) {
    int eol = s.indexOf("\r\n");
    if (eol < 0) return s;
    String[] line = s.substring(0, eol).split(" ", -1);
    if (line.length != 3) return s;
    line[part] = with;
    return String.join(" ", line) + s.substring(eol);
  }

  private static String insertHeader(String s, String header) {
    int eol = s.indexOf("\r\n");
    return eol < 0 ? s : s.substring(0, eol + 2) + header + "\r\n" + s.substring(eol + 2);
  }

  private static String replaceBody(String s, String body) {
    int head = s.indexOf("\r\n\r\n");
    if (head < 0) return s;
    String headers = s.substring(0, head).replaceAll("(?im)^content-length: .*$", "Content-Length: " + body.length());
    if (!headers.toLowerCase().contains("content-length")) headers += "\r\nContent-Length: " + body.length();
    return headers + "\r\n\r\n" + body;
  }

  private static String flipBytes(String s, SplittableRandom r) {
    char[] c = s.toCharArray();
    for (int i = 0, n = 1 + r.nextInt(4); i < n && c.length > 0; i++) c[r.nextInt(c.length)] = (char) r.nextInt(256);
    return new String(c);
  }

  private static byte[] randomBytes(SplittableRandom r) {
    byte[] b = new byte[1 + r.nextInt(4096)];
    r.nextBytes(b);
    return b;
  }

  private static byte[] get(String key) {
    return request("GET", "/v1/kv/" + key, null);
  }

  private static byte[] put(String key, String value) {
    return request("PUT", "/v1/kv/" + key, JSON.createObjectNode().put("value", value).toString());
  }

  private static byte[] request(String method, String target, String body) {
    byte[] content = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
    String head =
        method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            + (body == null ? "" : "Content-Type: application/json\r\nContent-Length: " + content.length + "\r\n") + "\r\n";
    byte[] h = head.getBytes(StandardCharsets.ISO_8859_1);
    byte[] all = new byte[h.length + content.length];
    System.arraycopy(h, 0, all, 0, h.length);
    System.arraycopy(content, 0, all, h.length, content.length);
    return all;
  }

  // ---------------------------------------------------------------- the exchange

  /** The first answer to {@code request} ({@code status} 0 if none came before the server closed or timed out). */
  record Answer(int status, String body, boolean timedOut) {
    @Override
    public String toString() {
      return status == 0 ? (timedOut ? "no answer (timed out)" : "no answer (closed)") : status + " " + printable(body.getBytes(StandardCharsets.UTF_8));
    }
  }

  /** Sends {@code request}, half-closes (so an incomplete request ends), reads the first answer. */
  static Answer exchange(NodeServer node, byte[] request) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", node.httpAddress().getPort()), 2000);
      s.setSoTimeout(READ_TIMEOUT_MS);
      OutputStream out = s.getOutputStream();
      try {
        out.write(request);
        out.flush();
        s.shutdownOutput();
      } catch (IOException resetWhileSending) {
        // the server may refuse and close before reading everything: read what it said
      }
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      boolean timedOut = false;
      InputStream in = s.getInputStream();
      byte[] buf = new byte[8192];
      try {
        for (int n; (n = in.read(buf)) >= 0; ) {
          got.write(buf, 0, n);
          if (firstResponseComplete(got.toString(StandardCharsets.ISO_8859_1))) break;
        }
      } catch (SocketTimeoutException e) {
        timedOut = true;
      } catch (IOException reset) {
        // closed by the server with a reset: whatever came before counts
      }
      return parse(got.toString(StandardCharsets.ISO_8859_1), timedOut);
    }
  }

  private static boolean firstResponseComplete(String text) {
    int head = text.indexOf("\r\n\r\n");
    if (head < 0) return false;
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?im)^content-length: *(\\d+)").matcher(text.substring(0, head));
    return m.find() && text.length() - head - 4 >= Integer.parseInt(m.group(1));
  }

  private static Answer parse(String text, boolean timedOut) {
    if (!text.startsWith("HTTP/")) return new Answer(0, "", timedOut);
    int sp = text.indexOf(' ');
    int status = Integer.parseInt(text.substring(sp + 1, sp + 4));
    int head = text.indexOf("\r\n\r\n");
    String body = head < 0 ? "" : new String(text.substring(head + 4).getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?im)^content-length: *(\\d+)").matcher(head < 0 ? text : text.substring(0, head));
    if (m.find()) {
      int len = Integer.parseInt(m.group(1));
      byte[] b = body.getBytes(StandardCharsets.UTF_8);
      if (b.length > len) body = new String(b, 0, len, StandardCharsets.UTF_8);
    }
    return new Answer(status, body, timedOut);
  }

  private static JsonNode parseOrNull(String body) {
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      return null;
    }
  }

  private static String printable(byte[] b) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < Math.min(b.length, 200); i++) {
      int c = b[i] & 0xFF;
      if (c == '\r') sb.append("\\r");
      else if (c == '\n') sb.append("\\n");
      else if (c >= 0x20 && c < 0x7F) sb.append((char) c);
      else sb.append(String.format("\\x%02x", c));
    }
    return b.length > 200 ? sb + "... (" + b.length + " bytes)" : sb.toString();
  }

  // ---------------------------------------------------------------- the cluster

  private static long usedHeapAfterGc() throws InterruptedException {
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
      used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
    }
    return used;
  }

}
