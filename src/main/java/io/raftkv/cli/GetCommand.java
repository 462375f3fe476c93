package io.raftkv.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "get", description = "Print a key's value and version as JSON.")
final class GetCommand extends ClientCommand {
  @Parameters(index = "0", paramLabel = "KEY")
  String key;

  @Override
  public Integer call() {
    return finish(endpoints.client().send("GET", keyPath(key), null, true));
  }
}
