package io.raftkv.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.security.SecureRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What the client subcommands share: endpoints, printing the answer's JSON on stdout, and the exit
 * code it maps to (see {@link Main}).
 */
abstract class ClientCommand implements Callable<Integer> {
  static final ObjectMapper JSON = new ObjectMapper();
  private static final SecureRandom RANDOM = new SecureRandom();

  @Spec CommandSpec spec;

  @Mixin EndpointOptions endpoints;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
  boolean help;

  /**
   * Sends the request to the endpoint whose node reports itself leader ({@code /v1/status}) and
   * prints the answer: exit 0 on 200, 1 on 409 (refused; the answer says why), else by status.
   */
  int atLeader(HttpFailover http, String method, String path) {
    for (java.net.URI endpoint : http.endpoints()) {
      HttpFailover.Answer status = http.sendTo(endpoint, "GET", "/v1/status", null);
      if (status == null || status.status() != 200 || !"leader".equals(role(status.body()))) continue;
      HttpFailover.Answer a = http.sendTo(endpoint, method, path, null);
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

  private static String role(String body) {
    try {
      com.fasterxml.jackson.databind.JsonNode n = JSON.readTree(body);
      return n != null && n.path("role").isTextual() ? n.get("role").textValue() : null;
    } catch (java.io.IOException e) {
      return null;
    }
  }

  /** Prints the answer (or an Unavailable error when no endpoint answered) and maps it to an exit code. */
  int finish(HttpFailover.Answer a) {
    if (a == null) {
      String msg = "no endpoint answered: " + String.join(",", endpoints.endpoints);
      spec.commandLine().getOut().println(JSON.createObjectNode().put("error", "Unavailable").put("message", msg));
      return Main.UNAVAILABLE;
    }
    spec.commandLine().getOut().println(a.body());
    return exitCode(a.status(), errorOf(a.body()));
  }

  static int exitCode(int status, String error) {
    if (status >= 200 && status < 300) return Main.OK;
    if ("ErrNoKey".equals(error) || "ErrVersion".equals(error)) return Main.REFUSED;
    if (status == 400 || status == 413 || status == 414 || status == 431) return Main.USAGE;
    if (status == 401 || status == 403) return Main.NO_PERMISSION;
    return Main.UNAVAILABLE;
  }

  static String errorOf(String body) {
    try {
      JsonNode n = JSON.readTree(body);
      return n != null && n.path("error").isTextual() ? n.get("error").textValue() : null;
    } catch (IOException e) {
      return null;
    }
  }

  /** A fresh client session id: non-zero, random, so that a retry on another endpoint is exactly-once. */
  static long newClientId() {
    long id;
    do {
      id = RANDOM.nextLong();
    } while (id == 0);
    return id;
  }
}
