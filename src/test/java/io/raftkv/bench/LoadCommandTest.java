package io.raftkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code raftkv bench load}'s options, without a cluster. */
class LoadCommandTest {
  private static LoadCommand parse(String... args) {
    LoadCommand c = new LoadCommand();
    new CommandLine(c).parseArgs(args);
    return c;
  }

  @Test
  void defaultsAreTheDocumentedShape() {
    LoadCommand c = parse("--target", "raftkv-http");
    LoadBenchmark.Spec s = c.spec();
    assertEquals(LoadBenchmark.Workload.PUT, s.workload());
    assertEquals(List.of(1, 16, 64), s.clients());
    assertEquals(Duration.ofSeconds(15), s.duration());
    assertEquals(Duration.ofSeconds(3), s.warmup());
    assertEquals(16, s.keySize());
    assertEquals(128, s.valueSize());
    assertEquals(10000, s.keys());
    assertEquals(0.5, s.readRatio());
    assertEquals(false, s.preload());
    assertEquals(List.of(URI.create("http://127.0.0.1:8081"), URI.create("http://127.0.0.1:8082"), URI.create("http://127.0.0.1:8083")), c.uris());
    assertEquals(List.of(URI.create("http://127.0.0.1:2379")), parse("--target", "etcd-grpc").uris());
  }

  @Test
  void everyOptionIsRead() {
    LoadCommand c =
        parse("--target", "etcd-http", "--endpoints", "http://127.0.0.1:2379/,http://127.0.0.1:22379", "--op", "mixed", "--read-ratio", "0.9",
            "--clients", "2,8", "--duration", "1.5s", "--warmup", "500ms", "--key-size", "8", "--value-size", "1024", "--keys", "100",
            "--preload", "--timeout", "PT2S");
    LoadBenchmark.Spec s = c.spec();
    assertEquals(LoadBenchmark.Workload.MIXED, s.workload());
    assertEquals(0.9, s.readRatio());
    assertEquals(List.of(2, 8), s.clients());
    assertEquals(Duration.ofMillis(1500), s.duration());
    assertEquals(Duration.ofMillis(500), s.warmup());
    assertEquals(8, s.keySize());
    assertEquals(1024, s.valueSize());
    assertEquals(100, s.keys());
    assertTrue(s.preload());
    assertEquals(Duration.ofSeconds(2), s.timeout());
    assertEquals(List.of(URI.create("http://127.0.0.1:2379"), URI.create("http://127.0.0.1:22379")), c.uris());
    assertEquals(0.9, LoadBenchmark.Workload.MIXED.readShare(s.readRatio()));
    assertEquals(1.0, LoadBenchmark.Workload.GET.readShare(s.readRatio()));
  }

  @Test
  void durationsTakeUnitsOrIso() {
    assertEquals(Duration.ofMinutes(2), LoadCommand.DurationConverter.parse("2m"));
    assertEquals(Duration.ofMillis(250), LoadCommand.DurationConverter.parse("250ms"));
    assertEquals(Duration.ofHours(1), LoadCommand.DurationConverter.parse("1h"));
    assertEquals(Duration.ofSeconds(15), LoadCommand.DurationConverter.parse("PT15S"));
    assertThrows(CommandLine.TypeConversionException.class, () -> LoadCommand.DurationConverter.parse("soon"));
  }

  @Test
  void keysArePaddedToTheirSize() {
    assertEquals("k000000000000042", LoadBenchmark.key(42, 16));
    assertEquals("k9999", LoadBenchmark.key(9999, 5));
    assertEquals(16, LoadBenchmark.key(0, 16).length());
  }

  @Test
  void badArgumentsAreUsageErrors() {
    assertUsage("bench", "load", "--target", "zookeeper");
    assertUsage("bench", "load", "--target", "raftkv-http", "--op", "delete");
    assertUsage("bench", "load", "--target", "raftkv-http", "--key-size", "4", "--keys", "10000");
    assertUsage("bench", "load", "--target", "raftkv-http", "--clients", "0");
    assertUsage("bench", "load", "--target", "raftkv-http", "--read-ratio", "1.5");
    assertUsage("bench", "load", "--target", "raftkv-http", "--duration", "0s");
    assertUsage("bench", "load", "--target", "raftkv-http", "--endpoints", "https://127.0.0.1:8081");
    assertUsage("bench", "load", "--target", "etcd-http", "--op", "append");
    assertUsage("bench", "load", "--target", "raftkv-http", "--client", "curl");
    assertUsage("bench", "compare", "--ratio", "nothing", "x.csv");
  }

  private static void assertUsage(String... args) {
    CommandLine cl = Main.commandLine();
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err));
    cl.setOut(new PrintWriter(new StringWriter()));
    assertEquals(64, cl.execute(args), String.join(" ", args) + ": " + err);
  }
}
