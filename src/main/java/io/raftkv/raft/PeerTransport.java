package io.raftkv.raft;

/**
 * How a peer's outgoing messages leave it: the port {@link RaftPeer} sends through, kept with Raft
 * so that the transports ({@code io.raftkv.transport}) depend on Raft and not the reverse. The way
 * back in is {@link RaftPeer.Inbound}, which the transport tells the receiving peer.
 *
 * <p><b>Threading.</b> {@link #send} is called from the sending peer's actor only, one call at a
 * time; an implementation that hands the message to other threads must make that hand-off safe.
 *
 * <p><b>Blocking.</b> {@link #send} never blocks (no I/O, no waiting for a connection or a
 * reply): it runs inside the actor, and a slow peer must not stall the others.
 *
 * <p><b>Delivery and durability.</b> Best-effort: a message may be lost, delayed, duplicated or
 * reordered, and nothing in flight survives a crash; Raft's retries and terms tolerate all of it.
 * A transport never invents or alters a message: what arrives is a message some peer sent, with
 * its real sender.
 *
 * <p><b>Failures.</b> {@link #send} never throws for an unreachable, unknown-route or crashed
 * peer: it drops the message, as the network might have. It may throw only for a programming
 * error (an envelope no peer of the group could be addressed by).
 *
 * <p><b>Idempotence.</b> None is promised: each call is one more message, and sending the same
 * envelope twice may deliver it twice, which Raft tolerates. The envelope and its message are
 * immutable by convention, so a transport may keep or resend them.
 */
@FunctionalInterface
public interface PeerTransport {
  /** Hands {@code envelope} to the network for peer {@code envelope.to()}; returns at once. */
  void send(Envelope envelope);

  /**
   * Whether messages to {@code peer} have a way out (a known route); the peer refuses changes that
   * would add a node it cannot reach, and drops messages from one it could not answer. Default:
   * every peer.
   */
  default boolean reaches(int peer) {
    return true;
  }

  /**
   * The membership in effect at the sending peer changed (at start, on appending a configuration
   * entry, or when one is truncated away); called from the peer's actor, before the messages of that
   * step are sent. A transport whose routes come from the configuration's {@link
   * Configuration#addresses()} updates them here. Default: nothing.
   */
  default void configurationChanged(Configuration configuration) {}
}
