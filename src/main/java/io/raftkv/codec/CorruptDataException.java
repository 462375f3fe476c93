package io.raftkv.codec;

/**
 * Thrown when bytes do not decode: a wrong version, an unknown tag, truncated input. Unchecked, as
 * every decoder's caller treats it as "this input is garbage" rather than something to retry.
 */
public final class CorruptDataException extends RuntimeException {
  public CorruptDataException(String message) {
    super(message);
  }
}
