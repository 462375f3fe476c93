package io.raftkv.testing.lin;

import java.time.Duration;
import java.util.List;

/**
 * The verdict of a check with what it found in each partition.
 *
 * @param result ILLEGAL if any partition is illegal; otherwise UNKNOWN if any ran out of time;
 *     otherwise OK
 * @param partitions one report per partition, in the model's partition order
 * @param elapsed wall time the check took
 */
public record CheckReport<I, O>(
    CheckResult result, List<PartitionReport<I, O>> partitions, Duration elapsed) {

  /** The illegal partitions, in partition order. */
  public List<PartitionReport<I, O>> illegal() {
    return partitions.stream().filter(p -> p.result() == CheckResult.ILLEGAL).toList();
  }

  /**
   * What the search found in one partition. The last four fields describe the deepest point an
   * ILLEGAL search reached before it had to give up; they are empty otherwise.
   *
   * @param index position in the model's partition order
   * @param history the partition's operations, in the order given to the checker
   * @param result this partition's verdict
   * @param deepest the most operations the search managed to linearize in a row
   * @param lastLinearized up to the last {@value PartitionSearch#EXCERPT} operations of that
   *     deepest linearization, oldest first
   * @param stuck the operations still waiting to be linearized when the search got stuck there (the
   *     first of them by call time up to the return that forced a backtrack); none of them could go
   *     next
   * @param stuckState the model state at that point, as {@link Model#describeState} gives it
   */
  public record PartitionReport<I, O>(
      int index,
      List<Operation<I, O>> history,
      CheckResult result,
      int deepest,
      List<Operation<I, O>> lastLinearized,
      List<Operation<I, O>> stuck,
      String stuckState) {}
}
