package io.raftkv.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code raftkv transfer-leader [--to N]}: finds the endpoint whose node leads (its {@code
 * /v1/status}) and asks it to hand leadership on ({@code POST /v1/leader/transfer}). Exit 0 when the
 * transfer happened, 1 when the leader declined (the answer says why), 2 when no leader answered.
 */
@Command(
    name = "transfer-leader",
    description = {
      "Ask the current leader to hand leadership to node N (default: the most up-to-date follower).",
      "Prints the answer as JSON: {\"done\":true,\"leader\":n,\"term\":t} or an error."
    })
final class TransferLeaderCommand extends ClientCommand {
  @Option(names = "--to", paramLabel = "N", defaultValue = "-1", description = "The node to lead next (default: any up-to-date follower).")
  int to;

  @Override
  public Integer call() {
    if (to < -1) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--to must be a node id");
    HttpFailover http = endpoints.client();
    String path = "/v1/leader/transfer" + (to >= 0 ? "?to=" + to : "");
    for (URI endpoint : http.endpoints()) {
      HttpFailover.Answer status = http.sendTo(endpoint, "GET", "/v1/status", null);
      if (status == null || status.status() != 200 || !"leader".equals(field(status.body(), "role"))) continue;
      HttpFailover.Answer a = http.sendTo(endpoint, "POST", path, null);
      if (a == null) return finish(null);
      spec.commandLine().getOut().println(a.body());
      if (a.status() == 200) return Main.OK;
      return a.status() == 409 ? Main.REFUSED : exitCode(a.status(), errorOf(a.body()));
    }
    spec.commandLine()
        .getOut()
        .println(JSON.createObjectNode().put("error", "Unavailable").put("message", "no endpoint reports itself leader"));
    return Main.UNAVAILABLE;
  }

  private static String field(String body, String name) {
    try {
      JsonNode n = JSON.readTree(body);
      return n != null && n.path(name).isTextual() ? n.get(name).textValue() : null;
    } catch (IOException e) {
      return null;
    }
  }
}
