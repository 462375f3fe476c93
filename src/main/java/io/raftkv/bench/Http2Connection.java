package io.raftkv.bench;

import static io.raftkv.bench.Http2Frames.ACK;
import static io.raftkv.bench.Http2Frames.CONTINUATION;
import static io.raftkv.bench.Http2Frames.CANCEL;
import static io.raftkv.bench.Http2Frames.DATA;
import static io.raftkv.bench.Http2Frames.END_HEADERS;
import static io.raftkv.bench.Http2Frames.END_STREAM;
import static io.raftkv.bench.Http2Frames.GOAWAY;
import static io.raftkv.bench.Http2Frames.HEADERS;
import static io.raftkv.bench.Http2Frames.PADDED;
import static io.raftkv.bench.Http2Frames.PING;
import static io.raftkv.bench.Http2Frames.PREFACE;
import static io.raftkv.bench.Http2Frames.PUSH_PROMISE;
import static io.raftkv.bench.Http2Frames.RST_STREAM;
import static io.raftkv.bench.Http2Frames.SETTINGS;
import static io.raftkv.bench.Http2Frames.WINDOW_UPDATE;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * A lean HTTP/2 client connection (plaintext, prior knowledge; RFC 9113) for unary gRPC calls,
 * on {@link NioHttpClient}'s I/O thread: many requests multiplexed, each a HEADERS frame and one
 * DATA frame, each answer collected (headers, body, trailers) and judged when its stream ends.
 *
 * <p>Why not pekko-http's HTTP/2 client: on two cores it spent 0.6-1 ms of CPU per request (and
 * kept C2 compiling for 10-15 s), so etcd-grpc figures measured the client. This one writes its
 * request headers itself (HPACK literals without indexing, nothing to remember; {@link
 * Http2Frames}) and reads answers with the HPACK decoder that pekko-http-core carries (a copy of
 * Twitter's; {@link Http2HeaderReader}), since the server's headers use Huffman coding and the
 * dynamic table.
 *
 * <p>Flow control: the connection's and every stream's receive window start at 2^30 and the
 * connection's is topped up as data arrives; sends respect the peer's connection window, initial
 * stream window and its limit on concurrent streams (an unsigned 32-bit number), queueing what does
 * not fit. A timed-out request is reset (RST_STREAM CANCEL) and completes at once; the connection
 * stays. A lost connection fails every request on it; the next request opens a new one (not
 * before the backoff after a failure to connect).
 *
 * <p>Threading: all state belongs to the I/O thread; {@link #send} may be called from any thread.
 */
final class Http2Connection extends NioConnection {
  /** Judges an answer: null for success, else what went wrong. Runs on the I/O thread. */
  @FunctionalInterface
  interface Judge {
    /**
     * @param status the HTTP status
     * @param headers response headers, then trailers (a trailer replaces a header of its name)
     */
    String verdict(int status, Map<String, String> headers, byte[] body);
  }

  private static final int OUR_WINDOW = 1 << 30;
  private static final int MAX_FRAME = 16384; // SETTINGS_MAX_FRAME_SIZE: we keep the default
  /** The largest request body: it must fit the initial stream window (RFC 9113's default). */
  static final int MAX_BODY = 65535;

  private final String authority;
  private final Map<String, byte[]> headerBlocks = new HashMap<>(); // by path

  private ByteBuffer out = ByteBuffer.allocate(64 * 1024); // write mode
  private ByteBuffer in = ByteBuffer.allocate(64 * 1024); // write mode
  private Http2HeaderReader headerReader;
  private final Map<Integer, Stream> streams = new HashMap<>();
  private final ArrayDeque<Stream> waiting = new ArrayDeque<>();
  private int nextStreamId;
  private long peerMaxStreams; // unsigned 32-bit
  private long peerInitialWindow;
  private int peerMaxFrame;
  private long sendWindow; // the connection's, from the peer
  private long receivedSinceUpdate;
  private boolean goingAway;

  Http2Connection(NioHttpClient loop, InetSocketAddress address, String authority) {
    super(loop, address);
    this.authority = authority;
  }

  /** Calls {@code path} with {@code message} (gRPC-framed by the caller); {@code done} gets the verdict. */
  void send(String path, byte[] body, Judge judge, LoadTarget.Completion done) {
    loop.onLoop(() -> start(new Stream(path, body, judge, done)));
  }

  /** Closes the connection; requests outstanding are dropped uncompleted. */
  void close() {
    loop.onLoop(() -> {
      streams.clear();
      waiting.clear();
      closeChannel();
    });
  }

  private void start(Stream s) {
    if (loop.closing()) return;
    if (enqueue(s)) loop.later(loop.timeout().toNanos(), () -> timedOut(s));
  }

  private void timedOut(Stream s) {
    if (s.done) return;
    if (s.id != 0 && streams.remove(s.id) != null && channel == s.connection) {
      frame(RST_STREAM, 0, s.id, 4).putInt(CANCEL);
      flush();
    }
    waiting.remove(s);
    complete(s, "timeout after " + loop.timeout().toMillis() + " ms");
  }

  private boolean open() {
    if (!openChannel()) return false;
    headerReader = new Http2HeaderReader();
    nextStreamId = 1;
    peerMaxStreams = 100; // until the peer's SETTINGS say otherwise (RFC 9113 recommends >= 100)
    peerInitialWindow = 65535;
    peerMaxFrame = 16384;
    sendWindow = 65535;
    receivedSinceUpdate = 0;
    goingAway = false;
    out.clear();
    in.clear();
    // preface, SETTINGS (no push; stream windows of 2^30), the connection window raised to 2^30
    out.put(PREFACE);
    frame(SETTINGS, 0, 0, 12).putShort((short) 2).putInt(0).putShort((short) 4).putInt(OUR_WINDOW);
    frame(WINDOW_UPDATE, 0, 0, 4).putInt(OUR_WINDOW - 65535);
    if (connected) flush();
    return true;
  }

  @Override
  void connectedNow() {
    drain();
  }

  /** Starts the waiting requests that fit the peer's stream limit and windows. */
  private void drain() {
    while (!waiting.isEmpty() && !goingAway) {
      Stream s = waiting.peek();
      if (s.body.length > MAX_BODY) {
        waiting.poll();
        complete(s, "a request body over " + MAX_BODY + " bytes (this client sends each in one stream window)");
        continue;
      }
      if (streams.size() >= peerMaxStreams || s.body.length > sendWindow || s.body.length > peerInitialWindow) break;
      if (nextStreamId < 0) { // 2^31 streams used: a new connection starts over
        goingAway = true;
        break;
      }
      waiting.poll();
      s.id = nextStreamId;
      nextStreamId += 2;
      streams.put(s.id, s);
      byte[] block = headerBlocks.computeIfAbsent(s.path, p -> Http2Frames.requestHeaders(p, authority));
      frame(HEADERS, END_HEADERS, s.id, block.length).put(block);
      for (int at = 0; ; at += peerMaxFrame) { // DATA frames no larger than the peer allows
        int n = (int) Math.min(peerMaxFrame, s.body.length - at);
        boolean last = at + n >= s.body.length;
        frame(DATA, last ? END_STREAM : 0, s.id, n).put(s.body, at, n);
        if (last) break;
      }
      sendWindow -= s.body.length;
    }
    if (goingAway && streams.isEmpty() && !waiting.isEmpty()) {
      // the server is closing this connection: the waiting requests go on a new one
      closeChannel();
      ArrayDeque<Stream> again = new ArrayDeque<>(waiting);
      waiting.clear();
      for (Stream s : again) enqueue(s);
      return;
    }
    flush();
  }

  /**
   * Queues {@code s} (new, or again after its connection went away) on the open connection or a
   * new one; false if there is none, and {@code s} fails after the backoff.
   */
  private boolean enqueue(Stream s) {
    if (channel == null && !open()) {
      loop.later(loop.backoff().toNanos(), () -> complete(s, "no connection (" + lastFailure + ")"));
      return false;
    }
    s.connection = channel;
    s.id = 0;
    waiting.add(s);
    if (connected) drain();
    return true;
  }

  /** Appends a frame header and makes room for {@code length} payload bytes; returns the buffer to put them in. */
  private ByteBuffer frame(int type, int flags, int stream, int length) {
    out = Http2Frames.frame(out, type, flags, stream, length);
    return out;
  }

  @Override
  void flush() {
    if (channel == null || !connected) return;
    try {
      out.flip();
      channel.write(out);
      out.compact();
      key.interestOps(out.position() > 0 ? SelectionKey.OP_READ | SelectionKey.OP_WRITE : SelectionKey.OP_READ);
    } catch (IOException e) {
      broken(NioHttpClient.describe(e), false);
    }
  }

  @Override
  void read() throws IOException {
    while (channel != null) {
      if (!in.hasRemaining()) {
        broken("a frame larger than " + in.capacity() + " bytes", false);
        return;
      }
      int n = channel.read(in);
      if (n < 0) {
        broken("connection closed by the server", false);
        return;
      }
      if (n == 0) break;
      in.flip();
      while (channel != null && in.remaining() >= Http2Frames.HEADER_BYTES) {
        int length = Http2Frames.length(in);
        if (length > MAX_FRAME) {
          broken("a frame of " + length + " bytes, above our SETTINGS_MAX_FRAME_SIZE", false);
          return;
        }
        if (in.remaining() < Http2Frames.HEADER_BYTES + length) break;
        in.get(); // length, read above
        in.get();
        in.get();
        int type = in.get() & 0xff;
        int flags = in.get() & 0xff;
        int stream = in.getInt() & 0x7fffffff;
        byte[] payload = new byte[length];
        in.get(payload);
        String error = onFrame(type, flags, stream, payload);
        if (error != null) {
          broken(error, false);
          return;
        }
      }
      if (channel == null) return;
      in.compact();
    }
    flush();
  }

  /** Handles one frame; null, or a connection error. */
  private String onFrame(int type, int flags, int stream, byte[] p) {
    String interrupted = headerReader.interrupted(type, stream);
    if (interrupted != null) return interrupted;
    switch (type) {
      case DATA -> {
        receivedSinceUpdate += p.length;
        if (receivedSinceUpdate >= OUR_WINDOW / 2) {
          frame(WINDOW_UPDATE, 0, 0, 4).putInt((int) receivedSinceUpdate);
          receivedSinceUpdate = 0;
        }
        Stream s = streams.get(stream);
        if (s != null) {
          int start = 0;
          int end = p.length;
          if ((flags & PADDED) != 0) {
            if (p.length < 1 || (p[0] & 0xff) >= p.length) return "bad DATA padding";
            start = 1;
            end = p.length - (p[0] & 0xff);
          }
          s.data.write(p, start, end - start);
          if ((flags & END_STREAM) != 0) ended(s);
        }
      }
      case HEADERS -> {
        return headerReader.headers(flags, stream, p, this::headersDone);
      }
      case CONTINUATION -> {
        return headerReader.continuation(flags, stream, p, this::headersDone);
      }
      case RST_STREAM -> {
        Stream s = streams.remove(stream);
        if (s != null) complete(s, "stream reset by the server (error " + (p.length >= 4 ? ByteBuffer.wrap(p).getInt() : -1) + ")");
        drain();
      }
      case SETTINGS -> {
        if ((flags & ACK) != 0) return null;
        if (p.length % 6 != 0) return "bad SETTINGS length";
        ByteBuffer b = ByteBuffer.wrap(p);
        while (b.hasRemaining()) {
          int id = b.getShort() & 0xffff;
          long value = b.getInt() & 0xffffffffL;
          if (id == 3) peerMaxStreams = value;
          else if (id == 4) {
            if (value > Integer.MAX_VALUE) return "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1";
            peerInitialWindow = value;
          } else if (id == 5) {
            if (value < 16384 || value > 16777215) return "bad SETTINGS_MAX_FRAME_SIZE " + value;
            peerMaxFrame = (int) value;
          }
        }
        frame(SETTINGS, ACK, 0, 0);
        drain();
      }
      case PING -> {
        if ((flags & ACK) == 0) frame(PING, ACK, 0, p.length).put(p);
      }
      case GOAWAY -> {
        int last = p.length >= 4 ? ByteBuffer.wrap(p).getInt() & 0x7fffffff : 0;
        goingAway = true;
        for (Stream s : streams.values().toArray(new Stream[0])) {
          if (s.id > last) {
            streams.remove(s.id);
            enqueue(s);
          }
        }
        drain();
      }
      case WINDOW_UPDATE -> {
        if (p.length != 4) return "bad WINDOW_UPDATE length";
        if (stream == 0) {
          sendWindow += ByteBuffer.wrap(p).getInt() & 0x7fffffff;
          drain();
        }
      }
      case PUSH_PROMISE -> {
        return "PUSH_PROMISE although push was disabled";
      }
      default -> {
        // PRIORITY and unknown frame types are ignored (RFC 9113 §4.1, §5.5)
      }
    }
    return null;
  }

  /** A decoded header block of {@code stream}: status and headers (or trailers) for the request, if it still waits. */
  private String headersDone(int stream, Map<String, String> fields, boolean endStream) {
    Stream s = streams.get(stream);
    if (s == null) return null; // timed out and reset: nobody waits
    if (s.status < 0) {
      String status = fields.remove(":status");
      try {
        s.status = status == null ? 0 : Integer.parseInt(status);
      } catch (NumberFormatException e) {
        s.status = 0;
      }
    }
    s.headers.putAll(fields);
    if (endStream) ended(s);
    return null;
  }

  private void ended(Stream s) {
    streams.remove(s.id);
    if (s.done) return;
    String verdict;
    try {
      verdict = s.judge.verdict(s.status, s.headers, s.data.toByteArray());
    } catch (RuntimeException e) {
      verdict = "unreadable answer: " + e;
    }
    complete(s, verdict);
    drain();
  }

  @Override
  void broken(String why, boolean connectFailure) {
    if (connectFailure) connectFailed(why);
    closeChannel();
    Stream[] failed = streams.values().toArray(new Stream[0]);
    Stream[] queued = waiting.toArray(new Stream[0]);
    streams.clear();
    waiting.clear();
    String error = connectFailure ? "no connection (" + why + ")" : "connection lost: " + why;
    for (Stream s : failed) complete(s, error);
    for (Stream s : queued) complete(s, error);
  }

  private void complete(Stream s, String error) {
    if (s.done) return;
    s.done = true;
    NioHttpClient.complete(s.completion, error);
  }

  /** One request and its answer so far. */
  private static final class Stream {
    final String path;
    final byte[] body;
    final Judge judge;
    final LoadTarget.Completion completion;
    final Map<String, String> headers = new HashMap<>();
    final ByteArrayOutputStream data = new ByteArrayOutputStream(64);
    SocketChannel connection; // the connection it was sent on
    int id;
    int status = -1;
    boolean done;

    Stream(String path, byte[] body, Judge judge, LoadTarget.Completion completion) {
      this.path = path;
      this.body = body;
      this.judge = judge;
      this.completion = completion;
    }
  }
}
