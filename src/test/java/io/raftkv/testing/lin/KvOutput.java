package io.raftkv.testing.lin;

import java.util.Objects;

/**
 * A reply from the key/value service as a history records it. Writes fill in only {@code err};
 * a GET that found no key has value "" and version 0, as in the lab.
 *
 * @param err one of the constants below; other strings are kept but no model accepts them
 */
public record KvOutput(String value, long version, String err) {
  public static final String OK = "OK";
  public static final String ERR_NO_KEY = "ErrNoKey";
  public static final String ERR_VERSION = "ErrVersion";
  /** The clerk could not tell whether its write happened (a resend met ErrVersion). */
  public static final String ERR_MAYBE = "ErrMaybe";
  /**
   * The client gave up waiting; the operation may or may not take effect, possibly after this
   * reply (the model leaves its interval open).
   */
  public static final String TIMEOUT = "Timeout";

  public KvOutput {
    Objects.requireNonNull(value, "value");
    Objects.requireNonNull(err, "err");
  }

  /** A successful GET. */
  public static KvOutput value(String value, long version) {
    return new KvOutput(value, version, OK);
  }

  /** A GET of a missing key. */
  public static KvOutput noKey() {
    return new KvOutput("", 0, ERR_NO_KEY);
  }

  /** A write's reply: only the error matters. */
  public static KvOutput err(String err) {
    return new KvOutput("", 0, err);
  }

  public static KvOutput ok() {
    return err(OK);
  }

  /** Whether the client cannot tell if the operation took effect. */
  public boolean uncertain() {
    return err.equals(ERR_MAYBE) || err.equals(TIMEOUT);
  }
}
