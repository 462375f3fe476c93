package io.raftkv.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code raftkv member list|add|promote|demote|remove [ID]}: the group's membership
 * ({@code /v1/members}, docs/membership.md). {@code list} asks the first endpoint that answers;
 * a change goes to the endpoint whose node leads (its {@code /v1/status}) and waits until it is
 * committed. Exit 0 when done, 1 when refused (the answer says why), 2 when no leader answered.
 */
@Command(
    name = "member",
    description = {
      "List the group's members, or change them: add ID (as a learner: it catches up without counting),",
      "promote ID (to voter), demote ID (to learner), remove ID. Prints the answer as JSON."
    })
final class MemberCommand extends ClientCommand {
  @Parameters(index = "0", paramLabel = "ACTION", description = "list, add, promote, demote or remove")
  String action;

  @Parameters(index = "1", arity = "0..1", paramLabel = "ID", description = "The node's index in the nodes' --members list.")
  Integer id;

  @Override
  public Integer call() {
    HttpFailover http = endpoints.client();
    if (action.equals("list")) {
      if (id != null) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "list takes no ID");
      return finish(http.send("GET", "/v1/members", null, true));
    }
    String method;
    String path;
    switch (action) {
      case "add", "demote" -> {
        method = "POST";
        path = "/v1/members/" + requireId() + "?role=learner";
      }
      case "promote" -> {
        method = "POST";
        path = "/v1/members/" + requireId() + "?role=voter";
      }
      case "remove" -> {
        method = "DELETE";
        path = "/v1/members/" + requireId();
      }
      default -> throw new picocli.CommandLine.ParameterException(spec.commandLine(), "ACTION is list, add, promote, demote or remove, not " + action);
    }
    return atLeader(http, method, path);
  }

  private int requireId() {
    if (id == null || id < 0) throw new picocli.CommandLine.ParameterException(spec.commandLine(), action + " needs a node ID");
    return id;
  }
}
