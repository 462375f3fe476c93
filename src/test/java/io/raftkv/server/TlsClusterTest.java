package io.raftkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.raftkv.cli.Main;
import io.raftkv.raft.Role;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Three {@link NodeServer}s in this JVM with TLS on (two from a PKCS#12 key store, one from the
 * same pair as PEM files) and bearer tokens: HTTPS only, Artery over mutual TLS between them, the
 * CLI with {@code --cacert} and {@code --token-file}; and a node whose certificate the others do not
 * trust gets nowhere.
 */
@Timeout(120)
class TlsClusterTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String WRITE = "w-0123456789abcdef";
  private static final String READ = "r-0123456789abcdef";
  private static final List<NodeServer> nodes = new ArrayList<>();
  private static SelfSignedTls.Pair pair;
  private static Path writeFile;
  private static Path readFile;
  private static HttpClient https;
  private static int leader;

  @TempDir static Path dir;

  @BeforeAll
  static void startCluster() throws Exception {
    pair = TlsFixtures.pair(dir.resolve("tls"));
    Path key = TlsFixtures.pemKey(pair, dir.resolve("tls/node.key"));
    writeFile = TlsFixtures.tokenFile(dir.resolve("write.tokens"), WRITE);
    readFile = TlsFixtures.tokenFile(dir.resolve("read.tokens"), READ);
    HttpAuth auth = HttpAuth.fromFiles(readFile, writeFile, true);
    https = TlsFixtures.trustingClient(pair.certificate());
    List<NodeServer.Member> members = LocalNodes.members(3);
    for (int i = 0; i < 3; i++) {
      TlsSettings tls = i < 2 ? pair.settings() : TlsSettings.pem(pair.certificate(), key, pair.certificate());
      nodes.add(NodeServer.start(settings(i, members, "n" + i).withTls(tls).withAuth(auth)));
    }
    leader = LocalNodes.awaitLeader(nodes, Duration.ofSeconds(60));
  }

  @AfterAll
  static void stopCluster() {
    for (NodeServer n : nodes) n.stop();
  }

  @Test
  void aClientTrustingTheCertificateWritesAtOneFollowerAndReadsAtTheOther() throws Exception {
    // each request goes from a follower to the leader over Artery, so this crosses TLS twice
    int f1 = (leader + 1) % 3;
    int f2 = (leader + 2) % 3;
    HttpResponse<String> put = send(https, endpoint(f1), "PUT", "/v1/kv/secret", "{\"value\":\"over tls\"}", WRITE);
    assertEquals(200, put.statusCode(), put.body());
    HttpResponse<String> get = send(https, endpoint(f2), "GET", "/v1/kv/secret", null, READ);
    assertEquals(200, get.statusCode(), get.body());
    assertEquals("over tls", JSON.readTree(get.body()).get("value").textValue());
    assertTrue(nodes.get(f2).settings().httpEndpoint().startsWith("https://"));
    assertEquals("tls-tcp", nodes.get(f2).system().settings().config().getString("pekko.remote.artery.transport"));
  }

  @Test
  void plainHttpToTheNodeGetsNoHttpAnswer() {
    HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    String url = "http://127.0.0.1:" + nodes.get(0).httpAddress().getPort();
    assertThrows(IOException.class, () -> send(plain, url, "GET", "/v1/status", null, null));
  }

  @Test
  void aClientThatDoesNotTrustTheCertificateIsRefused() {
    HttpClient jdkDefaults = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    assertThrows(SSLHandshakeException.class, () -> send(jdkDefaults, endpoint(0), "GET", "/v1/status", null, null));
  }

  @Test
  void theNodesDemandTheirTokens() throws Exception {
    HttpResponse<String> none = send(https, endpoint(0), "GET", "/v1/kv/secret", null, null);
    assertEquals(401, none.statusCode());
    assertEquals("Unauthorized", JSON.readTree(none.body()).get("error").textValue());
    assertTrue(none.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"), none.headers().toString());
    HttpResponse<String> readOnWrite = send(https, endpoint(1), "PUT", "/v1/kv/secret", "{\"value\":\"x\"}", READ);
    assertEquals(403, readOnWrite.statusCode());
    assertEquals("Forbidden", JSON.readTree(readOnWrite.body()).get("error").textValue());
    assertEquals(200, send(https, endpoint(2), "GET", "/v1/status", null, null).statusCode(), "status stays open");
  }

  @Test
  void theCliTalksHttpsWithACaCertificateAndATokenFile() throws Exception {
    String endpoints = endpoint(0) + "," + endpoint(1) + "," + endpoint(2);
    String ca = pair.certificate().toString();
    assertEquals(Main.OK, cli("put", "cli-key", "cli-value", "--endpoints", endpoints, "--cacert", ca, "--token-file", writeFile.toString()));
    assertEquals(Main.NO_PERMISSION, cli("put", "cli-key", "x", "--endpoints", endpoints, "--cacert", ca, "--token-file", readFile.toString()));
    assertEquals(Main.NO_PERMISSION, cli("get", "cli-key", "--endpoints", endpoints, "--cacert", ca));
    StringWriter out = new StringWriter();
    assertEquals(Main.OK, cli(out, "get", "cli-key", "--endpoints", endpoints, "--cacert", ca, "--token-file", readFile.toString()));
    assertEquals("cli-value", JSON.readTree(out.toString()).get("value").textValue());
    // without --cacert the JDK's default trust refuses the self-signed certificate: no endpoint answers
    assertEquals(Main.UNAVAILABLE, cli("get", "cli-key", "--endpoints", endpoint(0), "--token-file", readFile.toString()));
  }

  @Test
  void aNodeWhoseCertificateIsNotTrustedCannotJoin() throws Exception {
    // two members, so neither can lead without the other: the pair that trusts nothing of the
    // other's never elects a leader, where two trusting nodes elect one in about a second
    SelfSignedTls.Pair stranger = TlsFixtures.pair(dir.resolve("stranger"));
    List<NodeServer.Member> two = LocalNodes.members(2);
    List<NodeServer> pairOfNodes = new ArrayList<>();
    try {
      pairOfNodes.add(NodeServer.start(settings(0, two, "s0").withTls(pair.settings())));
      pairOfNodes.add(NodeServer.start(settings(1, two, "s1").withTls(stranger.settings())));
      long until = System.nanoTime() + Duration.ofSeconds(4).toNanos();
      while (System.nanoTime() < until) {
        for (NodeServer n : pairOfNodes) assertFalse(n.status().toCompletableFuture().get().role() == Role.LEADER, "a leader without its peer");
        Thread.sleep(200);
      }
    } finally {
      for (NodeServer n : pairOfNodes) n.stop();
    }
  }

  // ---------------------------------------------------------------- helpers

  private static NodeServer.Settings settings(int id, List<NodeServer.Member> members, String data) {
    return new NodeServer.Settings("kv", id, members, dir.resolve(data), 8 << 20, HttpApi.Limits.defaults());
  }





  private static String endpoint(int i) {
    return "https://127.0.0.1:" + nodes.get(i).httpAddress().getPort();
  }



  private static HttpResponse<String> send(HttpClient client, String endpoint, String method, String path, String body, String token)
      throws Exception {
    HttpRequest.BodyPublisher publisher =
        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8);
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(endpoint + path)).timeout(Duration.ofSeconds(10)).method(method, publisher);
    if (token != null) b.header("Authorization", "Bearer " + token);
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static int cli(String... args) {
    return cli(new StringWriter(), args);
  }

  private static int cli(StringWriter out, String... args) {
    CommandLine cl = Main.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(new StringWriter(), true));
    return cl.execute(args);
  }
}
