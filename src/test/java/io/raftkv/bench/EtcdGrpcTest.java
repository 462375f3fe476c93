package io.raftkv.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The hand-written protobuf of etcd's KV Put and Range, and gRPC's framing. */
class EtcdGrpcTest {
  private static byte[] bytes(int... b) {
    byte[] out = new byte[b.length];
    for (int i = 0; i < b.length; i++) out[i] = (byte) b[i];
    return out;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void putAndRangeRequestsAreTheProtobufFieldsOneAndTwo() {
    // PutRequest{key: "foo" (field 1, bytes), value: "bar" (field 2, bytes)}
    assertArrayEquals(bytes(0x0a, 3, 'f', 'o', 'o', 0x12, 3, 'b', 'a', 'r'), EtcdGrpc.putRequest(utf8("foo"), utf8("bar")));
    // RangeRequest{key: "foo"}: serializable (field 7) stays false, so the read is linearizable
    assertArrayEquals(bytes(0x0a, 3, 'f', 'o', 'o'), EtcdGrpc.rangeRequest(utf8("foo")));
    // a 200-byte value needs a two-byte length varint: 200 = 0xc8 0x01
    byte[] put = EtcdGrpc.putRequest(utf8("k"), new byte[200]);
    assertEquals(3 + 3 + 200, put.length);
    assertArrayEquals(bytes(0x12, 0xc8, 0x01), java.util.Arrays.copyOfRange(put, 3, 6));
  }

  @Test
  void framingIsAFlagByteAndABigEndianLength() {
    byte[] message = new byte[300];
    message[299] = 7;
    byte[] framed = EtcdGrpc.frame(message);
    assertArrayEquals(bytes(0, 0, 0, 0x01, 0x2c), java.util.Arrays.copyOf(framed, 5));
    assertArrayEquals(message, EtcdGrpc.unframe(framed));
    assertArrayEquals(new byte[0], EtcdGrpc.unframe(EtcdGrpc.frame(new byte[0])));

    assertThrows(IllegalArgumentException.class, () -> EtcdGrpc.unframe(bytes(0, 0, 0)));
    assertThrows(IllegalArgumentException.class, () -> EtcdGrpc.unframe(bytes(1, 0, 0, 0, 1, 9)), "compressed");
    assertThrows(IllegalArgumentException.class, () -> EtcdGrpc.unframe(bytes(0, 0, 0, 0, 2, 9)), "short");
  }

  @Test
  void responsesDecodeTheirHeaderAndKeyValuesAndSkipUnknownFields() {
    ByteArrayOutputStream header = new ByteArrayOutputStream();
    tagVarint(header, 1, 0xd9a1f2c3b4e5L); // cluster_id
    tagVarint(header, 2, 42); // member_id
    tagVarint(header, 3, 1234567); // revision
    tagVarint(header, 4, 5); // raft_term
    header.write(0x2d); // field 5, fixed32: unknown to the decoder, skipped
    header.writeBytes(bytes(1, 2, 3, 4));

    ByteArrayOutputStream kv = new ByteArrayOutputStream();
    tagBytes(kv, 1, utf8("k0001"));
    tagVarint(kv, 2, 10); // create_revision
    tagVarint(kv, 3, 20); // mod_revision
    tagVarint(kv, 4, 3); // version
    tagBytes(kv, 5, utf8("hello"));
    tagVarint(kv, 6, 0); // lease

    ByteArrayOutputStream range = new ByteArrayOutputStream();
    tagBytes(range, 1, header.toByteArray());
    tagBytes(range, 2, kv.toByteArray());
    tagVarint(range, 3, 0); // more
    tagVarint(range, 4, 1); // count
    range.write(0x29); // field 5, fixed64: unknown, skipped
    range.writeBytes(new byte[8]);

    EtcdGrpc.RangeResponse r = EtcdGrpc.decodeRangeResponse(range.toByteArray());
    assertEquals(new EtcdGrpc.ResponseHeader(0xd9a1f2c3b4e5L, 42, 1234567, 5), r.header());
    assertEquals(1, r.count());
    assertEquals(1, r.kvs().size());
    EtcdGrpc.KeyValue got = r.kvs().get(0);
    assertEquals("k0001", new String(got.key(), StandardCharsets.UTF_8));
    assertEquals("hello", new String(got.value(), StandardCharsets.UTF_8));
    assertEquals(10, got.createRevision());
    assertEquals(20, got.modRevision());
    assertEquals(3, got.version());

    ByteArrayOutputStream put = new ByteArrayOutputStream();
    tagBytes(put, 1, header.toByteArray());
    tagBytes(put, 2, kv.toByteArray()); // prev_kv: not asked for, skipped
    assertEquals(1234567, EtcdGrpc.decodePutResponse(put.toByteArray()).revision());

    // a missing key: a header and count 0, no kvs
    ByteArrayOutputStream empty = new ByteArrayOutputStream();
    tagBytes(empty, 1, header.toByteArray());
    EtcdGrpc.RangeResponse none = EtcdGrpc.decodeRangeResponse(empty.toByteArray());
    assertEquals(0, none.count());
    assertEquals(0, none.kvs().size());
  }

  @Test
  void malformedMessagesAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> EtcdGrpc.decodeRangeResponse(bytes(0x0a, 5, 1)), "length beyond the message");
    assertThrows(IllegalArgumentException.class, () -> EtcdGrpc.decodePutResponse(bytes(0x08, 0x80)), "truncated varint");
    assertThrows(IllegalArgumentException.class, () -> EtcdGrpc.decodePutResponse(bytes(0x0b)), "wire type 3 (groups)");
  }

  @Test
  void grpcMessagesArePercentDecoded() {
    assertEquals("etcdserver: request timed out", EtcdGrpc.decodeMessage("etcdserver: request timed out"));
    assertEquals("a+b 100%", EtcdGrpc.decodeMessage("a+b%20100%25"));
  }

  private static void tagVarint(ByteArrayOutputStream out, int field, long v) {
    EtcdGrpc.writeVarint(out, field << 3);
    EtcdGrpc.writeVarint(out, v);
  }

  private static void tagBytes(ByteArrayOutputStream out, int field, byte[] b) {
    EtcdGrpc.writeVarint(out, (field << 3) | 2);
    EtcdGrpc.writeVarint(out, b.length);
    out.writeBytes(b);
  }
}
