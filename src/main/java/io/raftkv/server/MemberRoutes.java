package io.raftkv.server;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.delete;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.parameterOptional;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEnd;
import static org.apache.pekko.http.javadsl.server.Directives.post;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.raftkv.client.Stages;
import io.raftkv.raft.Configuration;
import io.raftkv.raft.RaftPeer;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code /v1/members}: the group's membership and changes to it (docs/membership.md).
 *
 * <ul>
 *   <li>{@code GET /v1/members}: 200 {@code {"voters":[..],"learners":[..]}} (plus {@code
 *       "outgoing"} and {@code "learnersNext"} while a joint change is under way), as this node
 *       knows it.
 *   <li>{@code POST /v1/members/{id}?role=learner|voter} (default learner): adds node {@code id}, or
 *       changes its role (promotes a learner, demotes a voter).
 *   <li>{@code DELETE /v1/members/{id}}: removes it.
 * </ul>
 *
 * A change is asked of this node's Raft peer, which must lead: 409 {@code NotLeader} (with the
 * leader it knows of) otherwise, 409 {@code Refused} with the reason when the change breaks a rule
 * or another is under way. An accepted change is answered 200 {@code {"index":i,"members":..}} once
 * committed; 504 {@code ErrMaybe} if it was not committed within the deadline (it may still be).
 */
final class MemberRoutes {
  /** What the routes need of the node. */
  interface Membership {
    CompletionStage<Configuration> configuration();

    CompletionStage<RaftPeer.MembershipProposal> change(List<Configuration.Change> changes);

    CompletionStage<RaftPeer.State> status();

    /** Node ids that can be members (the addresses the node knows), ascending. */
    int nodes();
  }

  /** The membership of the node whose {@code RaftKvNode} is {@code node}, asked with {@code t}'s status timeout. */
  static Membership of(ActorSystem<?> sys, ActorRef<RaftKvNode.Command> node, int n, NodeTimeouts t) {
    return new Membership() {
      @Override
      public CompletionStage<Configuration> configuration() {
        return AskPattern.ask(node, RaftKvNode.GetMembers::new, t.statusTimeout(), sys.scheduler());
      }

      @Override
      public CompletionStage<RaftPeer.MembershipProposal> change(List<Configuration.Change> changes) {
        return AskPattern.ask(
            node, r -> new RaftKvNode.ChangeMembers(changes, Configuration.Transition.AUTO, r), t.statusTimeout(), sys.scheduler());
      }

      @Override
      public CompletionStage<RaftPeer.State> status() {
        return AskPattern.ask(node, RaftKvNode.GetStatus::new, t.statusTimeout(), sys.scheduler());
      }

      @Override
      public int nodes() {
        return n;
      }
    };
  }

  private static final Duration POLL = Duration.ofMillis(20);

  private final Membership membership;
  private final Duration deadline;

  MemberRoutes(Membership membership, Duration deadline) {
    this.membership = membership;
    this.deadline = deadline;
  }

  Route route() {
    return concat(
        pathEnd(() -> get(() -> completeWithFuture(Stages.direct(membership.configuration()).thenApply(c -> ok(body(c)))))),
        path(
            PathMatchers.segment(),
            id ->
                concat(
                    post(() -> parameterOptional("role", role -> change(id, role.orElse("learner")))),
                    delete(() -> change(id, null)))));
  }

  /** {@code role} null: remove. */
  private Route change(String idText, String role) {
    int id;
    try {
      id = Integer.parseInt(idText);
    } catch (NumberFormatException e) {
      return complete(HttpOutcomes.error(StatusCodes.BAD_REQUEST, "BadRequest", "not a node id: " + idText));
    }
    if (id < 0 || id >= membership.nodes()) {
      return complete(
          HttpOutcomes.error(StatusCodes.BAD_REQUEST, "BadRequest", "node ids are 0.." + (membership.nodes() - 1) + " (the --members list)"));
    }
    Configuration.Change c;
    if (role == null) c = new Configuration.Remove(id);
    else if (role.equals("voter")) c = new Configuration.AddVoter(id);
    else if (role.equals("learner")) c = new Configuration.AddLearner(id);
    else return complete(HttpOutcomes.error(StatusCodes.BAD_REQUEST, "BadRequest", "role is voter or learner, not " + role));
    long until = System.nanoTime() + deadline.toNanos();
    return completeWithFuture(
        Stages.direct(membership.change(List.of(c)))
            .thenCompose(
                p -> {
                  if (p.refused() != null) {
                    return CompletableFuture.completedFuture(
                        HttpOutcomes.error(StatusCodes.CONFLICT, "Refused", p.refused()));
                  }
                  if (!p.proposal().isLeader()) {
                    ObjectNode body = HttpOutcomes.object().put("error", "NotLeader");
                    if (p.proposal().leader() >= 0) body.put("leader", p.proposal().leader());
                    else body.putNull("leader");
                    return CompletableFuture.completedFuture(HttpOutcomes.json(StatusCodes.CONFLICT, body));
                  }
                  return committed(p.proposal().index(), until);
                })
            .exceptionally(e -> HttpOutcomes.error(StatusCodes.SERVICE_UNAVAILABLE, "Unavailable", null)));
  }

  /** Waits until this node's commit index reaches {@code index}, then answers with the membership. */
  private CompletableFuture<HttpResponse> committed(long index, long until) {
    return Stages.direct(membership.status())
        .thenCompose(
            s -> {
              if (s.commitIndex() >= index) {
                return Stages.direct(membership.configuration())
                    .thenApply(c -> ok(HttpOutcomes.object().put("index", index).set("members", body(c))));
              }
              if (System.nanoTime() > until) {
                return CompletableFuture.completedFuture(
                    HttpOutcomes.error(StatusCodes.GATEWAY_TIMEOUT, "ErrMaybe", "not committed within " + deadline.toMillis() + " ms"));
              }
              return CompletableFuture.supplyAsync(() -> null, CompletableFuture.delayedExecutor(POLL.toMillis(), TimeUnit.MILLISECONDS))
                  .thenCompose(x -> committed(index, until));
            });
  }

  static ObjectNode body(Configuration c) {
    ObjectNode o = HttpOutcomes.object();
    o.set("voters", ids(c.voters()));
    o.set("learners", ids(c.learners()));
    if (c.isJoint()) {
      o.set("outgoing", ids(c.outgoing()));
      o.set("learnersNext", ids(c.learnersNext()));
    }
    return o;
  }

  private static ArrayNode ids(Set<Integer> ids) {
    ArrayNode a = HttpOutcomes.object().arrayNode();
    for (int id : ids) a.add(id);
    return a;
  }

  private static HttpResponse ok(com.fasterxml.jackson.databind.JsonNode body) {
    return HttpOutcomes.json(StatusCodes.OK, body);
  }
}
