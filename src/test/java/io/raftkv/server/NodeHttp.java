package io.raftkv.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.raftkv.bench.RaftKvService;
import io.raftkv.testing.lin.HistoryRecorder;
import io.raftkv.testing.lin.KvInput;
import io.raftkv.testing.lin.KvOutput;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * The HTTP side of the multi-process tests ({@link MultiProcessClusterTest}, {@link
 * MembershipUnderLoadTest}): one request to a node of a {@link RaftKvService}, and a read retried
 * on the nodes until one answers, recorded in a history.
 */
final class NodeHttp {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A node's answer: its status and JSON body (null when empty). */
  record Answer(int status, JsonNode json) {}

  private final RaftKvService service;
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();

  NodeHttp(RaftKvService service) {
    this.service = service;
  }

  /** One request to node {@code node}; null when it did not answer within 8 s. */
  Answer request(int node, String method, String path, String body) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(service.endpoint(node) + path))
            .timeout(Duration.ofSeconds(8))
            .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) b.header("Content-Type", "application/json");
    try {
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      return new Answer(r.statusCode(), r.body().isEmpty() ? null : JSON.readTree(r.body()));
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /**
   * Reads {@code key} from the nodes {@code nodes} gives, in turn, until one answers (within 30 s);
   * every try is in {@code history} (as client 99). Null when the key does not exist.
   */
  JsonNode getUntilAnswered(HistoryRecorder history, String key, Supplier<? extends Iterable<Integer>> nodes) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      for (int i : nodes.get()) {
        long h = history.begin(99, KvInput.get(key));
        Answer a = request(i, "GET", path(key), null);
        if (a != null && a.status() == 200) {
          history.end(h, KvOutput.value(a.json().get("value").asText(), a.json().get("version").asLong()));
          return a.json();
        }
        if (a != null && a.status() == 404) {
          history.end(h, KvOutput.noKey());
          return null;
        }
        history.end(h, KvOutput.err(KvOutput.TIMEOUT));
      }
      sleep(200);
    }
    throw new AssertionError("no node answered a read of " + key);
  }

  static String path(String key) {
    return "/v1/kv/" + URLEncoder.encode(key, StandardCharsets.UTF_8);
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
