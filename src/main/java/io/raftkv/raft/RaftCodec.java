package io.raftkv.raft;

import static io.raftkv.codec.ByteWriter.varintSize;

import io.raftkv.codec.ByteReader;
import io.raftkv.codec.ByteWriter;
import io.raftkv.codec.CorruptDataException;
import java.util.ArrayList;
import java.util.List;

/**
 * Compact binary encoding of Raft messages and persisted state: a version byte, then unsigned
 * varints and length-prefixed byte strings ({@link ByteWriter}). No Java serialization. Decoding
 * rejects unknown versions, unknown tags and truncated input with {@link CorruptDataException}.
 * Only Raft's own formats live here; the primitives are in {@code io.raftkv.codec}, so that the
 * layers above and beside Raft can write bytes without depending on it.
 */
public final class RaftCodec {
  public static final int VERSION = 1;

  private static final int REQUEST_VOTE = 1;
  private static final int REQUEST_VOTE_REPLY = 2;
  private static final int APPEND_ENTRIES = 3;
  private static final int APPEND_ENTRIES_REPLY = 4;
  private static final int INSTALL_SNAPSHOT = 5;
  private static final int INSTALL_SNAPSHOT_REPLY = 6;
  /** A RequestVote with flags (pre-vote, transfer): tag 1 stays the plain one, byte for byte. */
  private static final int REQUEST_VOTE_FLAGGED = 7;
  private static final int PRE_VOTE_REPLY = 8;
  private static final int TIMEOUT_NOW = 9;
  /** AppendEntries (and its reply) with a read round: tags 3 and 4 stay the plain ones, byte for byte. */
  private static final int APPEND_ENTRIES_READ = 10;
  private static final int APPEND_ENTRIES_REPLY_READ = 11;
  private static final int READ_INDEX = 12;
  private static final int READ_INDEX_RESULT = 13;
  /**
   * AppendEntries whose entries carry their {@link LogEntry.Type}: sent only when one is not a
   * command, so tags 3 and 10 stay byte for byte what they were.
   */
  private static final int APPEND_ENTRIES_TYPED = 14;
  /** A raft state whose entries carry their type (version 1 has commands only). */
  private static final int RAFT_STATE_TYPED = 2;
  /** An InstallSnapshot chunk with the snapshot's configuration (tag 5 has none). */
  private static final int INSTALL_SNAPSHOT_CONFIGURATION = 15;
  private static final int CONFIGURATION_VERSION = 1;
  private static final int CONFIGURATION_WITH_ADDRESSES = 2;

  private static final int FLAG_PRE_VOTE = 1;
  private static final int FLAG_TRANSFER = 2;

  private RaftCodec() {}

  // ---------------------------------------------------------------- messages

  public static byte[] encode(RaftMessage m) {
    ByteWriter w = new ByteWriter();
    w.u8(VERSION);
    if (m instanceof RaftMessage.RequestVote rv) {
      int flags = (rv.preVote() ? FLAG_PRE_VOTE : 0) | (rv.transfer() ? FLAG_TRANSFER : 0);
      w.u8(flags == 0 ? REQUEST_VOTE : REQUEST_VOTE_FLAGGED).varint(rv.term()).varint(rv.lastLogIndex()).varint(rv.lastLogTerm());
      if (flags != 0) w.u8(flags);
    } else if (m instanceof RaftMessage.RequestVoteReply r) {
      w.u8(r.preVote() ? PRE_VOTE_REPLY : REQUEST_VOTE_REPLY).varint(r.term()).u8(r.voteGranted() ? 1 : 0);
    } else if (m instanceof RaftMessage.TimeoutNow t) {
      w.u8(TIMEOUT_NOW).varint(t.term());
    } else if (m instanceof RaftMessage.AppendEntries ae && hasConfiguration(ae.entries())) {
      w.u8(APPEND_ENTRIES_TYPED).varint(ae.term()).varint(ae.prevLogIndex()).varint(ae.prevLogTerm());
      w.varint(ae.leaderCommit()).varint(ae.readRound());
      writeTypedEntries(w, ae.entries());
    } else if (m instanceof RaftMessage.AppendEntries ae) {
      boolean read = ae.readRound() != 0;
      w.u8(read ? APPEND_ENTRIES_READ : APPEND_ENTRIES).varint(ae.term()).varint(ae.prevLogIndex()).varint(ae.prevLogTerm());
      w.varint(ae.leaderCommit());
      if (read) w.varint(ae.readRound());
      writeEntries(w, ae.entries());
    } else if (m instanceof RaftMessage.AppendEntriesReply r) {
      boolean read = r.readRound() != 0;
      w.u8(read ? APPEND_ENTRIES_REPLY_READ : APPEND_ENTRIES_REPLY).varint(r.term()).u8(r.success() ? 1 : 0).varint(r.matchIndex());
      w.varint(r.rejectedIndex()).varint(r.conflictTerm()).varint(r.conflictIndex()).varint(r.logLength());
      if (read) w.varint(r.readRound());
    } else if (m instanceof RaftMessage.ReadIndex ri) {
      w.u8(READ_INDEX).varint(ri.term()).varint(ri.ctx());
    } else if (m instanceof RaftMessage.ReadIndexResult rr) {
      w.u8(READ_INDEX_RESULT).varint(rr.term()).varint(rr.ctx()).varintSigned(rr.index());
    } else if (m instanceof RaftMessage.InstallSnapshot is && is.configuration() != null) {
      w.u8(INSTALL_SNAPSHOT_CONFIGURATION).varint(is.term()).varint(is.lastIncludedIndex()).varint(is.lastIncludedTerm());
      w.varint(is.offset()).varint(is.size()).bytes(encodeConfiguration(is.configuration()));
      w.bytes(is.data());
    } else if (m instanceof RaftMessage.InstallSnapshot is) {
      w.u8(INSTALL_SNAPSHOT).varint(is.term()).varint(is.lastIncludedIndex()).varint(is.lastIncludedTerm());
      w.varint(is.offset()).varint(is.size());
      w.bytes(is.data());
    } else if (m instanceof RaftMessage.InstallSnapshotReply r) {
      w.u8(INSTALL_SNAPSHOT_REPLY).varint(r.term()).varint(r.lastIncludedIndex()).varint(r.received()).u8(r.done() ? 1 : 0);
    } else {
      throw new IllegalArgumentException("unknown message " + m);
    }
    return w.toByteArray();
  }

  public static RaftMessage decodeMessage(byte[] bytes) {
    ByteReader r = new ByteReader(bytes);
    r.expectVersion(VERSION);
    int tag = r.u8();
    RaftMessage m =
        switch (tag) {
          case REQUEST_VOTE -> new RaftMessage.RequestVote(r.varint(), r.varint(), r.varint());
          case REQUEST_VOTE_FLAGGED -> {
            long term = r.varint(), lastIndex = r.varint(), lastTerm = r.varint();
            int flags = r.u8();
            if ((flags & ~(FLAG_PRE_VOTE | FLAG_TRANSFER)) != 0) throw new CorruptDataException("unknown vote flags " + flags);
            yield new RaftMessage.RequestVote(
                term, lastIndex, lastTerm, (flags & FLAG_PRE_VOTE) != 0, (flags & FLAG_TRANSFER) != 0);
          }
          case REQUEST_VOTE_REPLY -> new RaftMessage.RequestVoteReply(r.varint(), r.u8() == 1);
          case PRE_VOTE_REPLY -> new RaftMessage.RequestVoteReply(r.varint(), r.u8() == 1, true);
          case TIMEOUT_NOW -> new RaftMessage.TimeoutNow(r.varint());
          case APPEND_ENTRIES -> {
            long term = r.varint(), prev = r.varint(), prevTerm = r.varint(), commit = r.varint();
            yield new RaftMessage.AppendEntries(term, prev, prevTerm, readEntries(r), commit);
          }
          case APPEND_ENTRIES_READ -> {
            long term = r.varint(), prev = r.varint(), prevTerm = r.varint(), commit = r.varint(), round = r.varint();
            yield new RaftMessage.AppendEntries(term, prev, prevTerm, readEntries(r), commit, round);
          }
          case APPEND_ENTRIES_TYPED -> {
            long term = r.varint(), prev = r.varint(), prevTerm = r.varint(), commit = r.varint(), round = r.varint();
            yield new RaftMessage.AppendEntries(term, prev, prevTerm, readTypedEntries(r), commit, round);
          }
          case APPEND_ENTRIES_REPLY -> new RaftMessage.AppendEntriesReply(
              r.varint(), r.u8() == 1, r.varint(), r.varint(), r.varint(), r.varint(), r.varint());
          case APPEND_ENTRIES_REPLY_READ -> new RaftMessage.AppendEntriesReply(
              r.varint(), r.u8() == 1, r.varint(), r.varint(), r.varint(), r.varint(), r.varint(), r.varint());
          case READ_INDEX -> new RaftMessage.ReadIndex(r.varint(), r.varint());
          case READ_INDEX_RESULT -> new RaftMessage.ReadIndexResult(r.varint(), r.varint(), r.varintSigned());
          case INSTALL_SNAPSHOT -> new RaftMessage.InstallSnapshot(
              r.varint(), r.varint(), r.varint(), r.varint(), r.varint(), r.bytes());
          case INSTALL_SNAPSHOT_CONFIGURATION -> {
            long term = r.varint(), index = r.varint(), lastTerm = r.varint(), offset = r.varint(), size = r.varint();
            Configuration c = decodeConfiguration(r.bytes());
            yield new RaftMessage.InstallSnapshot(term, index, lastTerm, offset, size, r.bytes(), c);
          }
          case INSTALL_SNAPSHOT_REPLY -> new RaftMessage.InstallSnapshotReply(r.varint(), r.varint(), r.varint(), r.u8() == 1);
          default -> throw new CorruptDataException("unknown message tag " + tag);
        };
    r.expectEnd();
    return m;
  }

  // ---------------------------------------------------------------- persisted state

  /** The "raft state" of the lab's Persister: term, vote, snapshot point and the log after it. */
  public static byte[] encodeRaftState(HardState hs, long snapshotIndex, long snapshotTerm, List<LogEntry> entries) {
    boolean typed = hasConfiguration(entries);
    ByteWriter w = new ByteWriter();
    w.u8(typed ? RAFT_STATE_TYPED : VERSION).varint(hs.term()).varint(hs.votedFor() + 1L).varint(snapshotIndex).varint(snapshotTerm);
    if (typed) writeTypedEntries(w, entries);
    else writeEntries(w, entries);
    return w.toByteArray();
  }

  /** Decoded raft state; the snapshot data itself is stored separately. */
  public record RaftState(HardState hardState, long snapshotIndex, long snapshotTerm, List<LogEntry> entries) {}

  public static RaftState decodeRaftState(byte[] bytes) {
    ByteReader r = new ByteReader(bytes);
    int version = r.u8();
    if (version != VERSION && version != RAFT_STATE_TYPED) throw new CorruptDataException("unsupported raft state version " + version);
    HardState hs = new HardState(r.varint(), (int) (r.varint() - 1));
    long si = r.varint(), st = r.varint();
    List<LogEntry> entries = version == RAFT_STATE_TYPED ? readTypedEntries(r) : readEntries(r);
    r.expectEnd();
    return new RaftState(hs, si, st, entries);
  }

  /** Encoded size of one entry inside a raft state or AppendEntries, for incremental size accounting. */
  public static int entrySize(LogEntry e) {
    return varintSize(e.index()) + varintSize(e.term()) + varintSize(e.command().length) + e.command().length;
  }

  /**
   * Size of {@link #encodeRaftState} for a state with {@code count} entries whose {@link
   * #entrySize}s add up to {@code entriesBytes}; 0 for a peer that never persisted anything. The
   * storages report it as the lab's RaftStateSize, so that the snapshot policy sees the same
   * numbers whichever one runs.
   */
  public static long raftStateSize(HardState hs, long snapshotIndex, long snapshotTerm, long count, long entriesBytes) {
    if (hs.equals(HardState.INITIAL) && snapshotIndex == 0 && count == 0) return 0;
    return 1 + varintSize(hs.term()) + varintSize(hs.votedFor() + 1L)
        + varintSize(snapshotIndex) + varintSize(snapshotTerm)
        + varintSize(count) + entriesBytes;
  }

  // ---------------------------------------------------------------- configurations

  /**
   * A configuration as a configuration entry's bytes (and a snapshot's): a version, four id sets, a
   * flag, and in version 2 the address book (count, then id and ASCII address each). A
   * configuration without addresses is written in version 1, byte for byte as before addresses.
   */
  public static byte[] encodeConfiguration(Configuration c) {
    boolean book = !c.addresses().isEmpty();
    ByteWriter w = new ByteWriter().u8(book ? CONFIGURATION_WITH_ADDRESSES : CONFIGURATION_VERSION);
    for (java.util.Set<Integer> ids : List.of(c.voters(), c.outgoing(), c.learners(), c.learnersNext())) {
      w.varint(ids.size());
      for (int id : ids) w.varint(id);
    }
    w.u8(c.autoLeave() ? 1 : 0);
    if (book) {
      w.varint(c.addresses().size());
      for (java.util.Map.Entry<Integer, String> a : c.addresses().entrySet()) {
        w.varint(a.getKey()).bytes(a.getValue().getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      }
    }
    return w.toByteArray();
  }

  /** The inverse of {@link #encodeConfiguration}; bytes that break its rules are corrupt. */
  public static Configuration decodeConfiguration(byte[] bytes) {
    ByteReader r = new ByteReader(bytes);
    int version = r.u8();
    if (version != CONFIGURATION_VERSION && version != CONFIGURATION_WITH_ADDRESSES) {
      throw new CorruptDataException("unknown configuration version " + version);
    }
    List<java.util.Set<Integer>> sets = new ArrayList<>(4);
    for (int k = 0; k < 4; k++) {
      long count = r.varint();
      if (count > r.remaining()) throw new CorruptDataException("member count " + count + " exceeds input");
      java.util.Set<Integer> ids = new java.util.TreeSet<>();
      for (long i = 0; i < count; i++) ids.add(memberId(r));
      sets.add(ids);
    }
    int autoLeave = r.u8();
    if (autoLeave > 1) throw new CorruptDataException("bad auto-leave flag " + autoLeave);
    java.util.SortedMap<Integer, String> book = new java.util.TreeMap<>();
    if (version == CONFIGURATION_WITH_ADDRESSES) {
      long count = r.varint();
      if (count > r.remaining()) throw new CorruptDataException("address count " + count + " exceeds input");
      for (long i = 0; i < count; i++) {
        int id = memberId(r);
        if (book.put(id, new String(r.bytes(), java.nio.charset.StandardCharsets.US_ASCII)) != null) {
          throw new CorruptDataException("two addresses for n" + id);
        }
      }
    }
    r.expectEnd();
    try {
      return new Configuration(sets.get(0), sets.get(1), sets.get(2), sets.get(3), autoLeave == 1, book);
    } catch (IllegalArgumentException e) {
      throw new CorruptDataException("invalid configuration: " + e.getMessage());
    }
  }

  private static int memberId(ByteReader r) {
    long id = r.varint();
    if (id < 0 || id > Integer.MAX_VALUE) throw new CorruptDataException("member id " + id + " out of range");
    return (int) id;
  }

  private static boolean hasConfiguration(List<LogEntry> entries) {
    for (LogEntry e : entries) if (e.isConfiguration()) return true;
    return false;
  }

  private static void writeTypedEntries(ByteWriter w, List<LogEntry> entries) {
    w.varint(entries.size());
    for (LogEntry e : entries) w.u8(e.type().ordinal()).varint(e.index()).varint(e.term()).bytes(e.command());
  }

  private static List<LogEntry> readTypedEntries(ByteReader r) {
    long count = r.varint();
    if (count > r.remaining()) throw new CorruptDataException("entry count " + count + " exceeds input");
    List<LogEntry> out = new ArrayList<>((int) count);
    for (long i = 0; i < count; i++) {
      LogEntry.Type type = entryType(r.u8());
      long index = r.varint(), term = r.varint();
      byte[] cmd = r.bytes();
      if (index < 1 || term < 1) throw new CorruptDataException("bad entry index/term " + index + "/" + term);
      out.add(new LogEntry(index, term, cmd, type));
    }
    return out;
  }

  /** The entry type with this code (its ordinal). */
  public static LogEntry.Type entryType(int code) {
    LogEntry.Type[] types = LogEntry.Type.values();
    if (code < 0 || code >= types.length) throw new CorruptDataException("unknown entry type " + code);
    return types[code];
  }

  private static void writeEntries(ByteWriter w, List<LogEntry> entries) {
    w.varint(entries.size());
    for (LogEntry e : entries) w.varint(e.index()).varint(e.term()).bytes(e.command());
  }

  private static List<LogEntry> readEntries(ByteReader r) {
    long count = r.varint();
    if (count > r.remaining()) throw new CorruptDataException("entry count " + count + " exceeds input");
    List<LogEntry> out = new ArrayList<>((int) count);
    for (long i = 0; i < count; i++) {
      long index = r.varint(), term = r.varint();
      byte[] cmd = r.bytes();
      if (index < 1 || term < 1) throw new CorruptDataException("bad entry index/term " + index + "/" + term);
      out.add(new LogEntry(index, term, cmd));
    }
    return out;
  }
}
