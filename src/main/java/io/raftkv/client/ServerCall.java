package io.raftkv.client;

import io.raftkv.kv.KvOp;
import io.raftkv.rsm.Rsm;
import java.util.concurrent.CompletionStage;

/**
 * How a {@link KvClient} reaches server {@code i} of a group: the simulated network in tests, the
 * cluster or HTTP in deployments. Contract: never blocks; the stage completes with what the server
 * answered (its RSM's {@link Rsm.Result}, an {@code Ok} carrying the {@link io.raftkv.kv.KvCodec}
 * bytes of the op's {@link io.raftkv.kv.KvResult}), or exceptionally when no answer came (lost,
 * server down, transport timeout). A missing answer says nothing about whether the op executed.
 */
@FunctionalInterface
public interface ServerCall {
  CompletionStage<Rsm.Result> call(int server, KvOp op);

  /**
   * How many servers (ids {@code 0 .. servers()-1}) this call knows of now, for a group that grows
   * while the Clerk runs; 0 when it only knows those the Clerk was given.
   */
  default int servers() {
    return 0;
  }
}
