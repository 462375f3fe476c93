package io.raftkv.storage;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.raftkv.raft.PersistentState;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of a process in the middle of a stream of persists: whatever it acknowledged must be
 * there after recovery. More precisely, since the child's Readys each touch one part of the state,
 * the recovered state must equal the state after Ready j of its script for some j at or past the
 * last acknowledged one. Rounds run on the same directory, so later rounds also recover from the
 * repairs and snapshot marks of earlier ones. Replay a failure with {@code -Dseed=}.
 */
@Timeout(300)
class FileStorageCrashTest {
  static final int ROUNDS = 4;

  @TempDir Path dir;

  @Test
  void everyAcknowledgedPersistSurvivesKill9() throws Exception {
    long seed = Long.getLong("seed", System.nanoTime());
    System.out.println("FileStorageCrashTest seed=" + seed + " (replay with -Dseed=)");
    SplittableRandom rnd = new SplittableRandom(seed);
    Path data = dir.resolve("data");
    for (int round = 0; round < ROUNDS; round++) {
      long childSeed = rnd.nextLong();
      long killAfter = 20 + rnd.nextInt(600); // acknowledgements
      PersistentState start;
      try (FileStorage fs = FileStorage.open(data, FileStorageCrashChild.SEGMENTS)) {
        start = fs.load();
      }
      long acked = runAndKill(data, childSeed, killAfter, dir.resolve("child" + round + ".err"));
      try (FileStorage fs = FileStorage.open(data, FileStorageCrashChild.SEGMENTS)) {
        PersistentState got = fs.load();
        long j = matchingPrefix(start, childSeed, acked, got);
        if (j < 0) {
          fail("seed " + seed + " round " + round + ": after " + acked + " acknowledgements the recovered state is "
              + "no state the script reached from then on: " + StorageScripts.describe(got));
        }
        System.out.printf("round %d: killed after %d acks, recovered the state after Ready %d (%d entries, snapshot at %d)%n",
            round, acked, j, got.entries().size(), got.snapshot().index());
      }
    }
  }

  /** Starts the child, kills it once it acknowledged {@code killAfter} persists (or 30 s passed); returns the last ack. */
  private static long runAndKill(Path data, long childSeed, long killAfter, Path err) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
        FileStorageCrashChild.class.getName(), data.toString(), Long.toString(childSeed), "1000000000");
    pb.redirectError(err.toFile());
    Process p = pb.start();
    AtomicLong lastAck = new AtomicLong(-1);
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = in.readLine()) != null; ) {
          if (line.equals("started")) lastAck.compareAndSet(-1, 0);
          else if (line.startsWith("ack ")) lastAck.set(Long.parseLong(line.substring(4)));
        }
      } catch (IOException | NumberFormatException e) {
        // the pipe breaks when the child dies; a torn last line is not an ack
      }
    }, "crash-child-reader");
    reader.setDaemon(true);
    reader.start();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (lastAck.get() < killAfter && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(1);
      if (!p.isAlive()) {
        fail("child exited with " + p.exitValue() + " before it was killed: " + Files.readString(err));
      }
    } finally {
      p.destroyForcibly(); // SIGKILL on Linux
      if (!p.waitFor(30, TimeUnit.SECONDS)) fail("child did not die");
    }
    reader.join(TimeUnit.SECONDS.toMillis(30)); // read every ack the child printed before it died
    assertTrue(lastAck.get() >= 0, "child never started: " + Files.readString(err));
    return lastAck.get();
  }

  /**
   * The j >= acked whose state equals {@code got} (or is {@code got} with a compaction that was
   * still being written at the kill), replaying the child's script from {@code start}; -1 if none. */
  private static long matchingPrefix(PersistentState start, long childSeed, long acked, PersistentState got) {
    SplittableRandom rnd = new SplittableRandom(childSeed);
    MemoryStorage model = StorageScripts.memoryFrom(start);
    // Ready j+1 is submitted only once Ready j+1-WINDOW is acknowledged, so nothing past this was written.
    long limit = acked + FileStorageCrashChild.WINDOW;
    for (long j = 0; j <= limit; j++) {
      if (j >= acked && StorageScripts.sameUpToCompaction(model.load(), got)) return j;
      model.persist(StorageScripts.next(rnd, model, StorageScripts.Mix.SEPARATE));
    }
    return -1;
  }
}
