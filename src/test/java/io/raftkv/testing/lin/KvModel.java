package io.raftkv.testing.lin;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The key/value service's sequential specification, partitioned by key.
 *
 * <p>Per-key state is (value, version), initially ("", 0); version 0 means the key is absent
 * (a key that exists has been written at least once). Outcomes the client could not observe are
 * modelled nondeterministically: an operation answered {@code Timeout} or never answered may or
 * may not have taken effect, at any time after its call; for a GET it constrains nothing.
 *
 * <ul>
 *   <li>{@link #lab()} is the lab's model (spec §10.2) exactly for GET and PUT: a GET is legal iff
 *       its value equals the state's (version and error unchecked); a PUT whose version matches
 *       must answer OK or ErrMaybe and writes (value, version+1); one whose version does not match
 *       must answer ErrVersion or ErrMaybe and changes nothing. So ErrMaybe resolves by the version
 *       alone, and a PUT answered ErrNoKey is never legal. APPEND (value += arg, version+1; an
 *       absent key starts from "") and unconditional PUT must answer OK, or ErrMaybe/Timeout for
 *       "maybe". DELETE makes the key absent; on an absent key it must answer ErrNoKey; a
 *       conditional DELETE checks its version like a PUT, an unconditional one answers OK.
 *   <li>{@link #strict()} also holds GETs to the server's word: OK only with the present key's
 *       value and version, ErrNoKey only when the key is absent; a conditional PUT answers ErrNoKey
 *       (not ErrVersion) when the key is absent and its version is not 0 (spec §8.2).
 * </ul>
 */
public final class KvModel implements Model<KvModel.State, KvInput, KvOutput> {
  private static final int SHOWN_CHARS = 40;

  /** One key's value and version; version 0 means absent. */
  public record State(String value, long version) {
    public static final State ABSENT = new State("", 0);

    public boolean present() {
      return version > 0;
    }
  }

  private static final KvModel LAB = new KvModel(false);
  private static final KvModel STRICT = new KvModel(true);

  private final boolean strict;

  private KvModel(boolean strict) {
    this.strict = strict;
  }

  /** The lab's model, extended with APPEND and DELETE. */
  public static KvModel lab() {
    return LAB;
  }

  /** The lab's model that also checks GET versions and ErrNoKey answers. */
  public static KvModel strict() {
    return STRICT;
  }

  @Override
  public State init() {
    return State.ABSENT;
  }

  @Override
  public List<State> step(State s, KvInput in, KvOutput out) {
    return switch (in.kind()) {
      case GET -> get(s, out);
      case PUT -> in.conditional()
          ? conditionalWrite(s, in, out, new State(in.value(), s.version() + 1), strict)
          : write(s, new State(in.value(), s.version() + 1), out);
      case APPEND -> write(s, new State(s.value() + in.value(), s.version() + 1), out);
      case DELETE -> delete(s, in, out);
    };
  }

  private List<State> get(State s, KvOutput out) {
    if (out == null || out.uncertain()) return List.of(s);
    if (!strict) return out.value().equals(s.value()) ? List.of(s) : List.of();
    boolean legal =
        switch (out.err()) {
          case KvOutput.OK -> s.present()
              && out.value().equals(s.value())
              && out.version() == s.version();
          case KvOutput.ERR_NO_KEY -> !s.present();
          default -> false;
        };
    return legal ? List.of(s) : List.of();
  }

  /** An unconditional write: it happened iff the client says OK; "maybe" means either. */
  private static List<State> write(State s, State applied, KvOutput out) {
    if (out == null || out.uncertain()) return List.of(applied, s);
    return out.err().equals(KvOutput.OK) ? List.of(applied) : List.of();
  }

  /**
   * A write conditional on the version. ErrMaybe is the clerk's "a resend met ErrVersion", so as
   * in the lab it resolves by the version: applied if it matches, nothing otherwise.
   *
   * @param noKeyIfAbsent whether an absent key with a nonzero version answers ErrNoKey (the
   *     server's rule) rather than ErrVersion (which the lab's model accepts instead)
   */
  private static List<State> conditionalWrite(
      State s, KvInput in, KvOutput out, State applied, boolean noKeyIfAbsent) {
    boolean matches = in.version() == s.version();
    if (out == null || out.err().equals(KvOutput.TIMEOUT)) {
      return matches ? List.of(applied, s) : List.of(s);
    }
    boolean absentWithVersion = !s.present() && in.version() != 0;
    boolean legal =
        switch (out.err()) {
          case KvOutput.OK, KvOutput.ERR_MAYBE -> matches || out.err().equals(KvOutput.ERR_MAYBE);
          case KvOutput.ERR_VERSION -> !matches && !(noKeyIfAbsent && absentWithVersion);
          case KvOutput.ERR_NO_KEY -> noKeyIfAbsent && absentWithVersion;
          default -> false;
        };
    if (!legal) return List.of();
    return matches ? List.of(applied) : List.of(s);
  }

  private static List<State> delete(State s, KvInput in, KvOutput out) {
    if (!s.present()) {
      boolean legal = out == null || out.uncertain() || out.err().equals(KvOutput.ERR_NO_KEY);
      return legal ? List.of(s) : List.of();
    }
    return in.conditional()
        ? conditionalWrite(s, in, out, State.ABSENT, false)
        : write(s, State.ABSENT, out);
  }

  /**
   * One sub-history per key, in key order; each keeps the history's order. An operation answered
   * {@code Timeout} is given an open end ({@link Operation#NEVER}): the client stopped waiting,
   * but the request may still be in flight and take effect later (Jepsen treats indeterminate
   * operations the same way). A GET without a definite answer is left out altogether: it
   * constrains nothing, and an open one would only double the search space.
   */
  @Override
  public List<List<Operation<KvInput, KvOutput>>> partition(
      List<Operation<KvInput, KvOutput>> history) {
    Map<String, List<Operation<KvInput, KvOutput>>> byKey = new TreeMap<>();
    for (Operation<KvInput, KvOutput> op : history) {
      boolean uncertain = op.output() == null || op.output().uncertain();
      if (op.input().kind() == KvInput.Kind.GET && uncertain) continue;
      if (op.output() != null && op.output().err().equals(KvOutput.TIMEOUT) && op.returned()) {
        op = new Operation<>(op.clientId(), op.input(), op.call(), op.output(), Operation.NEVER);
      }
      byKey.computeIfAbsent(op.input().key(), k -> new ArrayList<>()).add(op);
    }
    return List.copyOf(byKey.values());
  }

  @Override
  public String describeOperation(KvInput in, KvOutput out) {
    String call =
        switch (in.kind()) {
          case GET -> "get(" + quote(in.key()) + ")";
          case PUT -> "put(" + quote(in.key()) + ", " + quote(in.value()) + version(in) + ")";
          case APPEND -> "append(" + quote(in.key()) + ", " + quote(in.value()) + ")";
          case DELETE -> "delete(" + quote(in.key()) + version(in) + ")";
        };
    if (out == null) return call + " -> (never returned)";
    if (in.kind() == KvInput.Kind.GET) {
      return call + " -> " + out.err() + " " + quote(out.value()) + " v" + out.version();
    }
    return call + " -> " + out.err();
  }

  @Override
  public String describeState(State s) {
    return s.present() ? "(" + quote(s.value()) + ", v" + s.version() + ")" : "(absent)";
  }

  private static String version(KvInput in) {
    return in.conditional() ? ", v" + in.version() : "";
  }

  /** A short, printable, quoted rendering of a possibly long value. */
  static String quote(String s) {
    String shown = s.length() > SHOWN_CHARS ? s.substring(0, SHOWN_CHARS) : s;
    StringBuilder b = new StringBuilder(shown.length() + 2).append('"');
    for (char c : shown.toCharArray()) {
      if (c == '"' || c == '\\') b.append('\\').append(c);
      else if (c < 0x20 || c == 0x7f) b.append(String.format("\\u%04x", (int) c));
      else b.append(c);
    }
    b.append('"');
    if (shown.length() < s.length()) b.append("…(").append(s.length()).append(" chars)");
    return b.toString();
  }
}
