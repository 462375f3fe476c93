package io.raftkv.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.raftkv.server.HttpApi;
import io.raftkv.server.NodeJoin;
import io.raftkv.server.NodeServer;
import java.io.File;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code raftkv node}: one node of a cluster whose nodes run in separate processes or machines.
 * Every node is given the same member list; a member is {@code host:clusterPort:httpPort}.
 */
@Command(
    name = "node",
    mixinStandardHelpOptions = true,
    description = {
      "Run one node of a multi-process or multi-machine cluster.",
      "Give either --config FILE (HOCON, see docs/deployment.md), or --id, --members and --data-dir,",
      "or, for a node joining a running cluster, --join, --address and --data-dir (docs/membership.md).",
      "Exits 3 if the node cannot start, 4 if it stops serving by itself (e.g. its disk fails); SIGTERM stops it (exit 0)."
    })
final class NodeCommand implements Callable<Integer> {
  /** Exit code of a node that stopped serving by itself (persist failure, quarantine, fatal error). */
  static final int FAILED = 4;

  /** The Raft group's name without --group or a config's group; the demo's nodes always. */
  static final String DEFAULT_GROUP = "kv";

  /** The log size in bytes that triggers a snapshot, without --max-raft-state; the demo's always. */
  static final int DEFAULT_MAX_RAFT_STATE = 8 << 20;

  @Spec CommandSpec spec;

  @Option(names = "--config", paramLabel = "FILE", description = "HOCON file with a raftkv.node section.")
  File config;

  @Option(names = "--id", defaultValue = "-1", description = "This node's index in --members.")
  int id;

  @Option(
      names = "--members",
      split = ",",
      paramLabel = "HOST:CLUSTER_PORT:HTTP_PORT",
      description = "Every node of the cluster, in id order, the same on every node.")
  List<String> members;

  @Option(names = "--data-dir", paramLabel = "DIR", description = "This node's data directory.")
  Path dataDir;

  @Option(names = "--http-host", description = "Address the HTTP API binds to (default: the member's host).")
  String httpHost;

  @Option(names = "--group", defaultValue = DEFAULT_GROUP, description = "The Raft group's name (default: ${DEFAULT-VALUE}).")
  String group;

  @Option(names = "--max-raft-state", defaultValue = "" + DEFAULT_MAX_RAFT_STATE, description = "Snapshot when the log reaches this many bytes (default: ${DEFAULT-VALUE}).")
  int maxRaftState;

  @Option(
      names = "--voters",
      split = ",",
      paramLabel = "ID",
      description = "The group's voters when it starts, e.g. 0,1,2 (default: every member). The other members start outside the group, until `raftkv member add` adds them (docs/membership.md).")
  List<Integer> voters;

  @Option(
      names = "--join",
      split = ",",
      paramLabel = "URL",
      description = "Join the running cluster at these HTTP endpoints: it gives this node its id and member list, and adds it as a learner (then `raftkv member promote ID`). A restart with the same data directory comes back as the same node.")
  List<java.net.URI> join;

  @Option(names = "--address", paramLabel = "HOST:CLUSTER_PORT:HTTP_PORT", description = "With --join: where this node listens, as the others will reach it.")
  String address;

  @Option(names = "--join-timeout", defaultValue = "60", paramLabel = "SECONDS", description = "With --join: how long to keep asking the cluster (default: ${DEFAULT-VALUE}).")
  int joinTimeoutSeconds;

  @Mixin NodeSecurityOptions security;

  @Override
  public Integer call() throws Exception {
    NodeServer.Settings settings;
    try {
      settings = join != null ? fromJoin() : config != null ? fromConfig() : fromFlags();
    } catch (NodeJoin.JoinFailed | java.io.IOException e) {
      spec.commandLine().getErr().println("raftkv node: cannot join: " + e.getMessage());
      return Main.NOT_STARTED;
    }
    NodeServer server;
    try {
      server = NodeServer.start(settings);
    } catch (IllegalStateException e) {
      spec.commandLine().getErr().println("raftkv node: " + e.getMessage());
      return Main.NOT_STARTED;
    }
    PrintWriter out = spec.commandLine().getOut();
    out.println("raftkv node " + settings.id() + " of " + settings.members().size() + ": HTTP on "
        + settings.httpEndpoint() + ", cluster on " + settings.self().seedAddress() + ", data in " + settings.dataDir().toAbsolutePath());
    out.flush();
    CountDownLatch stopped = new CountDownLatch(1);
    server.stopOnJvmShutdown(stopped::countDown);
    // A node that no longer serves must not linger: exit so that a supervisor restarts it. From a
    // thread of its own: the callback runs on one of the system's threads.
    server.failed().thenAccept(reason -> new Thread(() -> {
      PrintWriter err = spec.commandLine().getErr();
      err.println("raftkv node " + settings.id() + ": no longer serves (" + reason + "), exiting");
      err.flush();
      // halt, not exit: the shutdown hook's graceful stop (leave the cluster, hand leadership on)
      // means nothing for a node that no longer serves and would delay the exit by seconds.
      // Nothing is lost: the storage made everything it acknowledged durable.
      Runtime.getRuntime().halt(FAILED);
    }, "raftkv-node-exit").start());
    stopped.await();
    return Main.OK;
  }

  private NodeServer.Settings fromFlags() {
    if (id < 0 || members == null || members.isEmpty() || dataDir == null) {
      throw new ParameterException(spec.commandLine(), "need --config FILE, or all of --id, --members and --data-dir");
    }
    return security.apply(settings(id, members, dataDir, httpHost, group, maxRaftState, voters), null, spec.commandLine());
  }

  private NodeServer.Settings fromJoin() throws NodeJoin.JoinFailed, java.io.IOException, InterruptedException {
    if (address == null || dataDir == null) throw new ParameterException(spec.commandLine(), "--join needs --address and --data-dir");
    if (config != null || id >= 0 || members != null || voters != null) {
      throw new ParameterException(spec.commandLine(), "--join takes the id and the members from the cluster: no --config, --id, --members or --voters");
    }
    NodeServer.Member self;
    try {
      self = NodeServer.Member.parse(address);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "--address: " + e.getMessage());
    }
    // TLS and tokens first, on a placeholder: asking the cluster needs the trust and a token
    NodeServer.Settings alone = security.apply(new NodeServer.Settings(group, 0, List.of(self), dataDir, maxRaftState, HttpApi.Limits.defaults()), null, spec.commandLine());
    NodeJoin.Identity me =
        NodeJoin.joinOrRecorded(
            join, self.spec(), dataDir, java.time.Duration.ofSeconds(joinTimeoutSeconds),
            alone.tls() == null ? null : alone.tls().sslContext(), security.joinToken());
    return security.apply(settings(me.id(), me.addresses(), dataDir, httpHost, group, maxRaftState, new ArrayList<>(me.voters())), null, spec.commandLine());
  }

  private NodeServer.Settings fromConfig() {
    if (!config.isFile()) throw new ParameterException(spec.commandLine(), "no such config file: " + config);
    Config c;
    try {
      c = ConfigFactory.parseFile(config).resolve().getConfig("raftkv.node");
      return security.apply(settings(
          c.getInt("id"),
          c.getStringList("members"),
          Path.of(c.getString("data-dir")),
          c.hasPath("http-host") ? c.getString("http-host") : null,
          c.hasPath("group") ? c.getString("group") : DEFAULT_GROUP,
          c.hasPath("max-raft-state") ? c.getInt("max-raft-state") : DEFAULT_MAX_RAFT_STATE,
          c.hasPath("voters") ? c.getIntList("voters") : voters), c, spec.commandLine());
    } catch (com.typesafe.config.ConfigException e) {
      throw new ParameterException(spec.commandLine(), "bad config " + config + ": " + e.getMessage());
    }
  }

  private NodeServer.Settings settings(
      int id, List<String> specs, Path dir, String httpHost, String group, int maxRaftState, List<Integer> voters) {
    List<NodeServer.Member> ms = new ArrayList<>();
    for (int i = 0; i < specs.size(); i++) {
      try {
        NodeServer.Member m = NodeServer.Member.parse(specs.get(i));
        ms.add(i == id && httpHost != null ? m.bindingHttpTo(httpHost) : m);
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), e.getMessage());
      }
    }
    if (id < 0 || id >= ms.size()) throw new ParameterException(spec.commandLine(), "--id " + id + " is not one of the " + ms.size() + " members");
    try {
      return new NodeServer.Settings(group, id, ms, dir, maxRaftState, HttpApi.Limits.defaults())
          .withVoters(voters == null ? null : new java.util.TreeSet<>(voters));
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "--voters: " + e.getMessage());
    }
  }
}
