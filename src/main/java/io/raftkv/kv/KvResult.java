package io.raftkv.kv;

import java.util.Objects;

/**
 * What a committed op returned. {@code value} is the key's value for a Get ("" otherwise); {@code
 * version} is the key's version after the op (for ErrVersion, its current version; 0 when absent).
 */
public record KvResult(Err err, String value, long version) {
  public enum Err {
    OK,
    ErrNoKey,
    ErrVersion
  }

  public KvResult {
    Objects.requireNonNull(err, "err");
    Objects.requireNonNull(value, "value");
  }

  public static KvResult ok(String value, long version) {
    return new KvResult(Err.OK, value, version);
  }

  public static KvResult noKey() {
    return new KvResult(Err.ErrNoKey, "", 0);
  }

  public static KvResult wrongVersion(long current) {
    return new KvResult(Err.ErrVersion, "", current);
  }
}
