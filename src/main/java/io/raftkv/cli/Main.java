package io.raftkv.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code raftkv}: the command line. The client subcommands talk to a cluster's HTTP API (see
 * docs/http-api.md), trying the {@code --endpoints} in turn until one answers.
 *
 * <p>Exit codes: {@value #OK} success; {@value #REFUSED} the store refused (ErrNoKey, ErrVersion);
 * {@value #UNAVAILABLE} no endpoint could answer, or a write's outcome is unknown (ErrMaybe);
 * {@value #NOT_STARTED} a node could not start (port in use, corrupt data directory);
 * {@value #USAGE} a usage error (bad arguments, or input the server rejected as malformed or too
 * large); {@value #NO_PERMISSION} the server refused the token (401, 403); {@value #SOFTWARE} an
 * internal error.
 */
@Command(
    name = "raftkv",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "A linearizable replicated key/value store: run a cluster (demo, node) or talk to one over HTTP.")
public final class Main implements Callable<Integer> {
  /**
   * The subcommands, in the order the usage lists them. Registered by {@link #commandLine(String...)}
   * rather than in the annotation: picocli builds the model of every registered command up front
   * (reflection, annotation proxies, the client commands' JSON mapper), which costs a node about
   * half a second of CPU at start-up for commands it never runs.
   */
  private static final List<Class<?>> SUBCOMMANDS =
      List.of(
          DemoCommand.class,
          NodeCommand.class,
          GetCommand.class,
          PutCommand.class,
          AppendCommand.class,
          DeleteCommand.class,
          StatusCommand.class,
          TransferLeaderCommand.class,
          MemberCommand.class,
          StartupArchiveCommand.class,
          io.raftkv.bench.BenchCommand.class,
          CommandLine.HelpCommand.class);

  static final String COMMON_PARALLELISM = "java.util.concurrent.ForkJoinPool.common.parallelism";

  public static final int OK = 0;
  public static final int REFUSED = 1;
  public static final int UNAVAILABLE = 2;
  /** A node could not start (port in use, unreadable or corrupt data directory). */
  public static final int NOT_STARTED = 3;
  public static final int USAGE = 64;
  /** The server refused the request's credentials (401: no or unknown token; 403: a read token on a write). */
  public static final int NO_PERMISSION = 77;
  public static final int SOFTWARE = 70;

  @Spec CommandSpec spec;

  public static void main(String[] args) {
    // Before anything touches CompletableFuture: see Stages. With fewer than two common-pool
    // threads the JDK runs async callbacks (Pekko's ask, pipeToSelf) on a new thread each.
    if (System.getProperty(COMMON_PARALLELISM) == null) System.setProperty(COMMON_PARALLELISM, "4");
    System.exit(commandLine(args).execute(args));
  }

  /**
   * The configured command line: usage errors exit with {@link #USAGE}, unexpected exceptions with
   * {@link #SOFTWARE}, in every subcommand. Tests capture output with {@code setOut}/{@code setErr}.
   */
  public static CommandLine commandLine() {
    return commandLine(new String[0]);
  }

  /**
   * The command line for running {@code args}: when they start with a subcommand's name, only that
   * subcommand is registered (usage, help and errors for it read the same); otherwise all are, for
   * the top-level usage, {@code help} and the unknown-command error.
   */
  static CommandLine commandLine(String... args) {
    CommandLine cl = new CommandLine(new Main());
    Class<?> only = args.length > 0 ? subcommandNamed(args[0]) : null;
    for (Class<?> c : SUBCOMMANDS) {
      if (only == null || c == only) cl.addSubcommand(c);
    }
    configure(cl);
    return cl;
  }

  private static Class<?> subcommandNamed(String name) {
    if (name.equals("help")) return null; // help lists the others
    for (Class<?> c : SUBCOMMANDS) {
      if (c.getAnnotation(Command.class).name().equals(name)) return c;
    }
    return null;
  }

  private static void configure(CommandLine cl) {
    cl.getCommandSpec().exitCodeOnInvalidInput(USAGE);
    cl.getCommandSpec().exitCodeOnExecutionException(SOFTWARE);
    for (CommandLine sub : cl.getSubcommands().values()) configure(sub);
  }

  /** Without a subcommand: the usage, as a usage error. */
  @Override
  public Integer call() {
    spec.commandLine().getErr().println("Missing a command.");
    spec.commandLine().usage(spec.commandLine().getErr());
    return USAGE;
  }

  /** The project version from the jar's Maven metadata (or its manifest); "unknown" elsewhere. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"raftkv " + version()};
    }

    static String version() {
      try (InputStream in = Main.class.getResourceAsStream("/META-INF/maven/io.raftkv/raftkv/pom.properties")) {
        if (in != null) {
          Properties p = new Properties();
          p.load(in);
          String v = p.getProperty("version");
          if (v != null) return v;
        }
      } catch (IOException e) {
        // fall through to the manifest
      }
      String v = Main.class.getPackage().getImplementationVersion();
      return v != null ? v : "unknown";
    }
  }
}
