package io.raftkv.cli;

import io.raftkv.server.HttpApi;
import io.raftkv.server.NodeServer;
import io.raftkv.server.SelfSignedTls;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code raftkv demo}: a whole cluster in this JVM — several ActorSystems joined over Artery on
 * loopback, each with its data on disk and its own HTTP port. Ctrl-C stops it cleanly; the next
 * start finds the data again.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = "Run a local cluster in this JVM (3 nodes by default), with data under --data-dir.")
final class DemoCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--nodes", defaultValue = "3", description = "How many nodes (default: ${DEFAULT-VALUE}).")
  int nodes;

  @Option(names = "--data-dir", defaultValue = "raftkv-data", description = "Parent of node-N data directories (default: ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--http-port", defaultValue = "8081", description = "HTTP port of node 0; node N uses this + N (default: ${DEFAULT-VALUE}).")
  int httpPort;

  @Option(names = "--cluster-port", defaultValue = "25521", description = "Artery port of node 0; node N uses this + N (default: ${DEFAULT-VALUE}).")
  int clusterPort;

  @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to bind (default: ${DEFAULT-VALUE}).")
  String host;

  @Option(
      names = "--tls",
      description = "HTTPS and Artery over TLS, with a self-signed pair made (and kept) in --data-dir/tls by the JDK's keytool.")
  boolean tls;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (nodes < 1 || nodes > 9) {
      spec.commandLine().getErr().println("--nodes must be between 1 and 9");
      return Main.USAGE;
    }
    List<NodeServer.Member> members = new ArrayList<>();
    for (int i = 0; i < nodes; i++) members.add(new NodeServer.Member(host, clusterPort + i, host, httpPort + i));
    SelfSignedTls.Pair pair;
    try {
      pair = tls ? SelfSignedTls.ensure(dataDir.resolve("tls"), List.of(host), 30) : null;
    } catch (java.io.UncheckedIOException e) {
      spec.commandLine().getErr().println("raftkv demo: " + e.getMessage());
      return Main.NOT_STARTED;
    }
    List<NodeServer> servers = new ArrayList<>();
    // Each node stops on the JVM's shutdown (Ctrl-C), all of them at once.
    CountDownLatch stopped = new CountDownLatch(nodes);
    for (int i = 0; i < nodes; i++) {
      NodeServer.Settings s =
          new NodeServer.Settings(NodeCommand.DEFAULT_GROUP, i, members, dataDir.resolve("node-" + i), NodeCommand.DEFAULT_MAX_RAFT_STATE, HttpApi.Limits.defaults())
              .withTls(pair == null ? null : pair.settings());
      try {
        NodeServer server = NodeServer.start(s);
        server.stopOnJvmShutdown(stopped::countDown);
        servers.add(server);
      } catch (IllegalStateException e) {
        spec.commandLine().getErr().println("raftkv demo: " + e.getMessage());
        return Main.NOT_STARTED; // the exit runs the hooks, which stop the nodes already started
      }
    }
    out.println("raftkv demo: " + nodes + " nodes, data under " + dataDir.toAbsolutePath());
    for (NodeServer.Member m : members) out.println("  " + m.httpEndpoint(tls));
    String first = members.get(0).httpEndpoint(tls);
    String curl = pair == null ? "curl " : "curl --cacert " + pair.certificate().toAbsolutePath() + " ";
    if (pair != null) out.println("TLS on (HTTPS only, Artery over mutual TLS); the certificate: " + pair.certificate().toAbsolutePath());
    out.println("Try:");
    out.println("  " + curl + "-X PUT -d '{\"value\":\"hello\"}' " + first + "/v1/kv/greeting");
    out.println("  " + curl + members.get(members.size() - 1).httpEndpoint(tls) + "/v1/kv/greeting");
    out.println("  " + curl + first + "/v1/status");
    if (pair != null) {
      StringBuilder eps = new StringBuilder();
      for (NodeServer.Member m : members) eps.append(eps.length() == 0 ? "" : ",").append(m.httpEndpoint(true));
      out.println("  raftkv get greeting --endpoints " + eps + " --cacert " + pair.certificate().toAbsolutePath());
    }
    out.println("Ctrl-C stops the cluster.");
    out.flush();
    // One node that stops serving by itself (a disk failure) ends the demo with an error: a demo
    // quietly running on fewer nodes than it printed would mislead.
    for (NodeServer s : servers) {
      s.failed().thenAccept(reason -> new Thread(() -> {
        PrintWriter err = spec.commandLine().getErr();
        err.println("raftkv demo: node " + s.settings().id() + " no longer serves (" + reason + "), stopping");
        err.flush();
        Runtime.getRuntime().halt(NodeCommand.FAILED); // see NodeCommand: no graceful stop is due
      }, "raftkv-demo-exit").start());
    }
    stopped.await();
    return Main.OK;
  }
}
