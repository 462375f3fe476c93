package io.raftkv.cli;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** Where the cluster's HTTP endpoints are, shared by the client subcommands. */
final class EndpointOptions {
  static final String DEFAULT_ENDPOINTS = "http://127.0.0.1:8081,http://127.0.0.1:8082,http://127.0.0.1:8083";

  @Spec(Spec.Target.MIXEE)
  CommandSpec mixee;

  @Option(
      names = "--endpoints",
      split = ",",
      paramLabel = "URL",
      defaultValue = DEFAULT_ENDPOINTS,
      description = "HTTP endpoints of the cluster's nodes, tried in turn (default: ${DEFAULT-VALUE}).")
  List<String> endpoints;

  @Option(
      names = "--timeout-ms",
      paramLabel = "MS",
      defaultValue = "10000",
      description = "How long to wait for one endpoint's answer (default: ${DEFAULT-VALUE}).")
  long timeoutMs;

  @Mixin ClientSecurityOptions security;

  HttpFailover client() {
    List<URI> uris = new ArrayList<>();
    for (String e : endpoints) {
      String s = e.strip();
      if (s.endsWith("/")) s = s.substring(0, s.length() - 1);
      URI uri;
      try {
        uri = URI.create(s);
      } catch (IllegalArgumentException ex) {
        throw new ParameterException(mixee.commandLine(), "not a URL: " + e);
      }
      boolean http = "http".equals(uri.getScheme()) || "https".equals(uri.getScheme());
      if (!http || uri.getHost() == null || (uri.getPath() != null && !uri.getPath().isEmpty())) {
        throw new ParameterException(mixee.commandLine(), "an endpoint is http[s]://host:port, not " + e);
      }
      uris.add(uri);
    }
    if (uris.isEmpty()) throw new ParameterException(mixee.commandLine(), "no endpoints");
    if (timeoutMs < 1) throw new ParameterException(mixee.commandLine(), "--timeout-ms must be positive");
    return new HttpFailover(uris, Duration.ofMillis(timeoutMs), mixee.commandLine().getErr(), security.sslContext(mixee.commandLine()), security.token(mixee.commandLine()));
  }
}
