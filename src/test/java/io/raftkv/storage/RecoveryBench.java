package io.raftkv.storage;

import io.raftkv.raft.HardState;
import io.raftkv.raft.LogEntry;
import io.raftkv.raft.PersistentState;
import io.raftkv.raft.RaftCore;
import io.raftkv.raft.RaftConfig;
import io.raftkv.raft.Ready;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * How long a node takes to come back with N entries on disk (not a test): writes N entries of B
 * bytes in batches of 100, closes, then times {@code FileStorage.open} (recovery scan), {@code
 * load} and building a {@link RaftCore} from what was loaded; repeats the restart R times.
 *
 * <p>Usage: {@code java -cp <test classpath> io.raftkv.storage.RecoveryBench [dir] [entries]
 * [entry bytes] [restarts]}.
 */
public final class RecoveryBench {
  public static void main(String[] args) throws Exception {
    Path dir = args.length > 0 ? Path.of(args[0]) : Files.createTempDirectory("raftkv-recovery");
    int n = args.length > 1 ? Integer.parseInt(args[1]) : 100_000;
    int bytes = args.length > 2 ? Integer.parseInt(args[2]) : 100;
    int restarts = args.length > 3 ? Integer.parseInt(args[3]) : 5;
    FileStorageBench.deleteDir(dir);
    long t0 = System.nanoTime();
    try (FileStorage fs = FileStorage.open(dir)) {
      fs.persist(new Ready(new HardState(1, 0), List.of(), null, List.of(), List.of()));
      byte[] cmd = new byte[bytes];
      new SplittableRandom(1).nextBytes(cmd);
      for (int i = 1; i <= n; i += 100) {
        List<LogEntry> batch = new ArrayList<>();
        for (int j = i; j < i + 100 && j <= n; j++) batch.add(new LogEntry(j, 1, cmd));
        fs.persist(new Ready(null, batch, null, List.of(), List.of()));
      }
    }
    System.out.printf("wrote %d entries of %d bytes in %.2f s%n", n, bytes, (System.nanoTime() - t0) / 1e9);
    for (int r = 0; r < restarts; r++) {
      long a = System.nanoTime();
      try (FileStorage fs = FileStorage.open(dir)) {
        long b = System.nanoTime();
        PersistentState st = fs.load();
        long c = System.nanoTime();
        RaftCore core = new RaftCore(0, 3, RaftConfig.defaults(), new SplittableRandom(r), st);
        long d = System.nanoTime();
        if (core.lastLogIndex() != n) throw new AssertionError("recovered " + core.lastLogIndex() + " of " + n);
        System.out.printf(
            "restart %d: open+scan %.0f ms, load %.0f ms, core %.0f ms, total %.0f ms%n",
            r, (b - a) / 1e6, (c - b) / 1e6, (d - c) / 1e6, (d - a) / 1e6);
      }
    }
  }
}
