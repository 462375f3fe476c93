package io.raftkv.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A lean HTTP/1.1 client for the load benchmark: keep-alive connections, one request outstanding
 * per connection, all of them served by one I/O thread over a {@link Selector}, which also serves
 * the benchmark's HTTP/2 connections ({@link Http2Connection}). It does what the
 * benchmark needs and no more: a fixed request line and headers, {@code Content-Length} bodies
 * out, {@code Content-Length} or chunked bodies in (no pipelining, redirects, TLS, or
 * compression).
 *
 * <p>Why not pekko-http's client: on two cores its per-request cost (stream stages, header model,
 * URI parsing; ~0.4 ms of CPU per request measured against etcd's gateway at 2,400 requests/s)
 * took half the machine from the servers being measured. This one costs a few microseconds.
 *
 * <p>Threading: every connection's state belongs to the I/O thread. {@link Connection#send} may be
 * called from any thread; called on the I/O thread (from a completion) it writes at once, from
 * elsewhere it hands over through a queue. Completions run on the I/O thread, never inside
 * {@code send}, and must not block.
 */
final class NioHttpClient implements AutoCloseable {
  /** Judges an answer: null for success, else what went wrong. Runs on the I/O thread. */
  @FunctionalInterface
  interface Judge {
    String verdict(int status, byte[] body);
  }

  /** What the I/O thread calls when a channel it watches is ready. */
  interface Handler {
    void ready(SelectionKey key);
  }

  private final Selector selector;
  private final Thread thread;
  private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  private final PriorityQueue<Timer> timers = new PriorityQueue<>(); // I/O thread only
  private final Duration timeout;
  private final Duration backoff;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile boolean closing;
  private long timerSeq; // I/O thread only

  /**
   * @param timeout of each request, from its send to the end of its answer
   * @param backoff after a failed connection, how long until the next try (a request sent in
   *     between fails after this long)
   */
  NioHttpClient(Duration timeout, Duration backoff) {
    this.timeout = timeout;
    this.backoff = backoff;
    try {
      this.selector = Selector.open();
    } catch (IOException e) {
      throw new IllegalStateException("no selector", e);
    }
    this.thread = new Thread(this::loop, "raftkv-bench-io");
    thread.setDaemon(true);
    thread.start();
  }

  /** A connection to {@code host:port}, opened by its first request. */
  Connection connection(String host, int port) {
    return new Connection(new InetSocketAddress(host, port), host + ":" + port);
  }

  /** An HTTP/2 (prior knowledge, plaintext) connection to {@code host:port}, opened by its first request. */
  Http2Connection http2Connection(String host, int port) {
    return new Http2Connection(this, new InetSocketAddress(host, port), host + ":" + port);
  }

  Duration timeout() {
    return timeout;
  }

  Duration backoff() {
    return backoff;
  }

  boolean closing() {
    return closing;
  }

  /** Opens a non-blocking channel to {@code address}, watched for {@code handler}. */
  SelectionKey register(SocketChannel channel, int ops, Handler handler) throws IOException {
    return channel.register(selector, ops, handler);
  }

  /** Closes every connection; requests still outstanding are not completed. Waits for the I/O thread. */
  @Override
  public void close() {
    closing = true;
    selector.wakeup();
    try {
      stopped.await(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Runs {@code r} on the I/O thread: now if this is it, else soon. */
  void onLoop(Runnable r) {
    if (Thread.currentThread() == thread) {
      r.run();
    } else {
      tasks.add(r);
      selector.wakeup();
    }
  }

  /** Runs {@code r} on the I/O thread in {@code delayNanos}; call on the I/O thread. */
  void later(long delayNanos, Runnable r) {
    timers.add(new Timer(System.nanoTime() + delayNanos, timerSeq++, r));
  }

  private void loop() {
    try {
      while (!closing) {
        long wait = 0;
        Timer next = timers.peek();
        if (next != null) wait = Math.max(1, TimeUnit.NANOSECONDS.toMillis(next.at - System.nanoTime()) + 1);
        if (tasks.isEmpty()) selector.select(wait);
        else selector.selectNow();
        for (SelectionKey k : selector.selectedKeys()) {
          Handler h = (Handler) k.attachment();
          if (k.isValid()) h.ready(k);
        }
        selector.selectedKeys().clear();
        Runnable r;
        while ((r = tasks.poll()) != null) r.run();
        long now = System.nanoTime();
        while ((next = timers.peek()) != null && next.at - now <= 0) {
          timers.poll();
          next.task.run();
        }
      }
    } catch (IOException | ClosedSelectorException e) {
      System.err.println("load benchmark: the I/O thread failed: " + e);
    } finally {
      for (SelectionKey k : selector.keys()) {
        try {
          k.channel().close();
        } catch (IOException e) {
          // closing anyway
        }
      }
      try {
        selector.close();
      } catch (IOException e) {
        // closing anyway
      }
      stopped.countDown();
    }
  }

  private record Timer(long at, long seq, Runnable task) implements Comparable<Timer> {
    @Override
    public int compareTo(Timer o) {
      int c = Long.compare(at - o.at, 0);
      return c != 0 ? c : Long.compare(seq, o.seq);
    }
  }

  /** One keep-alive connection; fields belong to the I/O thread. */
  final class Connection implements Handler {
    private final InetSocketAddress address;
    private final String hostHeader;
    private SocketChannel channel;
    private SelectionKey key;
    private boolean connected;
    private long noConnectBefore;
    private String lastFailure = "none";
    private ByteBuffer out;
    private Request current;
    private final ResponseParser parser = new ResponseParser();
    private final ByteBuffer in = ByteBuffer.allocate(64 * 1024);

    private Connection(InetSocketAddress address, String hostHeader) {
      this.address = address;
      this.hostHeader = hostHeader;
    }

    /**
     * Sends {@code method path} with {@code body} (null: none) as {@code contentType}; {@code done}
     * gets {@code judge}'s verdict, or the failure. One request at a time: send the next from the
     * completion of the last.
     */
    void send(String method, String path, String contentType, byte[] body, Judge judge, LoadTarget.Completion done) {
      byte[] head = head(method, path, contentType, body);
      onLoop(() -> start(new Request(head, body, judge, done)));
    }

    private byte[] head(String method, String path, String contentType, byte[] body) {
      StringBuilder b = new StringBuilder(128).append(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: ").append(hostHeader).append("\r\n");
      if (body != null) b.append("Content-Type: ").append(contentType).append("\r\nContent-Length: ").append(body.length).append("\r\n");
      return b.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    private void start(Request r) {
      if (closing) return;
      if (current != null) {
        failSoon(r, "a request is already outstanding on this connection");
        return;
      }
      if (channel == null && !open()) {
        failSoon(r, "no connection (" + lastFailure + ")");
        return;
      }
      current = r;
      long deadline = timeout.toNanos();
      later(deadline, () -> {
        if (current == r) {
          broken("timeout after " + timeout.toMillis() + " ms", false);
        }
      });
      ByteBuffer buf = ByteBuffer.allocate(r.head.length + (r.body == null ? 0 : r.body.length));
      buf.put(r.head);
      if (r.body != null) buf.put(r.body);
      buf.flip();
      out = buf;
      if (connected) flush();
    }

    /** Starts connecting; false (and a backoff) if that failed at once or a backoff runs. */
    private boolean open() {
      if (System.nanoTime() - noConnectBefore < 0) return false;
      try {
        channel = SocketChannel.open();
        channel.configureBlocking(false);
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        connected = channel.connect(address);
        key = channel.register(selector, connected ? SelectionKey.OP_READ : SelectionKey.OP_CONNECT, this);
        parser.reset();
        return true;
      } catch (IOException e) {
        lastFailure = describe(e);
        noConnectBefore = System.nanoTime() + backoff.toNanos();
        closeChannel();
        return false;
      }
    }

    @Override
    public void ready(SelectionKey k) {
      try {
        if (k.isConnectable()) {
          channel.finishConnect();
          connected = true;
          k.interestOps(SelectionKey.OP_READ);
          if (out != null) flush();
          return;
        }
        if (k.isWritable()) flush();
        if (k.isReadable()) read();
      } catch (IOException e) {
        broken(describe(e), true);
      }
    }

    private void flush() {
      try {
        channel.write(out);
        if (out.hasRemaining()) key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
        else {
          out = null;
          key.interestOps(SelectionKey.OP_READ);
        }
      } catch (IOException e) {
        broken(describe(e), true);
      }
    }

    private void read() throws IOException {
      while (true) {
        in.clear();
        int n = channel.read(in);
        if (n < 0) {
          if (current != null && parser.endsAtClose()) {
            finishCurrent(parser.status(), parser.body());
            closeChannel();
          } else {
            broken("connection closed by the server", false);
          }
          return;
        }
        if (n == 0) return;
        if (current == null) {
          broken("bytes from the server while no request was outstanding", false);
          return;
        }
        in.flip();
        String malformed = parser.feed(in);
        if (malformed != null) {
          broken("malformed answer: " + malformed, false);
          return;
        }
        if (parser.complete()) {
          boolean close = parser.closeAfter();
          int status = parser.status();
          byte[] body = parser.body();
          parser.reset();
          if (close) closeChannel();
          finishCurrent(status, body);
          return;
        }
      }
    }

    private void finishCurrent(int status, byte[] body) {
      Request r = current;
      current = null;
      String verdict;
      try {
        verdict = r.judge.verdict(status, body);
      } catch (RuntimeException e) {
        verdict = "unreadable answer: " + e;
      }
      complete(r, verdict);
    }

    /** The connection is unusable: the request outstanding fails, the channel closes. */
    private void broken(String why, boolean connectFailure) {
      if (connectFailure && !connected) {
        lastFailure = why;
        noConnectBefore = System.nanoTime() + backoff.toNanos();
      }
      closeChannel();
      Request r = current;
      current = null;
      if (r != null) complete(r, why);
    }

    private void closeChannel() {
      if (channel != null) {
        try {
          channel.close();
        } catch (IOException e) {
          // closing anyway
        }
      }
      channel = null;
      key = null;
      connected = false;
      out = null;
      parser.reset();
    }

    private void failSoon(Request r, String why) {
      later(backoff.toNanos(), () -> complete(r, why));
    }

    private void complete(Request r, String error) {
      try {
        r.done.completed(error);
      } catch (RuntimeException e) {
        System.err.println("load benchmark: a request's completion failed: " + e);
        e.printStackTrace();
      }
    }

    /** Closes the connection (on the I/O thread); a request outstanding is dropped uncompleted. */
    void close() {
      onLoop(() -> {
        current = null;
        closeChannel();
      });
    }
  }

  private record Request(byte[] head, byte[] body, Judge judge, LoadTarget.Completion done) {}

  static String describe(IOException e) {
    String m = e.getMessage();
    return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }

  /**
   * An incremental HTTP/1.1 response parser: status line, headers, then a body framed by {@code
   * Content-Length}, by chunks, or (neither) by the end of the connection. 1xx answers are skipped.
   */
  static final class ResponseParser {
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
  }

  /** For tests: the parser's answers over a byte stream cut anywhere. */
  static List<String> parseAll(byte[] stream, int cut) {
    ResponseParser p = new ResponseParser();
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
  private static String feedUntilDone(ResponseParser p, ByteBuffer b) {
    while (b.hasRemaining() && !p.complete()) {
      ByteBuffer one = b.slice(b.position(), 1);
      b.position(b.position() + 1);
      String error = p.feed(one);
      if (error != null) return error;
    }
    return null;
  }
}
