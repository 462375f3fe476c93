package io.raftkv.testing.lin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.raftkv.testing.lin.PartitionSearch.LinearizedSet;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The search's compressed bitset agrees with java.util.BitSet on equality and hashing. */
class LinearizedSetTest {
  @Test
  void snapshotsAreEqualExactlyWhenTheSetsAre() {
    for (int n : new int[] {1, 63, 64, 65, 200, 1000}) {
      SplittableRandom random = new SplittableRandom(n);
      LinearizedSet set = new LinearizedSet(n);
      BitSet reference = new BitSet(n);
      List<LinearizedSet.Snapshot> snapshots = new ArrayList<>();
      List<BitSet> sets = new ArrayList<>();
      List<Long> hashes = new ArrayList<>();
      // Mostly fill from the front, as the search does, with random holes and undo.
      int frontier = 0;
      for (int step = 0; step < 3000; step++) {
        int id;
        if (random.nextInt(3) > 0 && frontier < n) {
          id = frontier++;
        } else {
          id = random.nextInt(n);
        }
        if (reference.get(id)) {
          set.clear(id);
          reference.clear(id);
        } else {
          set.set(id);
          reference.set(id);
        }
        if (random.nextInt(20) == 0) frontier = random.nextInt(n);
        for (int i = 0; i < snapshots.size(); i++) {
          boolean same = sets.get(i).equals(reference);
          assertEquals(same, set.sameAs(snapshots.get(i)), "n=" + n + " step " + step);
          if (same) assertEquals((long) hashes.get(i), set.hash());
        }
        if (step % 10 == 0 && snapshots.size() < 100) {
          snapshots.add(set.snapshot());
          sets.add((BitSet) reference.clone());
          hashes.add(set.hash());
        }
      }
    }
  }
}
