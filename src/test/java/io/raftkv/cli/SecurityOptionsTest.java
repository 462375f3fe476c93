package io.raftkv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.raftkv.server.HttpApi;
import io.raftkv.server.HttpAuth;
import io.raftkv.server.NodeServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/** Where the CLI's token, CA and a node's TLS and token settings come from; no server runs. */
class SecurityOptionsTest {
  private static final String TOKEN = "cli-token-0123456789";

  @TempDir Path dir;

  @AfterEach
  void realEnvironment() {
    ClientSecurityOptions.environment = System::getenv;
  }

  private final CommandLine cl = new CommandLine(new Main());

  @Test
  void theTokenComesFromTheFileElseTheEnvironment() throws Exception {
    ClientSecurityOptions o = new ClientSecurityOptions();
    ClientSecurityOptions.environment = name -> name.equals(ClientSecurityOptions.TOKEN_ENV) ? " env-token-0123456789 " : null;
    assertEquals("env-token-0123456789", o.token(cl));
    o.tokenFile = secret("t", "# mine\n" + TOKEN + "\n");
    assertEquals(TOKEN, o.token(cl));
    ClientSecurityOptions.environment = name -> null;
    o.tokenFile = null;
    assertNull(o.token(cl));
    o.tokenFile = secret("empty", "# nothing\n");
    assertThrows(ParameterException.class, () -> o.token(cl));
    assertNull(o.sslContext(cl));
    o.caCert = Files.writeString(dir.resolve("ca.pem"), "not a certificate");
    assertThrows(ParameterException.class, () -> o.sslContext(cl));
  }

  @Test
  void aBadCaCertOrTokenFileIsAUsageError() throws Exception {
    Path junk = Files.writeString(dir.resolve("junk"), "junk");
    assertEquals(Main.USAGE, run("get", "k", "--endpoints", "https://127.0.0.1:1", "--cacert", junk.toString()));
    assertEquals(Main.USAGE, run("get", "k", "--endpoints", "https://127.0.0.1:1", "--token-file", dir.resolve("missing").toString()));
  }

  @Test
  void nodeTlsOptionsNeedTheirCompanionsBeforeAnythingStarts() {
    String[] base = {"node", "--id", "0", "--members", "127.0.0.1:1:2", "--data-dir", dir.resolve("d").toString()};
    assertEquals(Main.USAGE, run(concat(base, "--tls-keystore", dir.resolve("k.p12").toString())), "no password");
    assertEquals(Main.USAGE, run(concat(base, "--tls-cert", dir.resolve("c.pem").toString())), "no key");
    assertEquals(Main.USAGE, run(concat(base, "--tls-ca", dir.resolve("c.pem").toString())), "no key material");
    assertEquals(Main.USAGE, run(concat(base, "--read-token-file", dir.resolve("r").toString())), "read tokens only");
    assertEquals(Main.USAGE, run(concat(base, "--write-token-file", dir.resolve("missing").toString())), "unreadable token file");
  }

  @Test
  void theConfigsSectionsAndTheFlagsThatWinOverThem() throws Exception {
    Path write = secret("write", TOKEN + "\n");
    Path other = secret("other", "other-token-0123456789\n");
    NodeServer.Settings plain =
        new NodeServer.Settings("kv", 0, List.of(new NodeServer.Member("127.0.0.1", 1, "127.0.0.1", 2)), dir, 1 << 20, HttpApi.Limits.defaults());
    var node =
        ConfigFactory.parseString(
            "tls { cert = c.pem, key = k.pem, ca = ca.pem }\n"
                + "auth { write-token-file = \"" + write + "\", open-node-endpoints = off }");
    NodeSecurityOptions fromConfig = new NodeSecurityOptions();
    NodeServer.Settings s = fromConfig.apply(plain, node, cl);
    assertEquals(Path.of("c.pem"), s.tls().certChain());
    assertEquals(Path.of("ca.pem"), s.tls().caCerts());
    assertEquals(HttpAuth.Decision.ALLOW, s.auth().decide("PUT", "/v1/kv/k", Optional.of("Bearer " + TOKEN)));
    assertEquals(HttpAuth.Decision.NO_TOKEN, s.auth().decide("GET", "/v1/status", Optional.empty()));
    assertTrue(s.httpEndpoint().startsWith("https://"));

    NodeSecurityOptions flags = new NodeSecurityOptions();
    flags.writeTokens = other;
    flags.keyStore = dir.resolve("node.p12");
    flags.keyStorePasswordFile = Files.writeString(dir.resolve("pw"), "secret\n");
    NodeServer.Settings f = flags.apply(plain, node, cl);
    assertEquals(dir.resolve("node.p12"), f.tls().keyStore());
    assertEquals("secret", f.tls().keyStorePassword());
    assertEquals(HttpAuth.Decision.INVALID_TOKEN, f.auth().decide("PUT", "/v1/kv/k", Optional.of("Bearer " + TOKEN)));
    assertEquals(HttpAuth.Decision.ALLOW, f.auth().decide("GET", "/v1/status", Optional.empty()));

    NodeServer.Settings none = new NodeSecurityOptions().apply(plain, null, cl);
    assertNull(none.tls());
    assertNull(none.auth());
    assertNotNull(plain.httpEndpoint());
  }

  /** A file only its owner may read (token files that others can read get a warning). */
  private Path secret(String name, String text) throws Exception {
    Path p = Files.writeString(dir.resolve(name), text);
    Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    return p;
  }

  private int run(String... args) {
    CommandLine c = Main.commandLine(args);
    c.setOut(new PrintWriter(new StringWriter(), true));
    c.setErr(new PrintWriter(new StringWriter(), true));
    return c.execute(args);
  }

  private static String[] concat(String[] a, String... b) {
    String[] out = new String[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
