package io.raftkv.bench;

import static io.raftkv.bench.LoadTargets.JSON_TYPE;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * {@value LoadTargets#RAFTKV_HTTP}: raftkv's HTTP API (docs/http-api.md): {@code PUT /v1/kv/KEY}
 * with {@code {"value":...}}, {@code GET /v1/kv/KEY} (linearizable), {@code POST
 * /v1/kv/KEY/append}; HTTP/1.1, one keep-alive connection per client.
 */
final class RaftKvHttpTarget extends LoadTargetBase {
  RaftKvHttpTarget(LoadTarget.Settings settings) {
    super(LoadTargets.RAFTKV_HTTP, true, settings);
  }

  @Override
  public LoadTarget.Connection connect(int client, int clients) {
    return http1Connection(client, RaftKvHttpTarget::send);
  }

  private static void send(Http1 c, LoadOp op, String key, String value, LoadTarget.Completion done) {
    String path = "/v1/kv/" + URLEncoder.encode(key, StandardCharsets.UTF_8);
    switch (op) {
      case PUT -> c.send("PUT", path, JSON_TYPE, valueBody(value), RaftKvHttpTarget::writeVerdict, done);
      case GET -> c.send("GET", path, null, null, RaftKvHttpTarget::readVerdict, done);
      case APPEND -> c.send("POST", path + "/append", JSON_TYPE, valueBody(value), RaftKvHttpTarget::writeVerdict, done);
    }
  }

  private static byte[] valueBody(String value) {
    return ("{\"value\":" + LoadTargets.jsonString(value) + "}").getBytes(StandardCharsets.UTF_8);
  }

  static String writeVerdict(int status, byte[] body) {
    return status == 200 ? null : LoadTargets.httpError(status, LoadTargets.errorField(body, "error"));
  }

  /** A read of a key never written (404 ErrNoKey) went through the log all the same: a success. */
  static String readVerdict(int status, byte[] body) {
    if (status == 200) return null;
    String error = LoadTargets.errorField(body, "error");
    return status == 404 && error.equals("ErrNoKey") ? null : LoadTargets.httpError(status, error);
  }
}
