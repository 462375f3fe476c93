package io.raftkv.bench;

import java.time.Duration;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.OutgoingConnection;
import org.apache.pekko.http.javadsl.OutgoingConnectionBuilder;
import org.apache.pekko.http.javadsl.model.AttributeKey;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.japi.pf.PFBuilder;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.QueueOfferResult;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * One keep-alive connection to one endpoint, HTTP/1.1 or HTTP/2 with prior knowledge (plaintext),
 * on pekko-http's connection-level client: requests go in through a queue, answers come out of
 * the connection's stream, and each request's completion runs when its answer was judged, when
 * its timeout fires, or when the connection is lost.
 *
 * <p>HTTP/1.1 carries one request at a time (no pipelining: the caller sends the next when the
 * last completed), so answers are matched in order; a request that times out takes the connection
 * with it, since its answer would still block the ones behind it. HTTP/2 multiplexes up to {@code
 * maxInFlight} requests: each carries its {@link Pending} as a request-response association, which
 * pekko-http hands back on the answer; a timed-out stream leaves the connection alone.
 *
 * <p>A lost connection is opened again by the next request, at once after a clean close by the
 * server, not before {@code backoff} after a failure; a request that finds no connection fails
 * after {@code backoff}. Completions never run on the sending thread, so a caller may send again
 * from its completion without growing the stack. Thread-safe.
 */
final class PekkoConnection {
  /**
   * Judges an answer, consuming its entity: a source of one element, null for success or what
   * went wrong (a string; {@link #OK} stands for null, which a stream cannot carry). A source, not
   * a future, so that reading the entity runs inside the connection's stream (fused) instead of
   * materializing a new stream, and a new actor, per answer.
   */
  interface Judge extends Function<HttpResponse, Source<String, ?>> {}

  /** The verdict of success, in a {@link Judge}'s source. */
  static final String OK = new String("ok");

  private static final AttributeKey<Pending> PENDING = AttributeKey.create("raftkv-bench-pending", Pending.class);

  private final ActorSystem<?> system;
  private final Materializer materializer;
  private final String host;
  private final int port;
  private final boolean http2;
  private final int maxInFlight;
  private final Duration timeout;
  private final Duration backoff;

  private Link link; // guarded by this; null: none open
  private long noConnectBefore; // guarded by this; System.nanoTime() after a failed connection
  private String lastFailure = "none"; // guarded by this
  private boolean closed; // guarded by this

  /**
   * @param http2 HTTP/2 with prior knowledge; otherwise HTTP/1.1
   * @param maxInFlight the most requests outstanding at once (1 for HTTP/1.1)
   * @param timeout of each request, from its send to its judged answer
   */
  PekkoConnection(ActorSystem<?> system, String host, int port, boolean http2, int maxInFlight, Duration timeout, Duration backoff) {
    if (!http2 && maxInFlight != 1) throw new IllegalArgumentException("HTTP/1.1 carries one request at a time");
    this.system = system;
    this.materializer = Materializer.matFromSystem(system);
    this.host = host;
    this.port = port;
    this.http2 = http2;
    this.maxInFlight = maxInFlight;
    this.timeout = timeout;
    this.backoff = backoff;
  }

  /** The materializer answers are consumed with (for judges that read an entity as a stream). */
  Materializer materializer() {
    return materializer;
  }

  /** Sends {@code request}; {@code done} gets {@code judge}'s verdict or the failure. */
  void send(HttpRequest request, Judge judge, LoadTarget.Completion done) {
    Pending p = new Pending(judge, done);
    Link l;
    String why;
    synchronized (this) {
      l = current();
      why = closed ? "connection closed" : "no connection (last failure: " + lastFailure + ")";
    }
    if (l == null) {
      later(p, why);
      return;
    }
    p.link = l;
    l.inflight.add(p);
    if (http2) request = request.addAttribute(PENDING, p);
    else l.inOrder.add(p);
    p.timer =
        system.scheduler().scheduleOnce(timeout, () -> {
          if (p.finish("timeout after " + timeout.toMillis() + " ms") && !http2) l.kill.abort(new TimeoutException("request timed out"));
        }, system.executionContext());
    QueueOfferResult offered = l.queue.offer(request);
    if (!offered.isEnqueued()) {
      // the link is closing (its stream ended a moment ago): fail as a lost connection does, later
      l.inflight.remove(p);
      if (!http2) l.inOrder.remove(p);
      p.timer.cancel();
      later(p, "connection closing (" + offered + ")");
    }
  }

  private void later(Pending p, String why) {
    system.scheduler().scheduleOnce(backoff, () -> p.finish(why), system.executionContext());
  }

  /** The open link, a new one if none is open and none failed within the backoff, or null. */
  private Link current() {
    if (closed) return null;
    if (link != null && !link.dead) return link;
    if (System.nanoTime() - noConnectBefore < 0) return null;
    link = open();
    return link;
  }

  private Link open() {
    Link l = new Link();
    OutgoingConnectionBuilder builder = Http.get(system).connectionTo(host).toPort(port);
    Flow<HttpRequest, HttpResponse, CompletionStage<OutgoingConnection>> connection = http2 ? builder.http2WithPriorKnowledge() : builder.http();
    Pair<Pair<BoundedSourceQueue<HttpRequest>, UniqueKillSwitch>, CompletionStage<Done>> m =
        Source.<HttpRequest>queue(maxInFlight)
            .viaMat(KillSwitches.single(), Keep.both())
            .via(connection)
            .flatMapMerge(maxInFlight, response -> answered(l, response))
            .toMat(Sink.ignore(), Keep.both())
            .run(materializer);
    l.queue = m.first().first();
    l.kill = m.first().second();
    l.done = m.second();
    l.done.whenComplete((d, failure) -> ended(l, failure));
    return l;
  }

  private Source<Done, NotUsed> answered(Link l, HttpResponse response) {
    Pending p = http2 ? response.getAttribute(PENDING).orElse(null) : l.inOrder.poll();
    if (p == null || p.isDone()) {
      // timed out before its answer came (HTTP/2), or an answer nobody asked for: drain it
      return response.entity().getDataBytes().filter(b -> false).map(b -> Done.getInstance()).mapMaterializedValue(m -> NotUsed.getInstance());
    }
    Source<String, ?> verdict;
    try {
      verdict = p.judge.apply(response);
    } catch (RuntimeException e) {
      verdict = Source.failed(e);
    }
    return verdict
        .take(1)
        .map(v -> {
          p.finish(v == OK ? null : v);
          return Done.getInstance();
        })
        .recover(new PFBuilder<Throwable, Done>().match(Throwable.class, t -> {
          p.finish("unreadable answer: " + t);
          return Done.getInstance();
        }).build())
        .mapMaterializedValue(m -> NotUsed.getInstance());
  }

  private void ended(Link l, Throwable failure) {
    l.dead = true;
    synchronized (this) {
      if (link == l) link = null;
      if (failure != null) {
        lastFailure = String.valueOf(failure.getMessage());
        noConnectBefore = System.nanoTime() + backoff.toNanos();
      }
    }
    String why = failure == null ? "connection closed by the server" : "connection lost: " + failure.getMessage();
    for (Pending p : l.inflight) p.finish(why);
  }

  /**
   * Closes the connection: no more requests go out, and requests still outstanding 200 ms later
   * fail with the connection, which is then cut (callers close when nothing is outstanding).
   */
  void close() {
    Link l;
    synchronized (this) {
      closed = true;
      l = link;
      link = null;
    }
    if (l == null) return;
    l.queue.complete();
    try {
      l.done.toCompletableFuture().get(200, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      l.kill.abort(new IllegalStateException("closed"));
    }
  }

  /** One materialized connection. */
  private static final class Link {
    final Set<Pending> inflight = ConcurrentHashMap.newKeySet();
    final Queue<Pending> inOrder = new ConcurrentLinkedQueue<>(); // HTTP/1.1 only
    volatile boolean dead;
    BoundedSourceQueue<HttpRequest> queue;
    UniqueKillSwitch kill;
    CompletionStage<Done> done; // the stream's end
  }

  /**
   * One request until it is finished, exactly once. Marks itself as a request-response
   * association so that pekko-http carries it from an HTTP/2 request to its response.
   */
  static final class Pending implements org.apache.pekko.http.scaladsl.model.RequestResponseAssociation {
    final Judge judge;
    final LoadTarget.Completion done;
    private final AtomicBoolean finished = new AtomicBoolean();
    volatile Link link;
    volatile Cancellable timer;

    Pending(Judge judge, LoadTarget.Completion done) {
      this.judge = judge;
      this.done = done;
    }

    boolean isDone() {
      return finished.get();
    }

    /** Finishes with {@code error} (null: success); false if it was finished already. */
    boolean finish(String error) {
      if (!finished.compareAndSet(false, true)) return false;
      Cancellable t = timer;
      if (t != null) t.cancel();
      Link l = link;
      if (l != null) l.inflight.remove(this);
      try {
        done.completed(error);
      } catch (RuntimeException | Error e) {
        // a completion runs inside pekko's callbacks, which would swallow this: say it
        System.err.println("load benchmark: a request's completion failed: " + e);
        e.printStackTrace();
      }
      return true;
    }
  }
}
