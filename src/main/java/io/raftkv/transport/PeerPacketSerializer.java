package io.raftkv.transport;

import io.raftkv.codec.ByteReader;
import io.raftkv.codec.ByteWriter;
import io.raftkv.codec.CorruptDataException;
import java.io.NotSerializableException;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/** Compact binary form of {@link PeerPacket}, the hot path between Raft peers. */
public final class PeerPacketSerializer extends SerializerWithStringManifest {
  /** Its own version byte, not RaftCodec's: a new Raft format must not change this one (both began at 1). */
  private static final int VERSION = 1;
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
    return new ByteWriter()
        .u8(VERSION)
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
      ByteReader r = new ByteReader(bytes);
      r.expectVersion(VERSION);
      PeerPacket p =
          new PeerPacket((int) r.varint(), (int) r.varint(), r.varint(), (int) r.varint(), (int) r.varint(), r.bytes());
      r.expectEnd();
      return p;
    } catch (CorruptDataException | IllegalArgumentException e) {
      throw new NotSerializableException("malformed peer packet: " + e.getMessage());
    }
  }
}
