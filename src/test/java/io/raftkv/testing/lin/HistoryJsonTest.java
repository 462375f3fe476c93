package io.raftkv.testing.lin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JSON-lines history format, byte for byte. */
class HistoryJsonTest {
  static String json(String s) {
    StringBuilder b = new StringBuilder();
    HistoryJson.string(b, s);
    return b.toString();
  }

  @Test
  void writesOneOperationPerLineInTheAgreedShape() {
    var put = new Operation<>(3, KvInput.put("k", "v", 2), 100, KvOutput.err(KvOutput.ERR_VERSION), 250);
    assertEquals(
        "{\"client\":3,\"op\":\"put\",\"key\":\"k\",\"value\":\"v\",\"version\":2,"
            + "\"out_value\":\"\",\"out_version\":0,\"out_err\":\"ErrVersion\",\"call\":100,\"return\":250}",
        HistoryJson.line(put));
    var get = new Operation<>(0, KvInput.get("k"), 7, KvOutput.value("x", 5), 9);
    assertEquals(
        "{\"client\":0,\"op\":\"get\",\"key\":\"k\",\"value\":\"\",\"version\":0,"
            + "\"out_value\":\"x\",\"out_version\":5,\"out_err\":\"OK\",\"call\":7,\"return\":9}",
        HistoryJson.line(get));
    var append = new Operation<>(1, KvInput.append("k", "z"), 1, KvOutput.err(KvOutput.ERR_MAYBE), 2);
    assertEquals(
        "{\"client\":1,\"op\":\"append\",\"key\":\"k\",\"value\":\"z\",\"version\":-1,"
            + "\"out_value\":\"\",\"out_version\":0,\"out_err\":\"ErrMaybe\",\"call\":1,\"return\":2}",
        HistoryJson.line(append));
  }

  @Test
  void neverReturnedOperationHasNullOutputAndReturn() {
    var delete = Operation.<KvInput, KvOutput>pending(4, KvInput.delete("k", 3), 1_000_000_000_123L);
    assertEquals(
        "{\"client\":4,\"op\":\"delete\",\"key\":\"k\",\"value\":\"\",\"version\":3,"
            + "\"out_value\":null,\"out_version\":null,\"out_err\":null,"
            + "\"call\":1000000000123,\"return\":null}",
        HistoryJson.line(delete));
  }

  @Test
  void escapesStringsPerRfc8259() {
    assertEquals("\"plain\"", json("plain"));
    assertEquals("\"\"", json(""));
    assertEquals("null", json(null));
    assertEquals("\"a\\\"b\\\\c/d\"", json("a\"b\\c/d"));
    assertEquals("\"\\b\\f\\n\\r\\t\"", json("\b\f\n\r\t"));
    assertEquals("\"\\u0000\\u0001\\u001f \u007f\"", json("\u0000\u0001\u001f \u007f"));
    assertEquals("\"\\u2028\\u2029\"", json("\u2028\u2029"));
    // Non-ASCII text stays as it is (the file is UTF-8); a surrogate pair is one code point.
    assertEquals("\"é漢😀\"", json("é漢😀"));
    // A lone surrogate cannot be encoded in UTF-8, so it is escaped rather than lost.
    assertEquals("\"x\\ud83dy\\ude00\"", json("x\ud83dy\ude00"));
  }

  @Test
  void writesAUtf8FileOfLines(@TempDir Path dir) throws Exception {
    var ops =
        List.of(
            new Operation<>(0, KvInput.put("ключ", "line1\nline2", 0), 1, KvOutput.ok(), 2),
            Operation.<KvInput, KvOutput>pending(1, KvInput.get("ключ"), 3));
    Path file = dir.resolve("h.jsonl");
    HistoryJson.write(file, ops);
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    assertEquals(List.of(HistoryJson.line(ops.get(0)), HistoryJson.line(ops.get(1))), lines);
    assertEquals(
        "{\"client\":0,\"op\":\"put\",\"key\":\"ключ\",\"value\":\"line1\\nline2\",\"version\":0,"
            + "\"out_value\":\"\",\"out_version\":0,\"out_err\":\"OK\",\"call\":1,\"return\":2}",
        lines.get(0));
  }
}
