package io.raftkv.bench;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The benchmark's client: every {@code interval} it sends one write, without waiting for earlier
 * ones, to the next running member in turn (each write with a short timeout of its own), and
 * remembers when each acknowledged write was sent and acknowledged. A fault's recovery time is
 * then the time from the fault to the first acknowledgement of a write sent after it.
 */
final class WriteProbe implements AutoCloseable {
  /** An acknowledged write: sent and acknowledged at these {@link System#nanoTime} instants. */
  record Ack(long sent, long acked, int node) {}

  static final String KEY = "recovery-probe";

  private final ServiceUnderTest service;
  private final NodeProcesses procs;
  private final Duration interval;
  private final Duration timeout;
  private final HttpClient http;
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "write-probe");
        t.setDaemon(true);
        return t;
      });
  private final List<Ack> acks = new ArrayList<>(); // guarded by this, in order of acknowledgement
  private volatile int focus = -1;
  private int next; // timer thread only
  private long seq; // timer thread only

  WriteProbe(ServiceUnderTest service, NodeProcesses procs, Duration interval, Duration timeout) {
    this.service = service;
    this.procs = procs;
    this.interval = interval;
    this.timeout = timeout;
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(timeout).build();
  }

  HttpClient http() {
    return http;
  }

  void start() {
    timer.scheduleAtFixedRate(this::tick, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Also send every tick's write through {@code node} (-1: stop doing so). */
  void focus(int node) {
    focus = node;
  }

  private void tick() {
    List<Integer> live = new ArrayList<>();
    for (int i = 0; i < procs.size(); i++) if (procs.isRunning(i)) live.add(i);
    if (live.isEmpty()) return;
    int node = live.get(Math.floorMod(next++, live.size()));
    send(node);
    int f = focus;
    if (f >= 0 && f != node && procs.isRunning(f)) send(f);
  }

  private void send(int node) {
    long sent = System.nanoTime();
    http.sendAsync(service.write(node, KEY, Long.toString(++seq), timeout), HttpResponse.BodyHandlers.ofString())
        .whenComplete((r, e) -> {
          if (r != null && service.ok(r)) acked(new Ack(sent, System.nanoTime(), node));
        });
  }

  private synchronized void acked(Ack a) {
    acks.add(a);
    notifyAll();
  }

  /**
   * Waits for the first acknowledgement of a write sent at or after {@code since} (through {@code
   * node}, or any member if -1) and returns the nanoseconds from {@code since} to it, or -1 if
   * none came by {@code deadline}.
   */
  synchronized long firstAck(long since, int node, long deadline) throws InterruptedException {
    int scanned = 0;
    while (true) {
      for (; scanned < acks.size(); scanned++) {
        Ack a = acks.get(scanned);
        if (a.sent() >= since && (node < 0 || a.node() == node)) return a.acked() - since;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) return -1;
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
  }

  /**
   * Sends {@code request} every interval, without waiting for earlier tries, until one succeeds;
   * returns the nanoseconds from {@code since} to that answer, or -1 if none came by {@code
   * deadline}.
   */
  long firstSuccess(Supplier<HttpRequest> request, long since, long deadline) throws InterruptedException {
    CompletableFuture<Long> first = new CompletableFuture<>();
    ScheduledFuture<?> tries =
        timer.scheduleAtFixedRate(
            () -> http.sendAsync(request.get(), HttpResponse.BodyHandlers.ofString()).whenComplete((r, e) -> {
              if (r != null && service.ok(r)) first.complete(System.nanoTime() - since);
            }),
            0,
            interval.toMillis(),
            TimeUnit.MILLISECONDS);
    try {
      return first.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      return -1;
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    } finally {
      tries.cancel(false);
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
