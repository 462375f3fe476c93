package io.raftkv.server;

import io.raftkv.kv.KvOp;
import java.util.Objects;

/**
 * A valid KV request. {@code op} carries the client's session; a write that came without one has
 * {@link KvOp#NO_CLIENT} and must be given a server session ({@link #withSession}) before it is
 * submitted.
 */
record KvRequest(Metrics.Op kind, KvOp op) {
  KvRequest {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(op, "op");
  }

  boolean needsServerSession() {
    return kind != Metrics.Op.GET && op.clientId() == KvOp.NO_CLIENT;
  }

  /** The op as a write of session {@code (clientId, seq)}. */
  KvOp withSession(long clientId, long seq) {
    if (op instanceof KvOp.Put p) return new KvOp.Put(p.key(), p.value(), p.version(), clientId, seq);
    if (op instanceof KvOp.Append a) return a.inSession(clientId, seq);
    if (op instanceof KvOp.Delete d) return new KvOp.Delete(d.key(), d.version(), clientId, seq);
    throw new IllegalStateException("a read has no session: " + op);
  }
}
