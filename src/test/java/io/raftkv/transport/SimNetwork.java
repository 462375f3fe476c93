package io.raftkv.transport;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * An in-JVM network with the MIT lab's labrpc behaviour, through which every peer and client
 * request/reply call travels, so tests control faults.
 *
 * <p>Model (labrpc): <em>servers</em> are named dispatchers ({@link Service}); a server name may be
 * re-registered by a restart, which makes a new <em>incarnation</em>. <em>Ends</em> are caller
 * endpoints, each connected for life to one server name and created disabled. A {@link Call}
 * completes with the reply, or with {@link Optional#empty()} ("false": request lost, reply lost,
 * server dead or disconnected); an empty result does not mean the handler did not run.
 *
 * <p>One call, exactly as labrpc processes it:
 *
 * <ol>
 *   <li>the request counts as an RPC and its serialized bytes are added to the byte total;
 *   <li>if the end is enabled and its server exists: when unreliable, wait 0–26 ms and drop 10 %
 *       of requests; run the handler (counted as an incoming RPC of that server); every 100 ms and
 *       when the handler finishes, the call is dead if the end was disabled or the server name now
 *       belongs to another incarnation (or none): then no reply, ever; when unreliable drop 10 % of
 *       replies; with long reordering, delay 2/3 of replies by 200 + U(0, U(0, 2000)) ms; the reply's
 *       bytes count when it is delivered;
 *   <li>otherwise the call fails after 0–99 ms, or 0–6999 ms with long delays.
 * </ol>
 *
 * <p>The unreliable steps follow the network's {@link Faults} profile: {@link SetReliable} picks
 * labrpc's ({@link Faults#LAB}) or none, {@link SetFaults} any other, such as {@link
 * Faults#CS162_UNRELIABLE}.
 *
 * <p>Randomness comes from one seeded generator; delays are Pekko scheduler timers. Requests and
 * replies cross the {@link Wire}: the receiver gets a decoded copy, never the sender's object.
 */
public final class SimNetwork extends AbstractBehavior<SimNetwork.Command> {

  /** How messages cross the network: the copy the receiver gets and its serialized size. */
  @FunctionalInterface
  public interface Wire {
    /** Encodes and decodes {@code message}; null when this wire does not know its type. */
    Transmission transmit(Object message);

    /** This wire, and {@code other} for the messages this one does not know. */
    default Wire or(Wire other) {
      return m -> {
        Transmission t = transmit(m);
        return t != null ? t : other.transmit(m);
      };
    }
  }

  /** A message as delivered: a copy decoded from {@code bytes} bytes of its encoding. */
  public record Transmission(Object copy, int bytes) {}

  /**
   * A server's request handler. Called on the network's actor thread, so it must not block; the
   * returned stage may complete on any thread, or never (the caller then learns nothing unless the
   * server dies or is disconnected). An exceptional completion counts as no reply.
   */
  @FunctionalInterface
  public interface Service {
    CompletionStage<Object> handle(Object request);
  }

  public sealed interface Command {}

  /**
   * Sends {@code request} through {@code end}; {@code reply} completes with the server's reply or
   * empty (labrpc's false). Never completes exceptionally.
   */
  public record Call(String end, Object request, CompletableFuture<Optional<Object>> reply)
      implements Command {}

  /** Creates {@code end}, connected to {@code server} for its whole life, disabled. */
  public record MakeEnd(String end, String server, ActorRef<Done> replyTo) implements Command {}

  /** Enables or disables each named end. */
  public record Enable(Map<String, Boolean> ends, ActorRef<Done> replyTo) implements Command {}

  /** Forgets the named ends (a client going away); calls through them fail like disabled ones. */
  public record DeleteEnds(Collection<String> ends, ActorRef<Done> replyTo) implements Command {}

  /** Registers {@code service} under {@code name}: a new incarnation if the name was taken. */
  public record AddServer(String name, Service service, ActorRef<Done> replyTo) implements Command {}

  /** Removes the server: its calls in flight and to come get no reply. */
  public record DeleteServer(String name, ActorRef<Done> replyTo) implements Command {}

  /** Reliable: no faults; unreliable: labrpc's {@link Faults#LAB}. Replaces any {@link SetFaults}. */
  public record SetReliable(boolean reliable, ActorRef<Done> replyTo) implements Command {}

  /**
   * What an unreliable network does to a call whose end and server are up: the request waits
   * U[minDelayMs, maxDelayMs] ms, is then lost with probability requestDropPerMille / 1000, and
   * after the handler ran its reply is lost with probability replyDropPerMille / 1000.
   */
  public record Faults(int requestDropPerMille, int replyDropPerMille, int minDelayMs, int maxDelayMs) {
    /** A reliable network. */
    public static final Faults NONE = new Faults(0, 0, 0, 0);

    /** labrpc's unreliable network: 0–26 ms, 10 % of requests and 10 % of replies lost. */
    public static final Faults LAB = new Faults(DROP_PER_MILLE, DROP_PER_MILLE, 0, SHORT_DELAY_MS - 1);

    /** The CS162 kvraft tests' unreliable proxy: 1–5 ms, half the requests and half the replies lost. */
    public static final Faults CS162_UNRELIABLE = new Faults(500, 500, 1, 5);

    public Faults {
      if (requestDropPerMille < 0 || requestDropPerMille > 1000 || replyDropPerMille < 0 || replyDropPerMille > 1000)
        throw new IllegalArgumentException("drop rates are per mille, 0..1000");
      if (minDelayMs < 0 || maxDelayMs < minDelayMs)
        throw new IllegalArgumentException("need 0 <= minDelayMs <= maxDelayMs");
    }
  }

  /** Applies {@code faults} to calls from now on (until the next SetFaults or SetReliable). */
  public record SetFaults(Faults faults, ActorRef<Done> replyTo) implements Command {}

  public record SetLongReordering(boolean longReordering, ActorRef<Done> replyTo) implements Command {}

  public record SetLongDelays(boolean longDelays, ActorRef<Done> replyTo) implements Command {}

  public record GetStats(ActorRef<Stats> replyTo) implements Command {}

  /**
   * @param rpcs requests that entered the network, dropped ones included
   * @param bytes request bytes plus the bytes of delivered replies
   * @param incoming per server name: requests handed to its handler (across incarnations)
   * @param untransmittable requests and replies the wire could not encode (a sender's bug: they
   *     were dropped, so tests should require none)
   */
  public record Stats(long rpcs, long bytes, Map<String, Long> incoming, long untransmittable) {
    public long incoming(String server) {
      return incoming.getOrDefault(server, 0L);
    }
  }

  /** Shuts the network down: calls in flight fail now, later calls fail at once. */
  public record Cleanup(ActorRef<Done> replyTo) implements Command {}

  private record Dispatch(long id) implements Command {}

  private record HandlerDone(long id, Object reply) implements Command {}

  private record Deliver(long id) implements Command {}

  private record Fail(CompletableFuture<Optional<Object>> reply) implements Command {}

  private enum Sweep implements Command {
    INSTANCE
  }

  /** labrpc checks a running handler's server for death this often. */
  static final Duration DEAD_CHECK_INTERVAL = Duration.ofMillis(100);

  static final int SHORT_DELAY_MS = 27; // unreliable requests wait rand % 27 ms
  static final int DROP_PER_MILLE = 100; // 10 % of requests, 10 % of replies
  static final int SHORT_FAIL_MS = 100; // no server, no long delays: fail within 0–99 ms
  static final int LONG_FAIL_MS = 7000; // no server, long delays: fail within 0–6999 ms
  static final int REORDER_PER_900 = 600; // long reordering: 2/3 of replies ...
  static final int REORDER_MIN_MS = 200; // ... wait 200 + U(0, U(0, 2000)) ms
  static final int REORDER_SPREAD_MS = 2000;

  public static Behavior<Command> create(long seed, Wire wire) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> {
                  timers.startTimerAtFixedRate(Sweep.INSTANCE, DEAD_CHECK_INTERVAL);
                  return new SimNetwork(ctx, seed, wire);
                }));
  }

  /** Sends one call; convenient outside actors (tests, transports). */
  public static CompletableFuture<Optional<Object>> call(
      ActorRef<Command> network, String end, Object request) {
    CompletableFuture<Optional<Object>> reply = new CompletableFuture<>();
    network.tell(new Call(end, request, reply));
    return reply;
  }

  private static final class End {
    final String server;
    boolean enabled;

    End(String server) {
      this.server = server;
    }
  }

  /** One registration of a server name; identity tells incarnations apart. */
  private record Server(String name, Service service) {}

  private static final class Pending {
    final long id;
    final String end;
    final Server server;
    final Faults faults;
    final boolean longReordering;
    final Object request;
    final CompletableFuture<Optional<Object>> reply;
    boolean handlerRunning;
    Transmission answer;

    Pending(long id, String end, Server server, Faults faults, boolean longReordering, Object request,
        CompletableFuture<Optional<Object>> reply) {
      this.id = id;
      this.end = end;
      this.server = server;
      this.faults = faults;
      this.longReordering = longReordering;
      this.request = request;
      this.reply = reply;
    }
  }

  private final SplittableRandom random;
  private final Wire wire;
  private final Map<String, End> ends = new HashMap<>();
  private final Map<String, Server> servers = new HashMap<>();
  private final Map<Long, Pending> pending = new HashMap<>(); // accepted calls not yet answered
  private final Map<String, Long> incoming = new HashMap<>();
  private Faults faults = Faults.NONE;
  private boolean longReordering;
  private boolean longDelays;
  private boolean shutDown;
  private long rpcs;
  private long bytes;
  private long nextId;
  private long untransmittable;

  private SimNetwork(ActorContext<Command> ctx, long seed, Wire wire) {
    super(ctx);
    ctx.setLoggerName(SimNetwork.class);
    this.random = new SplittableRandom(seed);
    this.wire = wire;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Call.class, this::onCall)
        .onMessage(Dispatch.class, this::onDispatch)
        .onMessage(HandlerDone.class, this::onHandlerDone)
        .onMessage(Deliver.class, this::onDeliver)
        .onMessage(Fail.class, f -> fail(f.reply()))
        .onMessage(Sweep.class, s -> onSweep())
        .onMessage(MakeEnd.class, this::onMakeEnd)
        .onMessage(Enable.class, this::onEnable)
        .onMessage(DeleteEnds.class, this::onDeleteEnds)
        .onMessage(AddServer.class, this::onAddServer)
        .onMessage(DeleteServer.class, this::onDeleteServer)
        .onMessage(SetReliable.class, s -> ack(() -> faults = s.reliable() ? Faults.NONE : Faults.LAB, s.replyTo()))
        .onMessage(SetFaults.class, s -> ack(() -> faults = s.faults(), s.replyTo()))
        .onMessage(SetLongReordering.class, s -> ack(() -> longReordering = s.longReordering(), s.replyTo()))
        .onMessage(SetLongDelays.class, s -> ack(() -> longDelays = s.longDelays(), s.replyTo()))
        .onMessage(GetStats.class, this::onGetStats)
        .onMessage(Cleanup.class, this::onCleanup)
        .build();
  }

  // ---------------------------------------------------------------- calls

  private Behavior<Command> onCall(Call c) {
    if (shutDown) return fail(c.reply());
    Transmission t = transmit(c.request());
    rpcs++;
    if (t == null) return fail(c.reply());
    bytes += t.bytes();
    End end = ends.get(c.end());
    Server server = end == null ? null : servers.get(end.server);
    if (end == null || !end.enabled || server == null) {
      int bound = longDelays ? LONG_FAIL_MS : SHORT_FAIL_MS;
      getContext().scheduleOnce(Duration.ofMillis(random.nextInt(bound)), getContext().getSelf(), new Fail(c.reply()));
      return this;
    }
    Pending p = new Pending(nextId++, c.end(), server, faults, longReordering, t.copy(), c.reply());
    pending.put(p.id, p);
    // no draw when there is nothing to draw: a reliable run consumes no randomness here
    Faults f = p.faults;
    int delay = f.maxDelayMs() == 0 ? 0 : f.minDelayMs() + random.nextInt(f.maxDelayMs() - f.minDelayMs() + 1);
    if (delay == 0) return onDispatch(new Dispatch(p.id));
    getContext().scheduleOnce(Duration.ofMillis(delay), getContext().getSelf(), new Dispatch(p.id));
    return this;
  }

  private Behavior<Command> onDispatch(Dispatch d) {
    Pending p = pending.get(d.id());
    if (p == null) return this; // the network was cleaned up
    if (lost(p.faults.requestDropPerMille())) {
      pending.remove(p.id);
      return fail(p.reply); // request lost: the handler never runs
    }
    // labrpc runs the handler of the server seen when the call began, even if it died since
    incoming.merge(p.server.name(), 1L, Long::sum);
    p.handlerRunning = true;
    CompletionStage<Object> stage;
    try {
      stage = p.server.service().handle(p.request);
    } catch (RuntimeException e) {
      getContext().getLog().warn("handler of {} threw", p.server.name(), e);
      stage = CompletableFuture.failedFuture(e);
    }
    getContext().pipeToSelf(stage, (reply, failure) -> new HandlerDone(p.id, failure == null ? reply : null));
    return this;
  }

  private Behavior<Command> onHandlerDone(HandlerDone h) {
    Pending p = pending.get(h.id());
    if (p == null) return this; // already failed: the server died or was cut off meanwhile
    if (h.reply() == null || dead(p)) return failPending(p);
    if (lost(p.faults.replyDropPerMille())) return failPending(p); // reply lost
    p.handlerRunning = false;
    p.answer = transmit(h.reply());
    if (p.answer == null) return failPending(p);
    if (p.longReordering && random.nextInt(900) < REORDER_PER_900) {
      int ms = REORDER_MIN_MS + random.nextInt(1 + random.nextInt(REORDER_SPREAD_MS));
      getContext().scheduleOnce(Duration.ofMillis(ms), getContext().getSelf(), new Deliver(p.id));
      return this;
    }
    return onDeliver(new Deliver(p.id));
  }

  private Behavior<Command> onDeliver(Deliver d) {
    Pending p = pending.remove(d.id());
    if (p == null) return this;
    bytes += p.answer.bytes();
    p.reply.complete(Optional.of(p.answer.copy()));
    return this;
  }

  /** labrpc's periodic check of calls whose handler is still running. */
  private Behavior<Command> onSweep() {
    for (Iterator<Pending> it = pending.values().iterator(); it.hasNext(); ) {
      Pending p = it.next();
      if (p.handlerRunning && dead(p)) {
        it.remove();
        p.reply.complete(Optional.empty());
      }
    }
    return this;
  }

  /** Draws whether a message is lost; draws nothing when none can be. */
  private boolean lost(int perMille) {
    return perMille > 0 && random.nextInt(1000) < perMille;
  }

  /** The end was disabled (or deleted), or the server name no longer names this incarnation. */
  private boolean dead(Pending p) {
    End end = ends.get(p.end);
    return end == null || !end.enabled || servers.get(p.server.name()) != p.server;
  }

  private Transmission transmit(Object m) {
    try {
      Transmission t = wire.transmit(m);
      if (t == null) {
        untransmittable++;
        getContext().getLog().error("no wire format for {}", m.getClass().getName());
      }
      return t;
    } catch (RuntimeException e) {
      untransmittable++;
      getContext().getLog().error("cannot transmit {}: {}", m, e.toString());
      return null;
    }
  }

  private Behavior<Command> failPending(Pending p) {
    pending.remove(p.id);
    return fail(p.reply);
  }

  private Behavior<Command> fail(CompletableFuture<Optional<Object>> reply) {
    reply.complete(Optional.empty());
    return this;
  }

  // ---------------------------------------------------------------- configuration

  private Behavior<Command> onMakeEnd(MakeEnd m) {
    if (ends.containsKey(m.end())) throw new IllegalArgumentException("end " + m.end() + " exists");
    ends.put(m.end(), new End(m.server()));
    m.replyTo().tell(Done.getInstance());
    return this;
  }

  private Behavior<Command> onEnable(Enable e) {
    e.ends().forEach((name, on) -> {
      End end = ends.get(name);
      if (end != null) end.enabled = on;
    });
    e.replyTo().tell(Done.getInstance());
    return this;
  }

  private Behavior<Command> onDeleteEnds(DeleteEnds d) {
    d.ends().forEach(ends::remove);
    d.replyTo().tell(Done.getInstance());
    return this;
  }

  private Behavior<Command> onAddServer(AddServer a) {
    servers.put(a.name(), new Server(a.name(), a.service()));
    a.replyTo().tell(Done.getInstance());
    return this;
  }

  private Behavior<Command> onDeleteServer(DeleteServer d) {
    servers.remove(d.name());
    d.replyTo().tell(Done.getInstance());
    return this;
  }

  private Behavior<Command> ack(Runnable change, ActorRef<Done> replyTo) {
    change.run();
    replyTo.tell(Done.getInstance());
    return this;
  }

  private Behavior<Command> onGetStats(GetStats g) {
    g.replyTo().tell(new Stats(rpcs, bytes, Map.copyOf(incoming), untransmittable));
    return this;
  }

  private Behavior<Command> onCleanup(Cleanup c) {
    shutDown = true;
    for (Pending p : new ArrayList<>(pending.values())) p.reply.complete(Optional.empty());
    pending.clear();
    servers.clear();
    c.replyTo().tell(Done.getInstance());
    return this;
  }
}
