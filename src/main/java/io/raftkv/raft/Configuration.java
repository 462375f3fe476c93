package io.raftkv.raft;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.IntPredicate;
import java.util.function.IntToLongFunction;

/**
 * A Raft group's membership: who votes, who only listens, and, during a joint change (dissertation
 * §4.3, etcd's ConfChangeV2), the outgoing voters whose majority is needed as well. Immutable; pure.
 *
 * <ul>
 *   <li>{@code voters}: the incoming (or only) voters. A decision needs a majority of them.
 *   <li>{@code outgoing}: while joint, the voters of the configuration being left; a decision needs a
 *       majority of them too. Empty when not joint.
 *   <li>{@code learners}: receive the log and snapshots, never count for a quorum, never campaign.
 *   <li>{@code learnersNext}: voters of {@code outgoing} being demoted: they stay voters (of the outgoing
 *       half) until the joint configuration is left, and become learners then, keeping their progress.
 *   <li>{@code autoLeave}: a joint configuration the leader leaves by itself once it is applied.
 *   <li>{@code addresses}: where nodes that joined a running group live, by id, as the service wrote
 *       them ({@link SetAddress}); opaque to Raft. Kept after a node leaves, so that an id is never
 *       given out twice. Empty for a group whose address book is fixed at start.
 * </ul>
 *
 * Invariants (checked): no id below 0; a learner is in neither voter set; a {@code learnersNext} id is
 * an outgoing voter and not an incoming one; {@code learnersNext} and {@code autoLeave} only while
 * joint.
 */
public record Configuration(
    Set<Integer> voters,
    Set<Integer> outgoing,
    Set<Integer> learners,
    Set<Integer> learnersNext,
    boolean autoLeave,
    SortedMap<Integer, String> addresses) {

  /** The longest address {@link SetAddress} takes, in chars. */
  public static final int MAX_ADDRESS_LENGTH = 512;

  public Configuration {
    voters = sorted(voters);
    addresses = Collections.unmodifiableSortedMap(new TreeMap<>(addresses));
    for (Map.Entry<Integer, String> a : addresses.entrySet()) {
      if (a.getKey() < 0) throw new IllegalArgumentException("negative member id " + a.getKey());
      checkAddress(a.getValue());
    }
    outgoing = sorted(outgoing);
    learners = sorted(learners);
    learnersNext = sorted(learnersNext);
    for (Set<Integer> s : List.of(voters, outgoing, learners, learnersNext)) {
      for (int id : s) if (id < 0) throw new IllegalArgumentException("negative member id " + id);
    }
    for (int l : learners) {
      if (voters.contains(l) || outgoing.contains(l)) throw new IllegalArgumentException("n" + l + " is a voter and a learner");
    }
    for (int l : learnersNext) {
      if (!outgoing.contains(l) || voters.contains(l))
        throw new IllegalArgumentException("n" + l + " is to become a learner but is not an outgoing-only voter");
    }
    if (outgoing.isEmpty() && (!learnersNext.isEmpty() || autoLeave))
      throw new IllegalArgumentException("learnersNext and autoLeave need a joint configuration");
  }

  /** Without addresses. */
  public Configuration(
      Set<Integer> voters, Set<Integer> outgoing, Set<Integer> learners, Set<Integer> learnersNext, boolean autoLeave) {
    this(voters, outgoing, learners, learnersNext, autoLeave, Collections.emptySortedMap());
  }

  private static void checkAddress(String address) {
    if (address.isEmpty() || address.length() > MAX_ADDRESS_LENGTH || !address.chars().allMatch(c -> c > ' ' && c < 0x7f))
      throw new IllegalArgumentException("bad address '" + address + "': 1 to " + MAX_ADDRESS_LENGTH + " printable ASCII chars");
  }

  /** The voters {@code 0 .. n-1}: the fixed group a node starts with. */
  public static Configuration ofVoters(int n) {
    Set<Integer> v = new TreeSet<>();
    for (int i = 0; i < n; i++) v.add(i);
    return new Configuration(v, Set.of(), Set.of(), Set.of(), false);
  }

  public static Configuration of(Set<Integer> voters, Set<Integer> learners) {
    return new Configuration(voters, Set.of(), learners, Set.of(), false);
  }

  public boolean isJoint() {
    return !outgoing.isEmpty();
  }

  /** Whether {@code id} counts in some quorum (an incoming or outgoing voter). */
  public boolean isVoter(int id) {
    return voters.contains(id) || outgoing.contains(id);
  }

  /** Whether {@code id} only listens (a {@code learnersNext} id still votes in the outgoing half). */
  public boolean isLearner(int id) {
    return learners.contains(id);
  }

  /** Everyone the leader replicates to: both voter halves and the learners, ascending. */
  public Set<Integer> members() {
    Set<Integer> all = new TreeSet<>(voters);
    all.addAll(outgoing);
    all.addAll(learners);
    all.addAll(learnersNext);
    return Collections.unmodifiableSet(all);
  }

  /**
   * The highest index a quorum has: for each half, the largest index that a majority of its voters
   * have reached (by {@code matchOf}); while joint, the lower of the two. An empty half does not
   * constrain ({@link Long#MAX_VALUE}), so a configuration without voters commits nothing only when
   * both halves are empty, which the validator never lets happen.
   */
  public long committed(IntToLongFunction matchOf) {
    return Math.min(majorityIndex(voters, matchOf), majorityIndex(outgoing, matchOf));
  }

  private static long majorityIndex(Set<Integer> half, IntToLongFunction matchOf) {
    if (half.isEmpty()) return Long.MAX_VALUE;
    long[] m = new long[half.size()];
    int i = 0;
    for (int id : half) m[i++] = matchOf.applyAsLong(id);
    Arrays.sort(m);
    // the majority-th highest: with 3 voters the 2nd highest, with 4 the 3rd
    return m[m.length - (m.length / 2 + 1)];
  }

  /** How a vote (or any yes/no poll of the voters) stands. */
  public enum Poll {
    WON,
    LOST,
    PENDING
  }

  /**
   * The outcome of a poll in which {@code granted} voters said yes and {@code refused} said no (an id
   * in neither has not answered): while joint, won only when won in both halves, lost when lost in
   * either.
   */
  public Poll poll(IntPredicate granted, IntPredicate refused) {
    Poll in = poll(voters, granted, refused);
    Poll out = poll(outgoing, granted, refused);
    if (in == Poll.LOST || out == Poll.LOST) return Poll.LOST;
    return in == Poll.WON && out == Poll.WON ? Poll.WON : Poll.PENDING;
  }

  private static Poll poll(Set<Integer> half, IntPredicate granted, IntPredicate refused) {
    if (half.isEmpty()) return Poll.WON;
    int yes = 0;
    int no = 0;
    for (int id : half) {
      if (granted.test(id)) yes++;
      else if (refused.test(id)) no++;
    }
    int majority = half.size() / 2 + 1;
    if (yes >= majority) return Poll.WON;
    return half.size() - no < majority ? Poll.LOST : Poll.PENDING;
  }

  // ---------------------------------------------------------------- changes

  /** One member's change. */
  public sealed interface Change {
    int id();
  }

  /** Make {@code id} a voter (adding it, or promoting a learner). */
  public record AddVoter(int id) implements Change {}

  /** Make {@code id} a learner (adding it, or demoting a voter). */
  public record AddLearner(int id) implements Change {}

  /** Take {@code id} out of the group. */
  public record Remove(int id) implements Change {}

  /**
   * Record where node {@code id} lives ({@link #addresses}); changes no role, so it may go with any
   * change, or alone to move a node.
   */
  public record SetAddress(int id, String address) implements Change {
    public SetAddress {
      checkAddress(address);
    }
  }

  /** A change the validator refuses; nothing changed. */
  public static final class InvalidChangeException extends RuntimeException {
    private final boolean retryLater;

    public InvalidChangeException(String message) {
      this(message, false);
    }

    /** @param retryLater the same change may be accepted soon: the refusal is about timing, not the change */
    public InvalidChangeException(String message, boolean retryLater) {
      super(message);
      this.retryLater = retryLater;
    }

    public boolean retryLater() {
      return retryLater;
    }
  }

  /** How a batch of changes is carried out (etcd's ConfChangeTransition). */
  public enum Transition {
    /** A simple change only: refused if more than one voter changes. */
    SIMPLE,
    /** A simple change when at most one voter changes, else joint with auto-leave. */
    AUTO,
    /** Always joint, left automatically once applied. */
    IMPLICIT,
    /** Always joint; stays joint until an empty change (a leave) is proposed. */
    EXPLICIT
  }

  /**
   * This configuration after {@code changes} under {@code transition}; an empty list leaves a joint
   * configuration (and is refused outside one). Throws {@link InvalidChangeException} for what the
   * rules forbid (dissertation §4.1-4.3; etcd confchange): more than one voter changed in a simple
   * change, no voter left, any change but leaving while joint, entering joint twice, a joint
   * configuration of no voters. Repeated adds and removing a non-member are no-ops.
   */
  public Configuration apply(List<? extends Change> changes, Transition transition) {
    if (changes.isEmpty()) return leaveJoint();
    if (isJoint()) throw new InvalidChangeException("must transition out of joint config first");
    return switch (transition) {
      case SIMPLE -> simple(changes);
      case AUTO -> changedVoters(applyTo(changes, false, false)) <= 1 ? simple(changes) : enterJoint(changes, true);
      case IMPLICIT -> enterJoint(changes, true);
      case EXPLICIT -> enterJoint(changes, false);
    };
  }

  private Configuration simple(List<? extends Change> changes) {
    Configuration after = applyTo(changes, false, false);
    if (after.voters.isEmpty()) throw new InvalidChangeException("removed all voters");
    if (changedVoters(after) > 1) throw new InvalidChangeException("more than one voter changed without entering joint config");
    return after;
  }

  /** How many ids are a voter in exactly one of this and {@code other}. */
  private int changedVoters(Configuration other) {
    Set<Integer> diff = new TreeSet<>(voters);
    diff.addAll(other.voters);
    Set<Integer> both = new TreeSet<>(voters);
    both.retainAll(other.voters);
    diff.removeAll(both);
    return diff.size();
  }

  private Configuration enterJoint(List<? extends Change> changes, boolean autoLeave) {
    if (voters.isEmpty()) throw new InvalidChangeException("can't make a zero-voter config joint");
    Configuration joint = applyTo(changes, true, autoLeave);
    if (joint.voters.isEmpty()) throw new InvalidChangeException("removed all voters");
    return joint;
  }

  private Configuration leaveJoint() {
    if (!isJoint()) throw new InvalidChangeException("can't leave a non-joint config");
    Set<Integer> l = new TreeSet<>(learners);
    l.addAll(learnersNext);
    return new Configuration(voters, Set.of(), l, Set.of(), false, addresses);
  }

  /** The changes applied to the incoming half; {@code joint}: the current voters become the outgoing half. */
  private Configuration applyTo(List<? extends Change> changes, boolean joint, boolean autoLeave) {
    Set<Integer> out = joint ? new TreeSet<>(voters) : new TreeSet<>(outgoing);
    Set<Integer> in = new TreeSet<>(voters);
    Set<Integer> l = new TreeSet<>(learners);
    Set<Integer> next = new TreeSet<>(learnersNext);
    SortedMap<Integer, String> book = new TreeMap<>(addresses);
    for (Change c : changes) {
      int id = c.id();
      if (id < 0) throw new InvalidChangeException("negative member id " + id);
      if (c instanceof SetAddress a) {
        book.put(id, a.address());
      } else if (c instanceof AddVoter) {
        l.remove(id);
        next.remove(id);
        in.add(id);
      } else if (c instanceof AddLearner) {
        in.remove(id);
        if (out.contains(id)) { // still a voter of the outgoing half: a learner once that is left
          l.remove(id);
          next.add(id);
        } else {
          next.remove(id);
          l.add(id);
        }
      } else {
        in.remove(id);
        l.remove(id);
        next.remove(id);
      }
    }
    return new Configuration(in, out, l, next, joint && autoLeave, book);
  }

  private static Set<Integer> sorted(Set<Integer> s) {
    return Collections.unmodifiableSet(new TreeSet<>(s));
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder("voters=").append(voters);
    if (isJoint()) b.append("&&").append(outgoing);
    if (!learners.isEmpty()) b.append(" learners=").append(learners);
    if (!learnersNext.isEmpty()) b.append(" learners_next=").append(learnersNext);
    if (autoLeave) b.append(" autoleave");
    if (!addresses.isEmpty()) b.append(" addresses=").append(addresses);
    return b.toString();
  }
}
