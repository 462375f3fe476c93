package io.raftkv.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "get", description = "Print a key's value and version as JSON.")
final class GetCommand extends ClientCommand {
  @Mixin KeyArgument key;

  @Override
  public Integer call() {
    return finish(endpoints.client().send("GET", key.path(), null, true));
  }
}
