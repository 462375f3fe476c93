package io.raftkv.server;

import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.time.Duration;
import java.util.Base64;
import java.util.List;

/**
 * Key material and tokens for tests, made fresh in a temporary directory (no key file is
 * committed): self-signed pairs by keytool ({@link SelfSignedTls}), the same pair as PEM files, and
 * token files.
 */
final class TlsFixtures {
  private TlsFixtures() {}

  /** A new self-signed pair for localhost / 127.0.0.1 in {@code dir}, valid 2 days. */
  static SelfSignedTls.Pair pair(Path dir) {
    return SelfSignedTls.create(dir, List.of(), 2);
  }

  /** The pair's private key as an unencrypted PKCS#8 PEM file (keytool cannot write one). */
  static Path pemKey(SelfSignedTls.Pair pair, Path file) throws Exception {
    KeyStore ks = TlsMaterial.pkcs12(pair.keyStore(), TlsSettings.readSecretFile(pair.passwordFile()));
    PrivateKey key = (PrivateKey) ks.getKey("raftkv", TlsSettings.readSecretFile(pair.passwordFile()).toCharArray());
    String pem = "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(key.getEncoded())
        + "\n-----END PRIVATE KEY-----\n";
    Files.writeString(file, pem, StandardCharsets.US_ASCII);
    return file;
  }

  /** A token file (owner-only) with a comment, a blank line and {@code tokens}. */
  static Path tokenFile(Path file, String... tokens) throws IOException {
    Files.writeString(file, "# test tokens\n\n" + String.join("\n", tokens) + "\n", StandardCharsets.UTF_8);
    try {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException e) {
      // not POSIX: fine for a test
    }
    return file;
  }

  /** An HTTP/1.1 client that trusts only {@code ca}. */
  static HttpClient trustingClient(Path ca) {
    return HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5))
        .sslContext(TlsMaterial.clientTrusting(ca, null))
        .build();
  }
}
