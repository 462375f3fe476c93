package io.raftkv.server;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.SystemMaterializer;
import org.apache.pekko.stream.TLSClosing;
import org.apache.pekko.stream.TLSProtocol;
import org.apache.pekko.stream.javadsl.BidiFlow;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.TLS;
import org.apache.pekko.stream.javadsl.TLSPlacebo;
import org.apache.pekko.stream.javadsl.Tcp;
import org.apache.pekko.util.ByteString;

/**
 * Serves a pekko-http handler flow on a TCP port, one {@link ConnectionGuard} in front of each
 * connection's HTTP layer. What {@code Http().newServerAt(...).bindFlow} does, plus the guard: at
 * most {@code maxConnections} connections are served at once ({@link ConnectionSlots}: a new one
 * beyond that takes the slot of the connection that has waited longest for its first request
 * head, or is answered 503 Busy at once when none is waiting); idle connections close after {@code
 * idleTimeout}.
 */
final class HttpServer {
  private HttpServer() {}

  /** Plain bytes above, TLS's session messages below: what sits between the guard and the TLS stage. */
  private static BidiFlow<ByteString, TLSProtocol.SslTlsOutbound, TLSProtocol.SslTlsInbound, ByteString, NotUsed> decrypted() {
    return BidiFlow.fromFlows(
        Flow.of(ByteString.class).map(b -> (TLSProtocol.SslTlsOutbound) new TLSProtocol.SendBytes(b)),
        Flow.of(TLSProtocol.SslTlsInbound.class)
            .filter(in -> in instanceof TLSProtocol.SessionBytes)
            .map(in -> ((TLSProtocol.SessionBytes) in).bytes()));
  }

  private static SSLEngine serverEngine(SSLContext context) {
    SSLEngine engine = context.createSSLEngine();
    engine.setUseClientMode(false);
    return engine;
  }

  static CompletionStage<HttpApi.Binding> bind(
      ActorSystem<?> system,
      String host,
      int port,
      ServerSettings settings,
      HttpApi.Connections limits,
      SSLContext https,
      LogLimiter logLimiter,
      Metrics metrics,
      Flow<HttpRequest, HttpResponse, NotUsed> handler) {
    Materializer mat = SystemMaterializer.get(system).materializer();
    Http http = Http.get(system);
    ConnectionSlots slots = new ConnectionSlots(limits.maxConnections());
    return Tcp.get(system)
        .bind(host, port, limits.backlog(), List.of(), false, Optional.of(limits.idleTimeout()))
        // twice the slots: a connection admitted by taking a slow one's slot overlaps its closing
        .mapAsyncUnordered(
            2 * limits.maxConnections(),
            connection -> serve(connection, http, settings, limits, https, slots, logLimiter, metrics, handler, mat))
        .to(Sink.ignore())
        .run(mat)
        .thenApply(
            tcp ->
                new HttpApi.Binding() {
                  @Override
                  public InetSocketAddress localAddress() {
                    return tcp.localAddress();
                  }

                  @Override
                  public CompletionStage<Done> unbind() {
                    return tcp.unbind().thenApply(x -> Done.getInstance());
                  }
                });
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static CompletionStage<Done> serve(
      Tcp.IncomingConnection connection,
      Http http,
      ServerSettings settings,
      HttpApi.Connections limits,
      SSLContext https,
      ConnectionSlots slots,
      LogLimiter logLimiter,
      Metrics metrics,
      Flow<HttpRequest, HttpResponse, NotUsed> handler,
      Materializer mat) {
    InetSocketAddress remote = connection.remoteAddress();
    ConnectionLog log = new ConnectionLog(logLimiter, metrics, remote);
    if (!slots.admit()) {
      // every slot is busy with a request: refused at once, not left waiting in the backlog
      metrics.countRefusedBeforeRouting();
      log.warn("refused a connection: all " + limits.maxConnections() + " connections are serving requests");
      // (over TLS there is no session to answer in: the connection is just closed)
      ByteString busy = ConnectionGuard.answer(503, "Service Unavailable", "Busy", "the node serves as many connections as it can");
      Source<ByteString, NotUsed> answer = https == null ? Source.single(busy) : Source.empty();
      connection.handleWith(Flow.fromSinkAndSourceCoupled(Sink.<ByteString>ignore(), answer), mat);
      return CompletableFuture.completedFuture(Done.getInstance());
    }
    AtomicInteger inFlight = new AtomicInteger();
    ConnectionGuard guard = new ConnectionGuard(limits.headerTimeout(), limits.maxHeadBytes(), inFlight, slots, log);
    // TLSPlacebo's inbound side carries SessionBytes, a kind of SslTlsInbound
    BidiFlow<TLSProtocol.SslTlsOutbound, ByteString, ByteString, TLSProtocol.SslTlsInbound, NotUsed> plain =
        (BidiFlow) TLSPlacebo.getInstance();
    Flow<HttpRequest, HttpResponse, NotUsed> counted =
        Flow.of(HttpRequest.class)
            .map(
                r -> {
                  inFlight.incrementAndGet();
                  return r;
                })
            .via(handler)
            .map(
                r -> {
                  inFlight.decrementAndGet();
                  return r;
                });
    BidiFlow<HttpResponse, ByteString, ByteString, HttpRequest, NotUsed> plainStack =
        http.serverLayer(settings, Optional.of(remote), log).atop(plain).atop(BidiFlow.fromGraph(guard));
    // With TLS the guard sees the decrypted bytes: socket <-> TLS <-> guard <-> HTTP
    Flow<ByteString, ByteString, NotUsed> connectionFlow =
        counted.join(https == null ? plainStack : plainStack.atop(decrypted()).atop(TLS.create(() -> serverEngine(https), TLSClosing.eagerClose())));
    metrics.connectionOpened();
    try {
      connection.handleWith(connectionFlow, mat);
    } catch (RuntimeException e) {
      metrics.connectionClosed();
      slots.release();
      log.notifyError(e, "could not start serving the connection");
      return CompletableFuture.completedFuture(Done.getInstance());
    }
    return guard.terminated().whenComplete((done, failure) -> {
      metrics.connectionClosed();
      slots.release();
    });
  }
}
