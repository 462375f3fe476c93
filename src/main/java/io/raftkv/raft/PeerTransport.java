package io.raftkv.raft;

/**
 * How a peer's outgoing messages leave it. Contract: {@link #send} never blocks and never throws
 * for an unreachable peer; delivery is best-effort (messages may be lost, delayed, duplicated or
 * reordered; Raft tolerates all of these). Called from the peer's actor only.
 */
@FunctionalInterface
public interface PeerTransport {
  void send(Envelope envelope);
}
