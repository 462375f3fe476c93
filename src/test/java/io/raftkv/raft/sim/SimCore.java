package io.raftkv.raft.sim;

import io.raftkv.raft.Configuration;
import io.raftkv.raft.LogEntry;
import io.raftkv.raft.PersistentState;
import io.raftkv.raft.RaftConfig;
import io.raftkv.raft.RaftCore;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;

/**
 * One simulated server: its durable {@link SimStorage} (kept across crashes), the live {@link
 * RaftCore} (null while crashed), and the service above it, a state machine that only remembers
 * how many commands it applied and a hash of their sequence, as the lab's tester does with its
 * log map. Snapshots carry that (index, hash) pair.
 */
final class SimCore {
  /** Builds a core: {@link RaftCore} itself, or a deliberately broken subclass. */
  @FunctionalInterface
  interface Factory {
    RaftCore create(int id, Configuration initial, RaftConfig config, SplittableRandom random, PersistentState state);

    Factory CORRECT = RaftCore::new;
  }

  final int id;
  final SimStorage storage = new SimStorage();
  RaftCore core;
  /** Bumped at every restart; events for an older incarnation are void. */
  int incarnation;
  /** Crash during the next input: its Ready is lost (entirely, or all but the hard state). */
  Simulation.Torn tornNext;

  // the service: applied <= Raft's commit index
  long applied;
  long stateHash;

  /** The highest commit index of this incarnation that the checker has looked at. */
  long checkedCommit;
  /** The last term in which the checker saw this peer lead, to notice new leaderships. */
  long ledTerm;

  SimCore(int id) {
    this.id = id;
  }

  boolean up() {
    return core != null;
  }

  /** Starts (or restarts) from what was persisted; the service restores from the snapshot. */
  void start(Configuration initial, RaftConfig config, Factory factory, SplittableRandom random) {
    core = factory.create(id, initial, config, random, storage.load());
    incarnation++;
    tornNext = null;
    checkedCommit = core.commitIndex();
    ledTerm = 0;
    if (storage.snapshot.isEmpty()) {
      applied = 0;
      stateHash = 0;
    } else {
      ByteBuffer b = ByteBuffer.wrap(storage.snapshot.data());
      applied = b.getLong();
      stateHash = b.getLong();
      if (applied != storage.snapshot.index())
        throw new SafetyViolation("n" + id + " persisted snapshot " + storage.snapshot.index() + " holds state of " + applied);
    }
  }

  void crash() {
    core = null;
  }

  byte[] snapshotData() {
    return ByteBuffer.allocate(16).putLong(applied).putLong(stateHash).array();
  }

  static long mix(long hash, long command) {
    long h = (hash ^ command) * 0x9E3779B97F4A7C15L;
    return h ^ (h >>> 29);
  }

  /** The id of a command; 0 for the empty no-op a leader appends to serve reads. */
  /**
   * The id of what an entry holds: its command's, or for a configuration entry a hash of the
   * configuration with the top bit set (no command id has it), so that the checker tells
   * configuration entries apart from commands, no-ops and each other.
   */
  static long entryId(LogEntry e) {
    return e.isConfiguration() ? configurationId(e.command()) : commandId(e.command());
  }

  static long configurationId(byte[] encoded) {
    long h = 0x84222325cbf29ce4L;
    for (byte b : encoded) h = mix(h, b);
    return h | Long.MIN_VALUE;
  }

  static long commandId(byte[] command) {
    return command.length == 0 ? 0 : ByteBuffer.wrap(command).getLong();
  }

  /** The largest command the simulation proposes: an 8-byte id and up to 23 bytes of padding. */
  static final int MAX_COMMAND_BYTES = 31;

  static byte[] command(long id, int padding) {
    return ByteBuffer.allocate(8 + padding).putLong(id).array();
  }
}
