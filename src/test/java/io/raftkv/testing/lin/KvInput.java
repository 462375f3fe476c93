package io.raftkv.testing.lin;

import java.util.Objects;

/**
 * A request to the key/value service as a history records it.
 *
 * @param kind what the client asked for
 * @param key the key
 * @param value the value to put or append; "" for GET and DELETE
 * @param version for PUT and DELETE, the version the write is conditional on, or {@link
 *     #UNCONDITIONAL}; unused for GET and APPEND
 */
public record KvInput(Kind kind, String key, String value, long version) {
  /** The version of a PUT or DELETE that applies whatever the current version is. */
  public static final long UNCONDITIONAL = -1;

  public enum Kind {
    GET,
    PUT,
    APPEND,
    DELETE
  }

  public KvInput {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
    if (version < UNCONDITIONAL) throw new IllegalArgumentException("version " + version);
  }

  public static KvInput get(String key) {
    return new KvInput(Kind.GET, key, "", 0);
  }

  public static KvInput put(String key, String value, long version) {
    return new KvInput(Kind.PUT, key, value, version);
  }

  public static KvInput put(String key, String value) {
    return new KvInput(Kind.PUT, key, value, UNCONDITIONAL);
  }

  public static KvInput append(String key, String value) {
    return new KvInput(Kind.APPEND, key, value, UNCONDITIONAL);
  }

  public static KvInput delete(String key, long version) {
    return new KvInput(Kind.DELETE, key, "", version);
  }

  public static KvInput delete(String key) {
    return new KvInput(Kind.DELETE, key, "", UNCONDITIONAL);
  }

  public boolean conditional() {
    return version != UNCONDITIONAL;
  }
}
