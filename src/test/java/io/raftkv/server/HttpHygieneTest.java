package io.raftkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.raftkv.client.KvClient;
import io.raftkv.rsm.Rsm;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

/**
 * A node's HTTP server against hostile clients, over raw sockets: every error it produces before
 * or after routing is JSON, no client fault is a 5xx, slowloris connections (idle or trickling)
 * are closed after the header timeout while a normal client is still served, and the log gets a
 * bounded number of lines.
 */
@Timeout(120)
class HttpHygieneTest {
  static final ActorTestKit testKit = ActorTestKit.create();
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpApi.Limits LIMITS = new HttpApi.Limits(64, 1024);
  static final Duration HEADER_TIMEOUT = Duration.ofSeconds(1);
  static final int MAX_CONNECTIONS = 50;
  static final int LOG_LINES_PER_SECOND = 5;
  static final HttpApi.Connections CONNECTIONS =
      new HttpApi.Connections(
          HEADER_TIMEOUT, Duration.ofSeconds(30), Duration.ofSeconds(10), MAX_CONNECTIONS, 200, 16 * 1024, LOG_LINES_PER_SECOND);
  static HttpTestGroup group;
  static int port;
  static ListAppender<ILoggingEvent> logged = new ListAppender<>();

  @BeforeAll
  static void start() {
    group = new HttpTestGroup(testKit, 1, LIMITS, Duration.ofSeconds(5), CONNECTIONS);
    port = Integer.parseInt(group.endpoint(0).substring(group.endpoint(0).lastIndexOf(':') + 1));
    logged.start();
    ((Logger) LoggerFactory.getLogger(ConnectionLog.LOG.getName())).addAppender(logged);
  }

  @AfterAll
  static void done() {
    ((Logger) LoggerFactory.getLogger(ConnectionLog.LOG.getName())).detachAppender(logged);
    if (group != null) group.unbind();
    testKit.shutdownTestKit();
  }

  // ---------------------------------------------------------------- raw HTTP

  record Reply(int status, Map<String, String> headers, byte[] body, boolean closed) {
    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("not JSON (" + status + "): " + text(), e);
      }
    }
  }

  static Socket connect() throws IOException {
    Socket s = new Socket();
    s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
    s.setSoTimeout(10_000);
    return s;
  }

  /** Sends {@code request} on a new connection and reads one response (the body by Content-Length). */
  static Reply exchange(byte[] request) throws IOException {
    try (Socket s = connect()) {
      s.getOutputStream().write(request);
      s.getOutputStream().flush();
      return read(s.getInputStream(), request.length > 4 && new String(request, 0, 5, StandardCharsets.ISO_8859_1).equals("HEAD "));
    }
  }

  static Reply read(InputStream in, boolean head) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) >= 0) {
      buf.write(b);
      String sofar = buf.toString(StandardCharsets.ISO_8859_1);
      if (sofar.endsWith("\r\n\r\n")) break;
    }
    String headText = buf.toString(StandardCharsets.ISO_8859_1);
    if (headText.isEmpty()) return new Reply(-1, Map.of(), new byte[0], true);
    String[] lines = headText.split("\r\n");
    int status = Integer.parseInt(lines[0].split(" ")[1]);
    Map<String, String> headers = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      if (colon > 0) headers.put(lines[i].substring(0, colon).toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
    }
    int length = head ? 0 : Integer.parseInt(headers.getOrDefault("content-length", "0"));
    byte[] body = in.readNBytes(length);
    boolean closed = "close".equalsIgnoreCase(headers.get("connection"));
    return new Reply(status, headers, body, closed);
  }

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  static byte[] concat(String head, byte[] body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(ascii(head));
    out.writeBytes(body);
    return out.toByteArray();
  }

  // ---------------------------------------------------------------- every error is JSON, no client fault is 5xx

  record Probe(String name, byte[] request, int status, String error) {
    @Override
    public String toString() {
      return name + " -> " + status;
    }
  }

  static Probe probe(String name, String request, int status, String error) {
    return new Probe(name, ascii(request), status, error);
  }

  static Stream<Probe> probes() {
    String host = "Host: x\r\n";
    byte[] overlong = {'{', '"', 'v', 'a', 'l', 'u', 'e', '"', ':', '"', (byte) 0xc0, (byte) 0xaf, '"', '}'};
    byte[] utf16 = concatBytes(new byte[] {(byte) 0xfe, (byte) 0xff}, "{\"value\":\"a\"}".getBytes(StandardCharsets.UTF_16BE));
    List<Probe> t = new ArrayList<>();
    // refused by the connection guard, before pekko-http sees the request
    t.add(probe("HTTP/1.0 with Transfer-Encoding (curl --http1.0 -H 'Transfer-Encoding: chunked')",
        "GET /v1/status HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "BadRequest"));
    t.add(probe("HTTP/1.0 with Transfer-Encoding, no Host", "POST /v1/kv/a/append HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400, "BadRequest"));
    t.add(probe("charset utf-16 in Content-Type",
        "PUT /v1/kv/a HTTP/1.1\r\n" + host + "Content-Type: application/json; charset=utf-16\r\nContent-Length: 13\r\n\r\n{\"value\":\"a\"}",
        400, "BadRequest"));
    t.add(probe("charset latin-1 in Content-Type",
        "PUT /v1/kv/a HTTP/1.1\r\n" + host + "Content-Type: text/plain; charset=iso-8859-1\r\nContent-Length: 13\r\n\r\n{\"value\":\"a\"}",
        400, "BadRequest"));
    t.add(probe("a head over max-head-bytes", "GET /v1/status HTTP/1.1\r\n" + host + "X-A: " + "a".repeat(8000) + "\r\nX-B: "
        + "b".repeat(8000) + "\r\nX-C: " + "c".repeat(8000) + "\r\n\r\n", 431, "HeaderTooLarge"));
    // refused by pekko-http's parser, answered by JsonParsingErrorHandler
    t.add(probe("URI too long", "GET /v1/kv/" + "a".repeat(2000) + " HTTP/1.1\r\n" + host + "\r\n", 414, "UriTooLong"));
    t.add(probe("a header value too long", "GET /v1/status HTTP/1.1\r\n" + host + "X-Big: " + "a".repeat(9000) + "\r\n\r\n", 431,
        "HeaderTooLarge"));
    StringBuilder many = new StringBuilder();
    for (int i = 0; i < 70; i++) many.append("X-H").append(i).append(": a\r\n");
    t.add(probe("too many header fields", "GET /v1/status HTTP/1.1\r\n" + host + many + "\r\n", 431, "HeaderTooLarge"));
    t.add(probe("an unknown method", "BREW /v1/status HTTP/1.1\r\n" + host + "\r\n", 400, "BadRequest"));
    t.add(probe("an unknown transfer coding", "POST /v1/kv/a/append HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip\r\n\r\n", 400,
        "BadRequest"));
    t.add(probe("an unknown HTTP version", "GET /v1/status HTTP/2.5\r\n" + host + "\r\n", 400, "BadRequest"));
    t.add(probe("a bad request target", "GET /v1/kv/%zz HTTP/1.1\r\n" + host + "\r\n", 400, "BadRequest"));
    t.add(probe("a space in the request target", "GET /v1/kv/a b HTTP/1.1\r\n" + host + "\r\n", 400, "BadRequest"));
    t.add(probe("a space in a header name", "GET /v1/status HTTP/1.1\r\n" + host + "Bad Header: y\r\n\r\n", 400, "BadRequest"));
    t.add(probe("a control character in a header name", "GET /v1/status HTTP/1.1\r\n" + host + "X-A\u0001: y\r\n\r\n", 400,
        "BadRequest"));
    t.add(probe("HTTP/1.1 without Host", "GET /v1/status HTTP/1.1\r\n\r\n", 400, "BadRequest"));
    t.add(probe("Content-Length and chunked", "POST /v1/kv/a/append HTTP/1.1\r\n" + host
        + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "BadRequest"));
    t.add(probe("two Content-Lengths", "PUT /v1/kv/a HTTP/1.1\r\n" + host + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabc", 400,
        "BadRequest"));
    t.add(probe("an invalid Content-Length", "PUT /v1/kv/a HTTP/1.1\r\n" + host + "Content-Length: x\r\n\r\nabc", 400, "BadRequest"));
    t.add(probe("a TLS ClientHello", "\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc\u0003\u0003\r\n\r\n", 400, "BadRequest"));
    t.add(probe("a malformed chunk", "PUT /v1/kv/a HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "BadRequest"));
    // refused by the routes
    t.add(probe("a body longer than any valid request", "PUT /v1/kv/a HTTP/1.1\r\n" + host + "Content-Length: 99999999999\r\n\r\n", 413,
        "TooLarge"));
    t.add(new Probe("overlong UTF-8 in the body", concat("PUT /v1/kv/ol HTTP/1.1\r\n" + host + "Content-Length: 14\r\n\r\n", overlong),
        400, "BadRequest"));
    t.add(new Probe("UTF-16 body with a byte order mark", concat("PUT /v1/kv/u16 HTTP/1.1\r\n" + host + "Content-Length: "
        + utf16.length + "\r\n\r\n", utf16), 400, "BadRequest"));
    t.add(probe("invalid UTF-8 in a percent-encoded key", "GET /v1/kv/%ff HTTP/1.1\r\n" + host + "\r\n", 400, "BadRequest"));
    t.add(probe("overlong UTF-8 in a percent-encoded key", "POST /v1/kv/a%C0%AF/append HTTP/1.1\r\n" + host
        + "Content-Length: 13\r\n\r\n{\"value\":\"a\"}", 400, "BadRequest"));
    t.add(probe("invalid UTF-8 in a key, with a Raw-Request-URI header of the client's", "GET /v1/kv/%ff HTTP/1.1\r\n" + host
        + "Raw-Request-URI: /v1/kv/a\r\n\r\n", 400, "BadRequest"));
    t.add(probe("unknown path", "GET /nope HTTP/1.1\r\n" + host + "\r\n", 404, "NotFound"));
    t.add(probe("wrong method", "DELETE /v1/status HTTP/1.1\r\n" + host + "\r\n", 405, "MethodNotAllowed"));
    return t.stream();
  }

  static byte[] concatBytes(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("probes")
  void everyErrorIsJsonWithTheRightStatus(Probe p) throws IOException {
    Reply r = exchange(p.request());
    assertEquals(p.status(), r.status(), r.text());
    assertEquals("application/json", r.headers().get("content-type"), r.text());
    JsonNode body = r.json();
    assertEquals(p.error(), body.path("error").asText(null), r.text());
    assertTrue(body.path("message").isTextual() || p.status() == 404 || p.status() == 405, r.text());
  }

  @Test
  void anHttp10RequestWithoutHostIsServed() throws IOException {
    Reply r = exchange(ascii("GET /v1/status HTTP/1.0\r\n\r\n"));
    assertEquals(200, r.status(), r.text());
    assertEquals(0, r.json().get("id").asInt());
  }

  @Test
  void headMirrorsGetWithoutTheBody() throws IOException {
    for (String path : List.of("/v1/status", "/v1/kv/absent", "/v1/kv/%ff", "/nope", "/v1/kv/x/append")) {
      Reply get = exchange(ascii("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
      try (Socket s = connect()) {
        s.getOutputStream().write(ascii("HEAD " + path + " HTTP/1.1\r\nHost: x\r\n\r\n"));
        Reply head = read(s.getInputStream(), true);
        assertEquals(get.status(), head.status(), path);
        assertEquals(get.headers().get("content-type"), head.headers().get("content-type"), path);
        assertEquals(get.headers().get("allow"), head.headers().get("allow"), path);
        assertEquals(String.valueOf(get.body().length), head.headers().get("content-length"), path);
        // no body follows: the connection stays usable for the next request
        s.getOutputStream().write(ascii("GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n"));
        assertEquals(200, read(s.getInputStream(), false).status(), path);
      }
    }
  }

  @Test
  void connectionSettingsComeFromRaftkvHttpWithTheReferenceDefaults() {
    HttpApi.Connections d = HttpApi.Connections.defaults();
    assertEquals(
        new HttpApi.Connections(Duration.ofSeconds(5), Duration.ofSeconds(60), Duration.ofSeconds(10), 512, 128, 32 * 1024, 5), d);
    HttpApi.Connections c =
        HttpApi.Connections.fromConfig(
            ConfigFactory.parseString("raftkv.http { header-timeout = 2s, max-connections = 7 }"));
    assertEquals(Duration.ofSeconds(2), c.headerTimeout());
    assertEquals(7, c.maxConnections());
    assertEquals(d.idleTimeout(), c.idleTimeout(), "the rest from reference.conf");
  }

  @Test
  void theRequestTimeoutIsJsonToo() throws Exception {
    // a Clerk that never answers, a deadline longer than the request timeout: pekko-http answers
    KvClient silent =
        new KvClient(
            (server, op) -> new CompletableFuture<>(),
            1,
            new KvClient.Settings(Duration.ofMillis(20), Duration.ofSeconds(30)));
    HttpApi api =
        new HttpApi(silent, () -> new CompletableFuture<>(), LIMITS, Duration.ofSeconds(30), new Metrics());
    HttpApi.Connections quick =
        new HttpApi.Connections(HEADER_TIMEOUT, Duration.ofSeconds(30), Duration.ofMillis(300), 10, 10, 16 * 1024, 5);
    HttpApi.Binding b = api.bind(testKit.system(), "127.0.0.1", 0, quick).toCompletableFuture().join();
    int p = b.localAddress().getPort();
    try {
      Reply read = exchangeOn(p, "GET /v1/kv/k HTTP/1.1\r\nHost: x\r\n\r\n");
      assertEquals(503, read.status(), read.text());
      assertEquals("Unavailable", read.json().get("error").asText());
      Reply write = exchangeOn(p, "PUT /v1/kv/k HTTP/1.1\r\nHost: x\r\nContent-Length: 13\r\n\r\n{\"value\":\"v\"}");
      assertEquals(504, write.status(), write.text());
      assertEquals("ErrMaybe", write.json().get("error").asText());
    } finally {
      b.unbind().toCompletableFuture().join();
    }
  }

  @Test
  void aMaximalKeyFitsInAHeadWhateverMaxHeadBytesSays() throws Exception {
    KvClient busy =
        new KvClient(
            (server, op) -> CompletableFuture.completedFuture(Rsm.Result.Busy.INSTANCE),
            1,
            new KvClient.Settings(Duration.ofMillis(20), Duration.ofSeconds(5)));
    HttpApi.Limits bigKeys = new HttpApi.Limits(16 * 1024, 1024);
    HttpApi api = new HttpApi(busy, () -> new CompletableFuture<>(), bigKeys, Duration.ofSeconds(5), new Metrics());
    HttpApi.Binding b = api.bind(testKit.system(), "127.0.0.1", 0, CONNECTIONS).toCompletableFuture().join(); // 16 KiB heads
    try {
      String key = "%E2%82%AC".repeat(bigKeys.maxKeyBytes() / 3); // 16383 bytes of UTF-8, 49149 characters encoded
      Reply r = exchangeOn(b.localAddress().getPort(), "GET /v1/kv/" + key + " HTTP/1.1\r\nHost: x\r\n\r\n");
      assertEquals(503, r.status(), r.text()); // past every limit, refused only by the busy leader
      assertEquals("Busy", r.json().get("error").asText());
    } finally {
      b.unbind().toCompletableFuture().join();
    }
  }

  static Reply exchangeOn(int port, String request) throws IOException {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(ascii(request));
      return read(s.getInputStream(), false);
    }
  }

  // ---------------------------------------------------------------- slowloris

  @Test
  void slowClientsCannotHoldTheNodeANewClientTakesTheSlotOfTheSlowestAndTheRestCloseAtTheHeaderTimeout() throws Exception {
    int idle = 40;
    int trickling = 40; // 80 together: more than the 50 connections served at once
    List<Socket> idlers = new ArrayList<>();
    List<Socket> tricklers = new ArrayList<>();
    Socket existing = connect(); // a client's keep-alive connection from before the flood
    existing.getOutputStream().write(ascii("GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n"));
    assertEquals(200, read(existing.getInputStream(), false).status());
    Metrics metrics = group.api(0).metrics();
    long timeoutsBefore = metrics.headTimeouts();
    for (int i = 0; i < idle; i++) idlers.add(connect());
    for (int i = 0; i < trickling; i++) tricklers.add(connect());
    byte[] slowHead = ascii("GET /v1/status HTTP/1.1\r\nHost: x\r\nX-Slow: " + "a".repeat(100));
    long start = System.nanoTime();
    Thread trickler =
        new Thread(
            () -> {
              // one byte a second on each trickling connection, for longer than the test needs
              for (int i = 0; i < slowHead.length && !Thread.currentThread().isInterrupted(); i++) {
                for (Socket s : tricklers) {
                  try {
                    OutputStream out = s.getOutputStream();
                    out.write(slowHead[i]);
                    out.flush();
                  } catch (IOException closed) {
                    // the server closed it: what we want
                  }
                }
                try {
                  Thread.sleep(1000);
                } catch (InterruptedException e) {
                  return;
                }
              }
            });
    trickler.setDaemon(true);
    trickler.start();
    try {
      Thread.sleep(300); // the slow clients hold every slot
      long onExisting = System.nanoTime();
      existing.getOutputStream().write(ascii("GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n"));
      assertEquals(200, read(existing.getInputStream(), false).status(), "an existing connection keeps working");
      assertTrue(System.nanoTime() - onExisting < HEADER_TIMEOUT.toNanos(), "at once, not after the slow ones left");
      long asked = System.nanoTime();
      Reply normal = exchange(ascii("GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n"));
      double servedAfter = (System.nanoTime() - asked) / 1e9;
      assertEquals(200, normal.status(), normal.text());
      // it took the slot of the slow connection that had waited longest, without waiting itself
      assertTrue(servedAfter < HEADER_TIMEOUT.toSeconds(), "a normal client waited " + servedAfter + " s");

      // every slow connection is closed, pushed out by a newer one or at the header timeout:
      // tricklers with a 408, idle ones without a word
      for (Socket s : tricklers) {
        s.setSoTimeout(15_000);
        Reply r = read(s.getInputStream(), false);
        assertEquals(408, r.status(), r.text());
        assertEquals("RequestTimeout", r.json().get("error").asText());
        assertEquals(-1, s.getInputStream().read(), "closed after the 408");
      }
      for (Socket s : idlers) {
        s.setSoTimeout(15_000);
        assertEquals(-1, s.getInputStream().read(), "an idle connection is closed");
      }
      double allClosedAfter = (System.nanoTime() - start) / 1e9;
      // the ones no newer connection pushed out stay for one header timeout
      assertTrue(allClosedAfter >= HEADER_TIMEOUT.toSeconds(), "closed too early: " + allClosedAfter);
      assertTrue(allClosedAfter < 2 * HEADER_TIMEOUT.toSeconds() + 3, "closed after " + allClosedAfter + " s");

      // the node serves as before, and says what happened
      assertEquals(200, exchange(ascii("GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n")).status());
      assertEquals(idle + trickling, metrics.headTimeouts() - timeoutsBefore);
      Reply scrape = exchange(ascii("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
      assertTrue(scrape.text().contains("\nraftkv_http_head_timeouts_total "), scrape.text());
    } finally {
      trickler.interrupt();
      existing.close();
      for (Socket s : idlers) s.close();
      for (Socket s : tricklers) s.close();
    }
  }

  @Test
  void aPausedButCompleteKeepAliveConnectionIsNotCutByTheHeaderTimeout() throws Exception {
    try (Socket s = connect()) {
      s.getOutputStream().write(ascii("GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n"));
      assertEquals(200, read(s.getInputStream(), false).status());
      Thread.sleep(HEADER_TIMEOUT.toMillis() * 2); // idle between requests: the idle timeout's business
      s.getOutputStream().write(ascii("GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n"));
      assertEquals(200, read(s.getInputStream(), false).status());
    }
  }

  @Test
  void aFloodOfBadRequestsLogsABoundedNumberOfLinesAndNoErrors() throws Exception {
    // The node's log budget is shared by every connection: connections of earlier tests closing at
    // their header timeout may have spent this second's. Start the flood after a quiet second.
    for (int waited = 0, seen = -1; waited < 10 && seen != logged.list.size(); waited++) {
      seen = logged.list.size();
      Thread.sleep(1100);
    }
    int before = logged.list.size();
    long refusedBefore = group.api(0).metrics().refusedBeforeRouting();
    long start = System.nanoTime();
    int requests = 60;
    for (int i = 0; i < requests; i++) exchange(ascii("GET /v1/kv/%zz HTTP/1.1\r\nHost: x\r\n\r\n"));
    double seconds = (System.nanoTime() - start) / 1e9;
    List<ILoggingEvent> lines = new ArrayList<>(logged.list.subList(before, logged.list.size()));
    long warnings = lines.stream().filter(e -> e.getLevel().toString().equals("WARN")).count();
    assertTrue(warnings <= LOG_LINES_PER_SECOND * (Math.ceil(seconds) + 1), warnings + " lines in " + seconds + " s");
    assertTrue(warnings >= 1, "the first one is logged");
    assertEquals(requests, group.api(0).metrics().refusedBeforeRouting() - refusedBefore, "each is counted");
    assertFalse(lines.stream().anyMatch(e -> e.getLevel().toString().equals("ERROR")), "no ERROR for a client's fault");
    assertTrue(lines.stream().allMatch(e -> e.getThrowableProxy() == null), "no stack traces");
    // a line after the flood says how many were held back
    Thread.sleep(1100);
    exchange(ascii("GET /v1/kv/%zz HTTP/1.1\r\nHost: x\r\n\r\n"));
    ILoggingEvent last = logged.list.get(logged.list.size() - 1);
    assertNotNull(last);
    if (warnings < requests) assertTrue(last.getFormattedMessage().contains("suppressed"), last.getFormattedMessage());
  }

  @Test
  void http10ChunkedProbeLogsNoStackTraceAnywhere() throws Exception {
    // pekko-http used to log two ERRORs with stack traces for it, from stream internals: watch all loggers
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ListAppender<ILoggingEvent> all = new ListAppender<>();
    all.start();
    root.addAppender(all);
    try {
      for (int i = 0; i < 3; i++) {
        Reply r = exchange(ascii("GET /v1/status HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
        assertEquals(400, r.status(), r.text());
        assertEquals("BadRequest", r.json().get("error").asText());
      }
      Thread.sleep(200); // stream failures are logged asynchronously
      for (ILoggingEvent e : all.list) {
        assertEquals(null, e.getThrowableProxy(), e.getLoggerName() + ": " + e.getFormattedMessage());
        assertFalse(e.getLevel().toString().equals("ERROR"), e.getLoggerName() + ": " + e.getFormattedMessage());
      }
    } finally {
      root.detachAppender(all);
    }
  }
}
