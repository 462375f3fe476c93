package io.raftkv.server;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.Done;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.BidiShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.TimerGraphStageLogic;
import org.apache.pekko.util.ByteString;

/**
 * The byte stream of one HTTP connection, between the socket and pekko-http's server layer. It
 * enforces the header timeout (a connection must deliver each request head within {@code
 * headerTimeout}: of being accepted for the first, of the head's first byte for later ones) and
 * answers what {@link RequestFraming} refuses, with a JSON error and {@code Connection: close}.
 *
 * <p>A refused or timed-out head never reaches pekko-http: the guard ends pekko-http's input at the
 * message boundary before it, lets pekko-http answer the requests it already has, then writes its
 * own answer (a 408 only if part of a head had arrived; an idle connection is just closed) and
 * closes the connection. A pipelined head that waits behind an unanswered request is the server's
 * delay, not the client's: its clock waits while {@code inFlight} is above zero.
 *
 * <p>While a connection has not yet delivered its first complete request head, it is listed in
 * the server's {@link ConnectionSlots}: a new connection beyond the limit takes its slot, and it is
 * closed as at the header timeout. A client that was served once is never pushed out this way.
 *
 * <p>One instance per connection (it holds the connection's state), materialized once.
 */
final class ConnectionGuard extends GraphStage<BidiShape<ByteString, ByteString, ByteString, ByteString>> {
  private static final String HEAD_TIMER = "head";

  private final Inlet<ByteString> fromServer = Inlet.create("ConnectionGuard.fromServer");
  private final Outlet<ByteString> toNet = Outlet.create("ConnectionGuard.toNet");
  private final Inlet<ByteString> fromNet = Inlet.create("ConnectionGuard.fromNet");
  private final Outlet<ByteString> toServer = Outlet.create("ConnectionGuard.toServer");
  private final BidiShape<ByteString, ByteString, ByteString, ByteString> shape =
      BidiShape.of(fromServer, toNet, fromNet, toServer);

  private final Duration headerTimeout;
  private final int maxHeadBytes;
  private final AtomicInteger inFlight;
  private final ConnectionSlots slots;
  private final ConnectionLog log;
  private final CompletableFuture<Done> terminated = new CompletableFuture<>();

  /**
   * @param inFlight requests handed to the routes and not answered yet (kept by the caller)
   */
  ConnectionGuard(Duration headerTimeout, int maxHeadBytes, AtomicInteger inFlight, ConnectionSlots slots, ConnectionLog log) {
    this.headerTimeout = headerTimeout;
    this.maxHeadBytes = maxHeadBytes;
    this.inFlight = inFlight;
    this.slots = slots;
    this.log = log;
  }

  /** Completes when the connection is over, however it ended. */
  CompletableFuture<Done> terminated() {
    return terminated;
  }

  @Override
  public BidiShape<ByteString, ByteString, ByteString, ByteString> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    return new TimerGraphStageLogic(shape) {
      final RequestFraming framing = new RequestFraming(maxHeadBytes);
      long headsSeen;
      boolean clockRunning;
      long waitingTicket = -1; // in the slots' list of connections waiting for a head
      final org.apache.pekko.stream.stage.AsyncCallback<Object> evicted = createAsyncCallback(x -> onEvicted());
      ByteString lastWords; // our own answer, written once pekko-http's output is done

      {
        setHandler(
            fromServer,
            new AbstractInHandler() {
              @Override
              public void onPush() {
                push(toNet, grab(fromServer));
              }

              @Override
              public void onUpstreamFinish() {
                if (lastWords != null) emit(toNet, lastWords, () -> completeStage());
                else completeStage();
              }
            });
        setHandler(
            toNet,
            new AbstractOutHandler() {
              @Override
              public void onPull() {
                if (!isClosed(fromServer) && !hasBeenPulled(fromServer)) pull(fromServer);
              }
            });
        setHandler(
            fromNet,
            new AbstractInHandler() {
              @Override
              public void onPush() {
                onBytes(grab(fromNet));
              }

              @Override
              public void onUpstreamFinish() {
                complete(toServer); // pekko-http answers what it has, then closes
              }
            });
        setHandler(
            toServer,
            new AbstractOutHandler() {
              @Override
              public void onPull() {
                if (!isClosed(fromNet) && !hasBeenPulled(fromNet)) pull(fromNet);
              }

              @Override
              public void onDownstreamFinish(Throwable cause) {
                cancel(fromNet, cause);
              }
            });
      }

      @Override
      public void preStart() {
        startClock();
      }

      @Override
      public void postStop() {
        stopWaiting();
        terminated.complete(Done.getInstance());
      }

      private void stopWaiting() {
        if (waitingTicket >= 0) slots.stopWaiting(waitingTicket);
        waitingTicket = -1;
      }

      /** A new connection took this one's slot while it waited for a head. */
      private void onEvicted() {
        waitingTicket = -1;
        if (lastWords != null || framing.passingThrough() || inFlight.get() > 0) return;
        stopClock();
        log.metrics().countHeadTimeout();
        if (framing.headPending()) {
          log.warn("closed the connection: a new client took its slot while its first request head trickled in");
          finish(ByteString.emptyByteString(), answer(408, "Request Timeout", "RequestTimeout", "the server needed this connection's slot"));
        } else {
          log.warn("closed the connection: a new client took its slot before it sent a request");
          finish(ByteString.emptyByteString(), ByteString.emptyByteString());
        }
      }

      private void onBytes(ByteString bytes) {
        ByteString pass = framing.accept(bytes);
        if (framing.headsPassed() != headsSeen) {
          headsSeen = framing.headsPassed();
          stopClock();
        }
        if (framing.headPending() && !clockRunning) startClock();
        RequestFraming.Refusal refusal = framing.refusal();
        if (refusal != null) {
          stopClock();
          log.metrics().countRefusedBeforeRouting();
          log.warn("refused a request with " + refusal.status() + ": " + refusal.message());
          finish(pass, answer(refusal.status(), refusal.reason(), refusal.error(), refusal.message()));
        } else if (!pass.isEmpty()) {
          push(toServer, pass);
        } else {
          pull(fromNet); // a head is still arriving: pekko-http's demand stands
        }
      }

      /** Passes {@code pass} on, ends pekko-http's input, and writes {@code words} after its output. */
      private void finish(ByteString pass, ByteString words) {
        lastWords = words;
        if (pass.isEmpty()) complete(toServer);
        else emit(toServer, pass, () -> complete(toServer));
      }

      private void startClock() {
        scheduleOnce(HEAD_TIMER, headerTimeout);
        clockRunning = true;
        // A connection that has not yet sent one whole request head may give its slot to a new
        // client (a client that was served keeps its connection until the idle timeout).
        if (waitingTicket < 0 && headsSeen == 0) waitingTicket = slots.startWaiting(() -> evicted.invoke(null));
      }

      private void stopClock() {
        cancelTimer(HEAD_TIMER);
        clockRunning = false;
        stopWaiting();
      }

      @Override
      public void onTimer(Object key) {
        clockRunning = false;
        if (lastWords != null || framing.passingThrough()) return;
        if (inFlight.get() > 0) {
          startClock(); // the head waits behind a request the server has not answered yet
          return;
        }
        log.metrics().countHeadTimeout();
        long secs = headerTimeout.toMillis() / 1000;
        String limit = secs * 1000 == headerTimeout.toMillis() ? secs + " s" : headerTimeout.toMillis() + " ms";
        if (framing.headPending()) {
          log.warn("closed the connection: no complete request head within " + limit);
          finish(
              ByteString.emptyByteString(),
              answer(408, "Request Timeout", "RequestTimeout", "no complete request head within " + limit));
        } else {
          log.warn("closed the connection: no request within " + limit + " of connecting");
          finish(ByteString.emptyByteString(), ByteString.emptyByteString());
        }
      }
    };
  }

  /** A complete HTTP/1.1 response with the API's JSON error body that closes the connection. */
  static ByteString answer(int status, String reason, String error, String message) {
    byte[] body =
        HttpOutcomes.object().put("error", error).put("message", message).toString().getBytes(StandardCharsets.UTF_8);
    String head =
        "HTTP/1.1 " + status + " " + reason + "\r\n"
            + "Content-Type: application/json\r\n"
            + "Content-Length: " + body.length + "\r\n"
            + "Connection: close\r\n\r\n";
    return ByteString.fromString(head, StandardCharsets.ISO_8859_1).concat(ByteString.fromArray(body));
  }
}
