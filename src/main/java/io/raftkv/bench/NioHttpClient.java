package io.raftkv.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A lean HTTP/1.1 client for the load benchmark: keep-alive connections, one request outstanding
 * per connection ({@link Http1Connection}, answers read by {@link Http1ResponseParser}), all of
 * them served by one I/O thread over a {@link Selector}, which also serves the benchmark's HTTP/2
 * connections ({@link Http2Connection}). It does what the
 * benchmark needs and no more: a fixed request line and headers, {@code Content-Length} bodies
 * out, {@code Content-Length} or chunked bodies in (no pipelining, redirects, TLS, or
 * compression).
 *
 * <p>Why not pekko-http's client: on two cores its per-request cost (stream stages, header model,
 * URI parsing; ~0.4 ms of CPU per request measured against etcd's gateway at 2,400 requests/s)
 * took half the machine from the servers being measured. This one costs a few microseconds.
 *
 * <p>Threading: every connection's state belongs to the I/O thread. {@link Http1Connection#send} may be
 * called from any thread; called on the I/O thread (from a completion) it writes at once, from
 * elsewhere it hands over through a queue. Completions run on the I/O thread, never inside
 * {@code send}, and must not block.
 */
final class NioHttpClient implements AutoCloseable {
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

  /** An HTTP/1.1 keep-alive connection to {@code host:port}, opened by its first request. */
  Http1Connection connection(String host, int port) {
    return new Http1Connection(this, new InetSocketAddress(host, port), host + ":" + port);
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

  /** Watches {@code channel} for {@code ops}, calling {@code handler} when it is ready. */
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

  /**
   * A new non-blocking channel with TCP_NODELAY, connecting to {@code address} (done at once if
   * {@link SocketChannel#isConnected}, else it awaits {@code OP_CONNECT}); closed again if that fails.
   */
  static SocketChannel openChannel(InetSocketAddress address) throws IOException {
    SocketChannel c = SocketChannel.open();
    try {
      c.configureBlocking(false);
      c.setOption(StandardSocketOptions.TCP_NODELAY, true);
      c.connect(address);
      return c;
    } catch (IOException e) {
      closeQuietly(c);
      throw e;
    }
  }

  /** Closes {@code channel} (null: nothing to close), whatever the OS says. */
  static void closeQuietly(SocketChannel channel) {
    if (channel == null) return;
    try {
      channel.close();
    } catch (IOException e) {
      // closing anyway
    }
  }

  /** Ends a request; a completion that throws is reported, and does not stop the I/O thread. */
  static void complete(LoadTarget.Completion done, String error) {
    try {
      done.completed(error);
    } catch (RuntimeException e) {
      System.err.println("load benchmark: a request's completion failed: " + e);
      e.printStackTrace();
    }
  }

  static String describe(IOException e) {
    String m = e.getMessage();
    return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }
}
