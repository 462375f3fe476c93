package io.raftkv.server;

import io.raftkv.client.ServerCall;
import io.raftkv.kv.KvCodec;
import io.raftkv.kv.KvOp;
import io.raftkv.rsm.Rsm;
import io.raftkv.transport.NodePaths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.ActorPaths;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * How a {@link io.raftkv.client.KvClient} reaches the nodes of a group from any ActorSystem of the
 * cluster, and asks their {@link KvGateway}s. The gateways are either at the nodes' actor paths
 * ({@link #following}: usable as soon as the remote system is up, whatever the cluster's
 * membership) or followed in the Receptionist's listing ({@link #create}); a node not (yet) listed,
 * or with no path, answers as if unreachable, so the Clerk moves on to the next one.
 *
 * <p>Every try is a tell: the gateway's {@link Rsm.Answer} comes back to one long-lived inbox actor
 * of this call, tagged, and completes the try's future with it as it is (no ask, so no temporary
 * actor and no temporary ref for Artery to carry in full with each request).
 *
 * <p>{@code timeout} bounds one try (one ask of one gateway), not the Clerk's whole call: it should be
 * well below the call's deadline, so that a dead or paused node costs one short try before the Clerk
 * moves on to the next node.
 */
public final class ClusterServerCall implements ServerCall {
  private final ActorSystem<?> system;
  private final Duration timeout;
  private final int n;
  /**
   * With {@link #create}, the gateways by node id (null: not known yet): an immutable snapshot,
   * replaced whole. The one publication point between threads: written only by the {@link
   * #directory} actor, read by {@link #call} on the caller's thread for every try. A lock-free read
   * is the point: a try tells the gateway directly, with no hop through (and no ask of) a routing
   * actor. ({@link #nodePaths} is published the same way.)
   */
  private volatile List<ActorRef<KvGateway.Forward>> gateways;
  /** With {@link #following}: the nodes' paths, which may grow as nodes join; else null. */
  private final NodePaths nodePaths;
  /** Remote gateways resolved from {@link #nodePaths}, by path. */
  private final ConcurrentHashMap<String, ActorRef<KvGateway.Forward>> resolved = new ConcurrentHashMap<>();
  /** Tries waiting for their answer, by tag. */
  private final ConcurrentHashMap<Long, CompletableFuture<Rsm.Result>> waiting = new ConcurrentHashMap<>();
  private final AtomicLong tags = new AtomicLong();
  private final ActorRef<Rsm.Answer> inbox;

  private ClusterServerCall(
      ActorSystem<?> system, Duration timeout, List<ActorRef<KvGateway.Forward>> gateways, NodePaths nodePaths) {
    this.nodePaths = nodePaths;
    this.system = system;
    this.timeout = timeout;
    this.n = gateways.size();
    this.gateways = snapshot(gateways);
    this.inbox =
        system.systemActorOf(
            Behaviors.receiveMessage(this::answered), "raftkv-answers-" + UUID.randomUUID(), Props.empty());
  }

  /** An unmodifiable copy that, unlike {@code List.copyOf}, keeps the nulls of unknown gateways. */
  private static List<ActorRef<KvGateway.Forward>> snapshot(List<ActorRef<KvGateway.Forward>> refs) {
    return Collections.unmodifiableList(new ArrayList<>(refs));
  }

  private Behavior<Rsm.Answer> answered(Rsm.Answer a) {
    CompletableFuture<Rsm.Result> f = waiting.remove(a.tag());
    if (f != null) f.complete(a.result()); // else: given up on already
    return Behaviors.same();
  }

  /**
   * Asks the gateways of the nodes at {@code paths} ({@link NodePaths#fixed}, or growing with the
   * nodes that join later); nothing is discovered. Each try reads the node's current path. A remote
   * gateway is resolved once per path: the ref reaches whichever incarnation runs at that address.
   * One in {@code system} itself is looked up at each try, since that node's gateway may not exist
   * yet (a local ref resolved before its actor exists stays dead).
   */
  public static ClusterServerCall following(ActorSystem<?> system, NodePaths paths, Duration timeout) {
    return new ClusterServerCall(system, timeout, List.of(), paths);
  }

  /** Starts following the {@code n} gateways of {@code group} in {@code system}. */
  public static ClusterServerCall create(ActorSystem<?> system, String group, int n, Duration timeout) {
    ClusterServerCall call = new ClusterServerCall(system, timeout, Collections.nCopies(n, null), null);
    system.systemActorOf(call.directory(group), "raftkv-" + group + "-clients-" + UUID.randomUUID(), Props.empty());
    return call;
  }

  /** How long one try may take. */
  public Duration tryTimeout() {
    return timeout;
  }

  public int size() {
    return nodePaths == null ? n : nodePaths.size();
  }

  @Override
  public int servers() {
    return size();
  }

  /** True once every node's gateway is listed. */
  public boolean allKnown() {
    return !gateways.contains(null);
  }

  @Override
  public CompletionStage<Rsm.Result> call(int server, KvOp op) {
    ActorRef<KvGateway.Forward> to = nodePaths != null ? gatewayOf(server) : gateways.get(server);
    if (to == null) return CompletableFuture.failedFuture(new IllegalStateException("node " + server + " not reachable yet"));
    long tag = tags.incrementAndGet();
    CompletableFuture<Rsm.Result> answer = new CompletableFuture<>();
    waiting.put(tag, answer);
    answer.orTimeout(timeout.toNanos(), TimeUnit.NANOSECONDS).whenComplete((r, failure) -> {
      if (failure != null) waiting.remove(tag);
    });
    to.tell(new KvGateway.Forward(tag, KvCodec.encode(op), inbox));
    return answer; // the Clerk reads the node's answer itself
  }

  private ActorRef<KvGateway.Forward> gatewayOf(int server) {
    String node = nodePaths.path(server);
    if (node == null) return null;
    String path = RaftKvNode.gatewayPath(node);
    ActorRefResolver resolver = ActorRefResolver.get(system);
    if (ActorPaths.fromString(path).address().equals(system.address())) return resolver.resolveActorRef(path);
    return resolved.computeIfAbsent(path, resolver::resolveActorRef);
  }

  /** The one writer of {@link #gateways} of a call made by {@link #create}. */
  private Behavior<Receptionist.Listing> directory(String group) {
    return Behaviors.setup(
        ctx -> {
          for (int i = 0; i < n; i++) {
            ctx.getSystem().receptionist().tell(Receptionist.subscribe(KvGateway.key(group, i), ctx.getSelf()));
          }
          // The directory's own copy: it alone changes the gateways, and publishes a snapshot of them.
          List<ActorRef<KvGateway.Forward>> current = new ArrayList<>(gateways);
          return Behaviors.receiveMessage(
              listing -> {
                for (int i = 0; i < n; i++) {
                  ServiceKey<KvGateway.Forward> key = KvGateway.key(group, i);
                  if (listing.isForKey(key)) {
                    // Several during a restart (old and new incarnation): any live one will do.
                    current.set(i, listing.getServiceInstances(key).stream().reduce((a, b) -> b).orElse(null));
                    gateways = snapshot(current);
                  }
                }
                return Behaviors.same();
              });
        });
  }
}
