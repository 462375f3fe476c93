package io.raftkv.bench;

import io.raftkv.server.StartupArchive;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * A fixed set of node processes on this machine, started from a command line per node id, with
 * the faults a benchmark or a chaos test injects: SIGKILL, SIGTERM, SIGSTOP and SIGCONT.
 *
 * <p>Every process this class starts is reaped: by {@link #close} (kill -9, then wait), and by a
 * JVM shutdown hook if the owner never gets there. A paused process is resumed before it is
 * killed, so that no stopped process outlives its owner. Each node's stdout and stderr are appended
 * to {@code <logDir>/node-<id>.log}.
 *
 * <p>Thread-safe: faults come from one thread while probes ask {@link #isRunning} from others.
 */
public final class NodeProcesses implements AutoCloseable {
  private final IntFunction<List<String>> command;
  private final Path logDir;
  private final Process[] procs;
  private final boolean[] paused;
  private final Thread reaper;
  private boolean closed;

  /**
   * @param n the number of nodes, ids 0 to n-1
   * @param command the command line of node {@code id}
   * @param logDir where the nodes' output goes (created if absent)
   */
  public NodeProcesses(int n, IntFunction<List<String>> command, Path logDir) {
    this.command = command;
    this.logDir = logDir;
    this.procs = new Process[n];
    this.paused = new boolean[n];
    try {
      Files.createDirectories(logDir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    this.reaper = new Thread(this::killAll, "node-processes-reaper");
    Runtime.getRuntime().addShutdownHook(reaper);
  }

  /**
   * The command line of a {@code raftkv node} process run from this JVM's class path.
   *
   * @param members every member as {@code host:clusterPort:httpPort}
   * @param dataRoot node {@code i} keeps its data in {@code dataRoot/node-i}
   */
  public static IntFunction<List<String>> raftkvNode(List<String> members, Path dataRoot) {
    String java = ProcessHandle.current().info().command().orElse("java");
    String classpath = System.getProperty("java.class.path");
    // the start-up options docs/deployment.md recommends; the class-data archive only when run
    // from the jar (bench recovery), as the JVM archives no classes from directories
    List<String> jvm = StartupArchive.nodeOptions(classpath);
    return id -> {
      List<String> cmd = new ArrayList<>(List.of(java, "-Xmx256m"));
      cmd.addAll(jvm);
      cmd.addAll(
          List.of(
              "-Djava.util.concurrent.ForkJoinPool.common.parallelism=4",
              // the node's INFO lines (roles, transfers, stops) also where a logback-test.xml is
              // on the class path, as under mvn test
              "-Draftkv.log=INFO",
              "-cp",
              classpath,
              "io.raftkv.cli.Main",
              "node",
              "--id",
              Integer.toString(id),
              "--members",
              String.join(",", members),
              "--data-dir",
              dataRoot.resolve("node-" + id).toString()));
      return cmd;
    };
  }

  public int size() {
    return procs.length;
  }

  /** Starts node {@code id}; it must not be running. */
  public synchronized void start(int id) {
    if (closed) throw new IllegalStateException("closed");
    if (procs[id] != null && procs[id].isAlive()) throw new IllegalStateException("n" + id + " is running");
    ProcessBuilder pb = new ProcessBuilder(command.apply(id));
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log(id).toFile()));
    try {
      procs[id] = pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException("starting n" + id, e);
    }
    paused[id] = false;
  }

  /** Whether node {@code id}'s process exists (it may be paused). */
  public synchronized boolean isRunning(int id) {
    return procs[id] != null && procs[id].isAlive();
  }

  /** Whether node {@code id} is running and not paused. */
  public synchronized boolean isServing(int id) {
    return isRunning(id) && !paused[id];
  }

  public synchronized long pid(int id) {
    return procs[id].pid();
  }

  /** The process of node {@code id}, or null if it was never started. */
  public synchronized Process process(int id) {
    return procs[id];
  }

  /** SIGKILL, and waits until the process is gone. */
  public void kill(int id) {
    Process p;
    synchronized (this) {
      p = procs[id];
      if (p == null) return;
      if (paused[id]) signal(id, "CONT"); // a stopped process dies of SIGKILL too, but never leave one behind
      paused[id] = false;
      p.destroyForcibly();
    }
    awaitExit(p, 10);
  }

  /** SIGTERM (a graceful stop); does not wait. */
  public synchronized void terminate(int id) {
    if (procs[id] != null) procs[id].destroy();
  }

  /**
   * Waits up to {@code seconds} for node {@code id} to exit and returns its exit code, or throws
   * if it is still running then.
   */
  public int awaitExit(int id, long seconds) {
    Process p;
    synchronized (this) {
      p = procs[id];
    }
    return awaitExit(p, seconds);
  }

  private static int awaitExit(Process p, long seconds) {
    try {
      if (!p.waitFor(seconds, TimeUnit.SECONDS)) throw new IllegalStateException("pid " + p.pid() + " still running after " + seconds + " s");
      return p.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** SIGSTOP: the process freezes (its sockets stay open, nothing answers). */
  public synchronized void pause(int id) {
    signal(id, "STOP");
    paused[id] = true;
  }

  /** SIGCONT after {@link #pause}. */
  public synchronized void resume(int id) {
    signal(id, "CONT");
    paused[id] = false;
  }

  public synchronized boolean isPaused(int id) {
    return paused[id];
  }

  private void signal(int id, String sig) {
    Process p = procs[id];
    if (p == null || !p.isAlive()) throw new IllegalStateException("n" + id + " is not running");
    try {
      Process kill = new ProcessBuilder("kill", "-" + sig, Long.toString(p.pid())).redirectErrorStream(true).start();
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        kill.destroyForcibly();
        throw new IllegalStateException("kill -" + sig + " " + p.pid() + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  public Path log(int id) {
    return logDir.resolve("node-" + id + ".log");
  }

  /** The last {@code lines} lines of every node's log, for a failure message. */
  public String tailLogs(int lines) {
    StringBuilder b = new StringBuilder("logs in ").append(logDir);
    for (int i = 0; i < procs.length; i++) {
      b.append("\n--- n").append(i).append(" (last ").append(lines).append(" lines)\n");
      try {
        List<String> all = Files.readAllLines(log(i));
        for (String l : all.subList(Math.max(0, all.size() - lines), all.size())) b.append(l).append('\n');
      } catch (IOException e) {
        b.append("(no log)\n");
      }
    }
    return b.toString();
  }

  /** Kills every process and waits for each; idempotent. */
  @Override
  public void close() {
    killAll();
    synchronized (this) {
      closed = true;
    }
    try {
      Runtime.getRuntime().removeShutdownHook(reaper);
    } catch (IllegalStateException e) {
      // the JVM is already shutting down; the hook is running or ran
    }
  }

  private void killAll() {
    List<Process> dying = new ArrayList<>();
    synchronized (this) {
      for (int i = 0; i < procs.length; i++) {
        Process p = procs[i];
        if (p == null || !p.isAlive()) continue;
        if (paused[i]) {
          try {
            signal(i, "CONT");
          } catch (RuntimeException e) {
            // SIGKILL below ends it anyway
          }
          paused[i] = false;
        }
        p.destroyForcibly();
        dying.add(p);
      }
    }
    for (Process p : dying) {
      try {
        p.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /**
   * {@code count} distinct TCP ports that were free a moment ago (all bound to port 0 at once, read
   * back, then released).
   */
  public static int[] freePorts(int count) {
    List<ServerSocket> held = new ArrayList<>();
    try {
      int[] ports = new int[count];
      for (int i = 0; i < count; i++) {
        ServerSocket s = new ServerSocket(0);
        held.add(s);
        ports[i] = s.getLocalPort();
      }
      return ports;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      for (ServerSocket s : held) {
        try {
          s.close();
        } catch (IOException e) {
          // nothing to do
        }
      }
    }
  }
}
