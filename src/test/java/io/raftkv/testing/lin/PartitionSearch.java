package io.raftkv.testing.lin;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Wing–Gong backtracking search with Lowe's memoisation (as in porcupine) over one partition.
 *
 * <p>The history becomes a doubly linked list of call and return events in time order. The search
 * walks it from the head: at a call it tries to linearize that operation now (step the model,
 * lift the call and its return out of the list, restart from the head); at a return it has met an
 * operation that must already have been linearized, so it undoes the most recent choice and tries
 * the next one. A set of (linearized operations, state) pairs already explored prunes repeats.
 *
 * <p>An operation that never returned has its return at +infinity, behind every real event. When
 * the walk reaches such a return, every operation that did return has been linearized; the
 * pending ones still in the list are simply left out, which the contract allows.
 *
 * <p>Not thread-safe; one instance per partition and run.
 */
final class PartitionSearch<S, I, O> {
  /** How many linearized operations an ILLEGAL report keeps. */
  static final int EXCERPT = 8;

  private static final int DEADLINE_CHECK_MASK = 1023;

  private static final class Node {
    final int id;
    final boolean isCall;
    final boolean pending; // a return that never happened, at +infinity
    Node match; // a call's return and vice versa
    Node prev;
    Node next;

    Node(int id, boolean isCall, boolean pending) {
      this.id = id;
      this.isCall = isCall;
      this.pending = pending;
    }
  }

  /** One choice on the current path: which operation went next, and which of its outcomes. */
  private record Frame<S>(Node call, S before, List<S> outcomes, int outcome) {}

  private final Model<S, I, O> model;
  private final List<Operation<I, O>> ops;
  private final Node head = new Node(-1, false, false);
  private final Node tail = new Node(-1, false, false);
  private final LinearizedSet linearized;
  private final HashMap<Long, Object> cache = new HashMap<>();
  private final ArrayList<Frame<S>> path = new ArrayList<>();
  private S state;
  private int visitedCount;

  // The deepest point an illegal search reached, for the report.
  private int deepest = -1;
  private List<Operation<I, O>> deepestTail = List.of();
  private List<Operation<I, O>> deepestStuck = List.of();
  private String deepestState = "";

  PartitionSearch(Model<S, I, O> model, List<Operation<I, O>> ops) {
    this.model = model;
    this.ops = List.copyOf(ops);
    this.linearized = new LinearizedSet(this.ops.size());
    buildEventList();
  }

  private void buildEventList() {
    int n = ops.size();
    // Sort keys: time, then calls before returns (touching intervals overlap), then op id.
    long[][] events = new long[2 * n][];
    for (int i = 0; i < n; i++) {
      Operation<I, O> op = ops.get(i);
      events[2 * i] = new long[] {op.call(), 0, i};
      events[2 * i + 1] = new long[] {op.ret(), 1, i};
    }
    Arrays.sort(
        events,
        (a, b) -> {
          int c = Long.compare(a[0], b[0]);
          if (c != 0) return c;
          c = Long.compare(a[1], b[1]);
          return c != 0 ? c : Long.compare(a[2], b[2]);
        });
    Node[] calls = new Node[n];
    Node last = head;
    for (long[] e : events) {
      int id = (int) e[2];
      boolean isCall = e[1] == 0;
      Node node = new Node(id, isCall, !isCall && !ops.get(id).returned());
      if (isCall) {
        calls[id] = node;
      } else {
        node.match = calls[id];
        calls[id].match = node;
      }
      last.next = node;
      node.prev = last;
      last = node;
    }
    last.next = tail;
    tail.prev = last;
  }

  /** Runs the search until it decides or {@code System.nanoTime()} passes {@code deadline}. */
  CheckResult run(long deadline) {
    state = model.init();
    Node entry = head.next;
    long iterations = 0;
    while (head.next != tail) {
      if ((++iterations & DEADLINE_CHECK_MASK) == 0 && System.nanoTime() - deadline > 0) {
        return CheckResult.UNKNOWN;
      }
      if (entry.isCall) {
        Operation<I, O> op = ops.get(entry.id);
        List<S> outcomes = model.step(state, op.input(), op.output());
        entry = tryOutcomes(entry, outcomes, 0) ? head.next : entry.next;
        continue;
      }
      if (entry.pending) {
        return CheckResult.OK; // only never-returned operations are left; drop them
      }
      // An operation returned here without having been linearized: backtrack.
      noteStuck(entry);
      if (path.isEmpty()) {
        return CheckResult.ILLEGAL;
      }
      Frame<S> undo = path.remove(path.size() - 1);
      unlift(undo.call());
      linearized.clear(undo.call().id);
      state = undo.before();
      boolean advanced = tryOutcomes(undo.call(), undo.outcomes(), undo.outcome() + 1);
      entry = advanced ? head.next : undo.call().next;
    }
    return CheckResult.OK;
  }

  /**
   * Linearizes {@code call} next with the first of its outcomes from {@code from} on that leads
   * somewhere not yet explored. Returns whether it did.
   */
  private boolean tryOutcomes(Node call, List<S> outcomes, int from) {
    for (int i = from; i < outcomes.size(); i++) {
      S next = outcomes.get(i);
      linearized.set(call.id);
      if (remember(next)) {
        path.add(new Frame<>(call, state, outcomes, i));
        state = next;
        lift(call);
        return true;
      }
      linearized.clear(call.id);
    }
    return false;
  }

  /** Adds (linearized, s) to the cache; false if it was there already. */
  private boolean remember(S s) {
    visitedCount++;
    long key = linearized.hash() * 31 + model.hash(s);
    Object bucket = cache.get(key);
    if (bucket == null) {
      cache.put(key, new Visited<>(linearized.snapshot(), s));
      return true;
    }
    if (bucket instanceof Visited<?> v) {
      if (matches(v, s)) return false;
      ArrayList<Visited<?>> list = new ArrayList<>(2);
      list.add(v);
      list.add(new Visited<>(linearized.snapshot(), s));
      cache.put(key, list);
      return true;
    }
    @SuppressWarnings("unchecked")
    ArrayList<Visited<?>> list = (ArrayList<Visited<?>>) bucket;
    for (Visited<?> v : list) {
      if (matches(v, s)) return false;
    }
    list.add(new Visited<>(linearized.snapshot(), s));
    return true;
  }

  @SuppressWarnings("unchecked")
  private boolean matches(Visited<?> v, S s) {
    return linearized.sameAs(v.set()) && model.equal((S) v.state(), s);
  }

  private record Visited<S>(LinearizedSet.Snapshot set, S state) {}

  private static void lift(Node call) {
    call.prev.next = call.next;
    call.next.prev = call.prev;
    Node ret = call.match;
    ret.prev.next = ret.next;
    ret.next.prev = ret.prev;
  }

  /** Exactly undoes {@link #lift}, which is valid because undo happens in LIFO order. */
  private static void unlift(Node call) {
    Node ret = call.match;
    ret.prev.next = ret;
    ret.next.prev = ret;
    call.prev.next = call;
    call.next.prev = call;
  }

  private void noteStuck(Node ret) {
    if (path.size() <= deepest) return;
    deepest = path.size();
    List<Operation<I, O>> tail = new ArrayList<>(EXCERPT);
    for (int i = Math.max(0, path.size() - EXCERPT); i < path.size(); i++) {
      tail.add(ops.get(path.get(i).call().id));
    }
    List<Operation<I, O>> stuck = new ArrayList<>();
    for (Node e = head.next; e != ret.next && stuck.size() < EXCERPT; e = e.next) {
      if (e.isCall) stuck.add(ops.get(e.id));
    }
    deepestTail = tail;
    deepestStuck = stuck;
    deepestState = model.describeState(state);
  }

  /** How many (linearized set, state) pairs the search has visited. */
  int visited() {
    return visitedCount;
  }

  int deepest() {
    return Math.max(deepest, 0);
  }

  List<Operation<I, O>> deepestTail() {
    return deepestTail;
  }

  List<Operation<I, O>> deepestStuck() {
    return deepestStuck;
  }

  String deepestState() {
    return deepestState;
  }

  /**
   * The set of linearized operation ids, with an incremental Zobrist hash so probing the cache
   * costs O(1) and snapshots that store only the part after the leading all-ones words (the search
   * mostly linearizes in call order, so that part is short).
   */
  static final class LinearizedSet {
    private final long[] words;
    private final long[] zobrist;
    private long hash;
    private int fullWords; // words[0 .. fullWords) are all ones, words[fullWords] is not
    private int end; // words[end ..) are all zero, words[end - 1] is not (or end == fullWords)

    record Snapshot(int fullWords, long[] rest) {}

    LinearizedSet(int n) {
      words = new long[(n + 63) >>> 6];
      zobrist = new long[n];
      SplittableRandom random = new SplittableRandom(0x5eed_0f_11_4eL);
      for (int i = 0; i < n; i++) zobrist[i] = random.nextLong();
    }

    void set(int id) {
      int w = id >>> 6;
      words[w] |= 1L << id;
      hash ^= zobrist[id];
      while (fullWords < words.length && words[fullWords] == -1L) fullWords++;
      end = Math.max(end, Math.max(w + 1, fullWords));
    }

    void clear(int id) {
      int w = id >>> 6;
      words[w] &= ~(1L << id);
      hash ^= zobrist[id];
      if (w < fullWords) fullWords = w;
      while (end > fullWords && words[end - 1] == 0) end--;
    }

    long hash() {
      return hash;
    }

    Snapshot snapshot() {
      return new Snapshot(fullWords, Arrays.copyOfRange(words, fullWords, end));
    }

    boolean sameAs(Snapshot s) {
      return s.fullWords() == fullWords
          && Arrays.equals(words, fullWords, end, s.rest(), 0, s.rest().length);
    }
  }
}
