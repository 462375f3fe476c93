package io.raftkv.client;

import io.raftkv.kv.KvOp;
import io.raftkv.kv.KvResult;
import io.raftkv.kv.KvServer;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The Clerk: sends each op to the server it believes leads, rotates on {@code WrongLeader} or no
 * reply, remembers who answered, and retries until an answer (or the call's deadline).
 *
 * <p>Semantics, as in the lab: a versioned {@link #put} is at most once per version. An {@code
 * ErrVersion} answer to its first transmission means it did not happen; to a retransmission it
 * becomes {@link Err#ErrMaybe} (an earlier copy may have executed). {@link #append}, {@link
 * #putUnconditional} and {@link #delete} carry a client session (this client's id and a sequence
 * number), which the servers deduplicate, so retrying them is exactly-once. Ops from one client are
 * meant to be issued one at a time (wait for each stage before the next write).
 */
public final class KvClient {

  /** A client-side outcome: the server's errors plus ErrMaybe and Timeout. */
  public enum Err {
    OK,
    ErrNoKey,
    ErrVersion,
    /** A retransmitted versioned Put met ErrVersion: it may or may not have executed. */
    ErrMaybe,
    /** The call's deadline passed without an answer; a write may or may not have executed. */
    Timeout
  }

  public record Result(Err err, String value, long version) {
    public boolean isOk() {
      return err == Err.OK;
    }
  }

  /**
   * @param retryDelay pause after a full round of servers without an answer
   * @param deadline per-call deadline; null = retry forever (the lab's Clerk)
   */
  public record Settings(Duration retryDelay, Duration deadline) {
    public static Settings defaults() {
      return new Settings(Duration.ofMillis(100), null);
    }
  }

  /** Runs retries after their pause; attempts never block, so one thread serves every client. */
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
    return run(KvOp.get(key), false);
  }

  /** The lab's conditional put: version 0 creates; OK, ErrVersion, ErrNoKey or ErrMaybe. */
  public CompletionStage<Result> put(String key, String value, long version) {
    return run(KvOp.put(key, value, version), true);
  }

  /** Creates or overwrites, exactly once. */
  public CompletionStage<Result> putUnconditional(String key, String value) {
    return run(new KvOp.Put(key, value, OptionalLong.empty(), clientId, seq.incrementAndGet()), false);
  }

  /** Appends to the value (creating the key if absent), exactly once. */
  public CompletionStage<Result> append(String key, String value) {
    return run(new KvOp.Append(key, value, clientId, seq.incrementAndGet()), false);
  }

  /** Deletes the key, exactly once. */
  public CompletionStage<Result> delete(String key) {
    return run(new KvOp.Delete(key, OptionalLong.empty(), clientId, seq.incrementAndGet()), false);
  }

  /** Deletes the key if its version is {@code version}, exactly once. */
  public CompletionStage<Result> delete(String key, long version) {
    return run(new KvOp.Delete(key, OptionalLong.of(version), clientId, seq.incrementAndGet()), false);
  }

  /**
   * Runs any op, e.g. one carrying a session chosen by the caller (an HTTP client retrying with its
   * own client id and sequence number). A versioned Put without a session gets the lab's ErrMaybe
   * treatment; with a session, its retransmissions are deduplicated and answered as the first was.
   */
  public CompletionStage<Result> submit(KvOp op) {
    boolean versionedPut = op instanceof KvOp.Put p && p.version().isPresent() && p.clientId() == KvOp.NO_CLIENT;
    return run(op, versionedPut);
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

  private CompletionStage<Result> run(KvOp op, boolean versionedPut) {
    CompletableFuture<Result> out = new CompletableFuture<>();
    long deadline = Long.MAX_VALUE;
    if (settings.deadline() != null) {
      deadline = System.nanoTime() + settings.deadline().toNanos();
      // the deadline holds even while a transmission is outstanding (a server may sit on a request
      // it cannot commit for longer than the caller is willing to wait)
      out.completeOnTimeout(new Result(Err.Timeout, "", 0), settings.deadline().toNanos(), TimeUnit.NANOSECONDS);
    }
    attempt(op, versionedPut, false, 0, deadline, out);
    return out;
  }

  private void attempt(
      KvOp op, boolean versionedPut, boolean resend, int failures, long deadline, CompletableFuture<Result> out) {
    if (out.isDone()) return; // timed out
    int server = leader;
    CompletionStage<KvServer.Reply> reply;
    try {
      reply = transport.call(server, op);
    } catch (RuntimeException e) {
      reply = CompletableFuture.failedFuture(e);
    }
    Stages.direct(reply).whenComplete(
        (r, failure) -> {
          if (r instanceof KvServer.Reply.Done done) {
            leader = server;
            out.complete(toResult(done.result(), versionedPut && resend));
            return;
          }
          if (leader == server) leader = (server + 1) % servers;
          int failed = failures + 1;
          if (out.isDone()) return;
          if (System.nanoTime() >= deadline) {
            out.complete(new Result(Err.Timeout, "", 0));
            return;
          }
          long pause = failed % servers == 0 ? settings.retryDelay().toMillis() : 0;
          if (deadline != Long.MAX_VALUE) {
            pause = Math.min(pause, Math.max(0, (deadline - System.nanoTime()) / 1_000_000));
          }
          RETRIES.schedule(() -> attempt(op, versionedPut, true, failed, deadline, out), pause, TimeUnit.MILLISECONDS);
        });
  }

  private static Result toResult(KvResult r, boolean maybe) {
    Err err =
        switch (r.err()) {
          case OK -> Err.OK;
          case ErrNoKey -> Err.ErrNoKey;
          case ErrVersion -> maybe ? Err.ErrMaybe : Err.ErrVersion;
        };
    return new Result(err, r.value(), r.version());
  }
}
