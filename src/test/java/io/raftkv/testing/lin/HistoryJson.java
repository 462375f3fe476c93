package io.raftkv.testing.lin;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Writes key/value histories as JSON lines, one operation per line:
 *
 * <pre>{"client":1,"op":"put","key":"k","value":"v","version":0,"out_value":"","out_version":0,
 * "out_err":"OK","call":100,"return":200}</pre>
 *
 * <p>For an operation that never returned, {@code out_value}, {@code out_version}, {@code
 * out_err} and {@code return} are {@code null}. Files are UTF-8; strings are escaped per RFC 8259,
 * with lone surrogates written as backslash-u escapes so nothing is lost.
 */
public final class HistoryJson {
  private HistoryJson() {}

  /** Writes the history to {@code file}, replacing it. */
  public static void write(Path file, List<Operation<KvInput, KvOutput>> history) {
    try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      write(w, history);
    } catch (IOException e) {
      throw new UncheckedIOException("writing history to " + file, e);
    }
  }

  public static void write(Writer w, List<Operation<KvInput, KvOutput>> history)
      throws IOException {
    StringBuilder line = new StringBuilder(128);
    for (Operation<KvInput, KvOutput> op : history) {
      line.setLength(0);
      w.write(line(op, line).append('\n').toString());
    }
  }

  /** The line for one operation, without the newline. */
  public static String line(Operation<KvInput, KvOutput> op) {
    return line(op, new StringBuilder(128)).toString();
  }

  private static StringBuilder line(Operation<KvInput, KvOutput> op, StringBuilder b) {
    KvInput in = op.input();
    KvOutput out = op.output();
    boolean returned = op.returned() && out != null;
    b.append("{\"client\":").append(op.clientId());
    b.append(",\"op\":\"").append(in.kind().name().toLowerCase(Locale.ROOT)).append('"');
    b.append(",\"key\":");
    string(b, in.key());
    b.append(",\"value\":");
    string(b, in.value());
    b.append(",\"version\":").append(in.version());
    b.append(",\"out_value\":");
    if (returned) string(b, out.value());
    else b.append("null");
    b.append(",\"out_version\":").append(returned ? Long.toString(out.version()) : "null");
    b.append(",\"out_err\":");
    if (returned) string(b, out.err());
    else b.append("null");
    b.append(",\"call\":").append(op.call());
    b.append(",\"return\":").append(returned ? Long.toString(op.ret()) : "null");
    return b.append('}');
  }

  /** Appends {@code s} as a JSON string literal ({@code null} as the literal null). */
  static void string(StringBuilder b, String s) {
    if (s == null) {
      b.append("null");
      return;
    }
    b.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\b' -> b.append("\\b");
        case '\f' -> b.append("\\f");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20 || c == '\u2028' || c == '\u2029' || isLoneSurrogate(s, i)) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    b.append('"');
  }

  private static boolean isLoneSurrogate(String s, int i) {
    char c = s.charAt(i);
    if (Character.isHighSurrogate(c)) {
      return i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1));
    }
    if (Character.isLowSurrogate(c)) {
      return i == 0 || !Character.isHighSurrogate(s.charAt(i - 1));
    }
    return false;
  }
}
