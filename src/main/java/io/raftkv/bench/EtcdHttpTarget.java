package io.raftkv.bench;

import static io.raftkv.bench.LoadTargets.JSON_TYPE;
import static io.raftkv.bench.LoadTargets.b64;
import static io.raftkv.bench.LoadTargets.utf8;

/**
 * {@value LoadTargets#ETCD_HTTP}: etcd 3.4's JSON gateway: {@code POST /v3/kv/put} and {@code POST
 * /v3/kv/range} (linearizable), keys and values base64; HTTP/1.1, one connection per client.
 */
final class EtcdHttpTarget extends LoadTargetBase {
  EtcdHttpTarget(LoadTarget.Settings settings) {
    super(LoadTargets.ETCD_HTTP, false, settings);
  }

  @Override
  public LoadTarget.Connection connect(int client, int clients) {
    Base64Cache values = new Base64Cache();
    return http1Connection(client, (c, op, key, value, done) -> {
      String k = b64(key);
      switch (op) {
        case PUT -> c.send("POST", "/v3/kv/put", JSON_TYPE, utf8("{\"key\":\"" + k + "\",\"value\":\"" + values.of(value) + "\"}"), EtcdHttpTarget::verdict, done);
        case GET -> c.send("POST", "/v3/kv/range", JSON_TYPE, utf8("{\"key\":\"" + k + "\"}"), EtcdHttpTarget::verdict, done);
        case APPEND -> throw new IllegalArgumentException("etcd has no append");
      }
    });
  }

  static String verdict(int status, byte[] body) {
    if (status == 200) return null;
    String message = LoadTargets.errorField(body, "message");
    return LoadTargets.httpError(status, message.isEmpty() ? LoadTargets.errorField(body, "error") : message);
  }

  /** The base64 of the last value asked for: a client sends the same value again and again. */
  private static final class Base64Cache {
    private String value;
    private String encoded;

    synchronized String of(String v) {
      if (!v.equals(value)) {
        value = v;
        encoded = b64(v);
      }
      return encoded;
    }
  }
}
