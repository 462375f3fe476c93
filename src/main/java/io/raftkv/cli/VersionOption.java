package io.raftkv.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code --version N} of the conditional writes (put, delete): the version the key must have. */
final class VersionOption {
  @Spec(Spec.Target.MIXEE)
  CommandSpec mixee;

  @Option(names = "--version", paramLabel = "N", description = "The version the key must have.")
  Long version;

  /** The version asked for, or null if none; a negative one is a usage error. */
  Long get() {
    if (version != null && version < 0) throw new ParameterException(mixee.commandLine(), "--version must not be negative");
    return version;
  }
}
