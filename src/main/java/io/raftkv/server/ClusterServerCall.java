package io.raftkv.server;

import io.raftkv.client.ServerCall;
import io.raftkv.kv.KvCodec;
import io.raftkv.kv.KvOp;
import io.raftkv.rsm.Rsm;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReferenceArray;
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
 * cluster, and asks their {@link KvGateway}s. The gateways are either given ({@link #fixed}: refs
 * resolved from the nodes' actor paths, usable as soon as the remote system is up, whatever the
 * cluster's membership) or followed in the Receptionist's listing ({@link #create}); a node not
 * (yet) listed answers as if unreachable, so the Clerk moves on to the next one.
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
  private final AtomicReferenceArray<ActorRef<KvGateway.Forward>> gateways;
  private String[] localPaths; // fixed gateways in this system, by node id; else null
  /** Tries waiting for their answer, by tag. */
  private final ConcurrentHashMap<Long, CompletableFuture<Rsm.Result>> waiting = new ConcurrentHashMap<>();
  private final AtomicLong tags = new AtomicLong();
  private final ActorRef<Rsm.Answer> inbox;

  private ClusterServerCall(ActorSystem<?> system, int n, Duration timeout) {
    this.system = system;
    this.timeout = timeout;
    this.gateways = new AtomicReferenceArray<>(n);
    this.inbox =
        system.systemActorOf(
            Behaviors.receiveMessage(this::answered), "raftkv-answers-" + UUID.randomUUID(), Props.empty());
  }

  private Behavior<Rsm.Answer> answered(Rsm.Answer a) {
    CompletableFuture<Rsm.Result> f = waiting.remove(a.tag());
    if (f != null) f.complete(a.result()); // else: given up on already
    return Behaviors.same();
  }

  /**
   * Asks the gateways at these actor paths (one per node, in id order); nothing is discovered. A
   * remote path is resolved once: the ref reaches whichever incarnation runs at that address. A path
   * in {@code system} itself is looked up at each call, since that node's gateway may not exist yet
   * (a local ref resolved before its actor exists stays dead).
   */
  public static ClusterServerCall fixed(ActorSystem<?> system, List<String> gatewayPaths, Duration timeout) {
    ClusterServerCall call = new ClusterServerCall(system, gatewayPaths.size(), timeout);
    ActorRefResolver resolver = ActorRefResolver.get(system);
    call.localPaths = new String[gatewayPaths.size()];
    for (int i = 0; i < gatewayPaths.size(); i++) {
      String p = gatewayPaths.get(i);
      if (ActorPaths.fromString(p).address().equals(system.address())) call.localPaths[i] = p;
      else call.gateways.set(i, resolver.resolveActorRef(p));
    }
    return call;
  }

  /** Starts following the {@code n} gateways of {@code group} in {@code system}. */
  public static ClusterServerCall create(ActorSystem<?> system, String group, int n, Duration timeout) {
    ClusterServerCall call = new ClusterServerCall(system, n, timeout);
    system.systemActorOf(call.directory(group), "raftkv-" + group + "-clients-" + UUID.randomUUID(), Props.empty());
    return call;
  }

  /** How long one try may take. */
  public Duration tryTimeout() {
    return timeout;
  }

  public int size() {
    return gateways.length();
  }

  /** True once every node's gateway is listed. */
  public boolean allKnown() {
    for (int i = 0; i < gateways.length(); i++) if (gateways.get(i) == null) return false;
    return true;
  }

  @Override
  public CompletionStage<Rsm.Result> call(int server, KvOp op) {
    ActorRef<KvGateway.Forward> to = gateways.get(server);
    if (to == null && localPaths != null && localPaths[server] != null) {
      to = ActorRefResolver.get(system).resolveActorRef(localPaths[server]);
    }
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

  private Behavior<Receptionist.Listing> directory(String group) {
    return Behaviors.setup(
        ctx -> {
          for (int i = 0; i < gateways.length(); i++) {
            ctx.getSystem().receptionist().tell(Receptionist.subscribe(KvGateway.key(group, i), ctx.getSelf()));
          }
          return Behaviors.receiveMessage(
              listing -> {
                for (int i = 0; i < gateways.length(); i++) {
                  ServiceKey<KvGateway.Forward> key = KvGateway.key(group, i);
                  if (listing.isForKey(key)) {
                    // Several during a restart (old and new incarnation): any live one will do.
                    gateways.set(i, listing.getServiceInstances(key).stream().reduce((a, b) -> b).orElse(null));
                  }
                }
                return Behaviors.same();
              });
        });
  }
}
