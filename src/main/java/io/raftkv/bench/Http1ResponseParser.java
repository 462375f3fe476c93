package io.raftkv.bench;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * An incremental HTTP/1.1 response parser, pure (bytes in, answers out) and used by {@link
 * NioHttpClient}'s connections: status line, headers, then a body framed by {@code
 * Content-Length}, by chunks, or (neither) by the end of the connection. 1xx answers are skipped.
 */
final class Http1ResponseParser {
  private static final int MAX_HEAD = 64 * 1024;

  private enum State { HEAD, BODY_LENGTH, CHUNK_SIZE, CHUNK_DATA, CHUNK_DATA_END, TRAILERS, UNTIL_CLOSE, DONE }

  private State state = State.HEAD;
  private final StringBuilder line = new StringBuilder();
  private int status = -1;
  private long contentLength = -1;
  private boolean chunked;
  private boolean close;
  private long remaining;
  private byte[] body = new byte[256];
  private int bodyLength;
  private int headBytes;

  void reset() {
    state = State.HEAD;
    line.setLength(0);
    status = -1;
    contentLength = -1;
    chunked = false;
    close = false;
    bodyLength = 0;
    headBytes = 0;
  }

  boolean complete() {
    return state == State.DONE;
  }

  /** Whether the body so far is a whole answer once the server closes (no length, no chunks). */
  boolean endsAtClose() {
    return state == State.UNTIL_CLOSE;
  }

  boolean closeAfter() {
    return close;
  }

  int status() {
    return status;
  }

  byte[] body() {
    return Arrays.copyOf(body, bodyLength);
  }

  /** Consumes {@code buf}; null, or what is malformed. Bytes after a complete answer are an error. */
  String feed(ByteBuffer buf) {
    while (buf.hasRemaining()) {
      switch (state) {
        case HEAD, CHUNK_SIZE, CHUNK_DATA_END, TRAILERS -> {
          byte b = buf.get();
          if (state == State.HEAD && ++headBytes > MAX_HEAD) return "headers longer than " + MAX_HEAD + " bytes";
          if (b != '\n') {
            line.append((char) (b & 0xff));
            continue;
          }
          int end = line.length() > 0 && line.charAt(line.length() - 1) == '\r' ? line.length() - 1 : line.length();
          String l = line.substring(0, end);
          line.setLength(0);
          String error = onLine(l);
          if (error != null) return error;
        }
        case BODY_LENGTH, CHUNK_DATA -> {
          int n = (int) Math.min(remaining, buf.remaining());
          append(buf, n);
          remaining -= n;
          if (remaining == 0) state = state == State.BODY_LENGTH ? State.DONE : State.CHUNK_DATA_END;
        }
        case UNTIL_CLOSE -> append(buf, buf.remaining());
        case DONE -> {
          return "bytes after the end of the answer";
        }
      }
    }
    return null;
  }

  private String onLine(String l) {
    switch (state) {
      case HEAD -> {
        if (status < 0) {
          // HTTP/1.1 200 OK
          if (!l.startsWith("HTTP/1.") || l.length() < 12) return "status line '" + l + "'";
          try {
            status = Integer.parseInt(l.substring(9, 12));
          } catch (NumberFormatException e) {
            return "status line '" + l + "'";
          }
          if (l.startsWith("HTTP/1.0")) close = true;
          return null;
        }
        if (!l.isEmpty()) return header(l);
        if (status >= 100 && status < 200) { // an interim answer: the real one follows
          reset();
          return null;
        }
        if (status == 204 || status == 304) state = State.DONE;
        else if (chunked) state = State.CHUNK_SIZE;
        else if (contentLength >= 0) {
          remaining = contentLength;
          state = contentLength == 0 ? State.DONE : State.BODY_LENGTH;
        } else {
          close = true;
          state = State.UNTIL_CLOSE;
        }
        return null;
      }
      case CHUNK_SIZE -> {
        int semi = l.indexOf(';');
        String size = (semi < 0 ? l : l.substring(0, semi)).trim();
        try {
          remaining = Long.parseLong(size, 16);
        } catch (NumberFormatException e) {
          return "chunk size '" + l + "'";
        }
        if (remaining < 0) return "chunk size '" + l + "'";
        state = remaining == 0 ? State.TRAILERS : State.CHUNK_DATA;
        return null;
      }
      case CHUNK_DATA_END -> {
        if (!l.isEmpty()) return "no CRLF after a chunk";
        state = State.CHUNK_SIZE;
        return null;
      }
      case TRAILERS -> {
        if (l.isEmpty()) state = State.DONE;
        return null;
      }
      default -> throw new IllegalStateException(state.toString());
    }
  }

  private String header(String l) {
    int colon = l.indexOf(':');
    if (colon <= 0) return "header line '" + l + "'";
    String name = l.substring(0, colon).trim().toLowerCase(Locale.ROOT);
    String value = l.substring(colon + 1).trim();
    switch (name) {
      case "content-length" -> {
        try {
          contentLength = Long.parseLong(value);
        } catch (NumberFormatException e) {
          return "Content-Length '" + value + "'";
        }
        if (contentLength < 0) return "Content-Length '" + value + "'";
      }
      case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
      case "connection" -> {
        if (value.toLowerCase(Locale.ROOT).contains("close")) close = true;
      }
      default -> {}
    }
    return null;
  }

  private void append(ByteBuffer buf, int n) {
    if (bodyLength + n > body.length) body = Arrays.copyOf(body, Math.max(body.length * 2, bodyLength + n));
    buf.get(body, bodyLength, n);
    bodyLength += n;
  }

  /** For tests: the parser's answers over a byte stream cut anywhere. */
  static List<String> parseAll(byte[] stream, int cut) {
    Http1ResponseParser p = new Http1ResponseParser();
    List<String> out = new ArrayList<>();
    for (int i = 0; i < stream.length; i += cut) {
      ByteBuffer b = ByteBuffer.wrap(stream, i, Math.min(cut, stream.length - i));
      while (b.hasRemaining()) {
        String error = feedUntilDone(p, b);
        if (error != null) {
          out.add("error: " + error);
          return out;
        }
        if (p.complete()) {
          out.add(p.status() + " " + new String(p.body(), StandardCharsets.UTF_8));
          p.reset();
        }
      }
    }
    return out;
  }

  /** Feeds bytes one at a time up to the end of an answer, so that several answers in a row split. */
  private static String feedUntilDone(Http1ResponseParser p, ByteBuffer b) {
    while (b.hasRemaining() && !p.complete()) {
      ByteBuffer one = b.slice(b.position(), 1);
      b.position(b.position() + 1);
      String error = p.feed(one);
      if (error != null) return error;
    }
    return null;
  }
}
