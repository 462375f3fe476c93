package io.raftkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What the connection guard passes on to pekko-http and what it refuses, as a table: the bytes of a
 * connection -> the bytes passed on, the heads completed, whether a head is pending, the refusal.
 * Each row is fed whole and also one byte at a time (a trickling client): the outcome must not
 * depend on how the bytes were cut.
 */
class RequestFramingTest {
  static final int MAX_HEAD = 256;
  static final String GET = "GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n";

  record Case(String name, String input, String passed, long heads, boolean pending, Integer status, String message) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Case passes(String name, String input, long heads) {
    return new Case(name, input, input, heads, false, null, null);
  }

  static Stream<Case> cases() {
    String put = "PUT /v1/kv/k HTTP/1.1\r\nHost: x\r\nContent-Length: 13\r\n\r\n{\"value\":\"v\"}";
    String chunked =
        "PUT /v1/kv/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"val\r\n8;ext=1\r\nue\":\"v\"}\r\n0\r\nX-Trailer: t\r\n\r\n";
    // a body that looks like a refused head must not be taken for one
    String trickyBody = "HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n";
    String putTricky = "PUT /v1/kv/k HTTP/1.1\r\nHost: x\r\nContent-Length: " + trickyBody.length() + "\r\n\r\n" + trickyBody;
    List<Case> t = new ArrayList<>();
    t.add(passes("one GET", GET, 1));
    t.add(passes("pipelined GETs", GET + GET + GET, 3));
    t.add(passes("empty lines before a request line", "\r\n\r\n" + GET, 1));
    t.add(passes("bare LF line ends", "GET / HTTP/1.1\nHost: x\n\n", 1));
    t.add(passes("a body by Content-Length, then another request", put + GET, 2));
    t.add(passes("Content-Length: 0", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n" + GET, 2));
    t.add(passes("a chunked body with extensions and trailers, then another request", chunked + GET, 2));
    t.add(passes("a body that looks like a head", putTricky + GET, 2));
    t.add(passes("HTTP/1.0 without Transfer-Encoding", "GET / HTTP/1.0\r\n\r\n", 1));
    t.add(passes("charset utf-8, any case, quoted", "PUT /a HTTP/1.1\r\nHost: x\r\nContent-Type: application/json; Charset=\"UTF-8\"\r\nContent-Length: 0\r\n\r\n", 1));
    t.add(passes("a head exactly at the limit", GET.replace("Host: x", "Host: " + "x".repeat(MAX_HEAD - GET.length() + 1)), 1));
    // framing it cannot follow: pekko-http refuses these; the bytes pass untouched
    t.add(passes("an invalid Content-Length", "PUT /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\nabc" + GET, 1));
    t.add(passes("two Content-Lengths", "PUT /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab" + GET, 1));
    t.add(passes("an unknown transfer coding", "PUT /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nab" + GET, 1));
    t.add(passes("a malformed chunk size", "PUT /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n" + GET, 1));
    // pending heads
    t.add(new Case("half a head", "GET /v1/status HTTP/1.1\r\nHo", "", 0, true, null, null));
    t.add(new Case("a head after a request, half sent", GET + "GET /", GET, 1, true, null, null));
    t.add(new Case("a body not yet complete is no pending head", put.substring(0, put.length() - 3), put.substring(0, put.length() - 3), 1, false, null, null));
    // refused: nothing of the refused head passes, what came before it does
    String te10 = "Transfer-Encoding is not allowed in an HTTP/1.0 request";
    t.add(new Case("HTTP/1.0 with Transfer-Encoding", "GET /v1/status HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", "", 0, false, 400, te10));
    t.add(new Case("HTTP/1.0 with Transfer-Encoding after a request", GET + "GET / HTTP/1.0\r\ntransfer-encoding: identity\r\n\r\n0\r\n\r\n", GET, 1, false, 400, te10));
    t.add(new Case("charset utf-16", "PUT /a HTTP/1.1\r\nHost: x\r\nContent-Type: application/json; charset=utf-16\r\nContent-Length: 2\r\n\r\nab",
        "", 0, false, 400, "unsupported charset \"utf-16\": bodies are UTF-8"));
    t.add(new Case("charset latin-1", "PUT /a HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain;charset=ISO-8859-1\r\n\r\n",
        "", 0, false, 400, "unsupported charset \"ISO-8859-1\": bodies are UTF-8"));
    t.add(new Case("a request line over the limit", "GET /" + "a".repeat(MAX_HEAD) + " HTTP/1.1\r\n\r\n", "", 0, false, 414,
        "request line longer than 256 bytes"));
    t.add(new Case("header fields over the limit", "GET / HTTP/1.1\r\nX: " + "a".repeat(MAX_HEAD) + "\r\n\r\n", "", 0, false, 431,
        "request head longer than 256 bytes"));
    return t.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void passesWholeHeadsAndBodiesOrRefuses(Case c) {
    for (boolean trickle : new boolean[] {false, true}) {
      RequestFraming f = new RequestFraming(MAX_HEAD);
      ByteString in = ByteString.fromString(c.input(), StandardCharsets.ISO_8859_1);
      ByteString out = ByteString.emptyByteString();
      if (trickle) {
        for (int i = 0; i < in.size(); i++) out = out.concat(f.accept(in.slice(i, i + 1)));
      } else {
        out = f.accept(in);
      }
      String how = trickle ? " (byte by byte)" : "";
      assertEquals(c.passed(), out.decodeString(StandardCharsets.ISO_8859_1), "passed" + how);
      assertEquals(c.heads(), f.headsPassed(), "heads" + how);
      assertEquals(c.pending(), f.headPending(), "pending" + how);
      if (c.status() == null) {
        assertNull(f.refusal(), "refusal" + how);
      } else {
        assertEquals(c.status(), f.refusal().status(), how);
        assertEquals(c.message(), f.refusal().message(), how);
      }
    }
  }

  @Test
  void nothingPassesAfterARefusal() {
    RequestFraming f = new RequestFraming(MAX_HEAD);
    f.accept(ByteString.fromString("GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"));
    assertTrue(f.accept(ByteString.fromString(GET)).isEmpty());
    assertFalse(f.headPending());
  }

  @Test
  void charsetParameterIsFoundAnywhere() {
    assertNull(RequestFraming.charsetOf("application/json"));
    assertEquals("utf-8", RequestFraming.charsetOf("application/json; charset=utf-8"));
    assertEquals("UTF-16", RequestFraming.charsetOf("text/plain; format=flowed; CHARSET=\"UTF-16\""));
  }
}
