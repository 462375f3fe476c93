package io.raftkv.client;

import io.raftkv.kv.KvCodec;
import io.raftkv.kv.KvErr;
import io.raftkv.kv.KvOp;
import io.raftkv.kv.KvResult;
import io.raftkv.rsm.Rsm;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;

/**
 * The Clerk: sends each op to the server it believes leads, follows the leader hint a server gives
 * with {@code WrongLeader} (rotating through the servers when there is none), remembers who
 * answered, and retries until an answer (or the call's deadline). After every full round of tries
 * without an answer it pauses, longer each round up to {@link Settings#maxRetryDelay()}, so a
 * group without a leader, or a per-try timeout much shorter than the deadline, never makes it spin.
 * A try that timed out on a slow but live leader is simply retried: every write that is not a
 * versioned Put carries a session, so its copies execute once.
 *
 * <p>Semantics, as in the lab: a versioned {@link #put} is at most once per version. An {@code
 * ErrVersion} answer to its first transmission means it did not happen; to a retransmission it
 * becomes {@link KvErr#ErrMaybe} (an earlier copy may have executed). {@link #append}, {@link
 * #putUnconditional} and {@link #delete} carry a client session (this client's id and a sequence
 * number), which the servers deduplicate, so retrying them is exactly-once. The ops of this
 * client's own session run one at a time, in the order they were called: concurrent calls queue
 * (the store remembers one answer per session, so an op overtaken by a later one of its session
 * could no longer be told apart from an old copy). Reads and versioned Puts do not queue.
 *
 * <p>Overload: a leader with too much in flight answers {@code Busy} without proposing the op.
 * A client with a deadline then completes with {@link KvErr#Busy} at once when no earlier copy of
 * the op can have executed (a read, or nothing but Busy so far), so its caller can shed load;
 * otherwise, and always for a client without a deadline, it pauses and retries the same server.
 */
public final class KvClient {

  /**
   * How a call ended: the store's {@link KvResult} (with ErrMaybe for a retransmitted versioned Put
   * that met ErrVersion), or the Clerk's own {@link KvErr#Busy} or {@link KvErr#Timeout}. {@link
   * KvErr#ErrStaleSeq} only comes to {@link #submit} with a session chosen by the caller.
   */
  public record Result(KvErr err, String value, long version) {
    public boolean isOk() {
      return err == KvErr.OK;
    }
  }

  /**
   * @param retryDelay pause after the first full round of servers without an answer; each further
   *     round doubles it (with jitter), up to {@code maxRetryDelay}
   * @param deadline per-call deadline, counted from the call (time queued behind this client's
   *     earlier session ops included); null = retry forever (the lab's Clerk)
   * @param maxRetryDelay the longest pause between rounds
   */
  public record Settings(Duration retryDelay, Duration deadline, Duration maxRetryDelay) {
    public Settings {
      if (retryDelay == null || retryDelay.isNegative()) throw new IllegalArgumentException("retryDelay must be >= 0");
      if (maxRetryDelay == null || maxRetryDelay.compareTo(retryDelay) < 0) {
        throw new IllegalArgumentException("maxRetryDelay must be >= retryDelay");
      }
      if (deadline != null && (deadline.isNegative() || deadline.isZero())) {
        throw new IllegalArgumentException("deadline must be positive");
      }
    }

    /** Backing off up to 4 x {@code retryDelay}. */
    public Settings(Duration retryDelay, Duration deadline) {
      this(retryDelay, deadline, retryDelay.multipliedBy(4));
    }

    /** 100 ms, doubling up to 400 ms; no deadline. */
    public static Settings defaults() {
      return new Settings(Duration.ofMillis(100), null);
    }
  }

  /**
   * Runs retries after their pause; attempts never block, so one thread serves every client. Not an
   * ActorSystem's scheduler: a Clerk takes any {@link ServerCall} and runs without one (the lab,
   * KvClientTest), and that scheduler's tick (10 ms by default, 50 ms on a node) would round the
   * short pauses up.
   */
  private static final ScheduledExecutorService RETRIES =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "raftkv-clerk-retries");
            t.setDaemon(true);
            return t;
          });

  private final ServerCall transport;
  private final int servers;
  private final Settings settings;
  private final long clientId;
  private final AtomicLong seq = new AtomicLong();
  private volatile int leader;
  /** Guards {@code sessionTail} and the seq order of queued session ops. */
  private final Object sessionLock = new Object();
  /** Completes when the last queued op of this client's session has its answer. */
  private CompletableFuture<Void> sessionTail = CompletableFuture.completedFuture(null);

  public KvClient(ServerCall transport, int servers, Settings settings) {
    if (servers < 1) throw new IllegalArgumentException("need at least one server");
    this.transport = transport;
    this.servers = servers;
    this.settings = settings;
    long id;
    do {
      id = ThreadLocalRandom.current().nextLong();
    } while (id == 0);
    this.clientId = id;
    this.leader = ThreadLocalRandom.current().nextInt(servers);
  }

  public KvClient(ServerCall transport, int servers) {
    this(transport, servers, Settings.defaults());
  }

  public long clientId() {
    return clientId;
  }

  public CompletionStage<Result> get(String key) {
    return run(KvOp.get(key), false, null);
  }

  /** The lab's conditional put: version 0 creates; OK, ErrVersion, ErrNoKey or ErrMaybe. */
  public CompletionStage<Result> put(String key, String value, long version) {
    return run(KvOp.put(key, value, version), true, null);
  }

  /** Creates or overwrites, exactly once. */
  public CompletionStage<Result> putUnconditional(String key, String value) {
    return inSession(s -> new KvOp.Put(key, value, OptionalLong.empty(), clientId, s));
  }

  /** Appends to the value (creating the key if absent), exactly once. */
  public CompletionStage<Result> append(String key, String value) {
    return inSession(s -> new KvOp.Append(key, value, clientId, s));
  }

  /** Deletes the key, exactly once. */
  public CompletionStage<Result> delete(String key) {
    return inSession(s -> new KvOp.Delete(key, OptionalLong.empty(), clientId, s));
  }

  /** Deletes the key if its version is {@code version}, exactly once. */
  public CompletionStage<Result> delete(String key, long version) {
    return inSession(s -> new KvOp.Delete(key, OptionalLong.of(version), clientId, s));
  }

  /**
   * Runs any op, e.g. one carrying a session chosen by the caller (an HTTP client retrying with its
   * own client id and sequence number). A versioned Put without a session gets the lab's ErrMaybe
   * treatment; with a session, its retransmissions are deduplicated and answered as the first was.
   * An op of this client's own session (see {@link #nextSeq}) queues behind the session's earlier
   * ops, in the order of the calls.
   */
  public CompletionStage<Result> submit(KvOp op) {
    boolean versionedPut = op instanceof KvOp.Put p && p.version().isPresent() && p.clientId() == KvOp.NO_CLIENT;
    if (op.clientId() == clientId && !(op instanceof KvOp.Get)) return inSession(s -> op, false);
    return run(op, versionedPut, null);
  }

  /** A fresh sequence number of this client's own session (see {@link #clientId()}). */
  public long nextSeq() {
    return seq.incrementAndGet();
  }

  // blocking conveniences, for threads outside any actor

  public Result getSync(String key) {
    return get(key).toCompletableFuture().join();
  }

  public Result putSync(String key, String value, long version) {
    return put(key, value, version).toCompletableFuture().join();
  }

  public Result appendSync(String key, String value) {
    return append(key, value).toCompletableFuture().join();
  }

  private CompletionStage<Result> inSession(LongFunction<KvOp> build) {
    return inSession(build, true);
  }

  /**
   * Queues an op of this client's session: it is sent once every earlier one has its answer (or
   * gave up at its deadline), so the session's ops reach the store in seq order.
   */
  private CompletionStage<Result> inSession(LongFunction<KvOp> build, boolean freshSeq) {
    CompletableFuture<Void> previous;
    CompletableFuture<Void> mine = new CompletableFuture<>();
    KvOp op;
    synchronized (sessionLock) {
      op = build.apply(freshSeq ? seq.incrementAndGet() : 0);
      previous = sessionTail;
      sessionTail = mine;
    }
    CompletableFuture<Result> out = run(op, false, previous);
    out.whenComplete((r, failure) -> mine.complete(null));
    return out;
  }

  /** Runs {@code op}, once {@code after} (if any) has completed. */
  private CompletableFuture<Result> run(KvOp op, boolean versionedPut, CompletableFuture<Void> after) {
    CompletableFuture<Result> out = new CompletableFuture<>();
    long deadline = Long.MAX_VALUE;
    if (settings.deadline() != null) {
      deadline = System.nanoTime() + settings.deadline().toNanos();
      // the deadline holds even while a transmission is outstanding (a server may sit on a request
      // it cannot commit for longer than the caller is willing to wait)
      out.completeOnTimeout(new Result(KvErr.Timeout, "", 0), settings.deadline().toNanos(), TimeUnit.NANOSECONDS);
    }
    Call call = new Call(op, versionedPut, deadline, out);
    if (after == null) attempt(call);
    else after.whenComplete((ok, failure) -> attempt(call));
    return out;
  }

  /** One call's progress through its tries. */
  private static final class Call {
    final KvOp op;
    final boolean versionedPut;
    final long deadline;
    final CompletableFuture<Result> out;
    int tries; // transmissions so far
    int roundTries; // transmissions since the last pause
    int rounds; // pauses so far
    boolean uncertain; // an earlier transmission may have executed
    int silent = -1; // the server whose last try of this call got no answer, or -1

    Call(KvOp op, boolean versionedPut, long deadline, CompletableFuture<Result> out) {
      this.op = op;
      this.versionedPut = versionedPut;
      this.deadline = deadline;
      this.out = out;
    }
  }

  private void attempt(Call c) {
    if (c.out.isDone()) return; // timed out
    int server = leader;
    boolean resend = c.tries > 0;
    c.tries++;
    c.roundTries++;
    CompletionStage<Rsm.Result> reply;
    try {
      reply = transport.call(server, c.op);
    } catch (RuntimeException e) {
      reply = CompletableFuture.failedFuture(e);
    }
    Stages.direct(reply).whenComplete((r, failure) -> answered(c, server, resend, r));
  }

  /** What server {@code server} answered to a try of {@code c}: null when nothing came. */
  private void answered(Call c, int server, boolean resend, Rsm.Result r) {
    if (r instanceof Rsm.Result.Ok ok) {
      KvResult result = decode(ok);
      if (result != null) {
        leader = server;
        c.out.complete(toResult(result, c.versionedPut && resend));
        return;
      }
      r = null; // not a KV result: as good as no answer
    }
    if (c.out.isDone()) return;
    long pause;
    if (r == Rsm.Result.Busy.INSTANCE) {
      leader = server; // it leads; it is only overloaded
      if (settings.deadline() != null && (c.op instanceof KvOp.Get || !c.uncertain)) {
        c.out.complete(new Result(KvErr.Busy, "", 0));
        return;
      }
      pause = backoff(c);
    } else {
      c.uncertain = true;
      int hint = -1;
      if (r instanceof Rsm.Result.WrongLeader || r == Rsm.Result.Stopped.INSTANCE) {
        // a stopped Raft is a replica that knows no leader: try another
        if (r instanceof Rsm.Result.WrongLeader w) hint = w.leader();
        if (c.silent == server) c.silent = -1;
      } else {
        c.silent = server; // no answer: dead, cut off, or slower than the per-try timeout
      }
      // A hint at the server that just failed to answer is most likely stale (followers keep
      // naming a dead leader until they elect a new one): try the others meanwhile.
      int servers = Math.max(this.servers, transport.servers()); // nodes may join while we run
      if (hint >= 0 && hint < servers && hint != server && hint != c.silent) {
        leader = hint; // go straight to the leader the server knows of
      } else if (leader == server || leader == c.silent) {
        int next = (server + 1) % servers;
        if (next == c.silent && servers > 2) next = (next + 1) % servers;
        leader = next;
      }
      pause = c.roundTries >= servers ? backoff(c) : 0;
    }
    long now = System.nanoTime();
    if (now >= c.deadline) {
      c.out.complete(new Result(KvErr.Timeout, "", 0));
      return;
    }
    // a pause that reaches the deadline ends the call: the deadline's timer answers Timeout then
    // (retrying early instead, with the remainder rounded down to 0 ms, would spin until it fires)
    if (pause > 0 && c.deadline - now <= pause * 1_000_000) return;
    if (pause <= 0) {
      // no pause: still a fresh stack, and never on a transport's thread for long
      RETRIES.execute(() -> attempt(c));
    } else {
      RETRIES.schedule(() -> attempt(c), pause, TimeUnit.MILLISECONDS);
    }
  }

  /** The pause before the next round: retryDelay doubled per round, capped, with jitter. */
  private long backoff(Call c) {
    c.roundTries = 0;
    c.silent = -1; // each round gives every server another chance (a slow leader is still one)
    int shift = Math.min(c.rounds++, 20);
    long base = settings.retryDelay().toMillis() << shift;
    long capped = Math.min(base, settings.maxRetryDelay().toMillis());
    if (capped <= 1) return capped;
    return capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1);
  }

  private static KvResult decode(Rsm.Result.Ok ok) {
    try {
      return KvCodec.decodeResult(ok.value());
    } catch (KvCodec.MalformedException e) {
      return null;
    }
  }

  /** The lab's rule: ErrVersion to a retransmission ({@code maybe}) may hide an earlier success. */
  private static Result toResult(KvResult r, boolean maybe) {
    KvErr err = maybe && r.err() == KvErr.ErrVersion ? KvErr.ErrMaybe : r.err();
    return new Result(err, r.value(), r.version());
  }
}
