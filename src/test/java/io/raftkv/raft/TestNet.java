package io.raftkv.raft;

import io.raftkv.storage.MemoryStorage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Predicate;

/**
 * A hand-driven group of {@link RaftCore}s for scenario tests: nothing moves unless the test says
 * so. After every input the core's {@link Ready} is carried out as the shell would (persist into a
 * {@link MemoryStorage}, queue the messages, record the applies), and kept in {@link #lastReady}
 * for tests that look at one Ready as a whole.
 */
final class TestNet {
  /** Small timings so scenarios stay short: election 10..20, heartbeat 3, commit news after 2. */
  static final RaftConfig CONFIG = new RaftConfig(10, 20, 3, 2, 4, 1 << 20, 2, 9);

  final int n;
  final RaftConfig config;
  final RaftCore[] cores;
  final MemoryStorage[] storages;
  final List<List<ApplyMsg>> applied = new ArrayList<>();
  final Ready[] lastReady;
  /** The snapshot index each peer's service restored from when it (re)started. */
  final long[] restoredAt;
  /** Messages sent and not yet delivered or dropped, in send order. */
  final List<Envelope> queue = new ArrayList<>();
  /** Peers cut off from everyone: what they send or are sent is dropped on delivery. */
  final Set<Integer> isolated = new HashSet<>();

  TestNet(int n) {
    this(n, CONFIG);
  }

  TestNet(int n, RaftConfig config) {
    this(config, new PersistentState[n]);
  }

  /** A group whose peers start from the given persisted states (null: a new peer). */
  TestNet(RaftConfig config, PersistentState... states) {
    this.n = states.length;
    this.config = config;
    this.cores = new RaftCore[n];
    this.storages = new MemoryStorage[n];
    this.lastReady = new Ready[n];
    this.restoredAt = new long[n];
    for (int i = 0; i < n; i++) {
      PersistentState s = states[i] == null ? PersistentState.EMPTY : states[i];
      storages[i] = new MemoryStorage();
      storages[i].save(
          RaftCodec.encodeRaftState(s.hardState(), s.snapshot().index(), s.snapshot().term(), s.entries()),
          s.snapshot().data());
      applied.add(new ArrayList<>());
      cores[i] = newCore(i, storages[i].load());
      restoredAt[i] = s.snapshot().index();
    }
  }

  /** A persisted state of term {@code term} (no vote) whose log holds one entry per given term. */
  static PersistentState state(long term, long... entryTerms) {
    List<LogEntry> entries = new ArrayList<>();
    for (int k = 0; k < entryTerms.length; k++) {
      entries.add(new LogEntry(k + 1, entryTerms[k], ("e" + (k + 1) + "t" + entryTerms[k]).getBytes(StandardCharsets.UTF_8)));
    }
    return new PersistentState(new HardState(term, HardState.NO_VOTE), Snapshot.EMPTY, entries);
  }

  /** {@code count} copies of {@code term}, for building logs: {@code terms(1, 3)} is 1 1 1. */
  static long[] terms(long term, int count) {
    long[] out = new long[count];
    java.util.Arrays.fill(out, term);
    return out;
  }

  static long[] concat(long[]... parts) {
    return java.util.Arrays.stream(parts).flatMapToLong(java.util.Arrays::stream).toArray();
  }

  /** Per peer, the membership it starts with; null: the voters 0..n-1. */
  Configuration[] initial;

  RaftCore newCore(int i, PersistentState state) {
    if (initial != null && initial[i] != null) return new RaftCore(i, initial[i], config, new SplittableRandom(1000 + i), state);
    return new RaftCore(i, n, config, new SplittableRandom(1000 + i), state);
  }

  /**
   * A group of {@code size} new peers where peer i starts with {@code initial[i]}: e.g. voters
   * {0, 1, 2} and peers 3 and 4 that join later, starting as their own learners.
   */
  static TestNet withMembership(RaftConfig config, Configuration... initial) {
    TestNet net = new TestNet(config, new PersistentState[initial.length]);
    net.initial = initial;
    for (int i = 0; i < initial.length; i++) net.cores[i] = net.newCore(i, net.storages[i].load());
    return net;
  }

  Proposal proposeConfiguration(int i, Configuration.Transition t, Configuration.Change... changes) {
    try {
      return cores[i].proposeConfiguration(List.of(changes), t);
    } finally {
      process(i); // a refusal may have appended (a new leader's no-op)
    }
  }

  RaftCore core(int i) {
    return cores[i];
  }

  // ---------------------------------------------------------------- inputs

  /**
   * Ticks {@code i} until it starts an election, or with PreVote a pre-vote round (or becomes
   * leader of a group of one).
   */
  void campaign(int i) {
    RaftCore c = cores[i];
    long t = c.term();
    for (int k = 0; k <= config.electionTicksMax(); k++) {
      tick(i);
      if (c.term() != t || c.isLeader()) return;
      if (lastReady[i].messages().stream().anyMatch(e -> e.message() instanceof RaftMessage.RequestVote)) return;
    }
    throw new AssertionError("n" + i + " did not campaign");
  }

  /** Campaigns {@code i} and delivers everything; {@code i} must end up leading. */
  void elect(int i) {
    campaign(i);
    stabilize();
    if (!cores[i].isLeader()) throw new AssertionError("n" + i + " was not elected: " + cores[i].role());
  }

  void tick(int i) {
    cores[i].tick();
    process(i);
  }

  void tick(int i, int times) {
    for (int k = 0; k < times; k++) tick(i);
  }

  Proposal propose(int i, String command) {
    Proposal p = cores[i].propose(command.getBytes(StandardCharsets.UTF_8));
    process(i);
    return p;
  }

  void step(int to, int from, RaftMessage m) {
    cores[to].step(from, m);
    process(to);
  }

  RaftCore.Transfer transfer(int i, int to) {
    RaftCore.Transfer t = cores[i].transferLeadership(to);
    process(i);
    return t;
  }

  void readIndex(int i, long ctx) {
    cores[i].readIndex(ctx);
    process(i);
  }

  void snapshot(int i, long index) {
    cores[i].snapshot(index, ("snap@" + index).getBytes(StandardCharsets.UTF_8));
    process(i);
  }

  /** Crashes {@code i} and restarts it from what it persisted. */
  void restart(int i) {
    storages[i] = storages[i].copy();
    cores[i] = newCore(i, storages[i].load());
    restoredAt[i] = cores[i].snapshotIndex();
    queue.removeIf(e -> e.to() == i);
    lastReady[i] = null;
    applied.get(i).clear(); // the service restarts too, from the snapshot Raft persisted
  }

  // ---------------------------------------------------------------- the network

  /** Delivers queued messages, including those they cause, until none is left. */
  int stabilize() {
    return deliverWhile(e -> true);
  }

  /** Delivers queued messages that match, including matching ones they cause, until none is left. */
  int deliverWhile(Predicate<Envelope> which) {
    int delivered = 0;
    while (true) {
      Envelope next = null;
      for (Iterator<Envelope> it = queue.iterator(); it.hasNext(); ) {
        Envelope e = it.next();
        if (which.test(e)) {
          it.remove();
          next = e;
          break;
        }
      }
      if (next == null) return delivered;
      if (deliver(next)) delivered++;
      if (delivered > 100_000) throw new AssertionError("the group does not settle");
    }
  }

  /** Delivers one message; false if it was dropped because an end is isolated. */
  boolean deliver(Envelope e) {
    if (isolated.contains(e.from()) || isolated.contains(e.to())) return false;
    if (e.to() >= cores.length) return false; // a member with no peer here (added, never started)
    step(e.to(), e.from(), e.message());
    return true;
  }

  /** Removes and returns the queued messages that match, without delivering them. */
  List<Envelope> take(Predicate<Envelope> which) {
    List<Envelope> out = new ArrayList<>();
    for (Iterator<Envelope> it = queue.iterator(); it.hasNext(); ) {
      Envelope e = it.next();
      if (which.test(e)) {
        it.remove();
        out.add(e);
      }
    }
    return out;
  }

  <M extends RaftMessage> List<M> sent(int from, int to, Class<M> type) {
    List<M> out = new ArrayList<>();
    for (Envelope e : queue) {
      if (e.from() == from && e.to() == to && type.isInstance(e.message())) out.add(type.cast(e.message()));
    }
    return out;
  }

  void dropAll() {
    queue.clear();
  }

  // ---------------------------------------------------------------- what happened

  /** Commands applied by {@code i} since it started, as strings, in apply order. */
  List<String> commands(int i) {
    List<String> out = new ArrayList<>();
    for (ApplyMsg m : applied.get(i)) {
      if (m instanceof ApplyMsg.Command c) out.add(new String(c.command(), StandardCharsets.UTF_8));
    }
    return out;
  }

  private void process(int i) {
    Ready r = cores[i].ready();
    lastReady[i] = r;
    for (Envelope e : r.messages()) {
      if (e.message() instanceof RaftMessage.AppendEntries ae && ae.prevLogTerm() < 0)
        throw new AssertionError("n" + i + " sent an AppendEntries with a prevLogTerm it does not have: " + ae);
    }
    if (r.mustPersist()) storages[i].persist(r);
    queue.addAll(r.messages());
    applied.get(i).addAll(r.applies());
  }

  static Predicate<Envelope> to(int i) {
    return e -> e.to() == i;
  }

  static Predicate<Envelope> between(int a, int b) {
    return e -> (e.from() == a && e.to() == b) || (e.from() == b && e.to() == a);
  }

  static Predicate<Envelope> ofType(Class<? extends RaftMessage> type) {
    return e -> type.isInstance(e.message());
  }
}
