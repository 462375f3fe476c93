package io.raftkv.testing.lin;

import io.raftkv.testing.lin.CheckReport.PartitionReport;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;

/**
 * Checks histories for linearizability against a {@link Model}, the way porcupine does for the
 * labs: the model splits the history into partitions, each is searched independently and in
 * parallel, and the whole check stops at a deadline.
 *
 * <p>Real time: if A returns before B is called, A precedes B; at equal timestamps calls come
 * before returns, so intervals that only touch count as concurrent.
 *
 * <p>Thread-safe; checks may run concurrently. Partitions run on the calling thread plus a small
 * shared pool of daemon threads (one per available processor).
 */
public final class Linearizability {
  private static final Duration CENTURY = Duration.ofDays(36_525);
  private static final int WORKERS = Math.max(1, Runtime.getRuntime().availableProcessors());

  private static final class PoolHolder {
    static final ExecutorService POOL =
        Executors.newFixedThreadPool(
            WORKERS,
            r -> {
              Thread t = new Thread(r, "linearizability-check");
              t.setDaemon(true);
              return t;
            });
  }

  private Linearizability() {}

  /**
   * Decides whether {@code history} is linearizable under {@code model}, giving up with UNKNOWN
   * once {@code timeout} has passed. ILLEGAL in any partition makes the whole history ILLEGAL.
   */
  public static <S, I, O> CheckResult check(
      Model<S, I, O> model, List<Operation<I, O>> history, Duration timeout) {
    return checkDetailed(model, history, timeout).result();
  }

  /**
   * Like {@link #check}, and says which partitions failed and where. Like the lab's "verbose"
   * variant it does not stop at the first illegal partition; every partition runs until it
   * decides or the deadline passes.
   */
  public static <S, I, O> CheckReport<I, O> checkDetailed(
      Model<S, I, O> model, List<Operation<I, O>> history, Duration timeout) {
    long start = System.nanoTime();
    // Anything beyond a century is "no limit"; it also keeps toNanos() from overflowing.
    Duration capped = timeout.compareTo(CENTURY) > 0 ? CENTURY : timeout;
    long deadline = start + Math.max(0, capped.toNanos());
    List<List<Operation<I, O>>> parts = model.partition(history);
    @SuppressWarnings("unchecked")
    PartitionReport<I, O>[] reports = new PartitionReport[parts.size()];
    // Largest first, so one big partition does not start last and set the finishing time.
    int[] order =
        IntStream.range(0, parts.size())
            .boxed()
            .sorted(Comparator.comparingInt((Integer i) -> -parts.get(i).size()))
            .mapToInt(Integer::intValue)
            .toArray();
    AtomicInteger nextTask = new AtomicInteger();
    // Counted per partition, not per worker: a helper that starts late (the pool busy with another
    // check) finds nothing left to do, and nobody waits for it.
    CountDownLatch done = new CountDownLatch(order.length);
    AtomicReference<RuntimeException> failure = new AtomicReference<>();
    Runnable worker =
        () -> {
          for (int t; (t = nextTask.getAndIncrement()) < order.length; ) {
            int p = order[t];
            try {
              reports[p] = searchOne(model, p, parts.get(p), deadline);
            } catch (RuntimeException | Error e) {
              failure.compareAndSet(
                  null, new IllegalStateException("model failed while checking", e));
            } finally {
              done.countDown();
            }
          }
        };
    for (int i = Math.min(WORKERS, order.length) - 1; i > 0; i--) PoolHolder.POOL.execute(worker);
    worker.run();
    try {
      done.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while checking", e);
    }
    if (failure.get() != null) throw failure.get();
    List<PartitionReport<I, O>> all = Arrays.asList(reports);
    CheckResult result = CheckResult.OK;
    for (PartitionReport<I, O> r : all) {
      if (r.result() == CheckResult.ILLEGAL) {
        result = CheckResult.ILLEGAL;
        break;
      }
      if (r.result() == CheckResult.UNKNOWN) result = CheckResult.UNKNOWN;
    }
    return new CheckReport<>(result, List.copyOf(all), Duration.ofNanos(System.nanoTime() - start));
  }

  private static <S, I, O> PartitionReport<I, O> searchOne(
      Model<S, I, O> model, int index, List<Operation<I, O>> ops, long deadline) {
    PartitionSearch<S, I, O> search = new PartitionSearch<>(model, ops);
    CheckResult r = search.run(deadline);
    if (r != CheckResult.ILLEGAL) {
      return new PartitionReport<>(index, ops, r, 0, List.of(), List.of(), "");
    }
    return new PartitionReport<>(
        index,
        ops,
        r,
        search.deepest(),
        search.deepestTail(),
        search.deepestStuck(),
        search.deepestState());
  }
}
