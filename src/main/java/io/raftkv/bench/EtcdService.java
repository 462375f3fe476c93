package io.raftkv.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.IntFunction;

/**
 * etcd (v3 API) as {@code etcd} processes on loopback, probed through its JSON gateway ({@code
 * /v3/kv/put}, {@code /v3/kv/range}, {@code /v3/maintenance/status}; keys and values base64). For
 * comparison only: the same faults, the same probes.
 */
public final class EtcdService implements ServiceUnderTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String binary;
  private final int[] clientPorts;
  private final int[] peerPorts;

  /** {@code n} members on 127.0.0.1, on ports that are free now; {@code binary} is the etcd command. */
  public EtcdService(String binary, int n) {
    this.binary = binary;
    int[] ports = NodeProcesses.freePorts(2 * n);
    clientPorts = new int[n];
    peerPorts = new int[n];
    for (int i = 0; i < n; i++) {
      clientPorts[i] = ports[2 * i];
      peerPorts[i] = ports[2 * i + 1];
    }
  }

  @Override
  public String name() {
    return "etcd";
  }

  @Override
  public int size() {
    return clientPorts.length;
  }

  @Override
  public IntFunction<List<String>> command(Path dataRoot) {
    List<String> cluster = new ArrayList<>();
    for (int i = 0; i < size(); i++) cluster.add("e" + i + "=" + peer(i));
    String initial = String.join(",", cluster);
    return id ->
        List.of(
            binary,
            "--name", "e" + id,
            "--data-dir", dataRoot.resolve("node-" + id).toString(),
            "--listen-client-urls", client(id),
            "--advertise-client-urls", client(id),
            "--listen-peer-urls", peer(id),
            "--initial-advertise-peer-urls", peer(id),
            "--initial-cluster", initial,
            "--initial-cluster-token", "recovery-bench",
            "--initial-cluster-state", "new");
  }

  @Override
  public HttpRequest write(int node, String key, String value, Duration timeout) {
    return post(node, "/v3/kv/put", "{\"key\":\"" + b64(key) + "\",\"value\":\"" + b64(value) + "\"}", timeout);
  }

  @Override
  public HttpRequest read(int node, String key, Duration timeout) {
    return post(node, "/v3/kv/range", "{\"key\":\"" + b64(key) + "\"}", timeout);
  }

  @Override
  public HttpRequest status(int node, Duration timeout) {
    return post(node, "/v3/maintenance/status", "{}", timeout);
  }

  @Override
  public long leaderTerm(HttpResponse<String> status) {
    if (status.statusCode() != 200) return -1;
    try {
      JsonNode s = JSON.readTree(status.body());
      String self = s.path("header").path("member_id").asText();
      return !self.isEmpty() && self.equals(s.path("leader").asText()) ? s.path("raftTerm").asLong(s.path("header").path("raft_term").asLong()) : -1;
    } catch (IOException e) {
      return -1;
    }
  }

  private HttpRequest post(int node, String path, String body, Duration timeout) {
    return HttpRequest.newBuilder(URI.create(client(node) + path))
        .timeout(timeout)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .build();
  }

  private String client(int i) {
    return "http://127.0.0.1:" + clientPorts[i];
  }

  private String peer(int i) {
    return "http://127.0.0.1:" + peerPorts[i];
  }

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }
}
