package io.raftkv.kv;

/**
 * How a KV op ended: the one error enum from the store to the HTTP answer. The first five are what
 * a committed op returns ({@link KvResult}); their ordinals are their codes in {@link KvCodec}'s
 * results and in shard snapshots, so they never move. The last three only the Clerk ({@code
 * io.raftkv.client.KvClient}) produces: no store answers them and no codec carries them.
 */
public enum KvErr {
  /** Executed; for a Get, the key's value and version. */
  OK,
  /** The key does not exist (a Get, a Delete, or a Put with a version above 0). */
  ErrNoKey,
  /** The key's version is not the one the op expected; {@code version} is its current one. */
  ErrVersion,
  /**
   * The op's session has already moved past its seq: the store keeps only the answer of the
   * session's latest op, so it neither executes this one nor can tell what it once returned (it
   * may have executed earlier). {@code version} holds the session's latest seq. A client that
   * waits for each answer before its next seq only meets this for a copy it no longer waits for.
   */
  ErrStaleSeq,
  /**
   * The op's result would exceed the value limit it carries (an Append onto a long value); nothing
   * changed. {@code version} holds the limit, in UTF-8 bytes.
   */
  ErrTooLarge,
  /** Clerk only: a retransmitted versioned Put met ErrVersion; it may or may not have executed. */
  ErrMaybe,
  /** Clerk only: the leader was overloaded and did not take the op; it did not execute. */
  Busy,
  /** Clerk only: the call's deadline passed without an answer; a write may or may not have executed. */
  Timeout;

  private static final KvErr[] STORE = {OK, ErrNoKey, ErrVersion, ErrStaleSeq, ErrTooLarge};

  /** Whether a committed op can return this (the others are the Clerk's). */
  public boolean isStoreOutcome() {
    return ordinal() < STORE.length;
  }

  /** The store outcome with this code (its ordinal). */
  static KvErr ofCode(int code) {
    if (code < 0 || code >= STORE.length) throw new KvCodec.MalformedException("unknown KV error code " + code);
    return STORE[code];
  }
}
