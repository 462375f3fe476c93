package io.raftkv.server;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads TLS key material with the JDK alone: PKCS#12 key stores, PEM certificates (X.509, one or
 * more) and PEM private keys (unencrypted PKCS#8, "BEGIN PRIVATE KEY"). Every failure is an {@link
 * IllegalArgumentException} naming the file and what is wrong with it (never a password).
 */
public final class TlsMaterial {
  private static final Logger log = LoggerFactory.getLogger(TlsMaterial.class);

  private TlsMaterial() {}

  /** The alias the key entry of a PEM pair gets in the in-memory key store. */
  static final String PEM_ALIAS = "raftkv";

  /** Loads a PKCS#12 file. */
  public static KeyStore pkcs12(Path file, String password) {
    try (InputStream in = Files.newInputStream(file)) {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(in, password == null ? null : password.toCharArray());
      return ks;
    } catch (IOException e) {
      // a wrong password surfaces as an IOException whose cause is an UnrecoverableKeyException
      throw new IllegalArgumentException("cannot read the PKCS#12 key store " + file + ": " + reason(e), e);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot read the PKCS#12 key store " + file + ": " + reason(e), e);
    }
  }

  /** Every X.509 certificate in a PEM (or DER) file, in file order; at least one. */
  public static List<X509Certificate> certificates(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      List<X509Certificate> out = new ArrayList<>();
      for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) out.add((X509Certificate) c);
      if (out.isEmpty()) throw new IllegalArgumentException("no certificate in " + file);
      return out;
    } catch (IOException | CertificateException e) {
      throw new IllegalArgumentException("cannot read certificates from " + file + ": " + reason(e), e);
    }
  }

  /** The private key of a PEM file holding an unencrypted PKCS#8 key (RSA, EC or EdDSA). */
  public static PrivateKey pkcs8PrivateKey(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read the private key " + file + ": " + reason(e), e);
    }
    String begin = "-----BEGIN PRIVATE KEY-----";
    String end = "-----END PRIVATE KEY-----";
    int b = text.indexOf(begin);
    int e = b < 0 ? -1 : text.indexOf(end, b);
    if (b < 0 || e < 0) {
      String hint = text.contains("ENCRYPTED PRIVATE KEY") || text.contains("BEGIN RSA PRIVATE KEY") || text.contains("BEGIN EC PRIVATE KEY")
          ? " (convert it: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8)"
          : "";
      throw new IllegalArgumentException(file + " holds no unencrypted PKCS#8 key (\"" + begin + "\")" + hint);
    }
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(text.substring(b + begin.length(), e));
    } catch (IllegalArgumentException x) {
      throw new IllegalArgumentException(file + ": the private key is not valid base64", x);
    }
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
    for (String alg : List.of("EC", "RSA", "EdDSA", "RSASSA-PSS")) {
      try {
        return KeyFactory.getInstance(alg).generatePrivate(spec);
      } catch (InvalidKeySpecException | java.security.NoSuchAlgorithmException x) {
        // not this algorithm: try the next
      }
    }
    throw new IllegalArgumentException(file + ": not an EC, RSA or EdDSA PKCS#8 private key");
  }

  /**
   * An in-memory key store holding {@code key} with {@code chain} (the node's certificate first),
   * protected by {@code password}. Refuses a key that does not belong to the chain's first
   * certificate: that mistake otherwise shows up only as failed handshakes.
   */
  public static KeyStore keyStoreOf(PrivateKey key, List<X509Certificate> chain, String password) {
    checkPair(key, chain.get(0));
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry(PEM_ALIAS, key, password.toCharArray(), chain.toArray(new Certificate[0]));
      return ks;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot hold the PEM key and certificate: " + reason(e), e);
    }
  }

  /**
   * A trust store of {@code trusted} certificates, plus, for each key entry of {@code keyStore}
   * (may be null), the last certificate of its chain: the self-signed certificate itself, or the root
   * CA when the chain includes it.
   */
  public static KeyStore trustStoreOf(List<X509Certificate> trusted, KeyStore keyStore) {
    try {
      KeyStore ts = KeyStore.getInstance("PKCS12");
      ts.load(null, null);
      int i = 0;
      for (X509Certificate c : trusted) ts.setCertificateEntry("ca-" + i++, c);
      if (keyStore != null) {
        for (String alias : Collections.list(keyStore.aliases())) {
          if (keyStore.isCertificateEntry(alias)) {
            ts.setCertificateEntry("ca-" + i++, keyStore.getCertificate(alias));
          } else if (keyStore.isKeyEntry(alias)) {
            Certificate[] chain = keyStore.getCertificateChain(alias);
            if (chain != null && chain.length > 0) ts.setCertificateEntry("ca-" + i++, chain[chain.length - 1]);
          }
        }
      }
      if (i == 0) throw new IllegalArgumentException("no trusted certificate");
      return ts;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot build the trust store: " + reason(e), e);
    }
  }

  /** The certificates of a PKCS#12 trust store: its certificate entries and its key entries' roots. */
  public static List<X509Certificate> trustedIn(KeyStore store) {
    KeyStore ts = trustStoreOf(List.of(), store);
    try {
      List<X509Certificate> out = new ArrayList<>();
      for (String alias : Collections.list(ts.aliases())) out.add((X509Certificate) ts.getCertificate(alias));
      return out;
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot read the trust store: " + reason(e), e);
    }
  }

  /**
   * An SSLContext presenting the key of {@code keyStore} (may be null for a client that presents
   * none) and trusting exactly the certificates of {@code trustStore}.
   */
  public static SSLContext context(KeyStore keyStore, String keyPassword, KeyStore trustStore) {
    try {
      KeyManagerFactory kmf = null;
      if (keyStore != null) {
        kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keyStore, keyPassword == null ? new char[0] : keyPassword.toCharArray());
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trustStore);
      TrustManager[] tms = tmf.getTrustManagers();
      for (int i = 0; i < tms.length; i++) {
        if (tms[i] instanceof X509ExtendedTrustManager x) tms[i] = new RefusalLogging(x);
      }
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf == null ? null : kmf.getKeyManagers(), tms, null);
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot set up TLS: " + reason(e), e);
    }
  }

  /**
   * A client SSLContext that trusts only the certificates in {@code caFile}: PEM (or DER)
   * certificates, or a PKCS#12 store (then read with {@code password}, may be null).
   */
  public static SSLContext clientTrusting(Path caFile, String password) {
    List<X509Certificate> cas;
    try {
      cas = certificates(caFile);
    } catch (IllegalArgumentException notPem) {
      cas = trustedIn(pkcs12(caFile, password));
    }
    return context(null, null, trustStoreOf(cas, null));
  }

  /**
   * Logs each certificate it refuses (at most once a minute per certificate subject): a node whose
   * peer presents an untrusted certificate otherwise only sees that the peer never answers (Artery
   * retries the connection every fraction of a second, and reports the failed handshake nowhere).
   */
  private static final class RefusalLogging extends X509ExtendedTrustManager {
    private static final long QUIET_NANOS = 60_000_000_000L;
    private final X509ExtendedTrustManager trust;
    private final Map<String, Long> lastLogged = new ConcurrentHashMap<>();

    RefusalLogging(X509ExtendedTrustManager trust) {
      this.trust = trust;
    }

    private interface Check {
      void run() throws CertificateException;
    }

    private void checked(String peerRole, X509Certificate[] chain, String host, int port, Check check) throws CertificateException {
      try {
        check.run();
      } catch (CertificateException e) {
        String subject = chain == null || chain.length == 0 ? "(no certificate)" : chain[0].getSubjectX500Principal().getName();
        long now = System.nanoTime();
        Long last = lastLogged.get(subject);
        if (last == null || now - last > QUIET_NANOS) {
          lastLogged.put(subject, now);
          log.warn("TLS: refused the certificate of a {}{} ({}): {}", peerRole, host == null ? "" : " at " + host + ":" + port, subject, e.getMessage());
        }
        throw e;
      }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
      checked("client", chain, null, 0, () -> trust.checkClientTrusted(chain, authType, socket));
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
      checked("server", chain, null, 0, () -> trust.checkServerTrusted(chain, authType, socket));
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
      checked("client", chain, engine.getPeerHost(), engine.getPeerPort(), () -> trust.checkClientTrusted(chain, authType, engine));
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
      checked("server", chain, engine.getPeerHost(), engine.getPeerPort(), () -> trust.checkServerTrusted(chain, authType, engine));
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      checked("client", chain, null, 0, () -> trust.checkClientTrusted(chain, authType));
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      checked("server", chain, null, 0, () -> trust.checkServerTrusted(chain, authType));
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return trust.getAcceptedIssuers();
    }
  }

  /** Fails unless {@code key} signs what {@code cert}'s public key verifies. */
  static void checkPair(PrivateKey key, X509Certificate cert) {
    String alg =
        switch (key.getAlgorithm()) {
          case "EC" -> "SHA256withECDSA";
          case "RSA" -> "SHA256withRSA";
          case "EdDSA", "Ed25519", "Ed448" -> cert.getPublicKey().getAlgorithm();
          default -> null;
        };
    if (alg == null) return; // an algorithm we cannot check: the handshake will tell
    try {
      byte[] probe = "raftkv key check".getBytes(StandardCharsets.US_ASCII);
      Signature s = Signature.getInstance(alg);
      s.initSign(key);
      s.update(probe);
      byte[] sig = s.sign();
      Signature v = Signature.getInstance(alg);
      v.initVerify(cert.getPublicKey());
      v.update(probe);
      if (v.verify(sig)) return;
    } catch (GeneralSecurityException e) {
      // a key of another algorithm than the certificate's: refused below
    }
    throw new IllegalArgumentException("the private key does not belong to the certificate " + cert.getSubjectX500Principal());
  }

  /** Refuses a certificate that is not yet or no longer valid. */
  static void checkValidity(X509Certificate cert, String what) {
    try {
      cert.checkValidity();
    } catch (CertificateException e) {
      throw new IllegalArgumentException(what + " (" + cert.getSubjectX500Principal() + ") is valid only from "
          + cert.getNotBefore().toInstant() + " to " + cert.getNotAfter().toInstant(), e);
    }
  }

  private static String reason(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) t = t.getCause();
    String m = t.getMessage();
    return m == null ? t.getClass().getSimpleName() : m;
  }
}
