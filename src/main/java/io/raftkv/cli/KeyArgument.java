package io.raftkv.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** The {@code KEY} argument of the key subcommands (get, put, append, delete): always the first. */
final class KeyArgument {
  @Spec(Spec.Target.MIXEE)
  CommandSpec mixee;

  @Parameters(index = "0", paramLabel = "KEY")
  String key;

  /** The key as a path segment; "." and ".." cannot be one (they are dot-segments). */
  String path() {
    if (key.isEmpty()) throw new ParameterException(mixee.commandLine(), "the key must not be empty");
    if (key.equals(".") || key.equals("..")) {
      throw new ParameterException(mixee.commandLine(), "the keys \".\" and \"..\" cannot be addressed over HTTP");
    }
    return "/v1/kv/" + HttpFailover.pathSegment(key);
  }
}
