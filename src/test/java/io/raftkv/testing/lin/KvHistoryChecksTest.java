package io.raftkv.testing.lin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;

/** The lab-style assertion helper: pass, fail, time out, and dump histories. */
@Timeout(60)
class KvHistoryChecksTest {
  static HistoryRecorder recorderWith(KvInput in, KvOutput out, KvInput in2, KvOutput out2) {
    AtomicLong clock = new AtomicLong();
    HistoryRecorder rec = new HistoryRecorder(clock::incrementAndGet);
    rec.end(rec.begin(0, in), out);
    rec.end(rec.begin(1, in2), out2);
    return rec;
  }

  @Test
  void passesALinearizableHistoryAndFailsAnIllegalOne() {
    HistoryRecorder good =
        recorderWith(KvInput.put("k", "a", 0), KvOutput.ok(), KvInput.get("k"), KvOutput.value("a", 1));
    KvHistoryChecks.assertLinearizable("good", good, Duration.ofSeconds(5));
    HistoryRecorder bad =
        recorderWith(KvInput.put("k", "a", 0), KvOutput.ok(), KvInput.get("k"), KvOutput.noKey());
    AssertionFailedError e =
        assertThrows(
            AssertionFailedError.class,
            () -> KvHistoryChecks.assertLinearizable("bad", bad, Duration.ofSeconds(5)));
    assertTrue(e.getMessage().contains("key \"k\""), e.getMessage());
  }

  @Test
  void anExhaustedBudgetPrintsANoticeAndPasses() {
    // 30 concurrent writes, then reads that alternate between two of them: illegal, but the
    // search cannot prove it in 50 ms.
    List<Operation<KvInput, KvOutput>> h = new ArrayList<>();
    for (int i = 1; i <= 30; i++) h.add(new Operation<>(i, KvInput.put("k", "v" + i), 0, KvOutput.ok(), 100));
    for (int i = 1; i <= 30; i++) {
      h.add(new Operation<>(0, KvInput.get("k"), 100 + 2 * i, KvOutput.value("v" + (i % 2 + 1), 30), 101 + 2 * i));
    }
    PrintStream out = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      KvHistoryChecks.assertLinearizable("slow", h, Duration.ofMillis(50), KvModel.lab());
    } finally {
      System.setOut(out);
    }
    assertEquals(
        "slow: linearizability check timed out, assuming history is ok",
        captured.toString(StandardCharsets.UTF_8).strip());
  }

  @Test
  void dumpsEachCheckedHistoryWhenThePropertyIsSet(@TempDir Path dir) throws Exception {
    HistoryRecorder good =
        recorderWith(KvInput.put("k", "a", 0), KvOutput.ok(), KvInput.get("k"), KvOutput.value("a", 1));
    HistoryRecorder bad =
        recorderWith(KvInput.put("k", "a", 0), KvOutput.ok(), KvInput.get("k"), KvOutput.noKey());
    String before = System.getProperty(KvHistoryChecks.HISTORY_DIR_PROPERTY);
    System.setProperty(KvHistoryChecks.HISTORY_DIR_PROPERTY, dir.resolve("histories").toString());
    try {
      KvHistoryChecks.assertLinearizable("Generic Test/4B basic", good, Duration.ofSeconds(5));
      good.begin(2, KvInput.get("k")); // never ends
      KvHistoryChecks.assertLinearizable("Generic Test/4B basic", good, Duration.ofSeconds(5));
      assertThrows(
          AssertionFailedError.class,
          () -> KvHistoryChecks.assertLinearizable("bad", bad, Duration.ofSeconds(5)));
    } finally {
      if (before == null) System.clearProperty(KvHistoryChecks.HISTORY_DIR_PROPERTY);
      else System.setProperty(KvHistoryChecks.HISTORY_DIR_PROPERTY, before);
    }
    Path first = dir.resolve("histories/Generic_Test_4B_basic.jsonl");
    Path second = dir.resolve("histories/Generic_Test_4B_basic-2.jsonl");
    assertEquals(2, Files.readAllLines(first).size());
    List<String> lines = Files.readAllLines(second);
    assertEquals(3, lines.size());
    assertTrue(lines.get(2).endsWith("\"out_err\":null,\"call\":5,\"return\":null}"), lines.get(2));
    assertEquals(2, Files.readAllLines(dir.resolve("histories/bad.jsonl")).size());
  }

  @Test
  void withoutThePropertyNothingIsWritten(@TempDir Path dir) {
    assertEquals(null, System.getProperty(KvHistoryChecks.HISTORY_DIR_PROPERTY));
    HistoryRecorder good =
        recorderWith(KvInput.put("k", "a", 0), KvOutput.ok(), KvInput.get("k"), KvOutput.value("a", 1));
    KvHistoryChecks.assertLinearizable("nothing", good, Duration.ofSeconds(5));
    Path written = KvHistoryChecks.dump(dir, "", good.history());
    assertEquals("history.jsonl", written.getFileName().toString());
  }
}
