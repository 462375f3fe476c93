package io.raftkv.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.charset.StandardCharsets;

/**
 * One HTTP/1.1 keep-alive connection of the benchmark's own client, on {@link NioHttpClient}'s
 * I/O thread: one request outstanding, its answer read by an {@link Http1ResponseParser}. A lost
 * connection fails the request outstanding; the next request opens a new one (not before the
 * backoff after a failure to connect).
 *
 * <p>Threading: fields belong to the I/O thread; {@link #send} and {@link #close} may be called
 * from any thread.
 */
final class Http1Connection extends NioConnection {
  /** Judges an answer: null for success, else what went wrong. Runs on the I/O thread. */
  @FunctionalInterface
  interface Judge {
    String verdict(int status, byte[] body);
  }

  private final String hostHeader;
  private ByteBuffer out;
  private Request current;
  private final Http1ResponseParser parser = new Http1ResponseParser();
  private final ByteBuffer in = ByteBuffer.allocate(64 * 1024);

  Http1Connection(NioHttpClient loop, InetSocketAddress address, String hostHeader) {
    super(loop, address);
    this.hostHeader = hostHeader;
  }

  /**
   * Sends {@code method path} with {@code body} (null: none) as {@code contentType}; {@code done}
   * gets {@code judge}'s verdict, or the failure. One request at a time: send the next from the
   * completion of the last.
   */
  void send(String method, String path, String contentType, byte[] body, Judge judge, LoadTarget.Completion done) {
    byte[] head = head(method, path, contentType, body);
    loop.onLoop(() -> start(new Request(head, body, judge, done)));
  }

  private byte[] head(String method, String path, String contentType, byte[] body) {
    StringBuilder b = new StringBuilder(128).append(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: ").append(hostHeader).append("\r\n");
    if (body != null) b.append("Content-Type: ").append(contentType).append("\r\nContent-Length: ").append(body.length).append("\r\n");
    return b.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
  }

  private void start(Request r) {
    if (loop.closing()) return;
    if (current != null) {
      failSoon(r, "a request is already outstanding on this connection");
      return;
    }
    if (channel == null && !open()) {
      failSoon(r, "no connection (" + lastFailure + ")");
      return;
    }
    current = r;
    loop.later(loop.timeout().toNanos(), () -> {
      if (current == r) {
        broken("timeout after " + loop.timeout().toMillis() + " ms", false);
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
    if (!openChannel()) return false;
    parser.reset();
    return true;
  }

  @Override
  void connectedNow() {
    if (out != null) flush();
  }

  @Override
  void flush() {
    try {
      channel.write(out);
      if (out.hasRemaining()) key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
      else {
        out = null;
        key.interestOps(SelectionKey.OP_READ);
      }
    } catch (IOException e) {
      broken(NioHttpClient.describe(e), true);
    }
  }

  @Override
  void read() throws IOException {
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
    NioHttpClient.complete(r.done, verdict);
  }

  /** The connection is unusable: the request outstanding fails, the channel closes. */
  @Override
  void broken(String why, boolean connectFailure) {
    if (connectFailure && !connected) connectFailed(why);
    closeChannel();
    Request r = current;
    current = null;
    if (r != null) NioHttpClient.complete(r.done, why);
  }

  @Override
  void closeChannel() {
    super.closeChannel();
    out = null;
    parser.reset();
  }

  private void failSoon(Request r, String why) {
    loop.later(loop.backoff().toNanos(), () -> NioHttpClient.complete(r.done, why));
  }

  /** Closes the connection (on the I/O thread); a request outstanding is dropped uncompleted. */
  void close() {
    loop.onLoop(() -> {
      current = null;
      closeChannel();
    });
  }

  private record Request(byte[] head, byte[] body, Judge judge, LoadTarget.Completion done) {}
}
