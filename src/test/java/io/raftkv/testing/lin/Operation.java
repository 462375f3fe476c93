package io.raftkv.testing.lin;

/**
 * One client operation of a history: what was asked, what came back, and when.
 *
 * <p>{@code call} and {@code ret} are timestamps from one monotonic clock (nanoseconds in
 * practice; the checker only compares them). An operation that never returned has {@code ret ==
 * }{@link #NEVER} and, by convention, a {@code null} output; the checker may linearize it at any
 * point after its call, or leave it out entirely.
 */
public record Operation<I, O>(int clientId, I input, long call, O output, long ret) {
  /** The return time of an operation that never returned. */
  public static final long NEVER = Long.MAX_VALUE;

  public Operation {
    if (ret < call) {
      throw new IllegalArgumentException("returned at " + ret + " before its call at " + call);
    }
  }

  /** An operation that was called and never returned. */
  public static <I, O> Operation<I, O> pending(int clientId, I input, long call) {
    return new Operation<>(clientId, input, call, null, NEVER);
  }

  public boolean returned() {
    return ret != NEVER;
  }
}
