package io.raftkv.transport;

/**
 * Marker for every message that crosses the network between nodes other than {@link PeerPacket}:
 * bound to Jackson CBOR in reference.conf.
 */
public interface WireMessage {}
