package io.raftkv.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * A self-signed EC (P-256) key pair for a local cluster, made by the JDK's own {@code keytool}:
 * {@code node.p12} (PKCS#12, its random password in {@code node.p12.password}, both owner-only) and
 * {@code ca.pem} (the certificate, for clients: {@code curl --cacert}). Every node uses the same
 * pair, so each trusts the others by trusting its own certificate. For demos and tests: a real
 * deployment uses certificates from its own CA (docs/security.md).
 */
public final class SelfSignedTls {
  private SelfSignedTls() {}

  /** The files of one pair. */
  public record Pair(Path keyStore, Path passwordFile, Path certificate) {
    /** The node-side settings: the key store, trusting its own certificate. */
    public TlsSettings settings() {
      return TlsSettings.pkcs12(keyStore, TlsSettings.readSecretFile(passwordFile), null);
    }
  }

  private static final Pattern IP = Pattern.compile("[0-9.]+|.*:.*");
  private static final String PASSWORD_ENV = "RAFTKV_KEYTOOL_STOREPASS";

  /** The files in {@code dir}, whether or not they exist. */
  public static Pair in(Path dir) {
    return new Pair(dir.resolve("node.p12"), dir.resolve("node.p12.password"), dir.resolve("ca.pem"));
  }

  /**
   * The pair in {@code dir} if it is there and valid for at least another day, else a new one
   * (valid {@code days} days) for {@code hosts} plus localhost and 127.0.0.1.
   */
  public static Pair ensure(Path dir, List<String> hosts, int days) {
    Pair f = in(dir);
    if (Files.isRegularFile(f.keyStore()) && Files.isRegularFile(f.passwordFile()) && Files.isRegularFile(f.certificate())) {
      try {
        X509Certificate c = TlsMaterial.certificates(f.certificate()).get(0);
        if (c.getNotAfter().toInstant().isAfter(Instant.now().plus(Duration.ofDays(1)))) return f;
      } catch (IllegalArgumentException e) {
        // unreadable: make a new one
      }
    }
    return create(dir, hosts, days);
  }

  /** A new pair in {@code dir} (replacing one there), CN=localhost, valid {@code days} days. */
  public static Pair create(Path dir, List<String> hosts, int days) {
    Pair f = in(dir);
    try {
      Files.createDirectories(dir);
      Files.deleteIfExists(f.keyStore());
      Files.deleteIfExists(f.certificate());
      Files.deleteIfExists(f.passwordFile());
      byte[] raw = new byte[18];
      new SecureRandom().nextBytes(raw);
      String password = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
      writeOwnerOnly(f.passwordFile(), password + "\n");
      Set<String> san = new LinkedHashSet<>(List.of("dns:localhost", "ip:127.0.0.1"));
      for (String h : hosts) san.add((IP.matcher(h).matches() ? "ip:" : "dns:") + h);
      keytool(password, "-genkeypair", "-alias", "raftkv", "-keyalg", "EC", "-groupname", "secp256r1",
          "-sigalg", "SHA256withECDSA", "-dname", "CN=localhost", "-ext", "SAN=" + String.join(",", san),
          "-validity", Integer.toString(days), "-storetype", "PKCS12", "-keystore", f.keyStore().toString(),
          "-storepass:env", PASSWORD_ENV);
      ownerOnly(f.keyStore());
      keytool(password, "-exportcert", "-rfc", "-alias", "raftkv", "-storetype", "PKCS12", "-keystore", f.keyStore().toString(),
          "-storepass:env", PASSWORD_ENV, "-file", f.certificate().toString());
      return f;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot make a key pair in " + dir + ": " + e.getMessage(), e);
    }
  }

  private static void writeOwnerOnly(Path file, String text) throws IOException {
    try {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException e) {
      Files.createFile(file);
    } catch (FileAlreadyExistsException e) {
      // replaced below
    }
    Files.writeString(file, text, StandardCharsets.UTF_8);
  }

  private static void ownerOnly(Path file) throws IOException {
    try {
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException e) {
      // not POSIX: the password file is what protects the key
    }
  }

  /** Runs keytool with the store password in its environment (not on its command line: ps shows that). */
  private static void keytool(String password, String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put(PASSWORD_ENV, password);
    Process p = pb.start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("keytool " + args[0] + " did not finish within 60 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
      throw new IOException("interrupted while keytool ran", e);
    }
    if (p.exitValue() != 0) throw new IOException("keytool " + args[0] + " failed (exit " + p.exitValue() + "): " + out.strip());
  }
}
