package io.raftkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.kv.KvCodec;
import io.raftkv.kv.KvOp;
import io.raftkv.server.Metrics.Op;
import io.raftkv.server.RequestParser.Accepted;
import io.raftkv.server.RequestParser.Parsed;
import io.raftkv.server.RequestParser.Refused;
import java.io.ByteArrayOutputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every form of request the API takes, and every one it refuses, as a table: input (route, decoded
 * key, decoded query, body bytes) -> the op to submit, or the status, error and message to answer.
 * HttpApiTest covers the same routes end to end over HTTP.
 */
class RequestParserTest {
  static final HttpApi.Limits LIMITS = new HttpApi.Limits(64, 1024);
  static final RequestParser PARSER = new RequestParser(LIMITS);

  static final String KEY_AT_LIMIT = "é".repeat(32); // 64 bytes
  static final String KEY_OVER = KEY_AT_LIMIT + "a"; // 65 bytes
  static final String VALUE_AT_LIMIT = "€".repeat(341) + "x"; // 1024 bytes
  static final String VALUE_OVER = VALUE_AT_LIMIT + "y";
  static final OptionalLong NONE = OptionalLong.empty();

  /** One row: what arrives, and either the op it becomes or the refusal (message exact, or its start). */
  record Case(
      String name, Op kind, String key, String query, byte[] body, KvOp op, int status, String error, String message,
      boolean messageIsPrefix) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Case ok(String name, Op kind, String key, String query, String body, KvOp op) {
    return new Case(name, kind, key, query, utf8(body), op, 0, null, null, false);
  }

  static Case bad(String name, Op kind, String key, String query, String body, String message) {
    return bad(name, kind, key, query, utf8(body), message);
  }

  static Case bad(String name, Op kind, String key, String query, byte[] body, String message) {
    return new Case(name, kind, key, query, body, null, 400, "BadRequest", message, false);
  }

  static Case malformed(String name, Op kind, String body) {
    return malformed(name, kind, utf8(body));
  }

  static Case malformed(String name, Op kind, byte[] body) {
    return new Case(name, kind, "k", "", body, null, 400, "BadRequest", "malformed JSON: ", true);
  }

  static Case notUtf8(String name, Op kind, byte[] body, int at) {
    return new Case(name, kind, "k", "", body, null, 400, "BadRequest", "the body is not valid UTF-8 (at byte " + at + ")", false);
  }

  static byte[] utf16(String s, String charset) {
    return s.getBytes(Charset.forName(charset));
  }

  static byte[] bom(byte[] mark, String s, String charset) {
    return concat(mark, utf16(s, charset));
  }

  static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  static Case tooLarge(String name, Op kind, String key, String query, String body, String message) {
    return new Case(name, kind, key, query, utf8(body), null, 413, "TooLarge", message, false);
  }

  // short names, so that the table stays about one row per line
  static KvOp p(String key, String value, OptionalLong version, long client, long seq) {
    return new KvOp.Put(key, value, version, client, seq);
  }

  static KvOp a(String key, String value, long client, long seq) {
    return new KvOp.Append(key, value, client, seq, LIMITS.maxValueBytes());
  }

  static KvOp d(String key, OptionalLong version, long client, long seq) {
    return new KvOp.Delete(key, version, client, seq);
  }

  static OptionalLong v(long version) {
    return OptionalLong.of(version);
  }

  static List<Case> cases() {
    List<Case> t = new ArrayList<>();
    // ---------------------------------------------------------------- valid: GET
    t.add(ok("get", Op.GET, "k", "", "", KvOp.get("k")));
    t.add(ok("get: Cyrillic key", Op.GET, "ключ", "", "", KvOp.get("ключ")));
    t.add(ok("get: key with slash and reserved characters", Op.GET, "a/b?x=1&y#z", "", "", KvOp.get("a/b?x=1&y#z")));
    t.add(ok("get: key with an emoji (surrogate pair)", Op.GET, "e \uD83D\uDE00", "", "", KvOp.get("e \uD83D\uDE00")));
    t.add(ok("get: dots are fine beyond . and ..", Op.GET, "...", "", "", KvOp.get("...")));
    t.add(ok("get: key at the byte limit", Op.GET, KEY_AT_LIMIT, "", "", KvOp.get(KEY_AT_LIMIT)));
    // a real U+FFFD (sent as %EF%BF%BD) is a character like any other; invalid UTF-8 in an encoded
    // key is refused by parseEncodedKv (encodedKeys below)
    t.add(ok("get: key with U+FFFD", Op.GET, "a\uFFFD", "", "", KvOp.get("a\uFFFD")));
    t.add(ok("get: a body is ignored", Op.GET, "k", "", "not json", KvOp.get("k")));
    // ---------------------------------------------------------------- valid: PUT
    t.add(ok("put: unconditional", Op.PUT, "k", "", "{\"value\":\"v\"}", p("k", "v", NONE, 0, 0)));
    t.add(ok("put: version 0 (create only)", Op.PUT, "k", "", "{\"value\":\"v\",\"version\":0}", p("k", "v", v(0), 0, 0)));
    t.add(ok("put: version 3", Op.PUT, "k", "", "{\"version\":3,\"value\":\"v\"}", p("k", "v", v(3), 0, 0)));
    t.add(ok("put: max version", Op.PUT, "k", "", "{\"value\":\"v\",\"version\":9223372036854775807}",
        p("k", "v", v(Long.MAX_VALUE), 0, 0)));
    t.add(ok("put: empty value, null version is absent", Op.PUT, "k", "", "{\"value\":\"\",\"version\":null}",
        p("k", "", NONE, 0, 0)));
    t.add(ok("put: whitespace around the body", Op.PUT, "k", "", " \n{\"value\":\"v\"}\n ", p("k", "v", NONE, 0, 0)));
    t.add(ok("put: session as numbers", Op.PUT, "k", "", "{\"value\":\"v\",\"client\":5,\"seq\":1}", p("k", "v", NONE, 5, 1)));
    t.add(ok("put: session as strings", Op.PUT, "k", "", "{\"value\":\"v\",\"client\":\"-42\",\"seq\":\"7\"}",
        p("k", "v", NONE, -42, 7)));
    t.add(ok("put: session beyond 2^53 as a string", Op.PUT, "k", "",
        "{\"value\":\"v\",\"client\":\"9223372036854775807\",\"seq\":1}", p("k", "v", NONE, Long.MAX_VALUE, 1)));
    t.add(ok("put: null session fields are absent", Op.PUT, "k", "", "{\"value\":\"v\",\"client\":null,\"seq\":null}",
        p("k", "v", NONE, 0, 0)));
    t.add(ok("put: session in the query", Op.PUT, "k", "client=5&seq=2", "{\"value\":\"v\"}", p("k", "v", NONE, 5, 2)));
    t.add(ok("put: client in the body, seq in the query", Op.PUT, "k", "seq=2", "{\"value\":\"v\",\"client\":5}",
        p("k", "v", NONE, 5, 2)));
    t.add(ok("put: session and version", Op.PUT, "k", "", "{\"value\":\"v\",\"version\":2,\"client\":5,\"seq\":9}",
        p("k", "v", v(2), 5, 9)));
    t.add(ok("put: value at the byte limit", Op.PUT, "k", "", json(VALUE_AT_LIMIT), p("k", VALUE_AT_LIMIT, NONE, 0, 0)));
    t.add(ok("put: escaped surrogate pair", Op.PUT, "k", "", "{\"value\":\"\\uD83D\\uDE00\"}",
        p("k", "\uD83D\uDE00", NONE, 0, 0)));
    t.add(ok("put: key at the byte limit", Op.PUT, KEY_AT_LIMIT, "", "{\"value\":\"v\"}", p(KEY_AT_LIMIT, "v", NONE, 0, 0)));
    // ---------------------------------------------------------------- valid: APPEND
    t.add(ok("append", Op.APPEND, "k", "", "{\"value\":\"x\"}", a("k", "x", 0, 0)));
    t.add(ok("append: session in the body", Op.APPEND, "k", "", "{\"value\":\"x\",\"client\":3,\"seq\":4}", a("k", "x", 3, 4)));
    t.add(ok("append: session in the query", Op.APPEND, "k", "client=3&seq=4", "{\"value\":\"x\"}", a("k", "x", 3, 4)));
    t.add(ok("append: value at the byte limit", Op.APPEND, "k", "", json(VALUE_AT_LIMIT), a("k", VALUE_AT_LIMIT, 0, 0)));
    // ---------------------------------------------------------------- valid: DELETE
    t.add(ok("delete", Op.DELETE, "k", "", "", d("k", NONE, 0, 0)));
    t.add(ok("delete: version 2", Op.DELETE, "k", "version=2", "", d("k", v(2), 0, 0)));
    t.add(ok("delete: version 0", Op.DELETE, "k", "version=0", "", d("k", v(0), 0, 0)));
    t.add(ok("delete: session", Op.DELETE, "k", "client=-42&seq=8", "", d("k", NONE, -42, 8)));
    t.add(ok("delete: version and session", Op.DELETE, "k", "version=1&client=3&seq=1", "", d("k", v(1), 3, 1)));
    t.add(ok("delete: a body is ignored", Op.DELETE, "k", "", "not json", d("k", NONE, 0, 0)));

    // ---------------------------------------------------------------- refused: the key
    for (Op op : Op.values()) {
      String body = op == Op.PUT || op == Op.APPEND ? "{\"value\":\"v\"}" : "";
      t.add(bad(op + ": empty key", op, "", "", body, "empty key"));
      t.add(bad(op + ": key with an unpaired high surrogate", op, "a\uD800", "", body,
          "key is not valid Unicode (unpaired surrogate)"));
      t.add(tooLarge(op + ": key over the byte limit", op, KEY_OVER, "", body, "key is longer than 64 bytes"));
    }
    t.add(bad("get: key with an unpaired low surrogate", Op.GET, "\uDC00b", "", "", "key is not valid Unicode (unpaired surrogate)"));
    t.add(bad("get: key with a reversed pair", Op.GET, "\uDE00\uD83D", "", "", "key is not valid Unicode (unpaired surrogate)"));
    // the key is checked first, whatever else is wrong
    t.add(bad("put: empty key beats a bad body and query", Op.PUT, "", "x=1", "{", "empty key"));
    t.add(tooLarge("delete: long key beats a bad query", Op.DELETE, KEY_OVER, "version=x", "", "key is longer than 64 bytes"));
    // ---------------------------------------------------------------- refused: the query
    t.add(bad("get: no query parameters", Op.GET, "k", "version=1", "", "unknown query parameter \"version\""));
    t.add(bad("get: a parameter twice", Op.GET, "k", "x=1&x=2", "", "query parameter \"x\" given twice"));
    for (String version : List.of("abc", "-1", "", "1.0", "+1", " 1", "0x1", "99999999999999999999")) {
      t.add(bad("delete: version=" + version, Op.DELETE, "k", "version=" + version, "", "version must be a non-negative integer"));
    }
    t.add(bad("delete: version twice", Op.DELETE, "k", "version=1&version=2", "", "query parameter \"version\" given twice"));
    t.add(bad("delete: unknown parameter", Op.DELETE, "k", "force=true", "", "unknown query parameter \"force\""));
    t.add(bad("delete: client without seq", Op.DELETE, "k", "client=3", "", "\"client\" and \"seq\" go together"));
    t.add(bad("delete: seq without client", Op.DELETE, "k", "seq=3", "", "\"client\" and \"seq\" go together"));
    t.add(bad("delete: seq not a number", Op.DELETE, "k", "client=3&seq=x", "", "\"seq\" must be a positive 64-bit integer"));
    t.add(bad("delete: seq 0", Op.DELETE, "k", "client=3&seq=0", "", "\"seq\" must be a positive 64-bit integer"));
    t.add(bad("delete: client not a number", Op.DELETE, "k", "client=x&seq=1", "", "\"client\" must be a 64-bit integer"));
    t.add(bad("delete: client beyond 64 bits", Op.DELETE, "k", "client=99999999999999999999&seq=1", "",
        "\"client\" must be a 64-bit integer"));
    t.add(bad("delete: client 0", Op.DELETE, "k", "client=0&seq=1", "", "\"client\" must not be 0"));
    t.add(bad("put: version belongs in the body", Op.PUT, "k", "version=1", "{\"value\":\"v\"}", "unknown query parameter \"version\""));
    t.add(bad("put: client in body and query", Op.PUT, "k", "client=3&seq=1", "{\"value\":\"a\",\"client\":3}",
        "\"client\" given both in the body and the query"));
    t.add(bad("append: seq in body and query", Op.APPEND, "k", "client=3&seq=1", "{\"value\":\"a\",\"seq\":1}",
        "\"seq\" given both in the body and the query"));
    t.add(bad("append: a query parameter twice", Op.APPEND, "k", "seq=1&seq=2", "{\"value\":\"a\"}", "query parameter \"seq\" given twice"));
    // ---------------------------------------------------------------- refused: the body
    for (Op op : List.of(Op.PUT, Op.APPEND)) {
      t.add(bad(op + ": no body", op, "k", "", "", "a JSON object body is required"));
      t.add(bad(op + ": whitespace only", op, "k", "", "  \n", "a JSON object body is required"));
      t.add(malformed(op + ": unterminated object", op, "{"));
      t.add(malformed(op + ": not JSON", op, "not json"));
      t.add(malformed(op + ": duplicate field", op, "{\"value\":\"a\",\"value\":\"b\"}"));
      t.add(malformed(op + ": trailing tokens", op, "{\"value\":\"a\"} {}"));
      // strict UTF-8 (RFC 8259 §8.1): the decoder's verdict comes before JSON's
      t.add(notUtf8(op + ": invalid UTF-8 start byte", op, bytes("{\"value\":\"", new byte[] {(byte) 0xff}, "\"}"), 10));
      t.add(notUtf8(op + ": invalid UTF-8 continuation", op, bytes("{\"value\":\"", new byte[] {(byte) 0xc3, '('}, "\"}"), 10));
      t.add(notUtf8(op + ": truncated UTF-8 sequence", op, bytes("{\"value\":\"", new byte[] {(byte) 0xe2, (byte) 0x82}, "\"}"), 10));
      t.add(notUtf8(op + ": invalid UTF-8 in a field name", op, bytes("{\"", new byte[] {(byte) 0xff}, "\":1}"), 2));
      t.add(notUtf8(op + ": overlong '/' (C0 AF)", op, bytes("{\"value\":\"", new byte[] {(byte) 0xc0, (byte) 0xaf}, "\"}"), 10));
      t.add(notUtf8(op + ": overlong NUL (C0 80)", op, bytes("{\"value\":\"", new byte[] {(byte) 0xc0, (byte) 0x80}, "\"}"), 10));
      t.add(notUtf8(op + ": overlong 3-byte '/' (E0 80 AF)", op,
          bytes("{\"value\":\"", new byte[] {(byte) 0xe0, (byte) 0x80, (byte) 0xaf}, "\"}"), 10));
      t.add(notUtf8(op + ": encoded high surrogate (ED A0 80)", op,
          bytes("{\"value\":\"", new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80}, "\"}"), 10));
      t.add(notUtf8(op + ": CESU-8 surrogate pair", op,
          bytes("{\"value\":\"", new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0xbd, (byte) 0xed, (byte) 0xb8, (byte) 0x80}, "\"}"), 10));
      t.add(notUtf8(op + ": above U+10FFFF (F4 90 80 80)", op,
          bytes("{\"value\":\"", new byte[] {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, "\"}"), 10));
      t.add(notUtf8(op + ": F5 lead byte", op, bytes("{\"value\":\"", new byte[] {(byte) 0xf5, (byte) 0x80, (byte) 0x80, (byte) 0x80}, "\"}"), 10));
      t.add(notUtf8(op + ": a lone continuation byte", op, bytes("{\"value\":\"a", new byte[] {(byte) 0x80}, "\"}"), 11));
      t.add(bad(op + ": UTF-16BE with a byte order mark", op, "k", "", bom(new byte[] {(byte) 0xfe, (byte) 0xff}, "{\"value\":\"a\"}", "UTF-16BE"),
          "the body starts with a UTF-16 or UTF-32 byte order mark: bodies are UTF-8"));
      t.add(bad(op + ": UTF-16LE with a byte order mark", op, "k", "", bom(new byte[] {(byte) 0xff, (byte) 0xfe}, "{\"value\":\"a\"}", "UTF-16LE"),
          "the body starts with a UTF-16 or UTF-32 byte order mark: bodies are UTF-8"));
      t.add(bad(op + ": UTF-32BE with a byte order mark", op, "k", "", bom(new byte[] {0, 0, (byte) 0xfe, (byte) 0xff}, "{\"value\":\"a\"}", "UTF-32BE"),
          "the body starts with a UTF-16 or UTF-32 byte order mark: bodies are UTF-8"));
      t.add(bad(op + ": UTF-32LE with a byte order mark", op, "k", "", bom(new byte[] {(byte) 0xff, (byte) 0xfe, 0, 0}, "{\"value\":\"a\"}", "UTF-32LE"),
          "the body starts with a UTF-16 or UTF-32 byte order mark: bodies are UTF-8"));
      t.add(bad(op + ": UTF-8 with a byte order mark", op, "k", "", bom(new byte[] {(byte) 0xef, (byte) 0xbb, (byte) 0xbf}, "{\"value\":\"a\"}", "UTF-8"),
          "the body starts with a byte order mark (U+FEFF): send UTF-8 without one"));
      // without a byte order mark UTF-16 is valid UTF-8 full of NULs, which JSON refuses
      t.add(malformed(op + ": UTF-16LE without a byte order mark", op, utf16("{\"value\":\"a\"}", "UTF-16LE")));
      t.add(malformed(op + ": UTF-32BE without a byte order mark", op, utf16("{\"value\":\"a\"}", "UTF-32BE")));
      t.add(bad(op + ": an array", op, "k", "", "[\"value\"]", "the body must be a JSON object"));
      t.add(bad(op + ": a string", op, "k", "", "\"value\"", "the body must be a JSON object"));
      t.add(bad(op + ": null", op, "k", "", "null", "the body must be a JSON object"));
      t.add(bad(op + ": no value", op, "k", "", "{}", "\"value\" is required"));
      t.add(bad(op + ": null value", op, "k", "", "{\"value\":null}", "\"value\" is required"));
      t.add(bad(op + ": number value", op, "k", "", "{\"value\":1}", "\"value\" must be a string"));
      t.add(bad(op + ": array value", op, "k", "", "{\"value\":[\"a\"]}", "\"value\" must be a string"));
      t.add(bad(op + ": unpaired surrogate in the value", op, "k", "", "{\"value\":\"\\uD800\"}",
          "value is not valid Unicode (unpaired surrogate)"));
      t.add(bad(op + ": unpaired low surrogate in the value", op, "k", "", "{\"value\":\"a\\uDC00\"}",
          "value is not valid Unicode (unpaired surrogate)"));
      t.add(tooLarge(op + ": value over the byte limit", op, "k", "", json(VALUE_OVER), "value is longer than 1024 bytes"));
      t.add(bad(op + ": client without seq", op, "k", "", "{\"value\":\"a\",\"client\":5}", "\"client\" and \"seq\" go together"));
      t.add(bad(op + ": seq without client", op, "k", "", "{\"value\":\"a\",\"seq\":1}", "\"client\" and \"seq\" go together"));
      t.add(bad(op + ": client 0", op, "k", "", "{\"value\":\"a\",\"client\":0,\"seq\":1}", "\"client\" must not be 0"));
      t.add(bad(op + ": seq 0", op, "k", "", "{\"value\":\"a\",\"client\":5,\"seq\":0}", "\"seq\" must be a positive 64-bit integer"));
      t.add(bad(op + ": seq -3", op, "k", "", "{\"value\":\"a\",\"client\":5,\"seq\":-3}", "\"seq\" must be a positive 64-bit integer"));
      t.add(bad(op + ": client a word", op, "k", "", "{\"value\":\"a\",\"client\":\"five\",\"seq\":1}", "\"client\" must be a 64-bit integer"));
      t.add(bad(op + ": client a fraction", op, "k", "", "{\"value\":\"a\",\"client\":1.5,\"seq\":1}", "\"client\" must be an integer"));
      t.add(bad(op + ": client beyond 64 bits", op, "k", "", "{\"value\":\"a\",\"client\":99999999999999999999,\"seq\":1}",
          "\"client\" must be an integer"));
      t.add(bad(op + ": seq a boolean", op, "k", "", "{\"value\":\"a\",\"client\":5,\"seq\":true}", "\"seq\" must be an integer"));
      t.add(bad(op + ": unknown field", op, "k", "", "{\"value\":\"a\",\"verison\":1}", "unknown field \"verison\""));
      t.add(bad(op + ": unknown query parameter", op, "k", "force=1", "{\"value\":\"a\"}", "unknown query parameter \"force\""));
    }
    for (String version : List.of("\"1\"", "-1", "1.5", "99999999999999999999", "true", "[1]")) {
      t.add(bad("put: version " + version, Op.PUT, "k", "", "{\"value\":\"a\",\"version\":" + version + "}",
          "\"version\" must be a non-negative integer"));
    }
    t.add(bad("append: no version field", Op.APPEND, "k", "", "{\"value\":\"a\",\"version\":1}", "unknown field \"version\""));
    // the checks' order decides which error a request with several faults gets
    t.add(bad("put: unknown field beats a missing value", Op.PUT, "k", "", "{\"x\":1}", "unknown field \"x\""));
    t.add(tooLarge("put: a long value beats a bad version", Op.PUT, "k", "",
        "{\"value\":\"" + VALUE_OVER + "\",\"version\":-1}", "value is longer than 1024 bytes"));
    t.add(bad("put: query parameters before the body", Op.PUT, "k", "x=1", "{", "unknown query parameter \"x\""));
    return t;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void parsesEveryKvRequestFormOrRefusesIt(Case c) {
    Parsed<KvRequest> parsed = PARSER.parseKv(c.kind(), c.key(), query(c.query()), c.body());
    if (c.op() != null) {
      Accepted<KvRequest> accepted = assertInstanceOf(Accepted.class, parsed, () -> "refused: " + parsed);
      assertEquals(new KvRequest(c.kind(), c.op()), accepted.value());
    } else {
      Refused<KvRequest> refused = assertInstanceOf(Refused.class, parsed, () -> "accepted: " + parsed);
      ClientError e = refused.error();
      assertEquals(c.status(), e.status(), e.toString());
      assertEquals(c.error(), e.error(), e.toString());
      if (c.messageIsPrefix()) {
        assertTrue(e.message().startsWith(c.message()) && e.message().length() > c.message().length(), e.message());
      } else {
        assertEquals(c.message(), e.message());
      }
    }
  }

  /** Keys as sent (percent-encoded): decoded as strict UTF-8, or refused. */
  static Stream<Object[]> encodedKeys() {
    String notUtf8 = "key is not valid UTF-8 once percent-decoded (at byte ";
    return Stream.of(
        new Object[] {"k", "k", null},
        new Object[] {"users%2F42", "users/42", null},
        new Object[] {"%D0%BA%D0%BB%D1%8E%D1%87", "ключ", null},
        new Object[] {"%d0%ba", "к", null}, // lower-case hex
        new Object[] {"e%20%F0%9F%98%80", "e \uD83D\uDE00", null},
        new Object[] {"%EF%BF%BD", "\uFFFD", null}, // a real U+FFFD
        new Object[] {"a+b", "a+b", null}, // '+' is not a space in a path
        new Object[] {"%25", "%", null},
        new Object[] {"%ff", null, notUtf8 + "0)"},
        new Object[] {"a%C0%AF", null, notUtf8 + "1)"}, // overlong '/'
        new Object[] {"%E0%80%AF", null, notUtf8 + "0)"}, // overlong, 3 bytes
        new Object[] {"%ED%A0%80", null, notUtf8 + "0)"}, // a surrogate
        new Object[] {"%F4%90%80%80", null, notUtf8 + "0)"}, // above U+10FFFF
        new Object[] {"ab%D0", null, notUtf8 + "2)"}, // truncated
        new Object[] {"%80", null, notUtf8 + "0)"}, // a lone continuation byte
        new Object[] {"%zz", null, "key has a malformed percent-escape"},
        new Object[] {"a%4", null, "key has a malformed percent-escape"});
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("encodedKeys")
  void decodesEncodedKeysAsStrictUtf8(String encoded, String key, String message) {
    Parsed<KvRequest> parsed = PARSER.parseEncodedKv(Op.GET, encoded, Map.of(), new byte[0]);
    if (key != null) {
      assertEquals(new Accepted<>(new KvRequest(Op.GET, KvOp.get(key))), parsed);
    } else {
      assertEquals(new Refused<KvRequest>(ClientError.badRequest(message)), parsed);
    }
  }

  @Test
  void anEncodedKeyIsCheckedBeforeTheBody() {
    Parsed<KvRequest> parsed = PARSER.parseEncodedKv(Op.PUT, "%ff", Map.of(), new byte[] {(byte) 0xff});
    assertEquals(new Refused<KvRequest>(ClientError.badRequest("key is not valid UTF-8 once percent-decoded (at byte 0)")), parsed);
    assertEquals(new Refused<KvRequest>(ClientError.badRequest("empty key")), PARSER.parseEncodedKv(Op.GET, "", Map.of(), new byte[0]));
  }

  record TransferCase(String query, Integer to, String message) {
    @Override
    public String toString() {
      return "?" + query;
    }
  }

  static Stream<TransferCase> transferCases() {
    String notAnId = "\"to\" must be a node id";
    return Stream.of(
        new TransferCase("", -1, null),
        new TransferCase("to=2", 2, null),
        new TransferCase("to=0", 0, null),
        new TransferCase("to=-1", -1, null), // the same as absent
        new TransferCase("to=x", null, notAnId),
        new TransferCase("to=", null, notAnId),
        new TransferCase("to=-2", null, notAnId),
        new TransferCase("to=1.0", null, notAnId),
        new TransferCase("to=99999999999", null, notAnId),
        new TransferCase("to=1&to=2", null, "query parameter \"to\" given twice"),
        new TransferCase("from=1", null, "unknown query parameter \"from\""));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transferCases")
  void parsesTheLeaderTransferTarget(TransferCase c) {
    Parsed<Integer> parsed = PARSER.parseTransferTarget(query(c.query()));
    if (c.to() != null) {
      assertEquals(new Accepted<>(c.to()), parsed);
    } else {
      assertEquals(new Refused<Integer>(ClientError.badRequest(c.message())), parsed);
    }
  }

  @Test
  void aBodyTooLongIs413WithItsLimit() {
    ClientError e = PARSER.bodyTooLong();
    assertEquals(413, e.status());
    assertEquals("TooLarge", e.error());
    assertEquals("request body is longer than " + LIMITS.maxBodyBytes() + " bytes", e.message());
    assertEquals(6 * 1024 + 4096, LIMITS.maxBodyBytes(), "a maximal value with every byte escaped as \\u00XX, and the rest");
  }

  @Test
  void onlyWritesWithoutASessionNeedAServerSession() {
    assertFalse(new KvRequest(Op.GET, KvOp.get("k")).needsServerSession());
    assertTrue(new KvRequest(Op.PUT, p("k", "v", v(1), 0, 0)).needsServerSession());
    assertFalse(new KvRequest(Op.PUT, p("k", "v", v(1), 5, 1)).needsServerSession());
    assertTrue(new KvRequest(Op.APPEND, a("k", "v", 0, 0)).needsServerSession());
    assertTrue(new KvRequest(Op.DELETE, d("k", NONE, 0, 0)).needsServerSession());
    assertFalse(new KvRequest(Op.DELETE, d("k", NONE, -1, 1)).needsServerSession());
  }

  @Test
  void aServerSessionKeepsEverythingElseOfTheOp() {
    assertEquals(p("k", "v", v(1), 9, 2), new KvRequest(Op.PUT, p("k", "v", v(1), 0, 0)).withSession(9, 2));
    assertEquals(a("k", "v", 9, 2), new KvRequest(Op.APPEND, a("k", "v", 0, 0)).withSession(9, 2));
    assertEquals(d("k", v(3), 9, 2), new KvRequest(Op.DELETE, d("k", v(3), 0, 0)).withSession(9, 2));
    assertThrows(IllegalStateException.class, () -> new KvRequest(Op.GET, KvOp.get("k")).withSession(9, 2));
  }

  @Test
  void utf8LengthCountsBytesWithoutEncoding() {
    Map<String, Long> table = new LinkedHashMap<>();
    table.put("", 0L);
    table.put("a", 1L);
    table.put("é", 2L);
    table.put("€", 3L);
    table.put("\uD83D\uDE00", 4L);
    table.put("\uD800", 3L); // refused before it is measured; counted as the 3 bytes of a BMP char
    table.put(VALUE_AT_LIMIT, 1024L);
    table.forEach((s, n) -> assertEquals(n, KvCodec.utf8Length(s), s));
  }

  @Test
  void clientErrorsAreOnly400And413() {
    assertThrows(IllegalArgumentException.class, () -> new ClientError(Metrics.Outcome.BUSY, "no"));
  }

  // ---------------------------------------------------------------- helpers

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static String json(String value) {
    return "{\"value\":\"" + value + "\"}"; // the values used here need no escaping
  }

  static byte[] bytes(String before, byte[] middle, String after) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(utf8(before));
    out.writeBytes(middle);
    out.writeBytes(utf8(after));
    return out.toByteArray();
  }

  /** As pekko-http's {@code Uri.query().toMultiMap()} gives it (the tests' queries need no decoding). */
  static Map<String, List<String>> query(String q) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    if (q.isEmpty()) return out;
    for (String pair : q.split("&")) {
      int eq = pair.indexOf('=');
      String name = eq < 0 ? pair : pair.substring(0, eq);
      String value = eq < 0 ? "" : pair.substring(eq + 1);
      out.computeIfAbsent(name, n -> new ArrayList<>()).add(value);
    }
    return out;
  }
}
