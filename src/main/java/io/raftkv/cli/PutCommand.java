package io.raftkv.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(
    name = "put",
    description = {
      "Write a key. With --version N, only if the key's version is N (0: only if absent).",
      "Exactly once, even when retried on another endpoint."
    })
final class PutCommand extends ClientCommand {
  @Mixin KeyArgument key;

  @Parameters(index = "1", paramLabel = "VALUE")
  String value;

  @Mixin VersionOption expected;

  @Override
  public Integer call() {
    String path = key.path();
    Long version = expected.get();
    ObjectNode body = JSON.createObjectNode().put("value", value);
    if (version != null) body.put("version", version);
    body.put("client", newClientId()).put("seq", 1);
    return finish(endpoints.client().send("PUT", path, body.toString(), true));
  }
}
