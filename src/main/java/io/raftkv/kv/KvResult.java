package io.raftkv.kv;

import java.util.Objects;

/**
 * What a committed op returned. {@code value} is the key's value for a Get ("" otherwise); {@code
 * version} is the key's version after the op (for ErrVersion, its current version; 0 when absent;
 * for ErrStaleSeq, the session's latest seq).
 */
public record KvResult(Err err, String value, long version) {
  public enum Err {
    OK,
    ErrNoKey,
    ErrVersion,
    /**
     * The op's session has already moved past its seq: the store keeps only the answer of the
     * session's latest op, so it neither executes this one nor can tell what it once returned (it
     * may have executed earlier). A client that waits for each answer before its next seq only
     * meets this for a copy it no longer waits for.
     */
    ErrStaleSeq
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

  /** A seq below the session's latest one, {@code latestSeq}. */
  public static KvResult staleSeq(long latestSeq) {
    return new KvResult(Err.ErrStaleSeq, "", latestSeq);
  }
}
