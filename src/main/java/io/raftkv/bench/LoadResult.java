package io.raftkv.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * One run of the load benchmark: one target, one workload, one number of clients, measured over
 * {@code seconds} after the warm-up. Latencies are of acknowledged requests only (milliseconds);
 * errors are counted apart, by kind.
 *
 * @param workload put, get, mixed or append
 * @param readRatio the share of reads (1 for get, 0 for put and append)
 * @param warmupSeconds how long the run warmed up (longer than asked while the JIT was busy)
 * @param seconds the measured time (the duration asked for, give or take a tick)
 * @param ops acknowledged requests completed in the measured time
 * @param latencies the figures of the acknowledged requests' latencies
 * @param generatorCpu the load generator's own CPU use over the measured time, in cores (its
 *     whole process: clients, connections, histograms); NaN if the JVM does not tell
 */
public record LoadResult(
    String target,
    String workload,
    int clients,
    double readRatio,
    int keySize,
    int valueSize,
    int keys,
    double warmupSeconds,
    double seconds,
    long ops,
    long errors,
    Latencies latencies,
    double generatorCpu,
    Map<String, Long> errorKinds,
    String started) {

  public LoadResult {
    errorKinds = Map.copyOf(errorKinds);
  }

  /** Latency figures in milliseconds; NaN when no request was acknowledged. */
  public record Latencies(double meanMs, double p50Ms, double p90Ms, double p99Ms, double p999Ms, double maxMs) {
    static final Latencies NONE = new Latencies(Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);

    /** The figures of {@code micros}, latencies recorded in microseconds. */
    static Latencies of(Histogram micros) {
      if (micros.getTotalCount() == 0) return NONE;
      return new Latencies(
          micros.getMean() / 1000.0,
          ms(micros.getValueAtPercentile(50)),
          ms(micros.getValueAtPercentile(90)),
          ms(micros.getValueAtPercentile(99)),
          ms(micros.getValueAtPercentile(99.9)),
          ms(micros.getMaxValue()));
    }

    private static double ms(long micros) {
      return micros / (double) TimeUnit.MILLISECONDS.toMicros(1);
    }
  }

  public double opsPerSecond() {
    return seconds > 0 ? ops / seconds : 0;
  }

  /** The fields of a CSV row or JSON object, in their order; {@code errorKinds} not included. */
  Map<String, Object> fields() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("target", target);
    m.put("workload", workload);
    m.put("clients", clients);
    m.put("read_ratio", readRatio);
    m.put("key_size", keySize);
    m.put("value_size", valueSize);
    m.put("keys", keys);
    m.put("warmup_s", round(warmupSeconds, 1));
    m.put("duration_s", round(seconds, 3));
    m.put("ops", ops);
    m.put("errors", errors);
    m.put("ops_per_s", round(opsPerSecond(), 1));
    m.put("mean_ms", round(latencies.meanMs(), 3));
    m.put("p50_ms", round(latencies.p50Ms(), 3));
    m.put("p90_ms", round(latencies.p90Ms(), 3));
    m.put("p99_ms", round(latencies.p99Ms(), 3));
    m.put("p999_ms", round(latencies.p999Ms(), 3));
    m.put("max_ms", round(latencies.maxMs(), 3));
    m.put("generator_cpu", round(generatorCpu, 2));
    m.put("started", started);
    return m;
  }

  static double round(double v, int digits) {
    if (!Double.isFinite(v)) return v;
    double f = Math.pow(10, digits);
    return Math.round(v * f) / f;
  }
}
