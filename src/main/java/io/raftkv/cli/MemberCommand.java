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
  @Parameters(index = "0", paramLabel = "ACTION", description = "list, add, promote, demote, remove or change")
  String action;

  @Parameters(
      index = "1",
      arity = "0..1",
      paramLabel = "ID|CHANGES",
      description = "The node's id (its index in --members, or the id it got when it joined); for change, several changes at once, e.g. voter:3,voter:4,remove:0 (joint consensus when more than one voter changes).")
  String target;

  @Override
  public Integer call() {
    HttpFailover http = endpoints.client();
    if (action.equals("list")) {
      if (target != null) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "list takes no ID");
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
      case "change" -> {
        if (target == null) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "change needs CHANGES, e.g. voter:3,remove:0");
        method = "POST";
        path = "/v1/members?changes=" + java.net.URLEncoder.encode(target, java.nio.charset.StandardCharsets.UTF_8);
      }
      default -> throw new picocli.CommandLine.ParameterException(spec.commandLine(), "ACTION is list, add, promote, demote, remove or change, not " + action);
    }
    return atLeader(http, method, path);
  }

  private int requireId() {
    int id;
    try {
      id = target == null ? -1 : Integer.parseInt(target);
    } catch (NumberFormatException e) {
      id = -1;
    }
    if (id < 0) throw new picocli.CommandLine.ParameterException(spec.commandLine(), action + " needs a node ID, not " + target);
    return id;
  }
}
