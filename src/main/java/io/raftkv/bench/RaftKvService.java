package io.raftkv.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/** raftkv as {@code raftkv node} processes on loopback, probed through its HTTP API. */
public final class RaftKvService implements ServiceUnderTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final List<String> members = new ArrayList<>();
  private final List<URI> endpoints = new ArrayList<>();

  /** {@code n} members on 127.0.0.1, on ports that are free now. */
  public RaftKvService(int n) {
    int[] ports = NodeProcesses.freePorts(2 * n);
    for (int i = 0; i < n; i++) {
      members.add("127.0.0.1:" + ports[2 * i] + ":" + ports[2 * i + 1]);
      endpoints.add(URI.create("http://127.0.0.1:" + ports[2 * i + 1]));
    }
  }

  @Override
  public String name() {
    return "raftkv";
  }

  @Override
  public int size() {
    return members.size();
  }

  /** Member {@code i}'s HTTP endpoint. */
  public URI endpoint(int i) {
    return endpoints.get(i);
  }

  /** The {@code --members} list. */
  public List<String> members() {
    return List.copyOf(members);
  }

  @Override
  public IntFunction<List<String>> command(Path dataRoot) {
    return NodeProcesses.raftkvNode(members, dataRoot);
  }

  @Override
  public HttpRequest write(int node, String key, String value, Duration timeout) {
    return HttpRequest.newBuilder(kv(node, key))
        .timeout(timeout)
        .header("Content-Type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString("{\"value\":\"" + value + "\"}"))
        .build();
  }

  @Override
  public HttpRequest read(int node, String key, Duration timeout) {
    return HttpRequest.newBuilder(kv(node, key)).timeout(timeout).GET().build();
  }

  @Override
  public boolean ok(HttpResponse<String> r) {
    // A read of a key never written answers ErrNoKey: the read went through the log all the same.
    return r.statusCode() == 200 || (r.request().method().equals("GET") && r.statusCode() == 404 && r.body().contains("ErrNoKey"));
  }

  @Override
  public HttpRequest status(int node, Duration timeout) {
    return HttpRequest.newBuilder(endpoints.get(node).resolve("/v1/status")).timeout(timeout).GET().build();
  }

  @Override
  public long leaderTerm(HttpResponse<String> status) {
    if (status.statusCode() != 200) return -1;
    try {
      JsonNode s = JSON.readTree(status.body());
      return "leader".equals(s.path("role").asText()) ? s.path("term").asLong() : -1;
    } catch (IOException e) {
      return -1;
    }
  }

  private URI kv(int node, String key) {
    return endpoints.get(node).resolve("/v1/kv/" + URLEncoder.encode(key, StandardCharsets.UTF_8));
  }
}
