package io.raftkv.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code raftkv bench load}: a closed-loop load against running endpoints (raftkv's HTTP API, or
 * etcd's JSON gateway or gRPC), one run per number of clients; a progress line a second on
 * stderr, a table on stdout, and CSV/JSON files if asked for. See {@link LoadBenchmark}.
 */
@Command(
    name = "load",
    mixinStandardHelpOptions = true,
    description = {
      "Closed-loop load against running endpoints: each client keeps one request outstanding, the next sent when it completes.",
      "One run per --clients count: --warmup (not counted), then --duration measured (ops/s, latency percentiles, errors)."
    })
final class LoadCommand implements Callable<Integer> {
  static final String RAFTKV_ENDPOINTS = "http://127.0.0.1:8081,http://127.0.0.1:8082,http://127.0.0.1:8083";
  static final String ETCD_ENDPOINTS = "http://127.0.0.1:2379";

  @Spec CommandSpec spec;

  @Option(names = "--target", required = true, paramLabel = "KIND", description = "raftkv-http, etcd-http (etcd's JSON gateway) or etcd-grpc (etcd's gRPC KV over HTTP/2).")
  String target;

  @Option(names = "--endpoints", split = ",", paramLabel = "URL", description = "http://host:port of each member; client i uses endpoint i mod n (default: " + RAFTKV_ENDPOINTS + " for raftkv, " + ETCD_ENDPOINTS + " for etcd).")
  List<String> endpoints;

  @Option(names = "--op", defaultValue = "put", paramLabel = "OP", description = "put, get, mixed or append (raftkv only) (default: ${DEFAULT-VALUE}).")
  String op;

  @Option(names = "--read-ratio", defaultValue = "0.5", paramLabel = "R", description = "Share of reads in --op mixed (default: ${DEFAULT-VALUE}).")
  double readRatio;

  @Option(names = "--clients", split = ",", defaultValue = "1,16,64", paramLabel = "N", description = "Numbers of clients, one run each (default: ${DEFAULT-VALUE}).")
  List<Integer> clients;

  @Option(names = "--duration", defaultValue = "15s", converter = DurationConverter.class, description = "Measured time of each run (default: ${DEFAULT-VALUE}).")
  Duration duration;

  @Option(names = "--warmup", defaultValue = "3s", converter = DurationConverter.class, description = "Unmeasured load before each run's measurement (default: ${DEFAULT-VALUE}).")
  Duration warmup;

  @Option(names = "--jit-warmup-max", defaultValue = "60s", converter = DurationConverter.class, description = "After --warmup, the warm-up goes on while this JVM's JIT is still busy (over " + LoadBenchmark.JIT_BUSY_MS_PER_SECOND + " ms of compilation a second), up to this long in all; 0s: just --warmup (default: ${DEFAULT-VALUE}).")
  Duration jitWarmupMax;

  @Option(names = "--key-size", defaultValue = "16", description = "Key length in bytes (default: ${DEFAULT-VALUE}).")
  int keySize;

  @Option(names = "--value-size", defaultValue = "128", description = "Value length in bytes (default: ${DEFAULT-VALUE}).")
  int valueSize;

  @Option(names = "--keys", defaultValue = "10000", description = "Key space: keys are chosen uniformly among this many (default: ${DEFAULT-VALUE}).")
  int keys;

  @Option(names = "--preload", description = "Write every key once before the runs.")
  boolean preload;

  @Option(names = "--timeout", defaultValue = "10s", converter = DurationConverter.class, description = "Per-request timeout, counted as an error (default: ${DEFAULT-VALUE}).")
  Duration timeout;

  @Option(names = "--connections", defaultValue = "0", description = "etcd-grpc: HTTP/2 connections the clients share (0: one per client, as HTTP/1.1 needs) (default: ${DEFAULT-VALUE}).")
  int connections;

  @Option(names = "--client", defaultValue = "nio", paramLabel = "KIND", description = "The HTTP clients: nio (the benchmark's own HTTP/1.1 and HTTP/2, tens of microseconds of CPU a request) or pekko (pekko-http's, 0.4-1 ms a request on 2 cores) (default: ${DEFAULT-VALUE}).")
  String client;

  @Option(names = "--seed", defaultValue = "1", description = "Seed of the key choice and the values (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--csv", paramLabel = "FILE", description = "Write one CSV row per run (rewritten after each run).")
  Path csv;

  @Option(names = "--json", paramLabel = "FILE", description = "Write a JSON array, one object per run (rewritten after each run).")
  Path json;

  @Option(names = "--quiet", description = "No progress lines on stderr.")
  boolean quiet;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (!LoadTargets.NAMES.contains(target)) throw new ParameterException(spec.commandLine(), "--target: one of " + String.join(", ", LoadTargets.NAMES));
    LoadBenchmark.Spec s = spec();
    List<URI> uris = uris();
    if (s.workload() == LoadBenchmark.Workload.APPEND && !target.equals(LoadTargets.RAFTKV_HTTP)) {
      throw new ParameterException(spec.commandLine(), "--op append: " + target + " has no append");
    }
    if (connections < 0) throw new ParameterException(spec.commandLine(), "--connections must be >= 0");
    if (!client.equals("nio") && !client.equals("pekko")) throw new ParameterException(spec.commandLine(), "--client: nio or pekko");
    PrintStream progress = quiet ? new PrintStream(PrintStream.nullOutputStream()) : System.err;
    boolean pekko = client.equals("pekko");
    // the benchmark's own clients need no ActorSystem: none is started, to keep the generator light
    ActorSystem<Void> system = pekko ? ActorSystem.create(Behaviors.empty(), "raftkv-bench", config()) : null;
    try (LoadTarget t = LoadTargets.create(target, new LoadTarget.Settings(system, uris, timeout, connections, pekko))) {
      List<LoadResult> done = new ArrayList<>();
      new LoadBenchmark(t, s, progress).run(r -> {
        done.add(r);
        if (csv != null) LoadReport.write(csv, LoadReport.csv(done));
        if (json != null) LoadReport.write(json, LoadReport.json(done));
      });
      out.print(LoadReport.table(done));
      out.flush();
      // 2, as the client commands: a run without one acknowledged request found no service
      return done.stream().anyMatch(r -> r.ops() == 0) ? 2 : 0;
    } finally {
      if (system != null) {
        system.terminate();
        system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
      }
    }
  }

  LoadBenchmark.Spec spec() {
    LoadBenchmark.Workload w;
    try {
      w = LoadBenchmark.Workload.valueOf(op.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "--op: put, get, mixed or append, not " + op);
    }
    if (timeout.isNegative() || timeout.isZero()) throw new ParameterException(spec.commandLine(), "--timeout must be positive");
    try {
      return new LoadBenchmark.Spec(w, clients, duration, warmup, jitWarmupMax, keySize, valueSize, keys, readRatio, preload, timeout, seed);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  List<URI> uris() {
    List<String> list = endpoints != null ? endpoints : List.of((target.startsWith("etcd") ? ETCD_ENDPOINTS : RAFTKV_ENDPOINTS).split(","));
    List<URI> uris = new ArrayList<>();
    for (String e : list) {
      String str = e.strip().replaceAll("/+$", "");
      URI u;
      try {
        u = URI.create(str);
      } catch (IllegalArgumentException ex) {
        throw new ParameterException(spec.commandLine(), "not a URL: " + e);
      }
      if (!"http".equals(u.getScheme()) || u.getHost() == null || u.getPort() < 0 || (u.getPath() != null && !u.getPath().isEmpty())) {
        throw new ParameterException(spec.commandLine(), "an endpoint is http://host:port (plaintext), not " + e);
      }
      uris.add(u);
    }
    if (uris.isEmpty()) throw new ParameterException(spec.commandLine(), "no endpoints");
    return uris;
  }

  /**
   * The load generator's ActorSystem: local only (not the node's cluster settings of
   * application.conf), and a dispatcher sized to the cores rather than Pekko's minimum of 8.
   */
  static Config config() {
    Config own =
        ConfigFactory.parseString(
            String.join(
                "\n",
                "pekko.actor.provider = local",
                "pekko.loglevel = WARNING",
                "pekko.loggers = [\"org.apache.pekko.event.slf4j.Slf4jLogger\"]",
                "pekko.logging-filter = \"org.apache.pekko.event.slf4j.Slf4jLoggingFilter\"",
                "pekko.log-dead-letters = off",
                "pekko.log-dead-letters-during-shutdown = off",
                "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off",
                "pekko.actor.default-dispatcher.fork-join-executor { parallelism-min = 2, parallelism-factor = 1.0, parallelism-max = 4 }",
                "pekko.http.client.user-agent-header = raftkv-bench"));
    return ConfigFactory.defaultOverrides().withFallback(own).withFallback(ConfigFactory.defaultReference()).resolve();
  }

  /** "15s", "500ms", "2m", "1.5s" or ISO-8601 ("PT15S"). */
  static final class DurationConverter implements ITypeConverter<Duration> {
    private static final Pattern SIMPLE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h)");

    @Override
    public Duration convert(String value) {
      return parse(value);
    }

    static Duration parse(String value) {
      String v = value.strip().toLowerCase(Locale.ROOT);
      Matcher m = SIMPLE.matcher(v);
      if (m.matches()) {
        double n = Double.parseDouble(m.group(1));
        double millis = switch (m.group(2)) {
          case "ms" -> n;
          case "s" -> n * 1000;
          case "m" -> n * 60_000;
          default -> n * 3_600_000;
        };
        return Duration.ofMillis(Math.round(millis));
      }
      try {
        return Duration.parse(value.strip());
      } catch (java.time.format.DateTimeParseException e) {
        throw new picocli.CommandLine.TypeConversionException("not a duration (e.g. 15s, 500ms, 2m): " + value);
      }
    }
  }
}
