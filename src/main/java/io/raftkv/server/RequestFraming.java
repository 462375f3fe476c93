package io.raftkv.server;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.util.ByteStringBuilder;

/**
 * Follows the framing of the HTTP/1.x requests arriving on one connection, in front of pekko-http's
 * parser, so that the connection's guard knows when a request head is being read (for the header
 * timeout) and can refuse, before pekko-http sees it, what pekko-http answers with a 500 or not at all.
 *
 * <p>Each head (request line and header fields) is held back until it is complete and then passed on
 * whole; body bytes pass at once. A head is refused (and never passed on) when it is longer than
 * {@code maxHeadBytes}, when an HTTP/1.0 request has a {@code Transfer-Encoding} (RFC 9112 §6.1:
 * faulty framing; pekko-http fails on it with an internal error), or when its {@code Content-Type}
 * names a charset other than UTF-8 (pekko-http drops the parameter for {@code application/json}).
 * Bodies are skipped by {@code Content-Length} or by chunked framing; anything it cannot follow (an
 * invalid {@code Content-Length}, another transfer coding) is pekko-http's to refuse, and from then
 * on the bytes pass untouched.
 *
 * <p>Pure and single-threaded: one instance per connection, fed in order.
 */
final class RequestFraming {

  /** Why a head was refused: the status line and the JSON error to answer with. */
  record Refusal(int status, String reason, String error, String message) {}

  private enum State { HEAD, BODY, CHUNK_SIZE, CHUNK_DATA, CHUNK_DATA_END, TRAILER, PASS, REFUSED }

  private static final int MAX_CHUNK_LINE = 1024;

  private final int maxHeadBytes;
  private State state = State.HEAD;
  private byte[] head = new byte[256];
  private int headLength; // bytes of the current head held back; 0 between heads
  private long remaining; // of the body or chunk being passed on
  private final StringBuilder line = new StringBuilder(); // a chunk-size or trailer line
  private long headsPassed;
  private Refusal refusal;

  RequestFraming(int maxHeadBytes) {
    if (maxHeadBytes < 64) throw new IllegalArgumentException("maxHeadBytes too small: " + maxHeadBytes);
    this.maxHeadBytes = maxHeadBytes;
  }

  /** A head has begun (some of its bytes arrived) and is not complete yet. */
  boolean headPending() {
    return state == State.HEAD && headLength > 0;
  }

  /** How many complete heads were passed on so far. */
  long headsPassed() {
    return headsPassed;
  }

  /** The refusal of the last head, or null; once set, no more bytes are passed on. */
  Refusal refusal() {
    return refusal;
  }

  /** Whether the framing could not be followed and every byte now passes untouched. */
  boolean passingThrough() {
    return state == State.PASS;
  }

  /** The bytes of {@code chunk} to pass on now (possibly none); the rest are held back or dropped. */
  ByteString accept(ByteString chunk) {
    ByteStringBuilder out = new ByteStringBuilder();
    int i = 0;
    int n = chunk.size();
    while (i < n) {
      switch (state) {
        case PASS -> {
          out.append(chunk.slice(i, n));
          i = n;
        }
        case REFUSED -> i = n;
        case HEAD -> {
          byte b = chunk.apply(i++);
          if (headLength == 0 && (b == '\r' || b == '\n')) {
            out.putByte(b); // empty lines before a request line are allowed (RFC 9112 §2.2)
            continue;
          }
          if (headLength == maxHeadBytes) {
            boolean inRequestLine = indexOf((byte) '\n') < 0;
            refuse(
                inRequestLine
                    ? new Refusal(414, "URI Too Long", "UriTooLong", "request line longer than " + maxHeadBytes + " bytes")
                    : new Refusal(
                        431, "Request Header Fields Too Large", "HeaderTooLarge", "request head longer than " + maxHeadBytes + " bytes"));
            continue;
          }
          if (headLength == head.length) head = Arrays.copyOf(head, Math.min(maxHeadBytes, head.length * 2));
          head[headLength++] = b;
          if (b == '\n' && headEnds()) completeHead(out);
        }
        case BODY, CHUNK_DATA -> {
          int take = (int) Math.min(remaining, n - i);
          out.append(chunk.slice(i, i + take));
          i += take;
          remaining -= take;
          if (remaining == 0) state = state == State.BODY ? State.HEAD : State.CHUNK_DATA_END;
        }
        case CHUNK_DATA_END -> {
          byte b = chunk.apply(i++);
          out.putByte(b);
          if (b == '\n') state = State.CHUNK_SIZE;
        }
        case CHUNK_SIZE, TRAILER -> {
          byte b = chunk.apply(i++);
          out.putByte(b);
          if (b == '\n') endOfLine();
          else if (b != '\r') {
            line.append((char) (b & 0xff));
            if (line.length() > MAX_CHUNK_LINE) state = State.PASS; // pekko-http refuses it
          }
        }
      }
    }
    return out.result();
  }

  private void endOfLine() {
    String text = line.toString().trim();
    line.setLength(0);
    if (state == State.TRAILER) {
      if (text.isEmpty()) state = State.HEAD;
      return;
    }
    int semi = text.indexOf(';');
    String size = (semi < 0 ? text : text.substring(0, semi)).trim();
    long n;
    try {
      if (size.isEmpty() || size.length() > 15) throw new NumberFormatException(size);
      n = Long.parseLong(size, 16);
    } catch (NumberFormatException e) {
      state = State.PASS; // pekko-http refuses it
      return;
    }
    if (n < 0) {
      state = State.PASS;
    } else if (n == 0) {
      state = State.TRAILER;
    } else {
      remaining = n;
      state = State.CHUNK_DATA;
    }
  }

  /** The head ends with an empty line: LF LF or LF CR LF (bare LFs are tolerated, as by pekko-http). */
  private boolean headEnds() {
    int l = headLength;
    return (l >= 2 && head[l - 2] == '\n') || (l >= 3 && head[l - 2] == '\r' && head[l - 3] == '\n');
  }

  private int indexOf(byte b) {
    for (int i = 0; i < headLength; i++) if (head[i] == b) return i;
    return -1;
  }

  private void completeHead(ByteStringBuilder out) {
    String text = new String(head, 0, headLength, StandardCharsets.ISO_8859_1);
    String[] lines = text.split("\r?\n");
    String requestLine = lines.length > 0 ? lines[0] : "";
    String version = requestLine.substring(requestLine.lastIndexOf(' ') + 1);
    List<String> contentLengths = new ArrayList<>();
    String transferEncoding = null;
    String charset = null;
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      if (colon <= 0) continue;
      String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
      String value = lines[i].substring(colon + 1).trim();
      switch (name) {
        case "content-length" -> contentLengths.add(value);
        case "transfer-encoding" -> transferEncoding = transferEncoding == null ? value : transferEncoding + "," + value;
        case "content-type" -> charset = charsetOf(value);
        default -> {}
      }
    }
    if (transferEncoding != null && version.equals("HTTP/1.0")) {
      refuse(new Refusal(400, "Bad Request", "BadRequest", "Transfer-Encoding is not allowed in an HTTP/1.0 request"));
      return;
    }
    if (charset != null && !charset.equalsIgnoreCase("utf-8")) {
      refuse(new Refusal(400, "Bad Request", "BadRequest", "unsupported charset \"" + charset + "\": bodies are UTF-8"));
      return;
    }
    out.putBytes(head, 0, headLength);
    headLength = 0;
    if (head.length > 4096) head = new byte[256];
    headsPassed++;
    if (transferEncoding != null) {
      String[] codings = transferEncoding.split(",");
      boolean chunked = codings[codings.length - 1].trim().equalsIgnoreCase("chunked");
      state = chunked ? State.CHUNK_SIZE : State.PASS;
    } else if (contentLengths.size() == 1) {
      String cl = contentLengths.get(0);
      if (cl.isEmpty() || cl.length() > 18 || !cl.chars().allMatch(c -> c >= '0' && c <= '9')) {
        state = State.PASS;
      } else {
        remaining = Long.parseLong(cl);
        state = remaining > 0 ? State.BODY : State.HEAD;
      }
    } else if (contentLengths.size() > 1) {
      state = State.PASS; // pekko-http refuses it
    } else {
      state = State.HEAD;
    }
  }

  /** The charset parameter of a Content-Type value, unquoted, or null when there is none. */
  static String charsetOf(String contentType) {
    String[] parts = contentType.split(";");
    for (int i = 1; i < parts.length; i++) {
      String p = parts[i].trim();
      int eq = p.indexOf('=');
      if (eq > 0 && p.substring(0, eq).trim().equalsIgnoreCase("charset")) {
        String v = p.substring(eq + 1).trim();
        if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) v = v.substring(1, v.length() - 1);
        return v;
      }
    }
    return null;
  }

  private void refuse(Refusal r) {
    refusal = r;
    state = State.REFUSED;
    headLength = 0;
  }
}
