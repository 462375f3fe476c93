package io.raftkv.server;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The class-data sharing archive that makes a node JVM start in about a third of the CPU: the
 * classes a node loads, parsed and verified once by a training run and mapped from the archive by
 * every later start. It lives next to the jar ({@code raftkv.jar} → {@code raftkv.jsa}) and is made
 * again when the jar is newer. The JVM checks that the archive matches the jar and the JDK, and runs
 * without it (slower, never wrong) when it does not.
 *
 * <p>The training run is a one-member node on free loopback ports that serves one PUT and one GET and
 * is then stopped with SIGTERM, on which the JVM writes the archive. Concurrent callers (three node
 * launches at once) wait on a lock file for the one run.
 *
 * <p>It lives with the node's bootstrap, below both {@code cli} (the {@code startup-archive}
 * command) and {@code bench} (node processes), so that neither of those shells imports the other.
 */
public final class StartupArchive {
  /**
   * JVM options for a node process: C1 only and the serial collector, which roughly halve the CPU
   * of three JVMs starting at once on two cores (docs/deployment.md).
   */
  public static final List<String> FAST_START_OPTIONS = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

  private static final Duration TRAINING_LIMIT = Duration.ofSeconds(90);
  /** The program the training run starts: named, not imported, as cli sits above this package. */
  private static final String MAIN = "io.raftkv.cli.Main";

  private StartupArchive() {}

  /** The archive of {@code jar}: its path with {@code .jsa} for {@code .jar}. */
  public static Path archiveOf(Path jar) {
    String name = jar.getFileName().toString();
    String base = name.endsWith(".jar") ? name.substring(0, name.length() - 4) : name;
    return jar.resolveSibling(base + ".jsa");
  }

  /** The one jar of {@code classpath}, if it is a single existing jar file (the CDS requirement). */
  public static Optional<Path> singleJar(String classpath) {
    if (classpath == null || classpath.contains(java.io.File.pathSeparator) || !classpath.endsWith(".jar")) return Optional.empty();
    Path jar = Path.of(classpath).toAbsolutePath();
    return Files.isRegularFile(jar) ? Optional.of(jar) : Optional.empty();
  }

  /**
   * The JVM options a node started from {@code classpath} should get: {@link #FAST_START_OPTIONS},
   * and the archive (made first if missing or stale) when the class path is a single jar.
   */
  public static List<String> nodeOptions(String classpath) {
    List<String> opts = new ArrayList<>(FAST_START_OPTIONS);
    singleJar(classpath).flatMap(StartupArchive::ensure).ifPresent(a -> opts.add("-XX:SharedArchiveFile=" + a));
    return opts;
  }

  /**
   * The archive of {@code jar}, made by a training run first if it is missing or older than the jar;
   * empty if it could not be made (the reason goes to stderr).
   */
  public static Optional<Path> ensure(Path jar) {
    Path archive = archiveOf(jar);
    try (FileChannel lockFile =
            FileChannel.open(archive.resolveSibling(archive.getFileName() + ".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock ignored = lockFile.lock()) {
      if (isCurrent(archive, jar)) return Optional.of(archive);
      train(jar, archive);
      return isCurrent(archive, jar) ? Optional.of(archive) : Optional.empty();
    } catch (IOException | RuntimeException e) {
      System.err.println("raftkv: no class-data archive for " + jar + " (" + e.getMessage() + "); starting without it");
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  private static boolean isCurrent(Path archive, Path jar) throws IOException {
    return Files.isRegularFile(archive) && Files.getLastModifiedTime(archive).compareTo(Files.getLastModifiedTime(jar)) >= 0;
  }

  private static void train(Path jar, Path archive) throws IOException, InterruptedException {
    Path work = Files.createTempDirectory("raftkv-training");
    Path written = work.resolve("raftkv.jsa");
    int[] ports = freePorts();
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> cmd = new ArrayList<>(List.of(java, "-XX:ArchiveClassesAtExit=" + written, "-Xlog:cds=off", "-Xlog:cds+dynamic=off"));
    cmd.addAll(FAST_START_OPTIONS);
    cmd.addAll(
        List.of(
            "-cp", jar.toString(), MAIN, "node", "--id", "0",
            "--members", "127.0.0.1:" + ports[0] + ":" + ports[1], "--data-dir", work.resolve("data").toString()));
    Process node = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(work.resolve("node.log").toFile()).start();
    try {
      String url = "http://127.0.0.1:" + ports[1] + "/v1/kv/training";
      HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
      serve(node, client, HttpRequest.newBuilder(URI.create(url)).PUT(HttpRequest.BodyPublishers.ofString("{\"value\":\"t\"}")));
      serve(node, client, HttpRequest.newBuilder(URI.create(url)).GET());
      node.destroy(); // SIGTERM: the JVM writes the archive as it exits
      if (!node.waitFor(TRAINING_LIMIT.toSeconds(), TimeUnit.SECONDS)) throw new IOException("the training node did not stop");
      if (!Files.isRegularFile(written)) throw new IOException("the training run wrote no archive (log: " + work.resolve("node.log") + ")");
      Files.move(written, archive, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      deleteTree(work);
    } finally {
      node.destroyForcibly();
    }
  }

  /**
   * Two TCP ports that were free a moment ago (bound to port 0 together, then released). Not
   * bench's NodeProcesses.freePorts: bench sits above this package.
   */
  private static int[] freePorts() throws IOException {
    try (ServerSocket a = new ServerSocket(0);
        ServerSocket b = new ServerSocket(0)) {
      return new int[] {a.getLocalPort(), b.getLocalPort()};
    }
  }

  /** Sends the request until it answers 200; every failure is retried within the training's limit. */
  private static void serve(Process node, HttpClient client, HttpRequest.Builder request) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + TRAINING_LIMIT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!node.isAlive()) throw new IOException("the training node exited with " + node.exitValue());
      try {
        if (client.send(request.timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200) return;
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new IOException("the training node did not answer within " + TRAINING_LIMIT.toSeconds() + " s");
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }
}
