package io.raftkv.storage;

import io.raftkv.raft.Ready;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.Semaphore;

/**
 * The process {@link FileStorageCrashTest} kills: opens the storage in {@code args[0]}, then runs
 * the seeded script ({@code args[1]}) that continues from what it loaded, keeping up to {@link
 * #WINDOW} persists in flight, and prints {@code ack k} once Ready k is durable. It never stops
 * on its own before {@code args[2]} Readys.
 */
public final class FileStorageCrashChild {
  static final int WINDOW = 32;
  static final FileStorage.Options SEGMENTS = new FileStorage.Options(4096);

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    SplittableRandom rnd = new SplittableRandom(Long.parseLong(args[1]));
    long max = Long.parseLong(args[2]);
    PrintStream out = System.out;
    Semaphore window = new Semaphore(WINDOW);
    try (FileStorage fs = FileStorage.open(dir, SEGMENTS)) {
      MemoryStorage model = StorageScripts.memoryFrom(fs.load());
      out.println("started");
      out.flush();
      for (long k = 1; k <= max; k++) {
        Ready r = StorageScripts.next(rnd, model, StorageScripts.Mix.SEPARATE);
        model.persist(r);
        window.acquire();
        long n = k;
        fs.persistAsync(r).whenComplete((v, e) -> {
          if (e != null) {
            e.printStackTrace();
            Runtime.getRuntime().halt(3);
          }
          out.println("ack " + n);
          out.flush();
          window.release();
        });
      }
      window.acquire(WINDOW);
    }
  }
}
