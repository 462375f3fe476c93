package io.raftkv.transport;

import io.raftkv.raft.RaftCodec;
import java.io.NotSerializableException;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/** Compact binary form of {@link PeerPacket}, the hot path between Raft peers. */
public final class PeerPacketSerializer extends SerializerWithStringManifest {
  private static final String MANIFEST = "P1";

  public PeerPacketSerializer(ExtendedActorSystem system) {}

  @Override
  public int identifier() {
    return 731_001;
  }

  @Override
  public String manifest(Object o) {
    return MANIFEST;
  }

  @Override
  public byte[] toBinary(Object o) {
    PeerPacket p = (PeerPacket) o;
    return new RaftCodec.Writer()
        .u8(RaftCodec.VERSION)
        .varint(p.from())
        .varint(p.to())
        .varint(p.msgId())
        .varint(p.chunk())
        .varint(p.chunks())
        .bytes(p.data())
        .toByteArray();
  }

  @Override
  public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
    if (!MANIFEST.equals(manifest)) throw new NotSerializableException("unknown manifest " + manifest);
    try {
      RaftCodec.Reader r = new RaftCodec.Reader(bytes);
      r.expectVersion();
      PeerPacket p =
          new PeerPacket((int) r.varint(), (int) r.varint(), r.varint(), (int) r.varint(), (int) r.varint(), r.bytes());
      r.expectEnd();
      return p;
    } catch (RaftCodec.CorruptDataException | IllegalArgumentException e) {
      throw new NotSerializableException("malformed peer packet: " + e.getMessage());
    }
  }
}
