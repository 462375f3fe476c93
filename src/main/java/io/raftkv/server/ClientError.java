package io.raftkv.server;

import java.util.Objects;

/**
 * A request the API refuses before anything reaches the store: answered {@link #status()} with
 * {@code {"error": error(), "message": message()}}, and counted as {@link #outcome()}.
 *
 * @param outcome {@link Metrics.Outcome#BAD_REQUEST} or {@link Metrics.Outcome#TOO_LARGE}
 * @param message what is wrong, for the client's developer
 */
record ClientError(Metrics.Outcome outcome, String message) {
  ClientError {
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(message, "message");
    if (outcome != Metrics.Outcome.BAD_REQUEST && outcome != Metrics.Outcome.TOO_LARGE) {
      throw new IllegalArgumentException("not a client error: " + outcome);
    }
  }

  static ClientError badRequest(String message) {
    return new ClientError(Metrics.Outcome.BAD_REQUEST, message);
  }

  static ClientError tooLarge(String message) {
    return new ClientError(Metrics.Outcome.TOO_LARGE, message);
  }

  /** 400 or 413. */
  int status() {
    return outcome == Metrics.Outcome.TOO_LARGE ? 413 : 400;
  }

  /** The {@code error} field of the answer. */
  String error() {
    return outcome == Metrics.Outcome.TOO_LARGE ? "TooLarge" : "BadRequest";
  }
}
