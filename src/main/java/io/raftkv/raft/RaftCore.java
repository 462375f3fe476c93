package io.raftkv.raft;

import io.raftkv.raft.RaftMessage.AppendEntries;
import io.raftkv.raft.RaftMessage.AppendEntriesReply;
import io.raftkv.raft.RaftMessage.InstallSnapshot;
import io.raftkv.raft.RaftMessage.InstallSnapshotReply;
import io.raftkv.raft.RaftMessage.ReadIndex;
import io.raftkv.raft.RaftMessage.ReadIndexResult;
import io.raftkv.raft.RaftMessage.RequestVote;
import io.raftkv.raft.RaftMessage.RequestVoteReply;
import io.raftkv.raft.RaftMessage.TimeoutNow;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * Raft (Figure 2 of the extended paper) as a pure, deterministic state machine: no threads, clocks
 * or IO. Inputs are {@link #tick()}, {@link #step}, {@link #propose} and {@link #snapshot}; their
 * effects accumulate until {@link #ready()} hands them over as data for the caller to carry out
 * (persist, then send, then apply). Not thread-safe: one caller drives it.
 *
 * <p>Peers are numbered; this peer is {@code id}. Who votes and who only listens is the {@link
 * Configuration} in effect (today the voters {@code 0..n-1}, fixed at start): every quorum (commit,
 * election, CheckQuorum, read confirmation) is a majority of it, of each half while joint.
 *
 * <p>Beyond Figure 2, each switched by {@link RaftConfig}: PreVote (§9.6: a node campaigns only
 * once a majority would vote for it, so a node back from a partition cannot raise everyone's term),
 * CheckQuorum with the vote lease (§6.2: a leader that hears from no majority for an election
 * timeout steps down; a follower that heard from its leader within the timeout ignores other
 * candidates), and leadership transfer (§3.10, always available).
 *
 * <p>Linearizable reads without log entries, by ReadIndex (§6.4, etcd's {@code read_only.go}):
 * {@link #readIndex} asks for a read point; once it is known, a {@link ApplyMsg.ReadReady} with the
 * index to wait for comes out with the applies. The leader answers only after it has committed an
 * entry of its own term (it appends an empty one, a no-op services skip, when it has none), and
 * only after a majority answered an AppendEntries sent after the read arrived: a confirmation
 * round, numbered in every AppendEntries and echoed in the replies, so heartbeats and replication
 * traffic confirm it alike. Reads arriving during a round share the next one. A follower forwards
 * the read to its leader and gets the index back. Reads not answered within an election timeout,
 * and reads of a peer whose leadership or leader changes, come out failed (index -1).
 */
public class RaftCore {
  private final int id;
  private final RaftConfig config;
  private final RandomGenerator random;
  /** The membership a node starts with when neither its log nor its snapshot records one. */
  private final Configuration initial;
  /**
   * The membership in effect: the newest configuration entry in the log, committed or not (the
   * dissertation's rule, §4.1), else the snapshot's, else {@link #initial}.
   */
  private Configuration members;
  /** The index of the entry that put {@link #members} in effect; 0 when it came from no entry. */
  private long membersIndex;
  /** Every member but this peer, ascending: whom a leader replicates to. */
  private int[] peers;
  /** The voters but this peer, ascending: whom a candidate asks. */
  private int[] voterPeers;

  // persistent: currentTerm, votedFor, the log and the snapshot
  private long term;
  private int votedFor;
  private final RaftLog log;
  private Snapshot snapshot;

  // volatile
  private Role role = Role.FOLLOWER;
  private int leader = -1;
  private long commitIndex; // snapshot.index <= applied <= commitIndex <= log.lastIndex()
  private long applied;
  private int electionElapsed;
  private int heartbeatElapsed;
  private int commitNotifyElapsed = -1; // -1: no commit news waiting to go out
  private int randomizedElectionTimeout;
  private final Set<Integer> votes = new HashSet<>(); // candidate and pre-candidate; includes id
  private final Set<Integer> rejections = new HashSet<>(); // pre-candidate only
  private Progress[] progress; // leader only; indexed by member id (null for an id not a member)
  private int leadTransferee = -1; // leader only: the peer being handed the leadership, or -1
  // follower: the snapshot being received in chunks; incomingReceived <= incomingData.length
  private byte[] incomingData;
  private long incomingIndex;
  private long incomingTerm;
  private long incomingReceived;
  // ReadIndex (§6.4)
  private long clock; // ticks since start: the age of reads
  private long readRound; // leader: the latest confirmation round (0: none yet); never reused
  private long readRoundIndex; // leader: the commit index when that round began
  private long readRoundStarted; // leader: the clock when that round began
  private final Set<Integer> readAcks = new HashSet<>(); // leader: who confirmed it, this peer included
  private final List<Read> readsInRound = new ArrayList<>(); // leader: empty = no round under way
  private final List<Read> readsQueued = new ArrayList<>(); // leader: waiting for the next round
  private final List<Read> readsForwarded = new ArrayList<>(); // follower: sent to the leader

  /**
   * A read waiting for its read point. {@code local}: asked by this peer's own service (else by
   * follower {@code peer}); for a forwarded read, {@code peer} is the leader asked.
   */
  private record Read(boolean local, int peer, long ctx, long since) {}

  // effects not yet handed over by ready()
  private boolean hardStateDirty;
  private final List<LogEntry> pendingEntries = new ArrayList<>();
  private Snapshot pendingSnapshot;
  private final List<Envelope> pendingMessages = new ArrayList<>();
  private final List<ApplyMsg> pendingApplies = new ArrayList<>();

  /** What {@link #transferLeadership} did. */
  public enum Transfer {
    /** Under way (or already was, to the same peer): the target campaigns once it is up to date. */
    STARTED,
    /** The target is this leader: any pending transfer is cancelled and it stays leader. */
    SELF,
    NOT_LEADER,
    UNKNOWN_PEER,
    /** A group of one has no one to hand over to. */
    NO_FOLLOWER
  }

  /** Peer {@code id} of the voters {@code 0..n-1}. */
  public RaftCore(int id, int n, RaftConfig config, RandomGenerator random, PersistentState state) {
    this(checkedId(id, n), Configuration.ofVoters(n), config, random, state);
  }

  /**
   * Peer {@code id} of a group whose membership is {@code initial} until its log or snapshot
   * records another. A node joining a running group starts with itself as its only learner ({@code
   * Configuration.of(Set.of(), Set.of(id))}): it never campaigns, and takes the group's
   * configuration from the leader's log or snapshot.
   */
  public RaftCore(int id, Configuration initial, RaftConfig config, RandomGenerator random, PersistentState state) {
    if (id < 0) throw new IllegalArgumentException("bad peer id " + id);
    this.id = id;
    this.config = config;
    this.initial = initial;
    this.random = random;
    this.term = state.hardState().term();
    this.votedFor = state.hardState().votedFor();
    this.snapshot = state.snapshot();
    this.log = new RaftLog(snapshot.index(), snapshot.term(), state.entries());
    this.commitIndex = snapshot.index();
    this.applied = snapshot.index();
    long at = configurationIndexAt(log.lastIndex());
    setMembers(configurationOfEntry(at), at);
    resetElectionTimeout();
  }

  private static int checkedId(int id, int n) {
    if (n < 1 || id < 0 || id >= n) throw new IllegalArgumentException("bad peer id " + id + " of " + n);
    return id;
  }

  // ---------------------------------------------------------------- queries

  public int id() { return id; }

  /** The membership in effect. */
  public Configuration configuration() { return members; }

  public long term() { return term; }

  public Role role() { return role; }

  public boolean isLeader() { return role == Role.LEADER; }

  /** The peer this leader is handing its leadership to, or -1. */
  public int leadTransferee() { return leadTransferee; }

  /** The peer this one believes leads the current term, or -1. */
  public int leader() { return leader; }

  public int votedFor() { return votedFor; }

  public long commitIndex() { return commitIndex; }

  public long appliedIndex() { return applied; }

  public long lastLogIndex() { return log.lastIndex(); }

  public long lastLogTerm() { return log.lastTerm(); }

  public long snapshotIndex() { return log.snapshotIndex(); }

  public Snapshot latestSnapshot() { return snapshot; }

  /** The term of the entry at {@code index}, or -1 if this peer does not hold it. */
  public long termAt(long index) {
    return log.term(index);
  }

  /** The retained entries after the snapshot, for checkers and tests. */
  public List<LogEntry> logEntries() { return log.entriesCopy(); }

  // ---------------------------------------------------------------- inputs

  /** One unit of logical time. */
  public void tick() {
    clock++;
    expireReads();
    if (role == Role.LEADER) {
      tickLeader();
    } else if (++electionElapsed >= randomizedElectionTimeout) {
      hup();
    }
  }

  /**
   * Appends {@code command} if this peer leads and is not handing its leadership over (a transfer
   * drops proposals: the target must catch up with a log that stops growing); returns at once.
   */
  public Proposal propose(byte[] command) {
    int hint = leadTransferee != -1 ? leadTransferee : leader; // during a transfer: the leader to be
    if (role != Role.LEADER || leadTransferee != -1) return new Proposal(-1, term, false, hint);
    return new Proposal(appendEntry(command, LogEntry.Type.COMMAND), term, true, hint);
  }

  /**
   * Proposes a membership change (dissertation §4; etcd's ConfChangeV2): {@code changes} applied to
   * the configuration in effect under {@code transition}; an empty list leaves a joint
   * configuration. The new configuration is in effect as soon as it is appended, here and on each
   * follower as it appends it (§4.1); a joint one marked auto-leave is left by a second change
   * once it commits; a leader the change removes steps down once it commits.
   *
   * @throws Configuration.InvalidChangeException if the change breaks the rules, or now is not the
   *     time: another change is not yet committed, or this leader has not yet committed an entry
   *     of its term (the fix of the single-server-change bug; raft-dev, 2015; it then appends an
   *     empty one, if it has none, for a retry to find committed)
   */
  public Proposal proposeConfiguration(List<? extends Configuration.Change> changes, Configuration.Transition transition) {
    int hint = leadTransferee != -1 ? leadTransferee : leader;
    if (role != Role.LEADER || leadTransferee != -1) return new Proposal(-1, term, false, hint);
    if (log.term(commitIndex) != term) {
      // An idle group may never write one: append the no-op reads use, so that a retry gets through
      // (it also commits a change an earlier leader left uncommitted).
      if (log.lastTerm() != term) appendEntry(new byte[0], LogEntry.Type.COMMAND);
      throw new Configuration.InvalidChangeException("no entry of this leader's term is committed yet", true);
    }
    if (membersIndex > commitIndex) throw new Configuration.InvalidChangeException("a configuration change is in progress", true);
    Configuration next = members.apply(changes, transition);
    return new Proposal(appendConfiguration(next), term, true, hint);
  }

  /**
   * Asks for the point a linearizable read may be served from (§6.4). The answer, {@link
   * ApplyMsg.ReadReady} with {@code ctx}, comes out with the applies of a later {@link #ready()} (or
   * this one's): serve the read once everything up to its index is applied. Index -1: no read
   * point (no leader known, leadership changed, or not confirmed within an election timeout);
   * retry, possibly elsewhere.
   */
  public void readIndex(long ctx) {
    if (role == Role.LEADER) {
      readsQueued.add(new Read(true, id, ctx, clock));
      startReadRound();
    } else if (role == Role.FOLLOWER && leader != -1) {
      readsForwarded.add(new Read(true, leader, ctx, clock));
      send(leader, new ReadIndex(term, ctx));
    } else {
      pendingApplies.add(new ApplyMsg.ReadReady(ctx, -1, leader));
    }
  }

  /**
   * The service's state includes every entry up to {@code index}: compact the log. Ignored when
   * {@code index} is not newer than the current snapshot or not yet applied.
   */
  public void snapshot(long index, byte[] data) {
    if (index <= log.snapshotIndex() || index > applied) return;
    long t = log.term(index);
    Configuration c = configurationAt(index);
    log.compactTo(index, t);
    snapshot = new Snapshot(index, t, data, c);
    pendingSnapshot = snapshot;
    pendingEntries.removeIf(e -> e.index() <= index);
  }

  /**
   * Hands the leadership to peer {@code to} (-1: the follower with the longest matching log), as
   * in §3.10: proposals stop, the target is brought up to date and then told to campaign at once.
   * The transfer is abandoned if it has not happened within an election timeout, or when this
   * peer stops leading.
   */
  public Transfer transferLeadership(int to) {
    if (role != Role.LEADER) return Transfer.NOT_LEADER;
    if (to == -1) to = bestTransferee();
    if (to == -1) return Transfer.NO_FOLLOWER;
    if (!members.isVoter(to)) return Transfer.UNKNOWN_PEER; // a learner never leads
    if (to == id) {
      leadTransferee = -1;
      return Transfer.SELF;
    }
    if (leadTransferee == to) return Transfer.STARTED; // the deadline is not extended
    leadTransferee = to;
    electionElapsed = 0; // the transfer must complete within one election timeout
    if (!maybeSendTimeoutNow(to)) fillWindow(to);
    return Transfer.STARTED;
  }

  /**
   * Why {@link #step} must not take this message (an unknown sender, a field out of range, entries
   * out of sequence), or null if it may. A shell drops such messages: they come from a broken or
   * hostile peer, and stepping them could make the core throw.
   */
  public String invalid(int from, RaftMessage m) {
    if (from < 0 || from == id) return "unknown sender n" + from;
    if (m == null) return "no message";
    if (m.term() < 0) return "negative term";
    if (m instanceof RequestVote rv) {
      if (rv.lastLogIndex() < 0 || rv.lastLogTerm() < 0 || rv.lastLogTerm() > rv.term()) return "bad last log position";
    } else if (m instanceof AppendEntries ae) {
      if (ae.prevLogIndex() < 0 || ae.prevLogTerm() < 0 || ae.prevLogTerm() > ae.term() || ae.leaderCommit() < 0 || ae.readRound() < 0)
        return "bad AppendEntries header";
      if (ae.entries() == null) return "no entries list";
      long prevTerm = ae.prevLogTerm();
      for (int k = 0; k < ae.entries().size(); k++) {
        LogEntry e = ae.entries().get(k);
        if (e == null || e.command() == null) return "missing entry";
        if (e.isConfiguration() && !decodes(e.command())) return "bad configuration entry";
        if (e.index() != ae.prevLogIndex() + 1 + k) return "entries out of sequence";
        if (e.term() < prevTerm || e.term() > ae.term()) return "entry term out of range";
        prevTerm = e.term();
      }
    } else if (m instanceof AppendEntriesReply r) {
      if (r.matchIndex() < 0 || r.rejectedIndex() < 0 || r.conflictTerm() < 0 || r.conflictIndex() < 0 || r.logLength() < 0 || r.readRound() < 0)
        return "negative index in AppendEntries reply";
    } else if (m instanceof InstallSnapshot is) {
      if (is.lastIncludedIndex() < 0 || is.lastIncludedTerm() < 0 || is.lastIncludedTerm() > is.term() || is.data() == null)
        return "bad InstallSnapshot header";
      if (is.size() > Integer.MAX_VALUE - 8 || is.offset() < 0 || is.offset() + is.data().length > is.size())
        return "snapshot chunk out of range";
    } else if (m instanceof InstallSnapshotReply r) {
      if (r.lastIncludedIndex() < 0 || r.received() < 0) return "negative index in InstallSnapshot reply";
    } else if (m instanceof ReadIndexResult r) {
      if (r.index() < -1) return "bad read index";
    }
    return null;
  }

  /** A message from peer {@code from}. */
  public void step(int from, RaftMessage m) {
    if (from < 0 || from == id) throw new IllegalArgumentException("message from unknown peer " + from);
    if (m.term() > term) {
      if (m instanceof RequestVote rv) {
        if (inVoteLease() && !rv.transfer()) {
          // The vote lease (§6.2): we heard from a live leader less than an election timeout ago,
          // so this candidate is disruptive. Refused at our own term, which it drops as stale;
          // our term stays.
          send(from, new RequestVoteReply(term, false, rv.preVote()));
          return;
        }
        // A pre-vote never raises the receiver's term (§9.6).
        if (!rv.preVote()) becomeFollower(m.term(), -1);
      } else if (!(m instanceof RequestVoteReply r && r.preVote() && r.voteGranted())) {
        // Rules for all servers: a higher term makes us a follower (§5.1). (A granted pre-vote
        // carries the term it was asked for, not a newer leader's.)
        boolean fromLeader =
            m instanceof AppendEntries || m instanceof InstallSnapshot || m instanceof TimeoutNow || m instanceof ReadIndexResult;
        becomeFollower(m.term(), fromLeader ? from : -1);
      }
    }
    if (m instanceof TimeoutNow t) onTimeoutNow(t);
    else if (m instanceof RequestVote rv) onRequestVote(from, rv);
    else if (m instanceof RequestVoteReply r) onRequestVoteReply(from, r);
    else if (m instanceof AppendEntries ae) onAppendEntries(from, ae);
    else if (m instanceof AppendEntriesReply r) onAppendEntriesReply(from, r);
    else if (m instanceof InstallSnapshot is) onInstallSnapshot(from, is);
    else if (m instanceof InstallSnapshotReply r) onInstallSnapshotReply(from, r);
    else if (m instanceof ReadIndex ri) onReadIndex(from, ri);
    else if (m instanceof ReadIndexResult rr) onReadIndexResult(from, rr);
  }

  /** Hands over every effect accumulated since the last call. */
  public Ready ready() {
    Ready r =
        new Ready(
            hardStateDirty ? new HardState(term, votedFor) : null,
            List.copyOf(pendingEntries),
            pendingSnapshot,
            List.copyOf(pendingMessages),
            List.copyOf(pendingApplies));
    hardStateDirty = false;
    pendingEntries.clear();
    pendingSnapshot = null;
    pendingMessages.clear();
    pendingApplies.clear();
    return r;
  }

  // ---------------------------------------------------------------- roles

  private void becomeFollower(long newTerm, int newLeader) {
    if (newTerm < term) throw new IllegalStateException("term cannot go back from " + term + " to " + newTerm);
    if (newTerm > term) {
      term = newTerm;
      votedFor = HardState.NO_VOTE;
      hardStateDirty = true;
    }
    role = Role.FOLLOWER;
    leader = newLeader;
    progress = null;
    leadTransferee = -1;
    votes.clear();
    rejections.clear();
    commitNotifyElapsed = -1;
    if (newLeader != -1) {
      // Hearing from a leader restarts the election timer (§5.2). A step-down for any other reason
      // (a RequestVote or a reply with a higher term) leaves it running: otherwise a candidate
      // that cannot win would keep postponing everyone else's elections.
      electionElapsed = 0;
      resetElectionTimeout();
    }
    failReads(); // a read point from the old leadership, or asked of the old leader, proves nothing now
  }

  private void becomePreCandidate() {
    if (role == Role.LEADER) throw new IllegalStateException("a leader cannot become a pre-candidate");
    role = Role.PRE_CANDIDATE;
    // Forgetting the leader matters: a pre-candidate that still believed in one would refuse
    // everyone else's pre-votes under the vote lease, and nobody might win.
    leader = -1;
    votes.clear();
    votes.add(id);
    rejections.clear();
    electionElapsed = 0;
    resetElectionTimeout();
    failReads();
  }

  private void becomeCandidate() {
    if (role == Role.LEADER) throw new IllegalStateException("a leader cannot become a candidate");
    role = Role.CANDIDATE;
    term++;
    votedFor = id;
    hardStateDirty = true;
    leader = -1;
    votes.clear();
    votes.add(id);
    electionElapsed = 0;
    resetElectionTimeout();
    failReads();
  }

  private void becomeLeader() {
    if (role != Role.CANDIDATE) throw new IllegalStateException("only a candidate can become leader");
    role = Role.LEADER;
    leader = id;
    leadTransferee = -1;
    electionElapsed = 0;
    heartbeatElapsed = 0;
    commitNotifyElapsed = -1;
    progress = new Progress[Math.max(id, maxId(peers)) + 1];
    progress[id] = new Progress(log.lastIndex() + 1);
    for (int p : peers) progress[p] = new Progress(log.lastIndex() + 1);
    progress[id].maybeUpdate(log.lastIndex());
    for (int p : peers) sendAppend(p, true);
    // A leader elected while joint must leave by itself too (etcd #12136): once an entry of its
    // term commits, which this no-op brings about.
    if (members.isJoint() && members.autoLeave()) appendEntry(new byte[0], LogEntry.Type.COMMAND);
  }

  /**
   * Whether this peer may stand for election: a voter of the configuration in effect, or a voter of
   * the one before it while the change that removed or demoted it is not known to be committed.
   * That peer may hold the only log that can finish the change (its successor missed the entries),
   * so it must be able to lead the group through it, as a removed leader does (dissertation
   * §4.2.2), counting the votes of the new configuration only and stepping down once it commits.
   * Without this a group whose leader demoted itself and lost the leadership before the change
   * committed could be left with no one able to win (found by the simulator).
   */
  private boolean mayCampaign() {
    if (members.isVoter(id)) return true;
    return membersIndex > commitIndex && configurationAt(membersIndex - 1).isVoter(id);
  }

  /** Whether the votes gathered so far are a majority (of each half, while joint). */
  private boolean elected() {
    return members.poll(votes::contains, p -> false) == Configuration.Poll.WON;
  }

  /** Whether the peers that confirmed the read round are a majority (of each half). */
  private boolean readConfirmed() {
    return members.poll(readAcks::contains, p -> false) == Configuration.Poll.WON;
  }

  /**
   * The membership in effect once the log ends at {@code index}: the newest configuration entry
   * at or below it, else the snapshot's, else the initial one.
   */
  private Configuration configurationAt(long index) {
    return configurationOfEntry(configurationIndexAt(index));
  }

  /** The configuration the entry at {@code at} holds; for 0, the snapshot's or the initial one. */
  private Configuration configurationOfEntry(long at) {
    if (at > 0) return RaftCodec.decodeConfiguration(log.entry(at).command());
    return snapshot.configuration() != null ? snapshot.configuration() : initial;
  }

  /** The index of the newest configuration entry at or below {@code index} in the log, or 0. */
  private long configurationIndexAt(long index) {
    for (long i = Math.min(index, log.lastIndex()); i > log.snapshotIndex(); i--) {
      if (log.entry(i).isConfiguration()) return i;
    }
    return 0;
  }

  /** Makes the membership the one the log and snapshot now record. */
  private void refreshMembers() {
    long at = configurationIndexAt(log.lastIndex());
    Configuration c = configurationOfEntry(at);
    if (!c.equals(members) || at != membersIndex) setMembers(c, at);
  }

  /**
   * The configuration in effect is committed (leader only): leave it if it is joint and marked
   * auto-leave, exactly once since the leave is in effect as soon as it is appended (etcd #14538:
   * sent out at once); step down if it no longer has this leader as a voter (etcd
   * StepDownOnRemoval), first telling the most up-to-date voter to campaign so the group need not
   * wait for an election timeout.
   */
  private void onMembersCommitted() {
    if (members.isJoint() && members.autoLeave()) {
      appendConfiguration(members.apply(List.of(), Configuration.Transition.AUTO));
    } else if (!members.isVoter(id) && leadTransferee == -1) { // called at every commit: start it once
      // Hand over as a leadership transfer does, to the most up-to-date voter: a TimeoutNow at once
      // if it has everything, else once it has caught up (a busy leader appended more since the
      // change), taking no new proposals meanwhile. This leader steps down after sending it
      // (maybeSendTimeoutNow), or when the transfer's election timeout ends (tickLeader).
      if (transferLeadership(-1) != Transfer.STARTED) becomeFollower(term, -1);
    }
  }

  /** A leader that a committed change removed or demoted, still leading only to hand over. */
  private boolean removedAndCommitted() {
    return !members.isVoter(id) && membersIndex <= commitIndex;
  }

  /**
   * Puts {@code c} in effect. A leader starts tracking the members it did not know (probing from
   * its last index, as at the start of a term) and stops replicating to those it no longer has.
   * This peer need not be a member: one that was removed keeps running but never campaigns.
   */
  private void setMembers(Configuration c, long index) {
    members = c;
    membersIndex = index;
    peers = c.members().stream().mapToInt(Integer::intValue).filter(p -> p != id).toArray();
    voterPeers = Arrays.stream(peers).filter(c::isVoter).toArray();
    if (progress == null) return;
    Progress[] grown = new Progress[Math.max(id, maxId(peers)) + 1];
    grown[id] = progress[id];
    List<Integer> joined = new ArrayList<>();
    for (int p : peers) {
      if (p < progress.length && progress[p] != null) {
        grown[p] = progress[p];
      } else {
        grown[p] = new Progress(log.lastIndex() + 1);
        joined.add(p);
      }
    }
    progress = grown;
    for (int p : joined) sendAppend(p, true); // a probe: a new member learns where it stands at once
  }

  private static boolean decodes(byte[] configuration) {
    try {
      RaftCodec.decodeConfiguration(configuration);
      return true;
    } catch (io.raftkv.codec.CorruptDataException e) {
      return false;
    }
  }

  /** Whether {@code p} is another member of the group. */
  private boolean isPeer(int p) {
    return Arrays.binarySearch(peers, p) >= 0;
  }

  private static int maxId(int[] ids) {
    return ids.length == 0 ? 0 : ids[ids.length - 1];
  }

  /** The election timer fired: campaign, first asking for pre-votes if configured. */
  private void hup() {
    // A learner never campaigns (it would count for nobody). Its timer keeps running, so that its
    // vote lease (§6.2) runs out as a voter's would: it must grant votes (spec A.6 rule 3).
    if (!mayCampaign()) return;
    // A peer a change is removing always asks for pre-votes first: it must be able to finish the
    // change when only its log can, but never raise the term of a group that can go on without it
    // (without PreVote its elections kept deposing the new configuration's leader; simulator).
    if (config.preVote() || !members.isVoter(id)) {
      preCampaign();
    } else {
      campaign(false);
    }
  }

  private void preCampaign() {
    becomePreCandidate();
    if (elected()) { // a group of one
      campaign(false);
      return;
    }
    for (int p : voterPeers) send(p, new RequestVote(term + 1, log.lastIndex(), log.lastTerm(), true, false));
  }

  /** A real election; {@code transfer}: started by the leader's TimeoutNow (skips the vote lease). */
  private void campaign(boolean transfer) {
    becomeCandidate();
    if (elected()) { // a group of one elects itself
      becomeLeader();
      return;
    }
    for (int p : voterPeers) send(p, new RequestVote(term, log.lastIndex(), log.lastTerm(), false, transfer));
  }

  /**
   * True while this peer must ignore candidates (§6.2): CheckQuorum is on and it heard from a
   * leader (or, leading, from a majority) less than the minimum election timeout ago.
   */
  private boolean inVoteLease() {
    return config.checkQuorum() && leader != -1 && electionElapsed < config.electionTicksMin();
  }

  private void resetElectionTimeout() {
    randomizedElectionTimeout =
        random.nextInt(config.electionTicksMin(), config.electionTicksMax());
  }

  // ---------------------------------------------------------------- leader timing

  private void tickLeader() {
    if (++electionElapsed >= config.electionTicksMin()) {
      electionElapsed = 0;
      if (config.checkQuorum() && !quorumActive()) {
        // CheckQuorum (§6.2): no majority answered for a whole election timeout. Whoever leads
        // the majority side may be serving writes already; stop accepting ours.
        becomeFollower(term, -1);
        return;
      }
      leadTransferee = -1; // a transfer not done within an election timeout is abandoned
      if (removedAndCommitted()) {
        becomeFollower(term, -1); // its handover did not happen: the voters elect a leader
        return;
      }
    }
    if (++heartbeatElapsed >= config.heartbeatTicks()) {
      heartbeatElapsed = 0;
      commitNotifyElapsed = -1;
      for (int p : peers) heartbeat(p);
      return;
    }
    if (commitNotifyElapsed >= 0 && ++commitNotifyElapsed >= config.commitNotifyTicks()) {
      commitNotifyElapsed = -1;
      for (int p : peers) {
        Progress pr = progress[p];
        if (pr.state == Progress.State.REPLICATE
            && pr.match >= log.snapshotIndex()
            && pr.sentCommit < Math.min(commitIndex, pr.match)) {
          sendEmptyAppend(p, pr.match); // matches for sure: only carries the commit index
        }
      }
    }
  }

  /**
   * Schedules commit news unless some are already scheduled: restarting the timer on every commit
   * would postpone the news forever under a steady stream of commits.
   */
  private void startCommitNotify() {
    if (commitNotifyElapsed < 0) commitNotifyElapsed = 0;
  }

  /** True if a majority, counting this leader, answered since the last check; starts a new window. */
  private boolean quorumActive() {
    boolean[] active = new boolean[progress.length];
    active[id] = true;
    for (int p : peers) {
      active[p] = progress[p].recentActive;
      progress[p].recentActive = false;
    }
    return members.poll(p -> active[p], p -> false) == Configuration.Poll.WON;
  }

  /** The voter whose log matches the most (lowest id on ties), or -1 in a group of one. */
  private int bestTransferee() {
    int best = -1;
    for (int p : voterPeers) {
      if (best == -1 || progress[p].match > progress[best].match) best = p;
    }
    return best;
  }

  /** Tells the transfer target to campaign once its log matches ours; returns true if it did. */
  private boolean maybeSendTimeoutNow(int p) {
    if (p != leadTransferee || progress[p].match != log.lastIndex()) return false;
    send(p, new TimeoutNow(term));
    if (removedAndCommitted()) becomeFollower(term, -1);
    return true;
  }

  private void heartbeat(int p) {
    Progress pr = progress[p];
    switch (pr.state) {
      case SNAPSHOT -> {
        pr.snapshotTicks += config.heartbeatTicks();
        if (pr.snapshotTicks >= config.snapshotResendTicks()) {
          // The stream stalled (a chunk or its answer was lost, or the follower restarted): go
          // on from what the follower last said it holds, with at least one message.
          pr.snapshotTicks = 0;
          pr.snapshotAcked = Math.min(pr.snapshotAcked, pr.snapshotReported);
          pr.snapshotSent = pr.snapshotAcked;
          pr.snapshotStarted = false;
          pr.snapshotRewoundTo = -1;
          sendSnapshotChunks(p);
        } else {
          // Keeps it from campaigning while the snapshot is on its way. The snapshot point is the
          // one index before the log whose term the leader still knows; a rejection is ignored.
          sendEmptyAppend(p, log.snapshotIndex());
        }
      }
      case PROBE -> {
        pr.probeSent = false;
        sendAppend(p, true);
      }
      case REPLICATE -> {
        if (pr.next <= log.snapshotIndex()) {
          sendSnapshot(p); // what it needs next was compacted away since it was sent
        } else if (pr.next - 1 < log.lastIndex() && !pr.inflightFull(config.maxInflight())) {
          sendAppend(p, true);
        } else {
          // Probes the last index sent: a lost AppendEntries shows up as a rejection here.
          sendEmptyAppend(p, pr.next - 1);
        }
      }
    }
  }

  // ---------------------------------------------------------------- replication (leader)

  /**
   * Sends {@code p} the entries it is missing, if its progress allows a message now. Without
   * entries to send, sends an empty AppendEntries only if {@code allowEmpty}. Returns true if it
   * sent something.
   */
  private boolean sendAppend(int p, boolean allowEmpty) {
    Progress pr = progress[p];
    if (pr.state == Progress.State.SNAPSHOT) return false;
    if (pr.state == Progress.State.PROBE && pr.probeSent) return false;
    if (pr.state == Progress.State.REPLICATE && pr.inflightFull(config.maxInflight())) return false;
    if (pr.next <= log.snapshotIndex()) {
      sendSnapshot(p);
      return true;
    }
    long prev = pr.next - 1;
    List<LogEntry> entries = List.of();
    if (pr.next <= log.lastIndex()) {
      long to = Math.min(log.lastIndex(), pr.next + config.maxEntriesPerMessage() - 1);
      entries = log.slice(pr.next, to, config.maxBytesPerMessage());
    }
    if (entries.isEmpty() && !allowEmpty) return false;
    long commit = Math.min(commitIndex, prev + entries.size());
    send(p, new AppendEntries(term, prev, log.term(prev), entries, commit, readRound));
    pr.sentCommit = Math.max(pr.sentCommit, commit);
    if (pr.state == Progress.State.PROBE) {
      pr.probeSent = true;
    } else if (!entries.isEmpty()) {
      long last = entries.get(entries.size() - 1).index();
      pr.next = last + 1;
      pr.inflight.addLast(last);
    }
    return true;
  }

  /** Sends {@code p} pending entries until its window is full or nothing is left (§5.3: at once). */
  private void fillWindow(int p) {
    while (sendAppend(p, false)) {
      // each message takes a slot of the window, or ends a PROBE or SNAPSHOT round
    }
  }

  private void sendEmptyAppend(int p, long prev) {
    if (prev < log.snapshotIndex())
      throw new IllegalStateException("n" + id + " cannot send prevLogIndex " + prev + ": compacted up to " + log.snapshotIndex());
    Progress pr = progress[p];
    long commit = Math.min(commitIndex, prev);
    send(p, new AppendEntries(term, prev, log.term(prev), List.of(), commit, readRound));
    pr.sentCommit = Math.max(pr.sentCommit, commit);
  }

  private void sendSnapshot(int p) {
    Progress pr = progress[p];
    pr.becomeSnapshot(snapshot.index());
    pr.streaming = snapshot;
    sendSnapshotChunks(p);
  }

  /**
   * Streams the snapshot to {@code p} in chunks, at most {@code maxInflight} of them beyond what
   * it confirmed; the follower's answers open the window again (flow control).
   */
  private void sendSnapshotChunks(int p) {
    Progress pr = progress[p];
    Snapshot s = pr.streaming;
    byte[] data = s.data();
    long size = data.length;
    long window = (long) config.snapshotChunkBytes() * config.maxInflight();
    while (!pr.snapshotStarted || (pr.snapshotSent < size && pr.snapshotSent - pr.snapshotAcked < window)) {
      int from = (int) pr.snapshotSent;
      int len = (int) Math.min(config.snapshotChunkBytes(), size - from);
      byte[] chunk = from == 0 && len == size ? data : Arrays.copyOfRange(data, from, from + len);
      send(p, new InstallSnapshot(term, s.index(), s.term(), from, size, chunk, s.configuration()));
      pr.snapshotSent = from + len;
      pr.snapshotStarted = true;
    }
  }

  private void onAppendEntriesReply(int from, AppendEntriesReply r) {
    if (role != Role.LEADER || r.term() < term || !isPeer(from)) return; // stale, or not (or no longer) a member
    Progress pr = progress[from];
    pr.recentActive = true;
    if (r.readRound() != 0) confirmRead(from, r.readRound()); // rejections confirm the term too
    if (r.success()) {
      boolean moved = pr.maybeUpdate(r.matchIndex());
      if (pr.state == Progress.State.PROBE) {
        pr.becomeReplicate();
      } else if (pr.state == Progress.State.SNAPSHOT && pr.match >= pr.pendingSnapshot) {
        pr.becomeReplicate();
      }
      if (moved && maybeCommit()) {
        if (role != Role.LEADER) return; // it committed its own removal and stepped down
        startCommitNotify();
        if (!isPeer(from)) return; // the commit let the leader leave a joint configuration without it
      }
      if (!maybeSendTimeoutNow(from)) fillWindow(from);
      return;
    }
    // rejection: find where the logs agree with the follower's hints (fast backtracking)
    if (pr.state == Progress.State.REPLICATE && r.rejectedIndex() <= pr.match) return; // stale
    if (pr.state == Progress.State.PROBE && r.rejectedIndex() != pr.next - 1) return; // stale
    if (pr.state == Progress.State.SNAPSHOT) return;
    long next;
    if (r.conflictTerm() == 0) {
      next = r.logLength();
    } else {
      long last = log.lastIndexOfTerm(r.conflictTerm());
      next = last > 0 ? last + 1 : r.conflictIndex();
    }
    next = Math.min(next, r.rejectedIndex());
    pr.becomeProbe();
    pr.next = Math.max(pr.match + 1, next);
    sendAppend(from, false);
  }

  private void onInstallSnapshotReply(int from, InstallSnapshotReply r) {
    if (role != Role.LEADER || r.term() < term || !isPeer(from)) return;
    Progress pr = progress[from];
    pr.recentActive = true;
    if (!r.done()) {
      if (pr.state != Progress.State.SNAPSHOT || r.lastIncludedIndex() != pr.pendingSnapshot) return; // stale
      pr.snapshotReported = r.received();
      if (r.received() > pr.snapshotAcked) {
        pr.snapshotAcked = Math.min(r.received(), pr.streaming.data().length);
        pr.snapshotSent = Math.max(pr.snapshotSent, pr.snapshotAcked);
        pr.snapshotTicks = 0;
      } else if (pr.snapshotSent - pr.snapshotAcked >= (long) config.snapshotChunkBytes() * config.maxInflight()
          && r.received() != pr.snapshotRewoundTo) {
        // The window is full and the follower still holds no more: a chunk went missing (it
        // takes chunks in order only). Go back now rather than after the stall timeout, but once
        // to each position: the chunks already in flight draw more such answers.
        pr.snapshotRewoundTo = r.received();
        pr.snapshotAcked = r.received();
        pr.snapshotSent = r.received();
      }
      sendSnapshotChunks(from);
      return;
    }
    boolean moved = pr.maybeUpdate(r.lastIncludedIndex());
    if (pr.state == Progress.State.SNAPSHOT && pr.match >= pr.pendingSnapshot) {
      pr.becomeProbe();
    }
    if (moved && maybeCommit()) {
      if (role != Role.LEADER || !isPeer(from)) return; // see onAppendEntriesReply
      startCommitNotify();
    }
    if (!maybeSendTimeoutNow(from)) fillWindow(from);
  }

  /**
   * Advances the commit index to the highest index stored on a majority, if that entry is from
   * the current term (§5.3, §5.4.2: never count replicas of older terms' entries). Returns true if
   * it moved.
   */
  private boolean maybeCommit() {
    long quorumIndex = members.committed(p -> progress[p].match); // held by a majority (of each half)
    if (quorumIndex <= commitIndex || log.term(quorumIndex) != term) return false;
    commitIndex = quorumIndex;
    emitApplies();
    startReadRound(); // reads may have waited for the first commit of this term
    if (membersIndex <= commitIndex) onMembersCommitted();
    return true;
  }

  /** Appends {@code c} to this leader's log, puts it in effect (§4.1) and sends it out. */
  private long appendConfiguration(Configuration c) {
    long index = appendEntry(RaftCodec.encodeConfiguration(c), LogEntry.Type.CONFIGURATION);
    maybeCommit(); // a smaller quorum may already hold what was waiting (etcd TestCommitAfterRemoveNode)
    return index;
  }

  /** Appends an entry to this leader's log and sends it out; returns its index. */
  private long appendEntry(byte[] command, LogEntry.Type type) {
    LogEntry e = new LogEntry(log.lastIndex() + 1, term, command, type);
    log.append(e);
    pendingEntries.add(e);
    if (e.isConfiguration()) setMembers(RaftCodec.decodeConfiguration(command), e.index());
    progress[id].maybeUpdate(e.index());
    if (peers.length == 0) maybeCommit();
    if (role != Role.LEADER) return e.index(); // it committed its own removal and stepped down
    for (int p : peers) sendAppend(p, false);
    return e.index();
  }

  // ---------------------------------------------------------------- reads (§6.4)

  /**
   * Starts a confirmation round for the queued reads, unless one is under way. Its read point is
   * the commit index now, which holds every entry committed before the reads arrived only once
   * this leader has committed an entry of its own term (§6.4 step 1): until then an empty entry is
   * appended and the reads wait for its commit.
   */
  private void startReadRound() {
    if (readsQueued.isEmpty() || !readsInRound.isEmpty()) return;
    if (log.term(commitIndex) != term) {
      if (log.lastTerm() != term) appendEntry(new byte[0], LogEntry.Type.COMMAND);
      return;
    }
    readRound++;
    readRoundIndex = commitIndex;
    readRoundStarted = clock;
    readsInRound.addAll(readsQueued);
    readsQueued.clear();
    readAcks.clear();
    readAcks.add(id);
    if (readConfirmed()) {
      finishReadRound();
      return;
    }
    for (int p : voterPeers) sendReadProbe(p);
  }

  /**
   * An AppendEntries that carries the new round number to {@code p} and changes nothing there: at
   * an index the follower is known to hold, or the probe or snapshot point it is at.
   */
  private void sendReadProbe(int p) {
    Progress pr = progress[p];
    long prev =
        switch (pr.state) {
          case REPLICATE -> pr.match;
          case PROBE -> pr.next - 1;
          case SNAPSHOT -> log.snapshotIndex();
        };
    sendEmptyAppend(p, Math.max(prev, log.snapshotIndex()));
  }

  /** Peer {@code from} answered an AppendEntries of round {@code round} at this leader's term. */
  private void confirmRead(int from, long round) {
    if (readsInRound.isEmpty() || round < readRound) return; // sent before the round began
    readAcks.add(from);
    if (readConfirmed()) finishReadRound();
  }

  /** A majority confirmed this leadership after the round's reads arrived: they may be served. */
  private void finishReadRound() {
    for (Read r : readsInRound) {
      if (r.local()) {
        pendingApplies.add(new ApplyMsg.ReadReady(r.ctx(), readRoundIndex, id));
      } else {
        send(r.peer(), new ReadIndexResult(term, r.ctx(), readRoundIndex));
      }
    }
    readsInRound.clear();
    startReadRound();
  }

  private void onReadIndex(int from, ReadIndex ri) {
    // Not the leader of that term: no answer, the follower gives up after an election timeout.
    if (role != Role.LEADER || ri.term() != term) return;
    readsQueued.add(new Read(false, from, ri.ctx(), clock));
    startReadRound();
  }

  private void onReadIndexResult(int from, ReadIndexResult rr) {
    if (rr.term() != term || role != Role.FOLLOWER) return;
    for (int k = 0; k < readsForwarded.size(); k++) {
      Read r = readsForwarded.get(k);
      if (r.ctx() == rr.ctx() && r.peer() == from) {
        readsForwarded.remove(k);
        pendingApplies.add(new ApplyMsg.ReadReady(r.ctx(), rr.index(), leader));
        return;
      }
    }
  }

  /**
   * Fails the reads that waited an election timeout: a round no majority confirmed (this leader
   * may be cut off), a first commit of the term that did not come, a leader that did not answer.
   */
  private void expireReads() {
    long limit = clock - config.electionTicksMin();
    if (!readsInRound.isEmpty() && readRoundStarted <= limit) {
      for (Read r : readsInRound) fail(r, -1);
      readsInRound.clear();
    }
    readsQueued.removeIf(r -> r.since() <= limit && fail(r, -1));
    readsForwarded.removeIf(r -> r.since() <= limit && fail(r, leader));
    startReadRound();
  }

  /** Fails every waiting read (leadership or leader changed); the service hears of its own. */
  private void failReads() {
    for (List<Read> reads : List.of(readsInRound, readsQueued, readsForwarded)) {
      for (Read r : reads) {
        if (r.local()) fail(r, leader);
      }
      reads.clear();
    }
  }

  /** Tells whoever asked for {@code r} that it has no read point; returns true. */
  private boolean fail(Read r, int hint) {
    if (r.local()) {
      pendingApplies.add(new ApplyMsg.ReadReady(r.ctx(), -1, hint));
    } else if (role == Role.LEADER) {
      send(r.peer(), new ReadIndexResult(term, r.ctx(), -1));
    }
    return true;
  }

  // ---------------------------------------------------------------- elections

  private void onRequestVote(int from, RequestVote rv) {
    if (rv.preVote()) {
      onPreVote(from, rv);
      return;
    }
    // Reply false if term < currentTerm (§5.1)
    boolean grant = false;
    if (rv.term() == term) {
      boolean canVote = votedFor == HardState.NO_VOTE || votedFor == from;
      if (canVote && upToDate(rv) && role == Role.FOLLOWER) {
        grant = true;
        if (votedFor != from) {
          votedFor = from;
          hardStateDirty = true;
        }
        electionElapsed = 0;
      }
    }
    send(from, new RequestVoteReply(term, grant));
  }

  /**
   * Would we vote for {@code from} at {@code rv.term()}? Answering changes nothing here: no term,
   * no vote, no timer (§9.6). Refused also to a sender behind our term, with our term, so a node
   * left behind learns the term instead of asking forever.
   */
  private void onPreVote(int from, RequestVote rv) {
    boolean canVote =
        rv.term() > term || (rv.term() == term && (votedFor == from || (votedFor == HardState.NO_VOTE && leader == -1)));
    boolean grant = canVote && upToDate(rv);
    send(from, new RequestVoteReply(grant ? rv.term() : term, grant, true));
  }

  /** The election restriction (§5.4.1): the candidate's log is at least as up-to-date as ours. */
  private boolean upToDate(RequestVote rv) {
    return rv.lastLogTerm() > log.lastTerm()
        || (rv.lastLogTerm() == log.lastTerm() && rv.lastLogIndex() >= log.lastIndex());
  }

  private void onPreVoteReply(int from, RequestVoteReply r) {
    if (role != Role.PRE_CANDIDATE) return;
    if (r.voteGranted() && r.term() == term + 1) {
      votes.add(from);
    } else if (!r.voteGranted() && r.term() == term) {
      rejections.add(from);
    } else {
      return; // an answer to an earlier round
    }
    Configuration.Poll poll = members.poll(votes::contains, rejections::contains);
    if (poll == Configuration.Poll.WON) {
      campaign(false);
    } else if (poll == Configuration.Poll.LOST) { // no majority is left to win
      becomeFollower(term, -1);
    }
  }

  private void onTimeoutNow(TimeoutNow t) {
    // Only a follower of that term campaigns; candidates ignore it (a leader never gets one).
    if (t.term() != term || role != Role.FOLLOWER || !mayCampaign()) return;
    campaign(true);
  }

  private void onRequestVoteReply(int from, RequestVoteReply r) {
    if (r.preVote()) {
      onPreVoteReply(from, r);
      return;
    }
    if (role != Role.CANDIDATE || r.term() != term || !r.voteGranted()) return;
    votes.add(from);
    if (elected()) becomeLeader();
  }

  // ---------------------------------------------------------------- replication (follower)

  private void onAppendEntries(int from, AppendEntries ae) {
    if (ae.term() < term) {
      // Reply false if term < currentTerm (§5.1); our term makes the stale leader step down
      answer(from, ae, new AppendEntriesReply(term, false, 0, ae.prevLogIndex(), 0, 0, 0));
      return;
    }
    if (role != Role.FOLLOWER || leader != from) becomeFollower(ae.term(), from);
    electionElapsed = 0;

    long prev = ae.prevLogIndex();
    List<LogEntry> entries = ae.entries();
    if (prev < log.snapshotIndex()) {
      // the prefix up to our snapshot is committed, hence identical to the leader's
      int skip = (int) Math.min(entries.size(), log.snapshotIndex() - prev);
      entries = entries.subList(skip, entries.size());
      prev = log.snapshotIndex();
      if (entries.isEmpty()) {
        answer(from, ae, AppendEntriesReply.accepted(term, log.snapshotIndex()));
        return;
      }
      if (entries.get(0).index() != prev + 1) throw new IllegalStateException("entries out of sequence");
    }
    // Reply false if the log doesn't contain an entry at prevLogIndex whose term matches (§5.3)
    if (prev > log.lastIndex()) {
      answer(from, ae, new AppendEntriesReply(term, false, 0, ae.prevLogIndex(), 0, 0, log.lastIndex() + 1));
      return;
    }
    long prevTerm = prev == ae.prevLogIndex() ? ae.prevLogTerm() : log.snapshotTerm();
    if (log.term(prev) != prevTerm) {
      long conflictTerm = log.term(prev);
      long conflictIndex = log.firstIndexOfTermAt(prev);
      answer(
          from,
          ae,
          new AppendEntriesReply(
              term, false, 0, ae.prevLogIndex(), conflictTerm, conflictIndex, log.lastIndex() + 1));
      return;
    }
    // If an existing entry conflicts with a new one, delete it and all that follow (§5.3)
    boolean membershipMayChange = false;
    for (LogEntry e : entries) {
      if (e.index() <= log.lastIndex()) {
        if (log.term(e.index()) == e.term()) continue;
        if (e.index() <= commitIndex)
          throw new IllegalStateException("n" + id + " asked to overwrite committed entry " + e.index());
        log.truncateFrom(e.index());
        pendingEntries.removeIf(x -> x.index() >= e.index());
        membershipMayChange = true; // a configuration entry may have gone: fall back (§4.1)
      }
      log.append(e);
      pendingEntries.add(e);
      membershipMayChange |= e.isConfiguration();
    }
    if (membershipMayChange) refreshMembers();
    long lastNew = prev + entries.size();
    if (ae.leaderCommit() > commitIndex) {
      commitIndex = Math.max(commitIndex, Math.min(ae.leaderCommit(), lastNew));
      emitApplies();
    }
    answer(from, ae, AppendEntriesReply.accepted(term, lastNew));
  }

  /** Answers {@code ae}, echoing its read round. */
  private void answer(int leader, AppendEntries ae, AppendEntriesReply reply) {
    send(leader, ae.readRound() == 0 ? reply : reply.withReadRound(ae.readRound()));
  }

  private void onInstallSnapshot(int from, InstallSnapshot is) {
    if (is.term() < term) {
      send(from, new InstallSnapshotReply(term, 0));
      return;
    }
    if (role != Role.FOLLOWER || leader != from) becomeFollower(is.term(), from);
    electionElapsed = 0; // every chunk counts as hearing from the leader
    long index = is.lastIncludedIndex();
    if (index <= commitIndex) {
      incomingData = null;
      send(from, new InstallSnapshotReply(term, index)); // covered already
      return;
    }
    boolean sameSnapshot =
        incomingData != null && incomingIndex == index && incomingTerm == is.lastIncludedTerm() && incomingData.length == is.size();
    if (is.offset() == 0) {
      incomingIndex = index;
      incomingTerm = is.lastIncludedTerm();
      incomingData = is.isLast() ? is.data() : new byte[(int) is.size()];
      incomingReceived = 0;
    } else if (!sameSnapshot || is.offset() != incomingReceived) {
      // a gap, a duplicate, or a chunk of a snapshot we are not assembling: say what we hold
      send(from, new InstallSnapshotReply(term, index, sameSnapshot ? incomingReceived : 0, false));
      return;
    }
    if (incomingData != is.data()) System.arraycopy(is.data(), 0, incomingData, (int) is.offset(), is.data().length);
    incomingReceived = is.offset() + is.data().length;
    if (incomingReceived < is.size()) {
      send(from, new InstallSnapshotReply(term, index, incomingReceived, false));
      return;
    }
    byte[] data = incomingData;
    incomingData = null;
    log.compactTo(index, is.lastIncludedTerm());
    long last = log.lastIndex();
    pendingEntries.removeIf(x -> x.index() <= index || x.index() > last);
    snapshot = new Snapshot(index, is.lastIncludedTerm(), data, is.configuration());
    pendingSnapshot = snapshot;
    refreshMembers(); // the snapshot's, unless the log kept past it records a newer one
    commitIndex = index;
    applied = index;
    pendingApplies.add(new ApplyMsg.SnapshotInstalled(index, is.lastIncludedTerm(), data));
    send(from, new InstallSnapshotReply(term, index));
  }

  // ---------------------------------------------------------------- helpers

  private void emitApplies() {
    while (applied < commitIndex) {
      applied++;
      LogEntry e = log.entry(applied);
      if (e.isConfiguration()) {
        pendingApplies.add(new ApplyMsg.Command(e.index(), e.term(), new byte[0]));
        pendingApplies.add(new ApplyMsg.ConfigurationApplied(e.index(), RaftCodec.decodeConfiguration(e.command())));
      } else {
        pendingApplies.add(new ApplyMsg.Command(e.index(), e.term(), e.command()));
      }
    }
  }

  private void send(int to, RaftMessage m) {
    pendingMessages.add(new Envelope(id, to, m));
  }
}
