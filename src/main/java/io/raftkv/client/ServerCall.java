package io.raftkv.client;

import io.raftkv.kv.KvOp;
import io.raftkv.kv.KvServer;
import java.util.concurrent.CompletionStage;

/**
 * How a {@link KvClient} reaches server {@code i} of a group: the simulated network in tests, the
 * cluster or HTTP in deployments. Contract: never blocks; the stage completes with the server's
 * reply, or exceptionally when no reply came (lost, server down, transport timeout). A missing
 * reply says nothing about whether the op executed.
 */
@FunctionalInterface
public interface ServerCall {
  CompletionStage<KvServer.Reply> call(int server, KvOp op);
}
