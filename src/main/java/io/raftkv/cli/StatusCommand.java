package io.raftkv.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "status",
    description = {
      "Print a node's Raft state (role, term, leader, indexes, sizes) as JSON.",
      "With --all, one line per endpoint, each with an \"endpoint\" field."
    })
final class StatusCommand extends ClientCommand {
  @Option(names = "--all", description = "Ask every endpoint; exit 2 if any did not answer.")
  boolean all;

  @Override
  public Integer call() {
    HttpFailover http = endpoints.client();
    if (!all) return finish(http.send("GET", "/v1/status", null, true));
    PrintWriter out = spec.commandLine().getOut();
    int code = Main.OK;
    for (URI endpoint : http.endpoints()) {
      HttpFailover.Answer a = http.sendTo(endpoint, "GET", "/v1/status", null);
      ObjectNode line = JSON.createObjectNode().put("endpoint", endpoint.toString());
      JsonNode body = parse(a);
      if (a != null && a.status() == 200 && body instanceof ObjectNode o) {
        line.setAll(o);
      } else {
        line.put("error", "Unavailable");
        code = Main.UNAVAILABLE;
      }
      out.println(line);
    }
    return code;
  }

  private static JsonNode parse(HttpFailover.Answer a) {
    if (a == null) return null;
    try {
      return JSON.readTree(a.body());
    } catch (IOException e) {
      return null;
    }
  }
}
