package io.raftkv.testing.lin;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * Collects the operations test clients perform, for a later linearizability check.
 *
 * <p>Thread-safe: any number of clients may call {@link #begin} and {@link #end} concurrently. A
 * client calls {@code begin} just before sending a request and {@code end} just after the reply
 * arrives; the clock is read inside those calls, so each recorded interval contains the real one
 * (a wider interval can only make the check more permissive, never fail a correct run). An
 * operation that is never ended appears in {@link #history()} as never returned.
 */
public final class HistoryRecorder {
  private final LongSupplier clock;
  private final List<Slot> slots = new ArrayList<>(); // guarded by this

  private static final class Slot {
    final int client;
    final KvInput input;
    final long call;
    KvOutput output; // null until ended
    long ret = Operation.NEVER;

    Slot(int client, KvInput input, long call) {
      this.client = client;
      this.input = input;
      this.call = call;
    }
  }

  /** Records with {@link System#nanoTime()}. */
  public HistoryRecorder() {
    this(System::nanoTime);
  }

  /** Records with the given monotonic clock (tests use a fake one). */
  public HistoryRecorder(LongSupplier clock) {
    this.clock = Objects.requireNonNull(clock);
  }

  /**
   * Notes that {@code client} is about to send {@code in}. Returns the handle to pass to {@link
   * #end}.
   */
  public synchronized long begin(int client, KvInput in) {
    slots.add(new Slot(client, Objects.requireNonNull(in), clock.getAsLong()));
    return slots.size() - 1;
  }

  /**
   * Notes that the operation {@code handle} returned {@code out}.
   *
   * @throws IllegalStateException if the handle is unknown or was already ended
   */
  public synchronized void end(long handle, KvOutput out) {
    long now = clock.getAsLong();
    Objects.requireNonNull(out);
    if (handle < 0 || handle >= slots.size()) {
      throw new IllegalStateException("unknown operation handle " + handle);
    }
    Slot slot = slots.get((int) handle);
    if (slot.output != null) {
      throw new IllegalStateException("operation " + handle + " already ended");
    }
    slot.output = out;
    slot.ret = Math.max(now, slot.call);
  }

  /** A snapshot of every operation so far, in the order they began. */
  public synchronized List<Operation<KvInput, KvOutput>> history() {
    List<Operation<KvInput, KvOutput>> ops = new ArrayList<>(slots.size());
    for (Slot s : slots) ops.add(new Operation<>(s.client, s.input, s.call, s.output, s.ret));
    return ops;
  }

  public synchronized int size() {
    return slots.size();
  }
}
