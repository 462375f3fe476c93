package io.raftkv.kv;

import java.util.Objects;
import java.util.OptionalLong;

/**
 * One operation on the KV store. Keys and values are Java strings (carried as UTF-8 on the wire and
 * on disk). Versions count the writes to a key since it was created: a key written k times has
 * version k; a deleted key is absent, and re-creating it starts again at version 1.
 *
 * <p>Writes may carry a client session ({@code clientId != 0}, {@code seq} increasing per client):
 * a shard executes each (clientId, seq) at most once and answers a repeat with the first answer, which
 * makes retried Appends, unconditional Puts and Deletes exactly-once. A versioned Put needs no
 * session: its version makes it at-most-once, as in the lab.
 */
public sealed interface KvOp {
  /** No session: the op is not deduplicated. */
  long NO_CLIENT = 0;

  String key();

  /** Reads the value and version of {@code key}. */
  record Get(String key) implements KvOp {
    public Get {
      Objects.requireNonNull(key, "key");
    }
  }

  /**
   * Writes {@code value}. With a version: only if the key's version equals it (0 = the key must be
   * absent), else ErrVersion (key present) or ErrNoKey (key absent). Without: creates or overwrites.
   */
  record Put(String key, String value, OptionalLong version, long clientId, long seq) implements KvOp {
    public Put {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(value, "value");
      Objects.requireNonNull(version, "version");
      if (version.isPresent() && version.getAsLong() < 0) throw new IllegalArgumentException("negative version");
    }
  }

  /**
   * Appends {@code value} to the key's value; an absent key is created with it. With {@code
   * maxValueBytes} above 0, an append whose result would be longer than that in UTF-8 changes
   * nothing and returns ErrTooLarge: the limit travels with the op, so every replica decides alike
   * whatever its own configuration says.
   */
  record Append(String key, String value, long clientId, long seq, int maxValueBytes) implements KvOp {
    public Append {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(value, "value");
      if (maxValueBytes < 0) throw new IllegalArgumentException("negative maxValueBytes");
    }

    /** Without a limit on the result. */
    public Append(String key, String value, long clientId, long seq) {
      this(key, value, clientId, seq, NO_LIMIT);
    }

    /** This append in session {@code (clientId, seq)}. */
    public Append inSession(long clientId, long seq) {
      return new Append(key, value, clientId, seq, maxValueBytes);
    }
  }

  /** An Append's {@code maxValueBytes} that sets no limit. */
  int NO_LIMIT = 0;

  /** Removes the key; with a version, only if the key's version equals it. */
  record Delete(String key, OptionalLong version, long clientId, long seq) implements KvOp {
    public Delete {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(version, "version");
      if (version.isPresent() && version.getAsLong() < 0) throw new IllegalArgumentException("negative version");
    }
  }

  static Get get(String key) {
    return new Get(key);
  }

  /** The lab's conditional Put, without a session. */
  static Put put(String key, String value, long version) {
    return new Put(key, value, OptionalLong.of(version), NO_CLIENT, 0);
  }

  /** The session this op belongs to, or {@link #NO_CLIENT}. */
  default long clientId() {
    return NO_CLIENT;
  }

  default long seq() {
    return 0;
  }
}
