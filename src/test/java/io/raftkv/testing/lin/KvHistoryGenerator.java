package io.raftkv.testing.lin;

import io.raftkv.testing.lin.KvModel.State;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.random.RandomGenerator;

/**
 * Generates key/value histories that are linearizable by construction: a simulated server
 * executes each request atomically at one instant inside its recorded interval, in the order of
 * those instants, so that order is a witness. Intervals overlap at random (and sometimes only
 * touch); clients run one request at a time.
 *
 * <p>Written values are bracketed tokens unique to one operation ("[p c3 17]", "[a c1 4]"), so a
 * value read shows exactly which writes produced it.
 */
final class KvHistoryGenerator {
  /**
   * @param clients clients running at once
   * @param keys number of keys, "k0".."k{n-1}"
   * @param ops operations to issue in total
   * @param maxDelay each delay (call to execution, execution to return, return to next call) is
   *     uniform in 0..maxDelay
   * @param labStyle clients run the lab's OnePut loop (conditional put at the last version read,
   *     then a get) instead of a random mix with appends and deletes
   * @param maybeRate chance a write is answered ErrMaybe (as the clerk would after a resend)
   * @param timeoutRate chance a request is answered Timeout; it may take effect even after that
   * @param pendingRate chance a request never returns (its client is then replaced by a new one)
   */
  record Config(
      int clients,
      int keys,
      int ops,
      int maxDelay,
      boolean labStyle,
      double maybeRate,
      double timeoutRate,
      double pendingRate) {}

  private enum Fate {
    NORMAL,
    TIMEOUT,
    PENDING
  }

  private static final class Request {
    final int client;
    final KvInput input;
    final long call;
    final Fate fate;
    KvOutput output;
    long ret = Operation.NEVER;

    Request(int client, KvInput input, long call, Fate fate) {
      this.client = client;
      this.input = input;
      this.call = call;
      this.fate = fate;
    }
  }

  private record Event(long time, long seq, int client, Request request, boolean isReturn) {}

  private final Config config;
  private final RandomGenerator random;
  private final Map<String, State> store = new HashMap<>();
  private final List<Request> requests = new ArrayList<>();
  private final PriorityQueue<Event> events =
      new PriorityQueue<>(
          Comparator.comparingLong(Event::time).thenComparingLong(Event::seq));
  private final Map<Integer, Map<String, Long>> knownVersions = new HashMap<>();
  private final Map<Integer, Boolean> nextIsGet = new HashMap<>();
  private long seq;
  private int nextClient;
  private int issued;

  private KvHistoryGenerator(Config config, RandomGenerator random) {
    this.config = config;
    this.random = random;
  }

  static List<Operation<KvInput, KvOutput>> generate(Config config, RandomGenerator random) {
    return new KvHistoryGenerator(config, random).run();
  }

  private List<Operation<KvInput, KvOutput>> run() {
    for (int i = 0; i < config.clients(); i++) schedule(delay(), nextClient++, null, false);
    while (!events.isEmpty()) {
      Event e = events.poll();
      if (e.request() == null) {
        call(e.time(), e.client());
      } else if (e.isReturn()) {
        finish(e.time(), e.request());
      } else {
        execute(e.time(), e.request());
      }
    }
    List<Operation<KvInput, KvOutput>> ops = new ArrayList<>(requests.size());
    for (Request r : requests) {
      KvOutput out = r.ret == Operation.NEVER ? null : r.output;
      ops.add(new Operation<>(r.client, r.input, r.call, out, r.ret));
    }
    return ops;
  }

  private void schedule(long time, int client, Request request, boolean isReturn) {
    events.add(new Event(time, seq++, client, request, isReturn));
  }

  private long delay() {
    return random.nextInt(config.maxDelay() + 1);
  }

  private void call(long now, int client) {
    if (issued++ >= config.ops()) return;
    double r = random.nextDouble();
    Fate fate =
        r < config.pendingRate()
            ? Fate.PENDING
            : r < config.pendingRate() + config.timeoutRate() ? Fate.TIMEOUT : Fate.NORMAL;
    Request req = new Request(client, chooseInput(client), now, fate);
    requests.add(req);
    schedule(now + delay(), client, req, false);
    switch (fate) {
      case NORMAL -> {} // returns after it executes
      case TIMEOUT -> {
        // Gives up on its own clock: before or after the request executes.
        req.output = KvOutput.err(KvOutput.TIMEOUT);
        schedule(now + random.nextInt(2 * config.maxDelay() + 1), client, req, true);
      }
      case PENDING -> schedule(now + delay(), nextClient++, null, false); // a fresh client
    }
  }

  private KvInput chooseInput(int client) {
    String key = "k" + random.nextInt(config.keys());
    Map<String, Long> known = knownVersions.computeIfAbsent(client, c -> new HashMap<>());
    String token = "c" + client + " " + requests.size() + "]";
    if (config.labStyle()) {
      boolean get = nextIsGet.getOrDefault(client, false);
      nextIsGet.put(client, !get);
      return get ? KvInput.get(key) : KvInput.put(key, "[p " + token, known.getOrDefault(key, 0L));
    }
    long version =
        random.nextInt(4) == 0 ? random.nextInt(4) : known.getOrDefault(key, 0L); // sometimes stale
    return switch (random.nextInt(8)) {
      case 0, 1, 2 -> KvInput.get(key);
      case 3 -> KvInput.put(key, "[p " + token, version);
      case 4 -> KvInput.put(key, "[p " + token);
      case 5 -> KvInput.append(key, "[a " + token);
      case 6 -> KvInput.delete(key, version);
      default -> random.nextInt(3) == 0 ? KvInput.delete(key) : KvInput.append(key, "[a " + token);
    };
  }

  /** Runs the request against the store; the effect of an unanswered request is a coin toss. */
  private void execute(long now, Request req) {
    boolean answered = req.fate == Fate.NORMAL;
    if (!answered && random.nextBoolean()) return; // lost before it reached the server
    KvOutput out = apply(req.input);
    if (answered) {
      req.output = maybe(req.input, out);
      schedule(now + delay(), req.client, req, true);
    }
  }

  /** The server's reply, turned into ErrMaybe now and then as a resending clerk would. */
  private KvOutput maybe(KvInput in, KvOutput out) {
    if (in.kind() == KvInput.Kind.GET || random.nextDouble() >= config.maybeRate()) return out;
    boolean resolvable = out.err().equals(KvOutput.OK) || out.err().equals(KvOutput.ERR_VERSION);
    return resolvable ? KvOutput.err(KvOutput.ERR_MAYBE) : out;
  }

  private KvOutput apply(KvInput in) {
    State s = store.getOrDefault(in.key(), State.ABSENT);
    KvOutput out;
    State next = s;
    switch (in.kind()) {
      case GET -> out = s.present() ? KvOutput.value(s.value(), s.version()) : KvOutput.noKey();
      case PUT -> {
        if (in.conditional() && !s.present() && in.version() != 0) {
          out = KvOutput.err(KvOutput.ERR_NO_KEY);
        } else if (in.conditional() && in.version() != s.version()) {
          out = KvOutput.err(KvOutput.ERR_VERSION);
        } else {
          next = new State(in.value(), s.version() + 1);
          out = KvOutput.ok();
        }
      }
      case APPEND -> {
        next = new State(s.value() + in.value(), s.version() + 1);
        out = KvOutput.ok();
      }
      case DELETE -> {
        if (!s.present()) {
          out = KvOutput.err(KvOutput.ERR_NO_KEY);
        } else if (in.conditional() && in.version() != s.version()) {
          out = KvOutput.err(KvOutput.ERR_VERSION);
        } else {
          next = State.ABSENT;
          out = KvOutput.ok();
        }
      }
      default -> throw new AssertionError(in.kind());
    }
    store.put(in.key(), next);
    return out;
  }

  private void finish(long now, Request req) {
    req.ret = now;
    KvOutput out = req.output;
    Map<String, Long> known = knownVersions.get(req.client);
    if (in(req, KvInput.Kind.GET) && !out.uncertain()) {
      known.put(req.input.key(), out.version());
    } else if (in(req, KvInput.Kind.PUT)
        && out.err().equals(KvOutput.OK)
        && req.input.conditional()) {
      known.put(req.input.key(), req.input.version() + 1);
    }
    schedule(now + delay(), req.client, null, false);
  }

  private static boolean in(Request req, KvInput.Kind kind) {
    return req.input.kind() == kind;
  }
}
