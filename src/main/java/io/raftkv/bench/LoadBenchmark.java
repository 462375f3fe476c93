package io.raftkv.bench;

import java.io.PrintStream;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * A closed-loop load against a running service: {@code clients} clients, each with one request
 * outstanding at a time, the next sent from the completion of the last (no thread per client:
 * the connections are asynchronous, and a few dispatcher threads serve them all). Each run warms
 * up for {@code warmup}, and on while this JVM's JIT compiler is still busy (up to {@code
 * jitWarmupMax} in all), uncounted: the load generator's own compilation stays out of the figures
 * (pekko-http's HTTP/2 client keeps C2 busy for tens of seconds). Then it measures for {@code
 * duration}: latencies of acknowledged requests in an HdrHistogram, errors by kind, a progress
 * line every second.
 */
public final class LoadBenchmark {
  /** put, get, mixed (reads with probability {@code readRatio}) or append. */
  public enum Workload {
    PUT,
    GET,
    MIXED,
    APPEND;

    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** The share of reads this workload sends. */
    double readShare(double readRatio) {
      return switch (this) {
        case GET -> 1;
        case MIXED -> readRatio;
        case PUT, APPEND -> 0;
      };
    }
  }

  /**
   * What to run.
   *
   * @param clients one run per entry
   * @param keys the key space: key {@code i} is "k" and {@code i}, zero-padded to {@code keySize}
   * @param preload write every key once before the first run
   * @param jitWarmupMax the longest warm-up when the JIT is still compiling after {@code warmup}
   *     (zero: {@code warmup} only)
   * @param timeout of each request; an error when it passes
   * @param seed of the key choice and of the values
   */
  public record Spec(
      Workload workload,
      List<Integer> clients,
      Duration duration,
      Duration warmup,
      Duration jitWarmupMax,
      int keySize,
      int valueSize,
      int keys,
      double readRatio,
      boolean preload,
      Duration timeout,
      long seed) {
    public Spec {
      clients = List.copyOf(clients);
      if (clients.isEmpty() || clients.stream().anyMatch(c -> c < 1)) throw new IllegalArgumentException("--clients: at least one count, each >= 1");
      if (duration.isNegative() || duration.isZero()) throw new IllegalArgumentException("--duration must be positive");
      if (warmup.isNegative()) throw new IllegalArgumentException("--warmup must not be negative");
      if (jitWarmupMax.isNegative()) throw new IllegalArgumentException("--jit-warmup-max must not be negative");
      if (keys < 1) throw new IllegalArgumentException("--keys must be >= 1");
      if (valueSize < 1) throw new IllegalArgumentException("--value-size must be >= 1");
      if (readRatio < 0 || readRatio > 1) throw new IllegalArgumentException("--read-ratio must be between 0 and 1");
      int digits = Integer.toString(keys - 1).length();
      if (keySize < 1 + digits) throw new IllegalArgumentException("--key-size " + keySize + " is too small for " + keys + " keys (at least " + (1 + digits) + ")");
    }
  }

  /** The warm-up goes on while the JIT compiled more than this in the last second. */
  static final long JIT_BUSY_MS_PER_SECOND = 50;

  /** Latencies are recorded in microseconds, up to an hour. */
  private static final long HIGHEST_MICROS = TimeUnit.HOURS.toMicros(1);

  private static final String VALUE_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

  private final LoadTarget target;
  private final Spec spec;
  private final PrintStream progress;
  private final String[] keys;

  public LoadBenchmark(LoadTarget target, Spec spec, PrintStream progress) {
    if (spec.workload() == Workload.APPEND && !target.supports(LoadOp.APPEND)) throw new IllegalArgumentException(target.name() + " has no append");
    this.target = target;
    this.spec = spec;
    this.progress = progress;
    this.keys = new String[spec.keys()];
    for (int i = 0; i < keys.length; i++) keys[i] = key(i, spec.keySize());
  }

  /** Key {@code i} of {@code size} characters: "k" and {@code i} zero-padded, e.g. "k000000000000042". */
  static String key(int i, int size) {
    String n = Integer.toString(i);
    return "k" + "0".repeat(Math.max(0, size - 1 - n.length())) + n;
  }

  /** {@code size} random letters and digits. */
  static String value(SplittableRandom random, int size) {
    char[] c = new char[size];
    for (int i = 0; i < size; i++) c[i] = VALUE_CHARS.charAt(random.nextInt(VALUE_CHARS.length()));
    return new String(c);
  }

  /** The preload (if asked for), then one run per client count; {@code each} gets each run's result as it ends. */
  public List<LoadResult> run(Consumer<LoadResult> each) throws InterruptedException {
    if (spec.preload()) preload();
    List<LoadResult> results = new ArrayList<>();
    for (int clients : spec.clients()) {
      LoadResult r = runOnce(clients);
      results.add(r);
      each.accept(r);
    }
    return results;
  }

  /** Every key written once, by up to 16 clients; a key whose write fails is tried up to 3 times. */
  void preload() throws InterruptedException {
    int workers = Math.min(16, keys.length);
    AtomicInteger nextKey = new AtomicInteger();
    AtomicInteger written = new AtomicInteger();
    LongAdder failed = new LongAdder();
    Map<String, LongAdder> kinds = new ConcurrentHashMap<>();
    CountDownLatch done = new CountDownLatch(workers);
    long t0 = System.nanoTime();
    List<LoadTarget.Connection> conns = new ArrayList<>();
    try {
      for (int w = 0; w < workers; w++) {
        LoadTarget.Connection c = target.connect(w, workers);
        conns.add(c);
        String value = value(new SplittableRandom(spec.seed() ^ (w + 1L) * 0x9E3779B97F4A7C15L), spec.valueSize());
        new Object() {
          int key = -1;
          int tries;

          void next() {
            if (key < 0 || tries == 0) {
              key = nextKey.getAndIncrement();
              tries = 3;
            }
            if (key >= keys.length) {
              done.countDown();
              return;
            }
            c.send(LoadOp.PUT, keys[key], value, error -> {
              if (error == null) {
                written.incrementAndGet();
                tries = 0;
              } else {
                kinds.computeIfAbsent(error, k -> new LongAdder()).increment();
                if (--tries == 0) failed.increment();
              }
              next();
            });
          }
        }.next();
      }
      while (!done.await(1, TimeUnit.SECONDS)) {
        progress.printf(Locale.ROOT, "preload %s: %d of %d keys written%n", target.name(), written.get(), keys.length);
      }
    } finally {
      for (LoadTarget.Connection c : conns) c.close();
      target.disconnect();
    }
    progress.printf(Locale.ROOT, "preload %s: %d keys written in %.1f s, %d not written%s%n", target.name(), written.get(),
        (System.nanoTime() - t0) / 1e9, failed.sum(), kinds.isEmpty() ? "" : " (errors: " + summary(kinds) + ")");
  }

  /** One run: the clients start, warm up, are measured, then stop and are waited for. */
  LoadResult runOnce(int clients) throws InterruptedException {
    String label = String.format(Locale.ROOT, "%s %s x%d", target.name(), spec.workload().label(), clients);
    Window warm = new Window();
    Run run = new Run(warm);
    List<LoadTarget.Connection> conns = new ArrayList<>();
    CountDownLatch stopped = new CountDownLatch(clients);
    double readShare = spec.workload().readShare(spec.readRatio());
    LoadOp write = spec.workload() == Workload.APPEND ? LoadOp.APPEND : LoadOp.PUT;
    try {
      for (int i = 0; i < clients; i++) {
        LoadTarget.Connection c = target.connect(i, clients);
        conns.add(c);
        SplittableRandom random = new SplittableRandom(spec.seed() + 31L * i + clients);
        new Client(run, keys, c, random, value(random, spec.valueSize()), readShare, write, stopped).next();
      }
      long start = System.nanoTime();
      long warmEnd = start + spec.warmup().toNanos();
      long warmMax = start + Math.max(spec.warmup().toNanos(), spec.jitWarmupMax().toNanos());
      CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
      boolean watchJit = spec.jitWarmupMax().compareTo(spec.warmup()) > 0 && jit != null && jit.isCompilationTimeMonitoringSupported();
      long compiled = watchJit ? jit.getTotalCompilationTime() : 0;
      long jitLastSecond = 0;
      Histogram interval = null;
      for (int tick = 1; ; tick++) {
        long now = System.nanoTime();
        boolean jitBusy = watchJit && jitLastSecond > JIT_BUSY_MS_PER_SECOND;
        if (now - warmMax >= 0 || (now - warmEnd >= 0 && !jitBusy)) break;
        sleepUntil(Math.min(jitBusy || watchJit ? warmMax : warmEnd, start + TimeUnit.SECONDS.toNanos(tick)));
        interval = warm.latencies.getIntervalHistogram(interval);
        String jitNote = "";
        if (watchJit) {
          long c = jit.getTotalCompilationTime();
          jitLastSecond = c - compiled;
          compiled = c;
          jitNote = String.format(Locale.ROOT, ", JIT %d ms", jitLastSecond);
        }
        progress.printf(Locale.ROOT, "%s warm-up %ds: %s%s%n", label, tick, line(interval, warm, 0, 0), jitNote);
      }
      double warmedUp = (System.nanoTime() - start) / 1e9;
      Window measured = new Window();
      interval = null; // a recycled histogram must come from the same recorder
      long measureStart = System.nanoTime();
      String started = Instant.now().truncatedTo(ChronoUnit.MILLIS).toString();
      run.window = measured;
      long cpuStart = processCpuNanos();
      long measureEnd = measureStart + spec.duration().toNanos();
      Histogram total = new Histogram(HIGHEST_MICROS, 3);
      for (int tick = 1; System.nanoTime() < measureEnd; tick++) {
        long until = Math.min(measureEnd, measureStart + TimeUnit.SECONDS.toNanos(tick));
        sleepUntil(until);
        interval = measured.latencies.getIntervalHistogram(interval);
        total.add(interval);
        double elapsed = (System.nanoTime() - measureStart) / 1e9;
        progress.printf(Locale.ROOT, "%s %ds: %s%n", label, tick, line(interval, measured, total.getTotalCount(), elapsed));
      }
      run.window = new Window(); // completions from here on are not counted
      double seconds = (System.nanoTime() - measureStart) / 1e9;
      long cpuEnd = processCpuNanos();
      double cpu = cpuStart < 0 || cpuEnd < 0 ? Double.NaN : (cpuEnd - cpuStart) / 1e9 / seconds;
      total.add(measured.latencies.getIntervalHistogram(interval));
      run.stopping = true;
      if (!stopped.await(spec.timeout().toMillis() + 5000, TimeUnit.MILLISECONDS)) {
        progress.printf("%s: %d clients still waiting for an answer at the end; closing their connections%n", label, stopped.getCount());
      }
      Map<String, Long> kinds = new TreeMap<>();
      measured.errorKinds.forEach((k, n) -> kinds.put(k, n.sum()));
      return new LoadResult(target.name(), spec.workload().label(), clients, readShare, spec.keySize(), spec.valueSize(), spec.keys(),
          warmedUp, seconds, total.getTotalCount(), measured.errors.sum(), LoadResult.Latencies.of(total), cpu, kinds, started);
    } finally {
      run.stopping = true;
      for (LoadTarget.Connection c : conns) c.close();
      target.disconnect();
    }
  }

  private static String line(Histogram lastSecond, Window w, long totalOps, double elapsed) {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "%d ops in the last second", lastSecond.getTotalCount()));
    if (elapsed > 0) b.append(String.format(Locale.ROOT, ", %.0f ops/s so far", totalOps / elapsed));
    b.append(String.format(Locale.ROOT, ", %d errors", w.errors.sum()));
    if (lastSecond.getTotalCount() > 0) b.append(String.format(Locale.ROOT, ", p99 of the last second %.2f ms", lastSecond.getValueAtPercentile(99) / 1000.0));
    if (!w.errorKinds.isEmpty()) b.append(" (").append(summary(w.errorKinds)).append(')');
    return b.toString();
  }

  private static String summary(Map<String, LongAdder> kinds) {
    StringBuilder b = new StringBuilder();
    new TreeMap<>(kinds).forEach((k, n) -> b.append(b.length() == 0 ? "" : "; ").append(k).append(": ").append(n.sum()));
    return b.toString();
  }

  /** This process's CPU time so far, or -1 if the JVM does not tell. */
  private static long processCpuNanos() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) return os.getProcessCpuTime();
    return -1;
  }

  private static void sleepUntil(long nanoTime) throws InterruptedException {
    long left;
    while ((left = nanoTime - System.nanoTime()) > 0) TimeUnit.NANOSECONDS.sleep(left);
  }

  /** What completions are counted into: the warm-up's, the measurement's, or a discarded one. */
  private static final class Window {
    final Recorder latencies = new Recorder(HIGHEST_MICROS, 3);
    final LongAdder errors = new LongAdder();
    final Map<String, LongAdder> errorKinds = new ConcurrentHashMap<>();

    void record(long nanos, String error) {
      if (error == null) latencies.recordValue(Math.min(HIGHEST_MICROS, Math.max(1, nanos / 1000)));
      else {
        errors.increment();
        errorKinds.computeIfAbsent(error, k -> new LongAdder()).increment();
      }
    }
  }

  private static final class Run {
    volatile Window window;
    volatile boolean stopping;

    Run(Window window) {
      this.window = window;
    }
  }

  /**
   * One closed-loop client: sends, and from the completion sends the next, until the run stops.
   * Its {@code random} is drawn from by one request's chain at a time (each completion happens
   * after its send), never concurrently.
   */
  private record Client(Run run, String[] keys, LoadTarget.Connection connection, SplittableRandom random, String value, double readShare, LoadOp write, CountDownLatch stopped) {
    void next() {
      if (run.stopping) {
        stopped.countDown();
        return;
      }
      LoadOp op = readShare >= 1 || (readShare > 0 && random.nextDouble() < readShare) ? LoadOp.GET : write;
      String key = keys[random.nextInt(keys.length)];
      long t0 = System.nanoTime();
      connection.send(op, key, value, error -> {
        run.window.record(System.nanoTime() - t0, error);
        next();
      });
    }
  }
}
