package io.raftkv.transport;

/**
 * One Raft message, or one chunk of a large one, on its way between two nodes of a cluster. {@code
 * data} is the message in {@link io.raftkv.raft.RaftCodec} form; messages larger than a chunk (big
 * InstallSnapshots) are split into {@code chunks} packets with the same {@code msgId}, sent in
 * order. Serialized by {@link PeerPacketSerializer}.
 */
public record PeerPacket(int from, int to, long msgId, int chunk, int chunks, byte[] data) {
  public PeerPacket {
    if (chunks < 1 || chunk < 0 || chunk >= chunks) throw new IllegalArgumentException("bad chunk " + chunk + "/" + chunks);
  }
}
