package io.raftkv.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(
    name = "delete",
    description = {
      "Delete a key. With --version N, only if the key's version is N.",
      "Exactly once, even when retried on another endpoint."
    })
final class DeleteCommand extends ClientCommand {
  @Mixin KeyArgument key;

  @Mixin VersionOption expected;

  @Override
  public Integer call() {
    String path = key.path();
    Long version = expected.get();
    String query = "?client=" + newClientId() + "&seq=1" + (version != null ? "&version=" + version : "");
    return finish(endpoints.client().send("DELETE", path + query, null, true));
  }
}
