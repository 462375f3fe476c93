package io.raftkv.bench;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code raftkv bench}: benchmarks run against local processes; one subcommand per benchmark. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Benchmarks against a cluster of local processes.",
    subcommands = {RecoveryCommand.class, LoadCommand.class, CompareCommand.class})
public final class BenchCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().getErr().println("Missing a benchmark.");
    spec.commandLine().usage(spec.commandLine().getErr());
    return 64;
  }
}
