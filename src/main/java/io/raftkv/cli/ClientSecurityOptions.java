package io.raftkv.cli;

import io.raftkv.server.HttpAuth;
import io.raftkv.server.TlsMaterial;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import javax.net.ssl.SSLContext;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * How a client command authenticates the nodes and itself: {@code --cacert} (trust for https
 * endpoints) and the bearer token, from {@code --token-file} or the environment variable {@value
 * #TOKEN_ENV}; never from an argument, which {@code ps} would show. A mixin of {@link
 * EndpointOptions}; usage errors go to the command line it is given.
 */
final class ClientSecurityOptions {
  static final String TOKEN_ENV = "RAFTKV_TOKEN";

  @Option(
      names = "--cacert",
      paramLabel = "FILE",
      description = "Trust only the CA certificates in FILE (PEM) for https endpoints, instead of the JDK's default CAs.")
  Path caCert;

  @Option(
      names = "--token-file",
      paramLabel = "FILE",
      description = "Send the bearer token in FILE (its first token line); default: $" + TOKEN_ENV + " if set.")
  Path tokenFile;

  /** Where the environment comes from (tests replace it). */
  static Function<String, String> environment = System::getenv;

  /** The SSLContext for https endpoints, or null for the JDK's default trust. */
  SSLContext sslContext(CommandLine cl) {
    if (caCert == null) return null;
    try {
      return TlsMaterial.clientTrusting(caCert, null);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(cl, "--cacert: " + e.getMessage());
    }
  }

  /** The bearer token to send, or null. */
  String token(CommandLine cl) {
    if (tokenFile != null) {
      List<String> tokens;
      try {
        tokens = HttpAuth.readTokenFile(tokenFile);
      } catch (IllegalArgumentException e) {
        throw new ParameterException(cl, "--token-file: " + e.getMessage());
      }
      if (tokens.isEmpty()) throw new ParameterException(cl, "--token-file: no token in " + tokenFile);
      return tokens.get(0);
    }
    String env = environment.apply(TOKEN_ENV);
    return env == null || env.isBlank() ? null : env.strip();
  }
}
