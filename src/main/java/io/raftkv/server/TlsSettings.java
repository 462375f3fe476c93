package io.raftkv.server;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import javax.net.ssl.SSLContext;

/**
 * Where a node's TLS key material is: the node's key and certificate chain, either a PKCS#12 key
 * store ({@code keyStore}, {@code keyStorePassword}) or PEM files ({@code certChain}, {@code
 * privateKey}: unencrypted PKCS#8), and what it trusts, either a PKCS#12 trust store or a PEM file of
 * CA certificates ({@code caCerts}). Without either, it trusts the last certificate of its own chain
 * (a self-signed certificate, or the root CA when the chain includes it). The same material serves
 * the HTTPS API and Artery between nodes (mutual authentication: every node presents its
 * certificate and accepts only peers whose chain ends at a trusted certificate).
 *
 * <p>Read from HOCON by {@link #fromConfig} (the {@code raftkv.node.tls} section, see
 * docs/security.md). {@link #toString} shows paths, never passwords.
 */
public record TlsSettings(
    Path keyStore, String keyStorePassword, Path certChain, Path privateKey, Path trustStore, String trustStorePassword, Path caCerts) {

  public TlsSettings {
    boolean pkcs12 = keyStore != null;
    boolean pem = certChain != null || privateKey != null;
    if (pkcs12 == pem) throw new IllegalArgumentException("TLS needs either a key-store, or a cert and a key (PEM)");
    if (pem && (certChain == null || privateKey == null)) throw new IllegalArgumentException("TLS with PEM files needs both cert and key");
    if (pkcs12 && keyStorePassword == null) throw new IllegalArgumentException("TLS: the key-store needs a password");
    if (trustStore != null && caCerts != null) throw new IllegalArgumentException("TLS: give a trust-store or a ca file, not both");
  }

  /** A PKCS#12 key store; {@code trustStore} may be null (then see the class comment), with the same password. */
  public static TlsSettings pkcs12(Path keyStore, String password, Path trustStore) {
    return new TlsSettings(keyStore, password, null, null, trustStore, password, null);
  }

  /** PEM files; {@code ca} may be null (then see the class comment). */
  public static TlsSettings pem(Path certChain, Path privateKey, Path ca) {
    return new TlsSettings(null, null, certChain, privateKey, null, null, ca);
  }

  /**
   * Reads a {@code tls} section: {@code key-store} and {@code key-store-password} (or {@code
   * key-store-password-file}), or {@code cert} and {@code key}; optionally {@code trust-store} (with
   * {@code trust-store-password[-file]}, default the key store's) or {@code ca}. Returns null when
   * {@code enabled = off}.
   */
  public static TlsSettings fromConfig(Config c) {
    try {
      if (c.hasPath("enabled") && !c.getBoolean("enabled")) return null;
      String keyPassword = secret(c, "key-store-password");
      String trustPassword = secret(c, "trust-store-password");
      return new TlsSettings(
          path(c, "key-store"),
          keyPassword,
          path(c, "cert"),
          path(c, "key"),
          path(c, "trust-store"),
          trustPassword != null ? trustPassword : keyPassword,
          path(c, "ca"));
    } catch (ConfigException e) {
      throw new IllegalArgumentException("bad tls section: " + e.getMessage(), e);
    }
  }

  private static Path path(Config c, String key) {
    return c.hasPath(key) ? Path.of(c.getString(key)) : null;
  }

  /** {@code key}, or the first line of the file {@code key-file}, or null. */
  private static String secret(Config c, String key) {
    if (c.hasPath(key)) return c.getString(key);
    if (!c.hasPath(key + "-file")) return null;
    return readSecretFile(Path.of(c.getString(key + "-file")));
  }

  /** The first line of a file holding a secret (a password), without its line end. */
  public static String readSecretFile(Path file) {
    try {
      List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      return lines.isEmpty() ? "" : lines.get(0).strip();
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * The SSLContext for both sides of every connection: it presents this node's certificate and
   * trusts the configured CAs. Refuses a certificate that is expired or not yet valid.
   */
  public SSLContext sslContext() {
    KeyStore keys;
    String keyPassword;
    if (keyStore != null) {
      keys = TlsMaterial.pkcs12(keyStore, keyStorePassword);
      keyPassword = keyStorePassword;
    } else {
      keyPassword = "";
      keys = TlsMaterial.keyStoreOf(TlsMaterial.pkcs8PrivateKey(privateKey), TlsMaterial.certificates(certChain), keyPassword);
    }
    X509Certificate own = ownCertificate(keys);
    TlsMaterial.checkValidity(own, "the node's certificate");
    KeyStore trust;
    try {
      if (trustStore != null) trust = TlsMaterial.trustStoreOf(TlsMaterial.trustedIn(TlsMaterial.pkcs12(trustStore, trustStorePassword)), null);
      else if (caCerts != null) trust = TlsMaterial.trustStoreOf(TlsMaterial.certificates(caCerts), null);
      else trust = TlsMaterial.trustStoreOf(List.of(), keys);
    } catch (IllegalArgumentException e) {
      Path from = trustStore != null ? trustStore : caCerts != null ? caCerts : keyStore != null ? keyStore : certChain;
      if (e.getMessage() != null && e.getMessage().contains(from.toString())) throw e;
      throw new IllegalArgumentException(from + ": " + e.getMessage(), e);
    }
    return TlsMaterial.context(keys, keyPassword, trust);
  }

  private X509Certificate ownCertificate(KeyStore keys) {
    try {
      List<String> keyAliases = new ArrayList<>();
      for (String a : Collections.list(keys.aliases())) if (keys.isKeyEntry(a)) keyAliases.add(a);
      if (keyAliases.size() != 1) {
        throw new IllegalArgumentException(keyStore + " must hold exactly one private key entry, not " + keyAliases.size());
      }
      Certificate[] chain = keys.getCertificateChain(keyAliases.get(0));
      if (chain == null || chain.length == 0 || !(chain[0] instanceof X509Certificate c)) {
        throw new IllegalArgumentException(keyStore + ": the key entry has no X.509 certificate");
      }
      return c;
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot read " + keyStore + ": " + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    return keyStore != null
        ? "TlsSettings[key-store=" + keyStore + ", trust=" + (trustStore != null ? trustStore : caCerts != null ? caCerts : "own chain") + "]"
        : "TlsSettings[cert=" + certChain + ", key=" + privateKey + ", trust=" + (caCerts != null ? caCerts : trustStore != null ? trustStore : "own chain") + "]";
  }
}
