package io.raftkv.testing.lin;

import java.util.List;
import java.util.Objects;

/**
 * A sequential specification the checker tests histories against.
 *
 * <p>Contract: every method is a pure function of its arguments (the checker calls them from
 * several threads at once and in any order), and states are immutable values. {@link #equal} and
 * {@link #hash} must agree, since the checker memoises (linearised-set, state) pairs with them.
 *
 * @param <S> the state of one partition
 * @param <I> an operation's input
 * @param <O> an operation's output
 */
public interface Model<S, I, O> {
  /** The state of every partition before any operation. */
  S init();

  /**
   * The states the operation can leave behind if it takes effect on {@code state} with this
   * output, or an empty list if that output is impossible there (the step is illegal).
   *
   * <p>A deterministic model returns at most one state. An outcome that is unknown to the client
   * (a timeout, a "maybe") is modelled by returning both possibilities, e.g. {@code
   * List.of(applied, state)}. {@code output} is {@code null} for an operation that never returned.
   */
  List<S> step(S state, I input, O output);

  /**
   * Splits a history into independent sub-histories, checked separately; the whole history is
   * linearizable iff every part is. The order of the parts must be deterministic. The default
   * keeps the history whole.
   */
  default List<List<Operation<I, O>>> partition(List<Operation<I, O>> history) {
    return List.of(history);
  }

  default boolean equal(S a, S b) {
    return Objects.equals(a, b);
  }

  default int hash(S state) {
    return Objects.hashCode(state);
  }

  /** One line for failure messages. */
  default String describeOperation(I input, O output) {
    return input + " -> " + (output == null ? "(never returned)" : output);
  }

  /** One line for failure messages. */
  default String describeState(S state) {
    return String.valueOf(state);
  }
}
