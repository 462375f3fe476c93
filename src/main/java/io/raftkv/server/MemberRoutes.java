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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
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
 *   <li>{@code GET /v1/members}: 200 {@code {"voters":[..],"learners":[..],"addresses":{"0":..}}}
 *       (plus {@code "outgoing"} and {@code "learnersNext"} while a joint change is under way), as
 *       this node knows it; {@code addresses} is the address book, {@code host:clusterPort:httpPort}
 *       by id, of every id given out (the --members list and the nodes that joined).
 *   <li>{@code POST /v1/members?address=HOST:CLUSTER_PORT:HTTP_PORT}: a new node joins (what {@code
 *       node --join} asks): the leader gives it the next free id and adds it as a learner; the
 *       answer has its {@code id}. Asked again for the address of a member, it answers that
 *       member's id and changes nothing.
 *   <li>{@code POST /v1/members/{id}?role=learner|voter} (default learner): adds node {@code id}, or
 *       changes its role (promotes a learner, demotes a voter).
 *   <li>{@code POST /v1/members?changes=voter:3,voter:4,remove:0}: several changes at once (roles
 *       voter, learner, remove); joint consensus when more than one voter changes, answered once
 *       the group has left the joint configuration.
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

    CompletionStage<RaftPeer.AddedNode> addNode(String address);

    /** The address book given at start ({@code --members}), by id. */
    List<String> givenAddresses();
  }

  /** The membership of the node whose {@code RaftKvNode} is {@code node}, asked with {@code t}'s status timeout. */
  static Membership of(ActorSystem<?> sys, ActorRef<RaftKvNode.Command> node, List<String> given, NodeTimeouts t) {
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
      public CompletionStage<RaftPeer.AddedNode> addNode(String address) {
        return AskPattern.ask(node, r -> new RaftKvNode.AddNode(address, r), t.statusTimeout(), sys.scheduler());
      }

      @Override
      public List<String> givenAddresses() {
        return given;
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
        pathEnd(
            () ->
                concat(
                    get(() -> completeWithFuture(Stages.direct(membership.configuration()).thenApply(c -> ok(body(c))))),
                    post(
                        () ->
                            parameterOptional(
                                "changes",
                                changes ->
                                    changes.isPresent()
                                        ? changes(changes.get())
                                        : parameterOptional("address", address -> join(address.orElse(null))))))),
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
    if (role != null && !role.equals("voter") && !role.equals("learner")) {
      return complete(HttpOutcomes.error(StatusCodes.BAD_REQUEST, "BadRequest", "role is voter or learner, not " + role));
    }
    return changing(List.of(change(role == null ? "remove" : role, id)));
  }

  /** Proposes {@code changes} if every id is in an address book, and answers once committed. */
  private Route changing(List<Configuration.Change> changes) {
    long until = System.nanoTime() + deadline.toNanos();
    return completeWithFuture(
        Stages.direct(membership.configuration())
            .thenCompose(
                now -> {
                  SortedMap<Integer, String> book = addressBook(membership.givenAddresses(), now);
                  for (Configuration.Change c : changes) {
                    if (!book.containsKey(c.id())) {
                      return CompletableFuture.completedFuture(
                          HttpOutcomes.error(StatusCodes.BAD_REQUEST, "BadRequest", "n" + c.id() + " is in no address book: not in --members, never joined"));
                    }
                  }
                  return proposed(() -> membership.change(changes), p -> p, until).thenCompose(p -> answer(p, until, null));
                })
            .exceptionally(e -> HttpOutcomes.error(StatusCodes.SERVICE_UNAVAILABLE, "Unavailable", null)));
  }

  /** The most changes one request may make. */
  static final int MAX_CHANGES = 16;

  /**
   * Several changes at once, {@code role:id} separated by commas ({@code voter:3,voter:4,remove:0};
   * roles voter, learner, remove): a simple change when at most one voter changes, else joint
   * consensus, left by itself; answered once the final configuration is committed.
   */
  private Route changes(String spec) {
    List<Configuration.Change> changes = new ArrayList<>();
    for (String one : spec.split(",", -1)) {
      String[] p = one.strip().split(":");
      int id;
      try {
        if (p.length != 2) throw new NumberFormatException();
        id = Integer.parseInt(p[1]);
      } catch (NumberFormatException e) {
        return complete(HttpOutcomes.error(StatusCodes.BAD_REQUEST, "BadRequest", "a change is voter:ID, learner:ID or remove:ID, not '" + one + "'"));
      }
      Configuration.Change c = change(p[0], id);
      if (c == null) return complete(HttpOutcomes.error(StatusCodes.BAD_REQUEST, "BadRequest", "role is voter, learner or remove, not " + p[0]));
      changes.add(c);
    }
    if (changes.size() > MAX_CHANGES) {
      return complete(HttpOutcomes.error(StatusCodes.BAD_REQUEST, "BadRequest", "at most " + MAX_CHANGES + " changes at once"));
    }
    return changing(changes);
  }

  /** {@code role} voter, learner or remove; null for another. */
  private static Configuration.Change change(String role, int id) {
    return switch (role) {
      case "voter" -> new Configuration.AddVoter(id);
      case "learner" -> new Configuration.AddLearner(id);
      case "remove" -> new Configuration.Remove(id);
      default -> null;
    };
  }

  private Route join(String address) {
    if (address == null) {
      return complete(HttpOutcomes.error(StatusCodes.BAD_REQUEST, "BadRequest", "a join needs ?address=HOST:CLUSTER_PORT:HTTP_PORT"));
    }
    try {
      NodeServer.Member.parse(address);
    } catch (IllegalArgumentException e) {
      return complete(HttpOutcomes.error(StatusCodes.BAD_REQUEST, "BadRequest", e.getMessage()));
    }
    int given = membership.givenAddresses().indexOf(address);
    long until = System.nanoTime() + deadline.toNanos();
    return completeWithFuture(
        Stages.direct(membership.configuration())
            .thenCompose(
                now -> {
                  if (given >= 0 && !now.addresses().containsKey(given)) {
                    return CompletableFuture.completedFuture(
                        HttpOutcomes.error(StatusCodes.CONFLICT, "Refused", address + " is n" + given + " of --members: start it as node " + given));
                  }
                  return proposed(() -> membership.addNode(address), RaftPeer.AddedNode::proposal, until).thenCompose(a -> answer(a.proposal(), until, a.id()));
                })
            .exceptionally(e -> HttpOutcomes.error(StatusCodes.SERVICE_UNAVAILABLE, "Unavailable", null)));
  }

  /**
   * Asks for the change until it is proposed, refused for good, or {@code until} passes: a refusal
   * about timing (the previous change still committing, a new leader's first commit pending) lasts
   * a round trip or two, so the caller is not bothered with it.
   */
  private <T> CompletableFuture<T> proposed(
      Supplier<CompletionStage<T>> ask, Function<T, RaftPeer.MembershipProposal> proposalOf, long until) {
    return Stages.direct(ask.get())
        .thenCompose(
            t -> {
              if (!proposalOf.apply(t).retryLater() || System.nanoTime() > until) return CompletableFuture.completedFuture(t);
              return afterPoll(() -> proposed(ask, proposalOf, until));
            });
  }

  /** A proposal's answer once it is committed; {@code joined}: the id a join gave, else null. */
  private CompletableFuture<HttpResponse> answer(RaftPeer.MembershipProposal p, long until, Integer joined) {
    if (p.refused() != null) {
      return CompletableFuture.completedFuture(HttpOutcomes.error(StatusCodes.CONFLICT, "Refused", p.refused()));
    }
    if (!p.proposal().isLeader()) {
      ObjectNode body = HttpOutcomes.object().put("error", "NotLeader");
      if (p.proposal().leader() >= 0) body.put("leader", p.proposal().leader());
      else body.putNull("leader");
      return CompletableFuture.completedFuture(HttpOutcomes.json(StatusCodes.CONFLICT, body));
    }
    return committed(p.proposal().index(), until, joined, false);
  }

  /**
   * Waits until this node's commit index reaches {@code index}, then answers with the membership. A
   * joint configuration is waited out: the leader leaves it by itself, and the answer comes once
   * that leave is committed too ({@code leaving}: a joint configuration was seen).
   */
  private CompletableFuture<HttpResponse> committed(long index, long until, Integer joined, boolean leaving) {
    return Stages.direct(membership.status())
        .thenCompose(
            s -> {
              if (s.commitIndex() < index) return later(() -> committed(index, until, joined, leaving), until);
              return Stages.direct(membership.configuration())
                  .thenCompose(
                      c -> {
                        if (c.isJoint()) return later(() -> committed(index, until, joined, true), until);
                        if (leaving) {
                          // the leave is appended: wait for everything up to it
                          return Stages.direct(membership.status()).thenCompose(now -> committed(now.lastLogIndex(), until, joined, false));
                        }
                        ObjectNode o = HttpOutcomes.object();
                        if (joined != null) o.put("id", joined.intValue());
                        o.put("index", index);
                        return CompletableFuture.completedFuture(ok(o.set("members", body(c))));
                      });
            });
  }

  /** {@code next} after a short pause, or ErrMaybe once {@code until} has passed. */
  private CompletableFuture<HttpResponse> later(Supplier<CompletableFuture<HttpResponse>> next, long until) {
    if (System.nanoTime() > until) {
      return CompletableFuture.completedFuture(
          HttpOutcomes.error(StatusCodes.GATEWAY_TIMEOUT, "ErrMaybe", "not committed within " + deadline.toMillis() + " ms"));
    }
    return afterPoll(next);
  }

  /** {@code next}, started {@link #POLL} from now. */
  private static <T> CompletableFuture<T> afterPoll(Supplier<? extends CompletionStage<T>> next) {
    return CompletableFuture.supplyAsync(() -> null, CompletableFuture.delayedExecutor(POLL.toMillis(), TimeUnit.MILLISECONDS))
        .thenCompose(x -> next.get());
  }

  private ObjectNode body(Configuration c) {
    ObjectNode o = HttpOutcomes.object();
    o.set("voters", ids(c.voters()));
    o.set("learners", ids(c.learners()));
    if (c.isJoint()) {
      o.set("outgoing", ids(c.outgoing()));
      o.set("learnersNext", ids(c.learnersNext()));
    }
    ObjectNode book = o.putObject("addresses");
    for (Map.Entry<Integer, String> a : addressBook(membership.givenAddresses(), c).entrySet()) {
      book.put(Integer.toString(a.getKey()), a.getValue());
    }
    return o;
  }

  /** The ids given out, with their addresses: those given at start, overridden and extended by {@code c}'s. */
  private static SortedMap<Integer, String> addressBook(List<String> given, Configuration c) {
    SortedMap<Integer, String> book = new TreeMap<>();
    for (int i = 0; i < given.size(); i++) book.put(i, given.get(i));
    book.putAll(c.addresses());
    return book;
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
