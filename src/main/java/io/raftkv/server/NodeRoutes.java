package io.raftkv.server;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.extractUri;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.raftkv.client.Stages;
import io.raftkv.raft.RaftPeer;
import io.raftkv.server.RequestParser.Accepted;
import io.raftkv.server.RequestParser.Parsed;
import io.raftkv.server.RequestParser.Refused;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The routes about the node itself rather than the key space: {@code GET /v1/status}, {@code GET
 * /metrics} and {@code POST /v1/leader/transfer}. Each asks the node's Raft peer and gives up
 * after the deadline.
 */
final class NodeRoutes {
  private final Supplier<CompletionStage<RaftPeer.State>> status;
  private final Duration deadline;
  private final Metrics metrics;
  private final RequestParser parser;
  // set after construction (HttpApi#withLeaderTransfer), read by request threads
  private volatile IntFunction<CompletionStage<RaftPeer.TransferResult>> leaderTransfer;

  NodeRoutes(Supplier<CompletionStage<RaftPeer.State>> status, HttpApi.Limits limits, Duration deadline, Metrics metrics) {
    this.status = Objects.requireNonNull(status, "status");
    this.parser = new RequestParser(limits);
    this.deadline = Objects.requireNonNull(deadline, "deadline");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
  }

  void leaderTransfer(IntFunction<CompletionStage<RaftPeer.TransferResult>> transfer) {
    this.leaderTransfer = Objects.requireNonNull(transfer, "transfer");
  }

  Route status() {
    return completeWithFuture(
        askStatus()
            .thenApply(
                s -> {
                  if (s == null) return HttpOutcomes.error(StatusCodes.SERVICE_UNAVAILABLE, "Unavailable", null);
                  ObjectNode body =
                      HttpOutcomes.object()
                          .put("id", s.id())
                          .put("role", s.role().name().toLowerCase(Locale.ROOT))
                          .put("term", s.term());
                  if (s.leader() >= 0) body.put("leader", s.leader());
                  else body.putNull("leader");
                  body.put("commitIndex", s.commitIndex())
                      .put("appliedIndex", s.appliedIndex())
                      .put("lastLogIndex", s.lastLogIndex())
                      .put("snapshotIndex", s.snapshotIndex())
                      .put("raftStateBytes", s.raftStateSize())
                      .put("snapshotBytes", s.snapshotSize());
                  return HttpOutcomes.json(StatusCodes.OK, body);
                }));
  }

  /** Always 200: a scrape without the Raft state still has the request counts (and raftkv_up 0). */
  Route metrics() {
    return completeWithFuture(
        askStatus()
            .thenApply(
                s ->
                    HttpResponse.create()
                        .withStatus(StatusCodes.OK)
                        .withEntity(HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8, metrics.render(s)))));
  }

  /** The node's Raft state, or null when it did not answer within the deadline. */
  private CompletableFuture<RaftPeer.State> askStatus() {
    CompletableFuture<RaftPeer.State> f;
    try {
      f = Stages.direct(status.get());
    } catch (RuntimeException e) {
      f = CompletableFuture.failedFuture(e);
    }
    return f.completeOnTimeout(null, deadline.toNanos(), TimeUnit.NANOSECONDS).exceptionally(e -> null);
  }

  Route leaderTransfer() {
    return extractUri(
        uri -> {
          Parsed<Integer> target = parser.parseTransferTarget(uri.query().toMultiMap());
          if (target instanceof Refused<Integer> r) return complete(HttpOutcomes.refused(r.error()).response());
          int to = ((Accepted<Integer>) target).value();
          var transfer = leaderTransfer;
          if (transfer == null) {
            return complete(
                HttpOutcomes.error(StatusCodes.SERVICE_UNAVAILABLE, "Unavailable", "this node does not transfer leadership"));
          }
          CompletableFuture<RaftPeer.TransferResult> answer;
          try {
            answer = Stages.direct(transfer.apply(to));
          } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
          }
          return completeWithFuture(
              answer
                  .completeOnTimeout(null, deadline.toNanos(), TimeUnit.NANOSECONDS)
                  .exceptionally(e -> null)
                  .thenApply(NodeRoutes::transferAnswer));
        });
  }

  /** null: the peer did not answer in time. */
  private static HttpResponse transferAnswer(RaftPeer.TransferResult r) {
    if (r == null) return HttpOutcomes.error(StatusCodes.SERVICE_UNAVAILABLE, "Unavailable", null);
    ObjectNode body = HttpOutcomes.object();
    if (r.done()) body.put("done", true);
    else body.put("error", "NotTransferred").put("message", r.error());
    if (r.leader() >= 0) body.put("leader", r.leader());
    else body.putNull("leader");
    body.put("term", r.term());
    return HttpOutcomes.json(r.done() ? StatusCodes.OK : StatusCodes.CONFLICT, body);
  }
}
