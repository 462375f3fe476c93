package io.raftkv.storage;

import io.raftkv.raft.HardState;
import io.raftkv.raft.LogEntry;
import io.raftkv.raft.Ready;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;

/**
 * FileStorage throughput and latency (not a test; surefire does not run it):
 *
 * <ol>
 *   <li>fsync per append: one caller, {@code persist} of one entry at a time, so every append
 *       waits for its own fsync;
 *   <li>group commit: N appender threads, each with one append in flight (submit under a lock,
 *       since calls come from one thread at a time, then wait for its stage), as N clients of a
 *       leader would be. Reports appends/s and appends per fsync.
 * </ol>
 *
 * Usage: {@code java -cp <test classpath> io.raftkv.storage.FileStorageBench [dir] [seconds per case]
 * [appenders,...] [command bytes]}. Output lines are {@code key=value} pairs.
 */
public final class FileStorageBench {
  public static void main(String[] args) throws Exception {
    Path base = args.length > 0 ? Path.of(args[0]) : Path.of(System.getProperty("java.io.tmpdir"), "raftkv-bench");
    double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 5;
    int[] appenders = args.length > 2
        ? java.util.Arrays.stream(args[2].split(",")).mapToInt(Integer::parseInt).toArray()
        : new int[] {1, 4, 16, 64};
    int commandBytes = args.length > 3 ? Integer.parseInt(args[3]) : 128;
    System.out.printf("# dir=%s seconds=%.1f commandBytes=%d%n", base, seconds, commandBytes);
    fsyncPerAppend(base.resolve("single"), seconds, commandBytes);
    for (int n : appenders) groupCommit(base.resolve("group" + n), n, seconds, commandBytes);
  }

  private static void fsyncPerAppend(Path dir, double seconds, int commandBytes) throws IOException {
    deleteDir(dir);
    Histogram h = new Histogram(TimeUnit.SECONDS.toMicros(10), 3);
    try (FileStorage fs = FileStorage.open(dir)) {
      fs.persist(new Ready(new HardState(1, 0), List.of(), null, List.of(), List.of()));
      long index = 0;
      byte[] cmd = new byte[commandBytes];
      long warmupEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
      while (System.nanoTime() < warmupEnd) fs.persist(append(++index, cmd));
      FileStorage.Stats before = fs.stats();
      long start = System.nanoTime(), end = start + (long) (seconds * 1e9);
      long now = start;
      while (now < end) {
        long t0 = System.nanoTime();
        fs.persist(append(++index, cmd));
        now = System.nanoTime();
        h.recordValue((now - t0) / 1000);
      }
      FileStorage.Stats after = fs.stats();
      double secs = (now - start) / 1e9;
      long appends = after.requests() - before.requests();
      System.out.printf("case=fsync-per-append appends=%d appends_per_s=%.0f appends_per_fsync=%.2f "
              + "p50_us=%d p99_us=%d p999_us=%d max_us=%d mean_us=%.0f%n",
          appends, appends / secs, (double) appends / (after.logSyncs() - before.logSyncs()),
          h.getValueAtPercentile(50), h.getValueAtPercentile(99), h.getValueAtPercentile(99.9), h.getMaxValue(), h.getMean());
    }
    deleteDir(dir);
  }

  private static void groupCommit(Path dir, int appenders, double seconds, int commandBytes) throws Exception {
    deleteDir(dir);
    Histogram h = new Histogram(TimeUnit.SECONDS.toMicros(10), 3);
    try (FileStorage fs = FileStorage.open(dir)) {
      fs.persist(new Ready(new HardState(1, 0), List.of(), null, List.of(), List.of()));
      Object submit = new Object();
      long[] index = {0};
      byte[] cmd = new byte[commandBytes];
      long warmupEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
      long measureEnd = warmupEnd + (long) (seconds * 1e9);
      FileStorage.Stats[] before = new FileStorage.Stats[1];
      long[] measureStart = new long[1];
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < appenders; t++) {
        Thread th = new Thread(() -> {
          Histogram mine = new Histogram(TimeUnit.SECONDS.toMicros(10), 3);
          while (true) {
            long t0 = System.nanoTime();
            if (t0 >= measureEnd) break;
            java.util.concurrent.CompletableFuture<Void> f;
            synchronized (submit) {
              if (before[0] == null && t0 >= warmupEnd) {
                before[0] = fs.stats();
                measureStart[0] = t0;
              }
              f = fs.persistAsync(append(++index[0], cmd)).toCompletableFuture();
            }
            f.join();
            if (t0 >= warmupEnd) mine.recordValue((System.nanoTime() - t0) / 1000);
          }
          synchronized (h) {
            h.add(mine);
          }
        }, "appender-" + t);
        threads.add(th);
        th.start();
      }
      for (Thread th : threads) th.join();
      long endNanos = System.nanoTime();
      FileStorage.Stats after = fs.stats();
      long appends = h.getTotalCount();
      double secs = (endNanos - measureStart[0]) / 1e9;
      long syncs = after.logSyncs() - before[0].logSyncs();
      System.out.printf("case=group-commit appenders=%d appends=%d appends_per_s=%.0f appends_per_fsync=%.2f "
              + "p50_us=%d p99_us=%d max_us=%d%n",
          appenders, appends, appends / secs, (double) (after.requests() - before[0].requests()) / syncs,
          h.getValueAtPercentile(50), h.getValueAtPercentile(99), h.getMaxValue());
    }
    deleteDir(dir);
  }

  private static Ready append(long index, byte[] cmd) {
    return new Ready(null, List.of(new LogEntry(index, 1, cmd)), null, List.of(), List.of());
  }

  static void deleteDir(Path dir) throws IOException {
    if (!Files.exists(dir)) return;
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
    }
  }
}
