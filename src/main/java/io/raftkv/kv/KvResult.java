package io.raftkv.kv;

import java.util.Objects;

/**
 * What a committed op returned: one of {@link KvErr}'s store outcomes. {@code value} is the key's
 * value for a Get ("" otherwise); {@code version} is the key's version after the op (for
 * ErrVersion, its current version; 0 when absent; for ErrStaleSeq, the session's latest seq; for ErrTooLarge, the value limit).
 */
public record KvResult(KvErr err, String value, long version) {
  public KvResult {
    Objects.requireNonNull(err, "err");
    Objects.requireNonNull(value, "value");
    if (!err.isStoreOutcome()) throw new IllegalArgumentException(err + " is the Clerk's, not a store's outcome");
  }

  public static KvResult ok(String value, long version) {
    return new KvResult(KvErr.OK, value, version);
  }

  public static KvResult noKey() {
    return new KvResult(KvErr.ErrNoKey, "", 0);
  }

  public static KvResult wrongVersion(long current) {
    return new KvResult(KvErr.ErrVersion, "", current);
  }

  /** A seq below the session's latest one, {@code latestSeq}. */
  public static KvResult staleSeq(long latestSeq) {
    return new KvResult(KvErr.ErrStaleSeq, "", latestSeq);
  }

  /** The op's result would be longer than {@code maxValueBytes} of UTF-8. */
  public static KvResult tooLarge(long maxValueBytes) {
    return new KvResult(KvErr.ErrTooLarge, "", maxValueBytes);
  }
}
