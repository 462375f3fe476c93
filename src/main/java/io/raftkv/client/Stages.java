package io.raftkv.client;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Stages from Pekko (ask, pekko-http) run every dependent action asynchronously on the JDK's
 * default executor; on a machine with two cores that executor starts a new thread per action. Our
 * callbacks are short and never block, so we take the result over on the completing thread instead.
 */
public final class Stages {
  private Stages() {}

  /** A plain future completed, on the completing thread, with {@code stage}'s outcome. */
  public static <T> CompletableFuture<T> direct(CompletionStage<T> stage) {
    CompletableFuture<T> f = new CompletableFuture<>();
    stage.whenCompleteAsync(
        (value, failure) -> {
          if (failure != null) f.completeExceptionally(failure);
          else f.complete(value);
        },
        Runnable::run);
    return f;
  }
}
