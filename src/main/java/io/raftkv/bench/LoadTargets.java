package io.raftkv.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;

/**
 * The three kinds of {@link LoadTarget}, by {@code --target} name: {@value #RAFTKV_HTTP} (raftkv's
 * HTTP API, {@link RaftKvHttpTarget}), {@value #ETCD_HTTP} (etcd's JSON gateway, {@link
 * EtcdHttpTarget}) and {@value #ETCD_GRPC} (etcd's gRPC over HTTP/2, {@link EtcdGrpcTarget}); and
 * the small pieces of request and verdict their connections share.
 */
public final class LoadTargets {
  public static final String RAFTKV_HTTP = "raftkv-http";
  public static final String ETCD_HTTP = "etcd-http";
  public static final String ETCD_GRPC = "etcd-grpc";
  public static final List<String> NAMES = List.of(RAFTKV_HTTP, ETCD_HTTP, ETCD_GRPC);

  /** How long a lost connection waits before it is opened again, and a request without one fails. */
  static final Duration BACKOFF = Duration.ofMillis(100);

  static final String JSON_TYPE = "application/json";

  private static final ObjectMapper JSON = new ObjectMapper();

  private LoadTargets() {}

  /** The target called {@code name} (one of {@link #NAMES}). */
  public static LoadTarget create(String name, LoadTarget.Settings settings) {
    return switch (name) {
      case RAFTKV_HTTP -> new RaftKvHttpTarget(settings);
      case ETCD_HTTP -> new EtcdHttpTarget(settings);
      case ETCD_GRPC -> new EtcdGrpcTarget(settings);
      default -> throw new IllegalArgumentException("unknown target '" + name + "' (known: " + String.join(", ", NAMES) + ")");
    };
  }

  static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  /** {@code s} as a JSON string literal; the benchmark's own values need no escapes (the fast path). */
  static String jsonString(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == '"' || c == '\\' || c > 0x7e) {
        try {
          return JSON.writeValueAsString(s);
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      }
    }
    return "\"" + s + "\"";
  }

  /** A verdict as pekko-http's connections take it: {@link PekkoConnection#OK} for success. */
  static String orOk(String verdict) {
    return verdict == null ? PekkoConnection.OK : verdict;
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static String httpError(int status, String detail) {
    return "HTTP " + status + (detail.isEmpty() ? "" : " " + detail);
  }

  /** A string field of a JSON error body, or "" if there is none (or the body is no JSON). */
  static String errorField(byte[] body, String field) {
    try {
      JsonNode n = JSON.readTree(body);
      return n != null && n.path(field).isTextual() ? n.path(field).asText() : "";
    } catch (IOException e) {
      return "";
    }
  }
}
