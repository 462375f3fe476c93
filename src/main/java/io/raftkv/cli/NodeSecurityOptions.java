package io.raftkv.cli;

import com.typesafe.config.Config;
import io.raftkv.server.HttpAuth;
import io.raftkv.server.NodeServer;
import io.raftkv.server.TlsSettings;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * {@code raftkv node}'s TLS and token options (docs/security.md). Secrets come from files (or, for
 * the key store's password, the environment), never from arguments: {@code ps} shows those. Flags
 * win over the config file's {@code raftkv.node.tls} / {@code raftkv.node.auth} sections.
 */
final class NodeSecurityOptions {
  static final String KEYSTORE_PASSWORD_ENV = "RAFTKV_TLS_KEYSTORE_PASSWORD";

  @Option(names = "--tls-keystore", paramLabel = "FILE", description = "PKCS#12 key store with this node's key and certificate: turns TLS on (HTTPS and Artery).")
  Path keyStore;

  @Option(
      names = "--tls-keystore-password-file",
      paramLabel = "FILE",
      description = "File whose first line is the key store's password (default: $" + KEYSTORE_PASSWORD_ENV + ").")
  Path keyStorePasswordFile;

  @Option(names = "--tls-truststore", paramLabel = "FILE", description = "PKCS#12 trust store of the CA certificates to trust (default: the key store's own chain).")
  Path trustStore;

  @Option(names = "--tls-truststore-password-file", paramLabel = "FILE", description = "Its password (default: the key store's).")
  Path trustStorePasswordFile;

  @Option(names = "--tls-cert", paramLabel = "FILE", description = "PEM certificate chain of this node (with --tls-key): turns TLS on.")
  Path cert;

  @Option(names = "--tls-key", paramLabel = "FILE", description = "PEM private key of this node (unencrypted PKCS#8).")
  Path key;

  @Option(names = "--tls-ca", paramLabel = "FILE", description = "PEM CA certificates to trust (default: the last certificate of --tls-cert).")
  Path ca;

  @Option(names = "--write-token-file", paramLabel = "FILE", description = "Bearer tokens that may read and write, one a line: turns tokens on.")
  Path writeTokens;

  @Option(names = "--read-token-file", paramLabel = "FILE", description = "Bearer tokens that may only read (GET), one a line.")
  Path readTokens;

  @Option(names = "--protect-node-endpoints", description = "With tokens, GET /v1/status and /metrics need a token too (default: open).")
  boolean protectNodeEndpoints;

  /** {@code s} with the TLS and tokens of these flags, else of {@code node} (the config's raftkv.node, may be null). */
  NodeServer.Settings apply(NodeServer.Settings s, Config node, CommandLine cl) {
    try {
      TlsSettings tls = tlsFromFlags(cl);
      if (tls == null && node != null && node.hasPath("tls")) tls = TlsSettings.fromConfig(node.getConfig("tls"));
      HttpAuth auth = null;
      if (writeTokens != null) auth = HttpAuth.fromFiles(readTokens, writeTokens, !protectNodeEndpoints);
      else if (readTokens != null) throw new ParameterException(cl, "--read-token-file needs --write-token-file");
      else if (node != null && node.hasPath("auth")) auth = HttpAuth.fromConfig(node.getConfig("auth"));
      return s.withTls(tls).withAuth(auth);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(cl, e.getMessage());
    }
  }

  /** A token this node accepts for writes (the first of --write-token-file), to present when it joins; or null. */
  String joinToken() {
    return writeTokens == null ? null : HttpAuth.readTokenFile(writeTokens).get(0);
  }

  private TlsSettings tlsFromFlags(CommandLine cl) {
    if (keyStore == null && cert == null && key == null) {
      if (trustStore != null || ca != null || keyStorePasswordFile != null) {
        throw new ParameterException(cl, "TLS options need --tls-keystore, or --tls-cert and --tls-key");
      }
      return null;
    }
    if (ca != null && trustStore != null) throw new ParameterException(cl, "give --tls-truststore or --tls-ca, not both");
    String password = null;
    if (keyStore != null) {
      if (keyStorePasswordFile != null) password = TlsSettings.readSecretFile(keyStorePasswordFile);
      else password = System.getenv(KEYSTORE_PASSWORD_ENV);
      if (password == null) throw new ParameterException(cl, "--tls-keystore needs --tls-keystore-password-file (or $" + KEYSTORE_PASSWORD_ENV + ")");
    }
    String trustPassword = trustStorePasswordFile != null ? TlsSettings.readSecretFile(trustStorePasswordFile) : password;
    if (trustStore != null && trustPassword == null) throw new ParameterException(cl, "--tls-truststore needs --tls-truststore-password-file");
    return new TlsSettings(keyStore, password, cert, key, trustStore, trustPassword, ca);
  }
}
