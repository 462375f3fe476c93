package io.raftkv.client;

import io.raftkv.kv.KvErr;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A lock kept in the KV store under key {@code name}, using only Get and the versioned Put: the
 * value is the holder's id, or "" when free. Blocking: for threads outside any actor. Clients are
 * assumed not to crash while holding it (no leases).
 *
 * <p>An uncertain answer (ErrMaybe, or Timeout from a client with a deadline) to the acquiring or
 * releasing Put is resolved by reading the key again: the value tells whether our write happened.
 * A late copy of that Put can never apply after the re-read moved on, because it is conditional on
 * a version the key has left. A Get that timed out tells nothing, so it is retried; so is a Get or
 * Put refused as Busy, after a pause.
 */
public final class KvLock {
  private static final String FREE = "";
  private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

  private final KvClient client;
  private final String name;
  private final String id;

  public KvLock(KvClient client, String name) {
    this.client = client;
    this.name = name;
    StringBuilder sb = new StringBuilder(8);
    for (int i = 0; i < 8; i++) sb.append(ALPHABET.charAt(ThreadLocalRandom.current().nextInt(ALPHABET.length())));
    this.id = sb.toString();
  }

  /** Blocks until this lock instance holds the lock. */
  public void acquire() {
    while (true) {
      KvClient.Result cur = client.getSync(name);
      if (cur.err() == KvErr.OK && id.equals(cur.value())) return; // an uncertain put did happen
      boolean free =
          cur.err() == KvErr.ErrNoKey || (cur.err() == KvErr.OK && FREE.equals(cur.value()));
      if (free) {
        long version = cur.err() == KvErr.ErrNoKey ? 0 : cur.version();
        KvClient.Result put = client.putSync(name, id, version);
        if (put.err() == KvErr.OK) return;
        if (put.err() == KvErr.Busy) pause(); // not written; the service asks for a pause
        // ErrMaybe or Timeout: the re-read decides; ErrVersion or ErrNoKey: someone was faster
        continue;
      }
      pause(); // held by another, or the read timed out or was refused (Busy)
    }
  }

  /** Releases the lock held by this instance; a no-op if it does not hold it. */
  public void release() {
    while (true) {
      KvClient.Result cur = client.getSync(name);
      if (cur.err() == KvErr.Timeout || cur.err() == KvErr.Busy) {
        pause(); // tells nothing: we may still hold it
        continue;
      }
      if (cur.err() != KvErr.OK || !id.equals(cur.value())) return;
      KvClient.Result put = client.putSync(name, FREE, cur.version());
      if (put.err() == KvErr.OK) return;
      if (put.err() == KvErr.Busy) pause();
      // ErrMaybe, ErrVersion, Busy or Timeout: the re-read tells whether we still hold it
    }
  }

  private static void pause() {
    try {
      Thread.sleep(10);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while acquiring a lock", e);
    }
  }
}
