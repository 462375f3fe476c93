package io.raftkv.testing.lin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.testing.lin.KvModel.State;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The recorder, alone with a fake clock and under real concurrency. */
@Timeout(60)
class HistoryRecorderTest {
  @Test
  void recordsCallsReturnsAndOperationsThatNeverEnded() {
    AtomicLong clock = new AtomicLong();
    HistoryRecorder rec = new HistoryRecorder(() -> clock.addAndGet(10));
    long a = rec.begin(1, KvInput.put("k", "v", 0)); // call 10
    long b = rec.begin(2, KvInput.get("k")); // call 20
    rec.end(a, KvOutput.ok()); // return 30
    List<Operation<KvInput, KvOutput>> h = rec.history();
    assertEquals(2, h.size());
    assertEquals(new Operation<>(1, KvInput.put("k", "v", 0), 10, KvOutput.ok(), 30), h.get(0));
    assertEquals(Operation.pending(2, KvInput.get("k"), 20), h.get(1));
    assertNull(h.get(1).output());
    // A snapshot does not change when the recorder does.
    rec.end(b, KvOutput.value("v", 1));
    assertEquals(Operation.NEVER, h.get(1).ret());
    assertEquals(40, rec.history().get(1).ret());
    assertEquals(2, rec.size());
  }

  @Test
  void rejectsUnknownAndRepeatedEnds() {
    HistoryRecorder rec = new HistoryRecorder();
    long h = rec.begin(0, KvInput.get("k"));
    rec.end(h, KvOutput.noKey());
    assertThrows(IllegalStateException.class, () -> rec.end(h, KvOutput.noKey()));
    assertThrows(IllegalStateException.class, () -> rec.end(h + 1, KvOutput.noKey()));
    assertThrows(IllegalStateException.class, () -> rec.end(-1, KvOutput.noKey()));
  }

  /** Clients on real threads against a store behind one lock: must check OK. */
  @Test
  void concurrentClientsOfAnAtomicStoreRecordALinearizableHistory() throws Exception {
    HistoryRecorder rec = new HistoryRecorder();
    Map<String, State> store = new HashMap<>();
    int clients = 8;
    int opsEach = 1_000;
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      int client = c;
      threads.add(
          new Thread(
              () -> {
                SplittableRandom random = new SplittableRandom(client);
                Map<String, Long> versions = new HashMap<>();
                for (int i = 0; i < opsEach; i++) {
                  String key = "k" + random.nextInt(3);
                  KvInput in =
                      switch (random.nextInt(3)) {
                        case 0 -> KvInput.get(key);
                        case 1 -> KvInput.put(
                            key, "c" + client + "." + i, versions.getOrDefault(key, 0L));
                        default -> KvInput.append(key, "+" + client);
                      };
                  long handle = rec.begin(client, in);
                  KvOutput out;
                  synchronized (store) {
                    out = apply(store, in);
                  }
                  rec.end(handle, out);
                  if (in.kind() == KvInput.Kind.GET) versions.put(key, out.version());
                }
              }));
    }
    threads.forEach(Thread::start);
    for (Thread t : threads) t.join();
    assertEquals(clients * opsEach, rec.size());
    assertTrue(rec.history().stream().allMatch(Operation::returned));
    KvHistoryChecks.assertLinearizable("recorder-atomic-store", rec, Duration.ofSeconds(30));
    assertEquals(
        CheckResult.OK, Linearizability.check(KvModel.strict(), rec.history(), Duration.ofSeconds(30)));
  }

  static KvOutput apply(Map<String, State> store, KvInput in) {
    State s = store.getOrDefault(in.key(), State.ABSENT);
    switch (in.kind()) {
      case GET:
        return s.present() ? KvOutput.value(s.value(), s.version()) : KvOutput.noKey();
      case PUT:
        if (!s.present() && in.version() > 0) return KvOutput.err(KvOutput.ERR_NO_KEY);
        if (in.version() != s.version()) return KvOutput.err(KvOutput.ERR_VERSION);
        store.put(in.key(), new State(in.value(), s.version() + 1));
        return KvOutput.ok();
      case APPEND:
        store.put(in.key(), new State(s.value() + in.value(), s.version() + 1));
        return KvOutput.ok();
      default:
        throw new AssertionError(in);
    }
  }
}
