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
