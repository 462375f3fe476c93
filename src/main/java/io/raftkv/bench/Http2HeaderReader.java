package io.raftkv.bench;

import static io.raftkv.bench.Http2Frames.CONTINUATION;
import static io.raftkv.bench.Http2Frames.END_HEADERS;
import static io.raftkv.bench.Http2Frames.END_STREAM;
import static io.raftkv.bench.Http2Frames.PADDED;
import static io.raftkv.bench.Http2Frames.PRIORITY;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.http.shaded.com.twitter.hpack.Decoder;

/**
 * The answers' header blocks of one HTTP/2 connection: a HEADERS frame and its CONTINUATION
 * frames put together, then decoded in order with the connection's HPACK table (the decoder that
 * pekko-http-core carries, a copy of Twitter's), whichever stream they are for. A new connection
 * takes a new reader. I/O thread only; every method returns null, or a connection error.
 */
final class Http2HeaderReader {
  /** Takes a whole decoded header block of {@code stream}. */
  @FunctionalInterface
  interface Sink {
    String block(int stream, Map<String, String> fields, boolean endStream);
  }

  private final Decoder decoder = new Decoder(64 * 1024, 4096);
  private int continuationStream; // a header block in progress on this stream, or 0
  private ByteArrayOutputStream block;
  private int blockFlags; // of the HEADERS frame that began the block

  /** A frame of {@code type} on {@code stream} that breaks into a header block in progress. */
  String interrupted(int type, int stream) {
    if (continuationStream != 0 && (type != CONTINUATION || stream != continuationStream)) return "a header block interrupted by frame type " + type;
    return null;
  }

  String headers(int flags, int stream, byte[] p, Sink sink) {
    int start = 0;
    int end = p.length;
    if ((flags & PADDED) != 0) {
      if (p.length < 1) return "bad HEADERS padding";
      start = 1;
      end = p.length - (p[0] & 0xff);
    }
    if ((flags & PRIORITY) != 0) start += 5;
    if (start > end) return "bad HEADERS frame";
    block = new ByteArrayOutputStream();
    block.write(p, start, end - start);
    blockFlags = flags;
    if ((flags & END_HEADERS) != 0) return done(stream, sink);
    continuationStream = stream;
    return null;
  }

  String continuation(int flags, int stream, byte[] p, Sink sink) {
    if (continuationStream == 0) return "CONTINUATION without HEADERS";
    block.write(p, 0, p.length);
    if ((flags & END_HEADERS) == 0) return null;
    continuationStream = 0;
    return done(stream, sink);
  }

  private String done(int stream, Sink sink) {
    Map<String, String> fields = new HashMap<>();
    try {
      decoder.decode(new ByteArrayInputStream(block.toByteArray()), (name, value, parsed, sensitive) -> {
        fields.put(name, value);
        return value;
      });
      if (decoder.endHeaderBlock()) return "response headers too large";
    } catch (IOException e) {
      return "HPACK: " + e.getMessage();
    }
    block = null;
    return sink.block(stream, fields, (blockFlags & END_STREAM) != 0);
  }
}
