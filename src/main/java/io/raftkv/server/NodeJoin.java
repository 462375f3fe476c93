package io.raftkv.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.raftkv.storage.AtomicFiles;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a new node joins a running group ({@code raftkv node --join}): it asks the group's leader,
 * through any node's HTTP API, to take the node at its address ({@code POST
 * /v1/members?address=..}); the leader gives it the next free id and adds it as a learner, and the
 * answer carries the id and the group's address book. The node records that answer in its data
 * directory ({@value #FILE}) before it starts, so a restart comes back as the same node without
 * asking again; from then on its log and snapshots keep the membership current.
 *
 * <p>A join whose answer was lost is asked again with the same address: the leader answers the id
 * it gave then and changes nothing.
 */
public final class NodeJoin {
  private static final Logger LOG = LoggerFactory.getLogger(NodeJoin.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The file in the data directory that records a join's answer. */
  public static final String FILE = "joined.json";

  /**
   * A joined node's identity: its {@code id}, the group's address book when it joined ({@code
   * host:clusterPort:httpPort} by id, every id from 0 on) and the voters then.
   */
  public record Identity(int id, List<String> addresses, Set<Integer> voters) {
    public Identity {
      addresses = List.copyOf(addresses);
      voters = Set.copyOf(voters);
      if (id < 0 || id >= addresses.size()) throw new IllegalArgumentException("id " + id + " has no address");
      if (voters.isEmpty()) throw new IllegalArgumentException("no voter");
    }

    /** The members, in id order, this node's own at {@code id}. */
    public List<NodeServer.Member> members() {
      List<NodeServer.Member> ms = new ArrayList<>();
      for (String a : addresses) ms.add(NodeServer.Member.parse(a));
      return ms;
    }
  }

  /** Refused, or the group could not be asked within the deadline; the message says why. */
  public static final class JoinFailed extends Exception {
    JoinFailed(String message) {
      super(message);
    }
  }

  private NodeJoin() {}

  /** The identity recorded in {@code dataDir}, or null if this node never joined from there. */
  public static Identity recorded(Path dataDir) throws IOException {
    Path f = dataDir.resolve(FILE);
    if (!Files.exists(f)) return null;
    try {
      return identity(JSON.readTree(Files.readAllBytes(f)));
    } catch (IOException | RuntimeException e) {
      throw new IOException(f + " is unreadable (" + e.getMessage() + "); it records this node's id: restore it, or start the node afresh with an empty data directory", e);
    }
  }

  /**
   * The identity recorded in {@code dataDir}, or, if none, the one the group gives the node at
   * {@code address} (asked through {@code endpoints} until {@code deadline} passes), recorded there
   * first.
   *
   * @param tls trust for https endpoints (null: plain http or the JDK's default)
   * @param token a write token for the endpoints (null: none)
   */
  public static Identity joinOrRecorded(
      List<URI> endpoints, String address, Path dataDir, Duration deadline, SSLContext tls, String token)
      throws IOException, JoinFailed, InterruptedException {
    Identity known = recorded(dataDir);
    if (known != null) {
      String mine = known.addresses().get(known.id());
      if (!mine.equals(address)) {
        throw new JoinFailed(dataDir + " belongs to n" + known.id() + " at " + mine + ", not to a node at " + address);
      }
      return known;
    }
    NodeServer.Member.parse(address); // a bad address fails here, not at the leader
    JsonNode answer = ask(endpoints, address, deadline, tls, token);
    Identity joined = identity(answer);
    Files.createDirectories(dataDir);
    ObjectNode record = JSON.createObjectNode().put("id", joined.id());
    record.set("members", answer.get("members"));
    AtomicFiles.write(dataDir, FILE, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(record));
    LOG.info("joined the group as n{} (a learner) through {}", joined.id(), endpoints);
    return joined;
  }

  /** POSTs the join to whichever endpoint leads, until one accepts it or the deadline passes. */
  private static JsonNode ask(List<URI> endpoints, String address, Duration deadline, SSLContext tls, String token)
      throws JoinFailed, InterruptedException {
    HttpClient.Builder b = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2));
    if (tls != null) b.sslContext(tls);
    HttpClient http = b.build();
    long until = System.nanoTime() + deadline.toNanos();
    String last = "no endpoint answered";
    while (true) {
      for (URI endpoint : endpoints) {
        HttpRequest.Builder r =
            HttpRequest.newBuilder(URI.create(endpoint + "/v1/members?address=" + URLEncoder.encode(address, StandardCharsets.UTF_8)))
                .timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.noBody());
        if (token != null) r.header("Authorization", "Bearer " + token);
        HttpResponse<String> a;
        try {
          a = http.send(r.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
          last = endpoint + ": " + e;
          continue;
        }
        JsonNode body = parse(a.body());
        if (a.statusCode() == 200 && body != null && body.path("id").isInt()) return body;
        String error = body == null ? "" : body.path("error").asText("");
        last = endpoint + ": " + a.statusCode() + " " + a.body();
        // 400: the address is bad; 401/403: no permission; Refused for this address: it is a fixed member
        if (a.statusCode() == 400 || a.statusCode() == 401 || a.statusCode() == 403) throw new JoinFailed(last);
        if ("Refused".equals(error) && body.path("message").asText("").contains("of --members")) throw new JoinFailed(last);
        // NotLeader, another change in flight, no quorum yet: ask the next one, then again
      }
      if (System.nanoTime() > until) throw new JoinFailed("not joined within " + deadline.toSeconds() + " s; last: " + last);
      Thread.sleep(200);
    }
  }

  private static JsonNode parse(String body) {
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      return null;
    }
  }

  /** From a join's answer (or its record): {@code id} and {@code members.addresses} / {@code members.voters}. */
  private static Identity identity(JsonNode n) {
    JsonNode members = n.path("members");
    List<String> addresses = new ArrayList<>();
    Iterator<Map.Entry<String, JsonNode>> book = members.path("addresses").fields();
    while (book.hasNext()) {
      Map.Entry<String, JsonNode> e = book.next();
      if (Integer.parseInt(e.getKey()) != addresses.size()) throw new IllegalArgumentException("the address book has no n" + addresses.size());
      addresses.add(e.getValue().asText());
    }
    Set<Integer> voters = new TreeSet<>();
    for (JsonNode v : members.path("voters")) voters.add(v.asInt());
    if (!n.path("id").isInt()) throw new IllegalArgumentException("no id");
    return new Identity(n.get("id").asInt(), addresses, voters);
  }
}
