package io.raftkv.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(
    name = "append",
    description = "Append to a key's value (creating it). Exactly once, even when retried on another endpoint.")
final class AppendCommand extends ClientCommand {
  @Mixin KeyArgument key;

  @Parameters(index = "1", paramLabel = "VALUE")
  String value;

  @Override
  public Integer call() {
    String path = key.path() + "/append";
    ObjectNode body = JSON.createObjectNode().put("value", value).put("client", newClientId()).put("seq", 1);
    return finish(endpoints.client().send("POST", path, body.toString(), true));
  }
}
