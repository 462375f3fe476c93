package io.raftkv.bench;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.IntFunction;

/**
 * A replicated key/value service that the recovery benchmark can start as local processes and
 * probe over HTTP: raftkv itself ({@link RaftKvService}) or etcd ({@link EtcdService}), measured
 * the same way.
 */
public interface ServiceUnderTest {
  /** A short name for tables ("raftkv", "etcd"). */
  String name();

  /** The number of members. */
  int size();

  /** The command line of member {@code id}, keeping its data under {@code dataRoot}. */
  IntFunction<List<String>> command(Path dataRoot);

  /** An acknowledged-or-not write of {@code value} to {@code key} through member {@code node}. */
  HttpRequest write(int node, String key, String value, Duration timeout);

  /** A linearizable read of {@code key} through member {@code node}. */
  HttpRequest read(int node, String key, Duration timeout);

  /** Member {@code node}'s view of the group (role, term). */
  HttpRequest status(int node, Duration timeout);

  /** Whether a write or read answered {@code r} succeeded. */
  default boolean ok(HttpResponse<String> r) {
    return r.statusCode() == 200;
  }

  /**
   * The term in which the answering member is leader, or -1 if {@code status} (an answer to {@link
   * #status}) says it is not the leader.
   */
  long leaderTerm(HttpResponse<String> status);
}
