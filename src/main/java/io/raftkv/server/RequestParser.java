package io.raftkv.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.raftkv.kv.KvCodec;
import io.raftkv.kv.KvOp;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Turns what the HTTP layer extracted from a request (the route's op, the percent-decoded key, the
 * decoded query parameters, the body's bytes) into a {@link KvRequest} or a {@link ClientError}.
 *
 * <p>Pure: no I/O, no pekko-http, thread-safe. Routing (404, 405 with {@code Allow}) and reading the
 * body stay with pekko-http; everything the API refuses before anything reaches the store is
 * decided here, so that the whole of it can be tested as a table ({@code RequestParserTest}).
 */
final class RequestParser {

  // Duplicate fields and trailing tokens are refused: either would let a client believe that a
  // field it sent was used when another one was.
  private static final ObjectMapper JSON =
      JsonMapper.builder()
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();
  private static final Set<String> PUT_FIELDS = Set.of("value", "version", "client", "seq");
  private static final Set<String> APPEND_FIELDS = Set.of("value", "client", "seq");
  private static final Set<String> SESSION_PARAMS = Set.of("client", "seq");
  private static final Set<String> DELETE_PARAMS = Set.of("version", "client", "seq");
  private static final Set<String> TRANSFER_PARAMS = Set.of("to");

  /** What the parser made of a request: the parsed value, or the error to answer with. */
  sealed interface Parsed<T> permits Accepted, Refused {}

  /** A valid request. */
  record Accepted<T>(T value) implements Parsed<T> {
    Accepted {
      Objects.requireNonNull(value, "value");
    }
  }

  /** An invalid one; nothing of it may reach the store. */
  record Refused<T>(ClientError error) implements Parsed<T> {
    Refused {
      Objects.requireNonNull(error, "error");
    }
  }

  /** Thrown by the checks below and caught at the entry points, so each check is one line. */
  private static final class Refusal extends RuntimeException {
    final ClientError error;

    Refusal(ClientError error) {
      super(error.message(), null, false, false);
      this.error = error;
    }
  }

  private final HttpApi.Limits limits;

  RequestParser(HttpApi.Limits limits) {
    this.limits = Objects.requireNonNull(limits, "limits");
  }

  /** The refusal of a body longer than any valid request (the body reader sees when it is). */
  ClientError bodyTooLong() {
    return ClientError.tooLarge("request body is longer than " + limits.maxBodyBytes() + " bytes");
  }

  /**
   * A KV request: {@code GET|PUT|DELETE /v1/kv/{key}} or {@code POST /v1/kv/{key}/append}.
   *
   * @param kind which of the four routes matched
   * @param key the path segment, percent-decoded
   * @param query the decoded query parameters, each with all its values in order
   * @param body the whole body (empty when there is none); must be UTF-8 (a Content-Type naming
   *     another charset never gets here: the connection guard refuses it)
   */
  Parsed<KvRequest> parseKv(Metrics.Op kind, String key, Map<String, List<String>> query, byte[] body) {
    try {
      return new Accepted<>(new KvRequest(kind, kvOp(kind, key, query, body)));
    } catch (Refusal r) {
      return new Refused<>(r.error);
    }
  }

  /**
   * A KV request whose key is given as it was sent: the path segment still percent-encoded. The key
   * must be valid UTF-8 once decoded (pekko-http would decode invalid bytes to U+FFFD).
   */
  Parsed<KvRequest> parseEncodedKv(Metrics.Op kind, String encodedKey, Map<String, List<String>> query, byte[] body) {
    try {
      return new Accepted<>(new KvRequest(kind, kvOp(kind, decodeSegment(encodedKey), query, body)));
    } catch (Refusal r) {
      return new Refused<>(r.error);
    }
  }

  /** The target of {@code POST /v1/leader/transfer[?to=N]}: a node id, or -1 when {@code to} is absent. */
  Parsed<Integer> parseTransferTarget(Map<String, List<String>> query) {
    try {
      Map<String, String> params = single(query);
      checkKnown(params.keySet(), TRANSFER_PARAMS, "query parameter");
      String t = params.get("to");
      int to = t == null ? -1 : Integer.parseInt(t);
      if (to < -1) throw new NumberFormatException();
      return new Accepted<>(to);
    } catch (NumberFormatException e) {
      return new Refused<>(ClientError.badRequest("\"to\" must be a node id"));
    } catch (Refusal r) {
      return new Refused<>(r.error);
    }
  }

  // The order of the checks decides which error a request with several faults gets: keep it.
  private KvOp kvOp(Metrics.Op kind, String key, Map<String, List<String>> query, byte[] body) {
    if (key.isEmpty()) throw bad("empty key");
    checkText("key", key);
    if (KvCodec.utf8Length(key) > limits.maxKeyBytes()) {
      throw new Refusal(ClientError.tooLarge("key is longer than " + limits.maxKeyBytes() + " bytes"));
    }
    Map<String, String> params = single(query);
    switch (kind) {
      case GET -> {
        checkKnown(params.keySet(), Set.of(), "query parameter");
        return KvOp.get(key);
      }
      case DELETE -> {
        checkKnown(params.keySet(), DELETE_PARAMS, "query parameter");
        OptionalLong version =
            params.containsKey("version") ? OptionalLong.of(parseVersion(params.get("version"))) : OptionalLong.empty();
        long[] session = session(params.get("client"), params.get("seq"));
        return new KvOp.Delete(key, version, session[0], session[1]);
      }
      case PUT, APPEND -> {
        checkKnown(params.keySet(), SESSION_PARAMS, "query parameter");
        JsonNode root = object(body);
        List<String> fields = new ArrayList<>();
        root.fieldNames().forEachRemaining(fields::add);
        checkKnown(fields, kind == Metrics.Op.PUT ? PUT_FIELDS : APPEND_FIELDS, "field");
        String value = value(root);
        OptionalLong version = version(root);
        String client = onlyOnce("client", field(root, "client"), params.get("client"));
        String seq = onlyOnce("seq", field(root, "seq"), params.get("seq"));
        long[] session = session(client, seq);
        return kind == Metrics.Op.PUT
            ? new KvOp.Put(key, value, version, session[0], session[1])
            : new KvOp.Append(key, value, session[0], session[1], limits.maxValueBytes());
      }
      default -> throw new AssertionError(kind);
    }
  }

  private static JsonNode object(byte[] body) {
    JsonNode root;
    String text = utf8Body(body);
    try {
      root = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw bad("malformed JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw bad("malformed JSON: " + e.getMessage());
    }
    if (root == null || root.isMissingNode()) throw bad("a JSON object body is required");
    if (!root.isObject()) throw bad("the body must be a JSON object");
    return root;
  }

  private String value(JsonNode root) {
    JsonNode value = field(root, "value");
    if (value == null) throw bad("\"value\" is required");
    if (!value.isTextual()) throw bad("\"value\" must be a string");
    String v = value.textValue();
    checkText("value", v);
    if (KvCodec.utf8Length(v) > limits.maxValueBytes()) {
      throw new Refusal(ClientError.tooLarge("value is longer than " + limits.maxValueBytes() + " bytes"));
    }
    return v;
  }

  private static OptionalLong version(JsonNode root) {
    JsonNode ver = field(root, "version");
    if (ver == null) return OptionalLong.empty();
    if (!ver.isIntegralNumber() || !ver.canConvertToLong() || ver.longValue() < 0) {
      throw bad("\"version\" must be a non-negative integer");
    }
    return OptionalLong.of(ver.longValue());
  }

  /** The field, or null when absent or JSON null. */
  private static JsonNode field(JsonNode root, String name) {
    JsonNode n = root.get(name);
    return n == null || n.isNull() ? null : n;
  }

  /** A session field given in the body or the query (not both), as text; null when absent. */
  private static String onlyOnce(String name, JsonNode inBody, String inQuery) {
    if (inBody != null && inQuery != null) throw bad("\"" + name + "\" given both in the body and the query");
    if (inQuery != null) return inQuery;
    if (inBody == null) return null;
    if (inBody.isIntegralNumber() && inBody.canConvertToLong()) return Long.toString(inBody.longValue());
    if (inBody.isTextual()) return inBody.textValue();
    throw bad("\"" + name + "\" must be an integer");
  }

  /** {client, seq}, or {NO_CLIENT, 0} when neither is given. */
  private static long[] session(String client, String seq) {
    if (client == null && seq == null) return new long[] {KvOp.NO_CLIENT, 0};
    if (client == null || seq == null) throw bad("\"client\" and \"seq\" go together");
    long c;
    long s;
    try {
      c = Long.parseLong(client);
    } catch (NumberFormatException e) {
      throw bad("\"client\" must be a 64-bit integer");
    }
    if (c == KvOp.NO_CLIENT) throw bad("\"client\" must not be 0");
    try {
      s = Long.parseLong(seq);
    } catch (NumberFormatException e) {
      throw bad("\"seq\" must be a positive 64-bit integer");
    }
    if (s < 1) throw bad("\"seq\" must be a positive 64-bit integer");
    return new long[] {c, s};
  }

  /** Digits only: Long.parseLong would also take "+1" and "-0". */
  private static long parseVersion(String text) {
    if (text.isEmpty() || !text.chars().allMatch(ch -> ch >= '0' && ch <= '9')) {
      throw bad("version must be a non-negative integer");
    }
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw bad("version must be a non-negative integer");
    }
  }

  /** One value per parameter: which of two would count is a guess we do not make. */
  private static Map<String, String> single(Map<String, List<String>> query) {
    Map<String, String> out = new HashMap<>();
    for (Map.Entry<String, List<String>> e : query.entrySet()) {
      if (e.getValue().size() > 1) throw bad("query parameter \"" + e.getKey() + "\" given twice");
      out.put(e.getKey(), e.getValue().get(0));
    }
    return out;
  }

  private static void checkKnown(Iterable<String> names, Set<String> allowed, String what) {
    for (String n : names) {
      if (!allowed.contains(n)) throw bad("unknown " + what + " \"" + n + "\"");
    }
  }

  /**
   * The body as text: strictly UTF-8 (RFC 8259 §8.1). Java's decoder refuses overlong forms,
   * encoded surrogates, code points above U+10FFFF and truncated sequences; Jackson alone would take
   * some of them, and would also read UTF-16 and UTF-32.
   */
  private static String utf8Body(byte[] body) {
    if (startsWith(body, 0xEF, 0xBB, 0xBF)) throw bad("the body starts with a byte order mark (U+FEFF): send UTF-8 without one");
    if (startsWith(body, 0xFE, 0xFF) || startsWith(body, 0xFF, 0xFE) || startsWith(body, 0x00, 0x00, 0xFE, 0xFF)) {
      throw bad("the body starts with a UTF-16 or UTF-32 byte order mark: bodies are UTF-8");
    }
    int bad = firstInvalidUtf8(body);
    if (bad >= 0) throw bad("the body is not valid UTF-8 (at byte " + bad + ")");
    return new String(body, StandardCharsets.UTF_8);
  }

  private static boolean startsWith(byte[] b, int... prefix) {
    if (b.length < prefix.length) return false;
    for (int i = 0; i < prefix.length; i++) if ((b[i] & 0xff) != prefix[i]) return false;
    return true;
  }

  /** The offset of the first byte that is not part of valid UTF-8, or -1 when all of it is. */
  static int firstInvalidUtf8(byte[] bytes) {
    CharsetDecoder decoder =
        StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes);
    CharBuffer out = CharBuffer.allocate(Math.min(bytes.length, 8192) + 1);
    while (true) {
      CoderResult r = decoder.decode(in, out, true);
      if (r.isError()) return in.position();
      if (r.isOverflow()) {
        out.clear();
        continue;
      }
      r = decoder.flush(out);
      if (r.isOverflow()) {
        out.clear();
        continue;
      }
      return -1;
    }
  }

  /**
   * A path segment percent-decoded as strict UTF-8. Anything but a {@code %XX} escape stands for
   * itself (pekko-http has already refused a malformed escape or a character a URI cannot hold).
   */
  static String decodeSegment(String encoded) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(encoded.length());
    for (int i = 0; i < encoded.length(); i++) {
      char c = encoded.charAt(i);
      if (c == '%' && i + 2 < encoded.length() && hex(encoded.charAt(i + 1)) >= 0 && hex(encoded.charAt(i + 2)) >= 0) {
        bytes.write(hex(encoded.charAt(i + 1)) * 16 + hex(encoded.charAt(i + 2)));
        i += 2;
      } else if (c == '%') {
        throw bad("key has a malformed percent-escape");
      } else {
        byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
        bytes.write(b, 0, b.length);
      }
    }
    byte[] b = bytes.toByteArray();
    int bad = firstInvalidUtf8(b);
    if (bad >= 0) throw bad("key is not valid UTF-8 once percent-decoded (at byte " + bad + ")");
    return new String(b, StandardCharsets.UTF_8);
  }

  private static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  /** Rejects unpaired surrogates: they have no UTF-8 form and would be stored as '?'. */
  private static void checkText(String what, String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw bad(what + " is not valid Unicode (unpaired surrogate)");
      }
    }
  }

  private static Refusal bad(String message) {
    return new Refusal(ClientError.badRequest(message));
  }
}
