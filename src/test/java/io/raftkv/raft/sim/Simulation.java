package io.raftkv.raft.sim;

import io.raftkv.raft.ApplyMsg;
import io.raftkv.raft.Configuration;
import io.raftkv.raft.Envelope;
import io.raftkv.raft.LogEntry;
import io.raftkv.raft.Proposal;
import io.raftkv.raft.RaftConfig;
import io.raftkv.raft.RaftCodec;
import io.raftkv.raft.RaftCore;
import io.raftkv.raft.RaftMessage;
import io.raftkv.raft.Ready;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * One seeded schedule: a group of {@link RaftCore}s driven in virtual time, no threads. The seed
 * decides everything: group size, timing and flow-control settings, message drops, duplicates,
 * delays (reordering), partitions (also one-way), crashes (some in the middle of persisting a
 * Ready) and restarts from what was persisted, client proposals and leadership transfers
 * throughout, with PreVote and CheckQuorum each on or off. After every input
 * the checker looks at Raft's safety properties; after the chaos phase the network heals and the
 * group must commit a new command everywhere.
 *
 * <p>The shell of each peer does what {@code RaftPeer} does: persist the Ready, then send, then
 * apply; the service snapshots every {@code snapshotEvery} entries from inside its applier.
 */
final class Simulation {
  /** How a crash in the middle of an input's Ready leaves the disk. */
  enum Torn {
    /** Nothing of the Ready reached the disk, and nothing was sent. */
    NOTHING_PERSISTED,
    /** Snapshot and entries are on disk, the hard state (written last) is not. */
    HARD_STATE_LOST
  }

  /** Virtual time units per tick: message delays are fractions of a tick. */
  static final int TICK = 100;

  /**
   * More events than any sound schedule needs (a few thousand; the largest seen, some tens of
   * thousands): a core that multiplies its messages fails here instead of running for minutes.
   */
  static final long MAX_EVENTS = 1_000_000;

  /** The knobs of one schedule, drawn from its seed. */
  record Params(
      int n,
      RaftConfig config,
      int chaosTicks,
      int snapshotEvery,
      double drop,
      double duplicate,
      int maxDelay,
      double longDelay,
      int longDelayMax,
      double crashRate,
      double tornRate,
      double partitionRate,
      double proposeRate,
      double crashLeaderAfterPropose,
      double transferRate,
      double readRate) {

    static Params draw(SplittableRandom r) {
      int hb = 1 + r.nextInt(3);
      int electionMin = 3 * hb + 4 + r.nextInt(8);
      int electionMax = electionMin + 3 + r.nextInt(10);
      RaftConfig config =
          new RaftConfig(
              electionMin,
              electionMax,
              hb,
              1 + r.nextInt(3),
              1 + r.nextInt(8),
              r.nextBoolean() ? 1 << 20 : 16 + r.nextInt(64),
              1 + r.nextInt(4),
              electionMin / 2 + r.nextInt(2 * electionMax))
              .withPreVote(r.nextBoolean())
              .withCheckQuorum(r.nextBoolean())
              .withSnapshotChunkBytes(r.nextBoolean() ? RaftConfig.DEFAULT_SNAPSHOT_CHUNK : 1 + r.nextInt(24));
      return new Params(
          3 + r.nextInt(3),
          config,
          150 + r.nextInt(250),
          r.nextInt(4) == 0 ? 0 : 3 + r.nextInt(15),
          r.nextInt(4) == 0 ? 0 : r.nextDouble() * 0.25,
          r.nextDouble() * 0.1,
          5 + r.nextInt(TICK * 2),
          r.nextDouble() * 0.1,
          3 * electionMax * TICK,
          r.nextDouble() * 0.03,
          r.nextDouble() * 0.5,
          r.nextDouble() * 0.05,
          0.2 + r.nextDouble() * 0.8,
          r.nextInt(3) == 0 ? r.nextDouble() * 0.3 : 0, // the lab's Figure 8 test: crash the leader after Start
          r.nextInt(3) == 0 ? r.nextDouble() * 0.05 : 0,
          r.nextInt(4) == 0 ? 0 : r.nextDouble() * 0.5);
    }
  }

  /** What a schedule did, to report throughput and to see that schedules are not vacuous. */
  record Stats(
      long events,
      long messages,
      long committed,
      int leaders,
      int crashes,
      int snapshotsInstalled,
      long healTicks,
      long readsServed,
      long readsFailed,
      int membershipChanges) {}

  private static final int TICK_EVENT = 0, DELIVER = 1, CHAOS = 2, RESTART = 3;

  private static final class Event implements Comparable<Event> {
    final long time;
    final long seq;
    final int kind;
    final int node;
    final int incarnation;
    final Envelope envelope;

    Event(long time, long seq, int kind, int node, int incarnation, Envelope envelope) {
      this.time = time;
      this.seq = seq;
      this.kind = kind;
      this.node = node;
      this.incarnation = incarnation;
      this.envelope = envelope;
    }

    @Override
    public int compareTo(Event o) {
      int c = Long.compare(time, o.time);
      return c != 0 ? c : Long.compare(seq, o.seq);
    }
  }

  final long seed;
  final Params params;
  private final SplittableRandom random;
  private final SimCore.Factory factory;
  private final SimCore[] nodes;
  private final int[] tickPeriod;
  private final PriorityQueue<Event> events = new PriorityQueue<>();
  private final boolean[][] cut;
  private long now;
  private long seq;
  private boolean healed;
  private long nextCommand;

  // ---- checker state
  /** Election safety: the one leader of each term. */
  private final Map<Long, Integer> leaderOfTerm = new HashMap<>();
  /** Log matching: (index, term) -> {command, term of the previous entry}. */
  private final Map<Long, long[]> entryAt = new HashMap<>();
  /**
   * Committed entries by index (0: not known yet), and the term of the peer that first knew each
   * committed: the leader that counted the majority, since the checker sees its step first.
   */
  private long[] committedTerm = new long[256];
  private long[] committedCommand = new long[256];
  private long[] commitTerm = new long[256];
  private long maxCommitted;
  /** State machine safety: the command applied at each index, and the state hash after it. */
  private long[] appliedCommand = new long[256];
  private long[] prefixHash = new long[256];
  private boolean[] prefixKnown = new boolean[256];
  /**
   * Linearizable reads (ReadIndex) asked and not yet answered: by ctx, the peer asked and the
   * highest index any peer knew committed when the read was asked. Its read point must not be
   * lower (the read would miss a write that may have been acknowledged), nor uncommitted.
   */
  private final Map<Long, long[]> readsAsked = new HashMap<>();
  private long nextRead;
  private long readsServed;
  private long readsFailed;

  // ---- membership changes
  private final SplittableRandom membershipRandom;
  /** Chance per chaos tick that the leader is asked for a membership change (0: a fixed group). */
  private final double membershipRate;
  /** The voters at the start; the other peers join later, if a change adds them. */
  private final Set<Integer> initialMembers;
  /** The configuration of the highest committed configuration entry any peer applied, and its index. */
  private Configuration committedMembers;
  private long committedMembersIndex;
  /** Peers some committed configuration had and a later one does not: stopped for good, as a node told of its removal. */
  private final Set<Integer> removed = new TreeSet<>();
  /**
   * Peers some committed configuration had, the initial one included: it is the configuration
   * committed before the first entry. (Without the initial voters, a first change removing one left
   * it running with its old configuration, campaigning at ever higher terms, and free to be
   * re-added; soak seeds 483603, 681057, 704104 and 973372.)
   */
  private final Set<Integer> everMember = new TreeSet<>();
  private final List<Integer> toStop = new ArrayList<>();
  private int membershipChanges;

  // ---- liveness after healing
  /** Markers proposed after healing: which peers hold each (a bit per peer). */
  private final Map<Long, Integer> markerAppliedBy = new HashMap<>();
  /** The index each marker was first applied at: a peer whose state covers it holds the marker. */
  private final Map<Long, Long> markerIndex = new HashMap<>();
  private long markerProposedAt = -1;
  private boolean live;

  // ---- stats and trace
  private long eventCount;
  private long messageCount;
  private int crashes;
  private int snapshotsInstalled;
  private long healedAt;
  private final ArrayDeque<String> trace;
  private final int traceLimit;

  Simulation(long seed, SimCore.Factory factory, int traceLimit) {
    this.seed = seed;
    this.random = new SplittableRandom(seed);
    this.params = Params.draw(random);
    // Membership changes draw from a stream of their own: a schedule without them is the same as
    // before they existed, and one with them differs from it only by their effects.
    this.membershipRandom = new SplittableRandom(seed ^ 0x6D656D62657273L);
    this.membershipRate = membershipRandom.nextInt(3) == 0 ? 0.01 + membershipRandom.nextDouble() * 0.09 : 0;
    int initialVoters = membershipRate > 0 ? 1 + membershipRandom.nextInt(params.n()) : params.n();
    this.initialMembers = new TreeSet<>();
    for (int i = 0; i < initialVoters; i++) initialMembers.add(i);
    everMember.addAll(initialMembers);
    this.factory = factory;
    this.traceLimit = traceLimit;
    this.trace = traceLimit > 0 ? new ArrayDeque<>() : null;
    int n = params.n();
    this.nodes = new SimCore[n];
    this.tickPeriod = new int[n];
    this.cut = new boolean[n][n];
    for (int i = 0; i < n; i++) {
      nodes[i] = new SimCore(i);
      tickPeriod[i] = TICK - 10 + random.nextInt(21); // clocks drift a little
    }
  }

  Simulation(long seed, SimCore.Factory factory) {
    this(seed, factory, 0);
  }

  /** Runs the schedule to the end; throws {@link SafetyViolation} (or the core's own error). */
  Stats run() {
    for (SimCore s : nodes) {
      start(s);
    }
    schedule(TICK, CHAOS, -1, 0, null);
    long chaosEnd = (long) params.chaosTicks() * TICK;
    long healDeadline = Long.MAX_VALUE;
    while (!live) {
      Event e = events.poll();
      now = e.time;
      if (!healed && now >= chaosEnd) {
        heal();
        healDeadline = now + 60L * params.config().electionTicksMax() * TICK + catchUpTime();
      }
      if (now > healDeadline)
        throw new SafetyViolation("liveness: no command committed on all peers " + (now - healedAt) / TICK + " ticks after healing");
      if (++eventCount > MAX_EVENTS)
        throw new SafetyViolation("a message storm: " + eventCount + " events by tick " + now / TICK + " (" + messageCount + " messages)");
      switch (e.kind) {
        case TICK_EVENT -> onTick(e);
        case DELIVER -> onDeliver(e.envelope);
        case CHAOS -> onChaos();
        case RESTART -> onRestart(e.node);
        default -> throw new IllegalStateException("unknown event " + e.kind);
      }
    }
    checkLogsMatch();
    return new Stats(
        eventCount, messageCount, maxCommitted, leaderOfTerm.size(), crashes, snapshotsInstalled, (now - healedAt) / TICK,
        readsServed, readsFailed, membershipChanges);
  }

  /** The last lines of the trace (empty unless tracing). */
  List<String> trace() {
    return trace == null ? List.of() : List.copyOf(trace);
  }

  // ---------------------------------------------------------------- events

  private void schedule(long at, int kind, int node, int incarnation, Envelope env) {
    events.add(new Event(at, seq++, kind, node, incarnation, env));
  }

  /** What peer {@code id} starts with when it has persisted no configuration: the initial voters, or itself as its only learner (a node that joins later). */
  private Configuration initialOf(int id) {
    return initialMembers.contains(id) ? Configuration.of(initialMembers, Set.of()) : Configuration.of(Set.of(), Set.of(id));
  }

  private void start(SimCore s) {
    s.start(initialOf(s.id), params.config(), factory, random.split());
    checkRestored(s);
    schedule(now + 1 + random.nextInt(tickPeriod[s.id]), TICK_EVENT, s.id, s.incarnation, null);
    if (trace != null) log("n%d starts at term %d (snapshot %d, log %d)", s.id, s.core.term(), s.core.snapshotIndex(), s.core.lastLogIndex());
  }

  private void onTick(Event e) {
    SimCore s = nodes[e.node];
    if (!s.up() || s.incarnation != e.incarnation) return;
    input(s, () -> s.core.tick());
    if (s.up()) schedule(now + tickPeriod[s.id], TICK_EVENT, s.id, s.incarnation, null);
  }

  private void onDeliver(Envelope env) {
    SimCore s = nodes[env.to()];
    if (!s.up() || cut[env.from()][env.to()]) return;
    if (trace != null) log("deliver %s", env);
    input(s, () -> s.core.step(env.from(), env.message()));
  }

  private void onRestart(int i) {
    SimCore s = nodes[i];
    if (s.up() || removed.contains(i)) return;
    start(s);
  }

  private void onChaos() {
    schedule(now + TICK, CHAOS, -1, 0, null);
    if (healed) {
      proposeMarker();
      return;
    }
    if (random.nextDouble() < params.proposeRate()) {
      SimCore target = random.nextDouble() < 0.85 ? leader() : null;
      if (target == null) target = nodes[random.nextInt(nodes.length)];
      int count = 1 + random.nextInt(3);
      for (int k = 0; k < count && target.up(); k++) propose(target, ++nextCommand);
      if (target.up() && target.core.isLeader() && random.nextDouble() < params.crashLeaderAfterPropose()) crash(target);
    }
    if (random.nextDouble() < params.readRate()) {
      SimCore target = nodes[random.nextInt(nodes.length)];
      long ctx = ++nextRead;
      if (target.up()) {
        readsAsked.put(ctx, new long[] {target.id, maxCommitted});
        input(target, () -> {
          if (trace != null) log("n%d asked for read %d (committed anywhere: %d)", target.id, ctx, maxCommitted);
          target.core.readIndex(ctx);
        });
      }
    }
    if (random.nextDouble() < params.crashRate()) {
      SimCore victim = nodes[random.nextInt(nodes.length)];
      if (victim.up()) {
        if (random.nextDouble() < params.tornRate()) {
          victim.tornNext = random.nextBoolean() ? Torn.NOTHING_PERSISTED : Torn.HARD_STATE_LOST;
          log("n%d will crash in its next input (%s)", victim.id, victim.tornNext);
        } else {
          crash(victim);
        }
      }
    }
    if (random.nextDouble() < params.partitionRate()) repartition();
    if (membershipRate > 0 && membershipRandom.nextDouble() < membershipRate) changeMembership();
    if (random.nextDouble() < params.transferRate()) {
      SimCore l = leader();
      int to = random.nextInt(nodes.length + 1) - 1; // -1: the leader picks
      if (l != null) input(l, () -> log("n%d transfers to n%d: %s", l.id, to, l.core.transferLeadership(to)));
    }
  }

  /**
   * Asks the leader for a random membership change: add a voter or a learner (a peer not removed),
   * promote, demote or remove a member (the leader too), in a random transition; or leave a joint
   * configuration. Refused changes (one in flight, no commit of the term yet, against the rules)
   * are part of the test: they must change nothing.
   */
  private void changeMembership() {
    SimCore l = leader();
    if (l == null) return;
    Configuration c = l.core.configuration();
    Configuration.Transition t = Configuration.Transition.values()[membershipRandom.nextInt(4)];
    List<Configuration.Change> changes = new ArrayList<>();
    if (!c.isJoint() || membershipRandom.nextInt(4) == 0) {
      int count = c.isJoint() ? 1 : 1 + membershipRandom.nextInt(2);
      for (int k = 0; k < count; k++) {
        int id = membershipRandom.nextInt(nodes.length);
        if (removed.contains(id)) continue;
        changes.add(switch (membershipRandom.nextInt(3)) {
          case 0 -> new Configuration.AddVoter(id);
          case 1 -> new Configuration.AddLearner(id);
          default -> new Configuration.Remove(id);
        });
      }
      if (changes.isEmpty()) return;
    }
    input(l, () -> {
      try {
        Proposal p = l.core.proposeConfiguration(changes, t);
        membershipChanges++;
        if (trace != null) log("n%d proposes %s %s at %d: %s", l.id, t, changes, p.index(), l.core.configuration());
      } catch (Configuration.InvalidChangeException e) {
        if (trace != null) log("n%d refuses %s %s: %s", l.id, t, changes, e.getMessage());
      }
    });
  }

  /** A committed configuration: members it dropped are stopped for good (a removed node is told to stop). */
  private void onConfigurationApplied(long index, Configuration c) {
    if (index <= committedMembersIndex) return;
    committedMembersIndex = index;
    committedMembers = c;
    for (int id : c.members()) if (!removed.contains(id)) everMember.add(id);
    for (int id : everMember) {
      if (!c.members().contains(id) && removed.add(id)) {
        toStop.add(id);
        if (trace != null) log("n%d was removed (configuration %d: %s): it stops", id, index, c);
      }
    }
  }

  private void crash(SimCore s) {
    checkPersisted(s);
    s.crash();
    crashes++;
    int downFor = 1 + random.nextInt(2 * params.config().electionTicksMax());
    schedule(now + (long) downFor * TICK, RESTART, s.id, 0, null);
    if (trace != null) log("n%d crashes, restarts in %d ticks", s.id, downFor);
  }

  private void repartition() {
    int n = nodes.length;
    for (boolean[] row : cut) Arrays.fill(row, false);
    int shape = random.nextInt(4);
    if (shape == 1) { // one peer alone
      int alone = random.nextInt(n);
      for (int j = 0; j < n; j++) cut[alone][j] = cut[j][alone] = j != alone;
    } else if (shape == 2) { // two sides
      boolean[] side = new boolean[n];
      for (int i = 0; i < n; i++) side[i] = random.nextBoolean();
      for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) cut[i][j] = side[i] != side[j];
    } else if (shape == 3) { // links lost one way at random
      for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) cut[i][j] = i != j && random.nextDouble() < 0.3;
    }
    if (trace != null) log("network: %s", shape == 0 ? "whole" : Arrays.deepToString(cut));
  }

  private void heal() {
    healed = true;
    healedAt = now;
    for (boolean[] row : cut) Arrays.fill(row, false);
    for (SimCore s : nodes) {
      s.tornNext = null;
      if (!s.up() && !removed.contains(s.id)) start(s);
    }
    log("heal: every peer up, network whole and reliable");
  }

  /**
   * The longest a leader may need, once healed, to bring a follower from an empty log to the
   * longest log any peer holds at the configured flow control: {@code maxInflight} messages a round
   * trip, each carrying as many entries as {@code maxEntriesPerMessage} and {@code
   * maxBytesPerMessage} allow, a round trip at most two of the slowest deliveries plus a tick. One
   * more round trip per term in that log covers finding the match point (a rejection skips a term).
   * Without it a schedule that lets through one entry per round trip and left a long log would
   * fail the liveness check while making steady progress.
   */
  private long catchUpTime() {
    RaftConfig c = params.config();
    long longest = 0;
    for (SimCore s : nodes) if (s.up()) longest = Math.max(longest, s.core.lastLogIndex());
    long perMessage = Math.max(1, Math.min(c.maxEntriesPerMessage(), c.maxBytesPerMessage() / SimCore.MAX_COMMAND_BYTES));
    long roundTrips = (longest + perMessage * c.maxInflight() - 1) / (perMessage * c.maxInflight()) + leaderOfTerm.size();
    return roundTrips * (2L * params.maxDelay() + TICK);
  }

  private SimCore leader() {
    SimCore best = null;
    for (SimCore s : nodes) {
      if (s.up() && s.core.isLeader() && (best == null || s.core.term() > best.core.term())) best = s;
    }
    return best;
  }

  private void propose(SimCore s, long command) {
    byte[] bytes = SimCore.command(command, random.nextInt(SimCore.MAX_COMMAND_BYTES - 8 + 1));
    input(s, () -> {
      Proposal p = s.core.propose(bytes);
      if (p.isLeader() && trace != null) log("n%d accepts command %d at index %d term %d", s.id, command, p.index(), p.term());
    });
  }

  /** After healing: keeps offering a marker command to the leader until one is applied everywhere. */
  private void proposeMarker() {
    SimCore l = leader();
    if (l == null) return;
    if (markerProposedAt >= 0 && now - markerProposedAt < 2L * params.config().electionTicksMax() * TICK) return;
    long marker = ++nextCommand;
    markerAppliedBy.put(marker, 0);
    markerProposedAt = now;
    propose(l, marker);
  }

  // ---------------------------------------------------------------- the shell of one peer

  /** Runs one input on {@code s} and carries out its Ready: persist, then send, then apply. */
  private void input(SimCore s, Runnable in) {
    inputOnce(s, in);
    while (!toStop.isEmpty()) {
      SimCore r = nodes[toStop.remove(toStop.size() - 1)];
      if (r.up()) {
        checkPersisted(r);
        r.crash();
      }
    }
  }

  private void inputOnce(SimCore s, Runnable in) {
    in.run();
    Ready r = s.core.ready();
    if (s.tornNext != null) {
      if (s.tornNext == Torn.HARD_STATE_LOST) s.storage.persist(r, false);
      log("n%d crashes while persisting (%s)", s.id, s.tornNext);
      s.tornNext = null;
      s.core = null;
      crashes++;
      schedule(now + (long) (1 + random.nextInt(2 * params.config().electionTicksMax())) * TICK, RESTART, s.id, 0, null);
      return;
    }
    process(s, r);
  }

  private void process(SimCore s, Ready r) {
    persist(s, r);
    checkCommitted(s); // before the applier can compact the log
    for (Envelope e : r.messages()) send(e);
    List<ApplyMsg> applies = r.applies();
    for (int k = 0; k < applies.size(); k++) {
      ApplyMsg m = applies.get(k);
      // a configuration entry comes out as an empty command followed by its configuration
      long configId =
          m instanceof ApplyMsg.Command c
                  && k + 1 < applies.size()
                  && applies.get(k + 1) instanceof ApplyMsg.ConfigurationApplied ca
                  && ca.index() == c.index()
              ? SimCore.configurationId(RaftCodec.encodeConfiguration(ca.configuration()))
              : 0;
      apply(s, m, configId);
    }
    checkPeer(s);
  }

  /** The Ready of a snapshot the applier takes in the middle of a batch of applies. */
  private void processSnapshot(SimCore s, Ready r) {
    if (!r.messages().isEmpty() || !r.applies().isEmpty())
      throw new SafetyViolation("n" + s.id + "'s snapshot produced messages or applies: " + r);
    persist(s, r);
  }

  private void persist(SimCore s, Ready r) {
    if (!r.entries().isEmpty()) {
      long first = r.entries().get(0).index();
      if (s.core.isLeader() && first <= s.storage.lastIndex())
        throw new SafetyViolation("leader append-only: n" + s.id + " overwrote its log from " + first);
    }
    s.storage.persist(r, true);
    for (LogEntry e : r.entries()) checkLogMatching(s, e);
    checkPersisted(s);
  }

  private void send(Envelope e) {
    messageCount++;
    if (e.message() instanceof RaftMessage.AppendEntries ae) {
      // a leader sends only what it holds: a known prevLogTerm, then entries in sequence
      long expected = ae.prevLogIndex() + 1;
      boolean ok = ae.prevLogTerm() >= 0;
      for (LogEntry x : ae.entries()) ok &= x.index() == expected++ && x.term() <= ae.term();
      if (!ok) throw new SafetyViolation("n" + e.from() + " sent a malformed AppendEntries " + ae);
    }
    double drop = healed ? 0 : params.drop();
    if (random.nextDouble() < drop) {
      if (trace != null) log("drop %s", e);
      return;
    }
    int copies = !healed && random.nextDouble() < params.duplicate() ? 2 : 1;
    for (int c = 0; c < copies; c++) {
      long delay = 1 + random.nextInt(params.maxDelay());
      if (!healed && random.nextDouble() < params.longDelay()) delay += random.nextInt(params.longDelayMax());
      schedule(now + delay, DELIVER, e.to(), 0, e);
    }
  }

  /** Applies {@code m}; {@code configId}: for the empty command of a configuration entry, that entry's id. */
  private void apply(SimCore s, ApplyMsg m, long configId) {
    if (m instanceof ApplyMsg.Command c) {
      long index = c.index();
      if (index != s.applied + 1)
        throw new SafetyViolation("n" + s.id + " applied index " + index + " after " + s.applied + " (gap or out of order)");
      if (configId != 0 && c.command().length != 0)
        throw new SafetyViolation("n" + s.id + " applied a configuration entry at " + index + " as a command");
      long command = configId != 0 ? configId : SimCore.commandId(c.command());
      ensureCapacity(index);
      if (prefixKnown[(int) index]) {
        if (appliedCommand[(int) index] != command)
          throw new SafetyViolation("state machine safety: index " + index + " applied as " + appliedCommand[(int) index] + " elsewhere, " + command + " on n" + s.id);
      } else {
        if (index > 1 && !prefixKnown[(int) index - 1])
          throw new SafetyViolation("n" + s.id + " applied index " + index + " but nobody ever applied " + (index - 1));
        appliedCommand[(int) index] = command;
        prefixHash[(int) index] = SimCore.mix(index > 1 ? prefixHash[(int) index - 1] : 0, command);
        prefixKnown[(int) index] = true;
      }
      if (committedTerm[(int) index] != 0 && committedCommand[(int) index] != command)
        throw new SafetyViolation("n" + s.id + " applied " + command + " at " + index + " but " + committedCommand[(int) index] + " was committed there");
      s.stateHash = SimCore.mix(s.stateHash, command);
      s.applied = index;
      if (s.stateHash != prefixHash[(int) index])
        throw new SafetyViolation("state machine safety: n" + s.id + "'s state after " + index + " differs");
      if (markerAppliedBy.containsKey(command)) markerIndex.putIfAbsent(command, index);
      noteMarkersHeldBy(s);
      if (params.snapshotEvery() > 0 && index % params.snapshotEvery() == 0) {
        s.core.snapshot(index, s.snapshotData());
        if (trace != null) log("n%d snapshots at %d", s.id, index);
        processSnapshot(s, s.core.ready());
      }
    } else if (m instanceof ApplyMsg.ConfigurationApplied ca) {
      onConfigurationApplied(ca.index(), ca.configuration());
    } else if (m instanceof ApplyMsg.ReadReady read) {
      checkRead(s, read);
    } else if (m instanceof ApplyMsg.SnapshotInstalled snap) {
      java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(snap.data());
      long index = b.getLong();
      long hash = b.getLong();
      if (index != snap.index())
        throw new SafetyViolation("n" + s.id + " got a snapshot labelled " + snap.index() + " holding state of " + index);
      if (index <= s.applied)
        throw new SafetyViolation("n" + s.id + " installed snapshot " + index + " behind its applied " + s.applied);
      checkKnownState(s, index, hash);
      s.applied = index;
      s.stateHash = hash;
      snapshotsInstalled++;
      if (trace != null) log("n%d installs snapshot %d", s.id, index);
      noteMarkersHeldBy(s);
    }
  }

  /**
   * Marks every marker {@code s}'s state now covers, whether it applied the marker's entry or
   * installed a snapshot past it (its state was checked against the committed prefix either way):
   * a peer that keeps catching up by snapshots holds the markers too. Live once one marker is
   * held by all.
   */
  private void noteMarkersHeldBy(SimCore s) {
    int all = 0; // every member of the latest committed configuration (peers not yet added and removed ones do not count)
    for (int id : committedMembers == null ? initialMembers : committedMembers.members()) all |= 1 << id;
    for (Map.Entry<Long, Long> m : markerIndex.entrySet()) {
      if (m.getValue() > s.applied) continue;
      int by = markerAppliedBy.get(m.getKey()) | 1 << s.id;
      markerAppliedBy.put(m.getKey(), by);
      if ((by & all) == all) live = true;
    }
  }

  // ---------------------------------------------------------------- the checker

  private void checkRead(SimCore s, ApplyMsg.ReadReady read) {
    long[] asked = readsAsked.remove(read.ctx());
    if (asked == null || asked[0] != s.id)
      throw new SafetyViolation("n" + s.id + " answered read " + read.ctx() + " it was not asked (or twice)");
    if (!read.ok()) {
      readsFailed++;
      if (trace != null) log("n%d read %d failed (hint n%d)", s.id, read.ctx(), read.leader());
      return;
    }
    if (read.index() < asked[1])
      throw new SafetyViolation("linearizable read: n" + s.id + " gave read " + read.ctx() + " the point " + read.index() + ", but " + asked[1] + " was committed before it was asked");
    if (read.index() > maxCommitted)
      throw new SafetyViolation("linearizable read: n" + s.id + " gave read " + read.ctx() + " the uncommitted point " + read.index());
    readsServed++;
    if (trace != null) log("n%d read %d at %d", s.id, read.ctx(), read.index());
  }

  private void checkPeer(SimCore s) {
    RaftCore c = s.core;
    if (c == null) return;
    if (c.isLeader() && s.ledTerm != c.term()) {
      // Election safety: at most one leader per term (checked as each peer starts leading one)
      Integer other = leaderOfTerm.putIfAbsent(c.term(), s.id);
      if (other != null && other != s.id)
        throw new SafetyViolation("election safety: term " + c.term() + " has leaders n" + other + " and n" + s.id);
      s.ledTerm = c.term();
      if (trace != null) log("n%d becomes leader at term %d", s.id, c.term());
      checkLeaderCompleteness(s);
    }
    if (s.applied != c.appliedIndex())
      throw new SafetyViolation("n" + s.id + "'s service applied " + s.applied + " but Raft handed over " + c.appliedIndex());
    if (!(c.snapshotIndex() <= c.appliedIndex() && c.appliedIndex() <= c.commitIndex() && c.commitIndex() <= c.lastLogIndex()))
      throw new SafetyViolation("n" + s.id + ": snapshot " + c.snapshotIndex() + " <= applied " + c.appliedIndex() + " <= commit " + c.commitIndex() + " <= last " + c.lastLogIndex() + " does not hold");
  }

  /** What the core holds as persistent state is what is on disk once its Ready is persisted. */
  private void checkPersisted(SimCore s) {
    RaftCore c = s.core;
    SimStorage d = s.storage;
    if (d.hardState.term() != c.term() || d.hardState.votedFor() != c.votedFor())
      throw new SafetyViolation("n" + s.id + " runs at term " + c.term() + " vote " + c.votedFor() + " but persisted " + d.hardState);
    if (d.snapshot.index() != c.snapshotIndex() || d.lastIndex() != c.lastLogIndex() || d.lastTerm() != c.lastLogTerm())
      throw new SafetyViolation("n" + s.id + "'s log (" + c.snapshotIndex() + ", " + c.lastLogIndex() + "@" + c.lastLogTerm() + "] is not what it persisted (" + d.snapshot.index() + ", " + d.lastIndex() + "@" + d.lastTerm() + "]");
  }

  /** Log matching: an (index, term) pair names one command and one previous term, everywhere. */
  private void checkLogMatching(SimCore s, LogEntry e) {
    long prevTerm = s.storage.term(e.index() - 1);
    long command = SimCore.entryId(e);
    long key = (e.index() << 24) ^ e.term();
    long[] seen = entryAt.putIfAbsent(key, new long[] {command, prevTerm});
    if (seen != null && (seen[0] != command || seen[1] != prevTerm))
      throw new SafetyViolation("log matching: n" + s.id + " holds " + command + " after term " + prevTerm + " at index " + e.index() + " term " + e.term() + ", elsewhere " + seen[0] + " after term " + seen[1]);
  }

  /** Every index a peer knows committed holds the same entry as everywhere else. */
  private void checkCommitted(SimCore s) {
    RaftCore c = s.core;
    long commit = c.commitIndex();
    if (commit < s.checkedCommit)
      throw new SafetyViolation("n" + s.id + "'s commit index went back from " + s.checkedCommit + " to " + commit);
    for (long i = Math.max(s.checkedCommit, s.storage.snapshot.index()) + 1; i <= commit; i++) {
      LogEntry e = s.storage.entry(i);
      long command = SimCore.entryId(e);
      ensureCapacity(i);
      int k = (int) i;
      if (committedTerm[k] == 0) {
        committedTerm[k] = e.term();
        committedCommand[k] = command;
        commitTerm[k] = c.term();
        maxCommitted = Math.max(maxCommitted, i);
      } else if (committedTerm[k] != e.term() || committedCommand[k] != command) {
        throw new SafetyViolation("state machine safety: n" + s.id + " committed " + command + "@" + e.term() + " at " + i + ", elsewhere " + committedCommand[k] + "@" + committedTerm[k]);
      }
    }
    if (commit > s.checkedCommit && trace != null) log("n%d commit index %d", s.id, commit);
    s.checkedCommit = commit;
  }

  /**
   * Leader completeness: a new leader holds every entry committed in an earlier term. (A
   * candidate of an older term can still win with late votes after a newer leader committed
   * something; it cannot overwrite that entry, as a majority has moved past its term.)
   */
  private void checkLeaderCompleteness(SimCore s) {
    SimStorage d = s.storage;
    for (long i = d.snapshot.index() + 1; i <= maxCommitted; i++) {
      int k = (int) i;
      if (committedTerm[k] == 0 || commitTerm[k] >= s.core.term()) continue;
      if (i > d.lastIndex() || d.term(i) != committedTerm[k] || SimCore.entryId(d.entry(i)) != committedCommand[k])
        throw new SafetyViolation("leader completeness: n" + s.id + ", leader of term " + s.core.term() + ", lacks committed entry " + i + " (" + committedCommand[k] + "@" + committedTerm[k] + ")");
    }
    if (d.snapshot.index() > 0) checkKnownState(s, d.snapshot.index(), java.nio.ByteBuffer.wrap(d.snapshot.data()).getLong(8));
  }

  private void checkRestored(SimCore s) {
    if (s.applied > 0) checkKnownState(s, s.applied, s.stateHash);
  }

  private void checkKnownState(SimCore s, long index, long hash) {
    ensureCapacity(index);
    if (!prefixKnown[(int) index] || prefixHash[(int) index] != hash)
      throw new SafetyViolation("state machine safety: n" + s.id + " holds a snapshot at " + index + " that matches no applied history");
  }

  /** At the end: any two logs that agree on an (index, term) agree on everything before it. */
  private void checkLogsMatch() {
    for (SimCore a : nodes) {
      for (SimCore b : nodes) {
        if (a.id >= b.id) continue;
        long from = Math.max(a.storage.snapshot.index(), b.storage.snapshot.index()) + 1;
        long to = Math.min(a.storage.lastIndex(), b.storage.lastIndex());
        boolean agree = false;
        for (long i = to; i >= from; i--) {
          boolean same = a.storage.term(i) == b.storage.term(i);
          if (agree && (!same || SimCore.entryId(a.storage.entry(i)) != SimCore.entryId(b.storage.entry(i))))
            throw new SafetyViolation("log matching: n" + a.id + " and n" + b.id + " agree later but differ at " + i);
          agree |= same;
        }
      }
    }
  }

  private void ensureCapacity(long index) {
    if (index < committedTerm.length) return;
    int size = (int) Math.max(index + 1, committedTerm.length * 2L);
    committedTerm = Arrays.copyOf(committedTerm, size);
    committedCommand = Arrays.copyOf(committedCommand, size);
    commitTerm = Arrays.copyOf(commitTerm, size);
    appliedCommand = Arrays.copyOf(appliedCommand, size);
    prefixHash = Arrays.copyOf(prefixHash, size);
    prefixKnown = Arrays.copyOf(prefixKnown, size);
  }

  /** Adds a trace line. Hot callers check {@code trace != null} first: the arguments cost even unused. */
  private void log(String format, Object... args) {
    if (trace == null) return;
    trace.addLast(String.format("%6d.%02d ", now / TICK, now % TICK) + String.format(format, args));
    if (trace.size() > traceLimit) trace.removeFirst();
  }
}
