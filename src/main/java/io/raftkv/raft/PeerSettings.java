package io.raftkv.raft;

import java.time.Duration;

/**
 * The settings of a {@link RaftPeer}.
 *
 * @param id this peer's number
 * @param n the number of peers the transport can address ({@code 0 .. n-1}); with no {@code
 *     initial}, they are the group's voters
 * @param config protocol timing in ticks
 * @param tick how long one tick lasts
 * @param seed seeds the election-timeout randomness
 * @param initial the membership the peer starts with while its storage records none (null: the
 *     voters {@code 0 .. n-1}); a peer that joins a running group starts as its own only learner
 */
public record PeerSettings(int id, int n, RaftConfig config, Duration tick, long seed, Configuration initial) {
  public PeerSettings {
    if (id < 0 || id >= n) throw new IllegalArgumentException("peer id " + id + " outside 0.." + (n - 1));
    if (initial != null && initial.members().stream().anyMatch(m -> m >= n))
      throw new IllegalArgumentException("a member of " + initial + " is beyond the " + n + " peers the transport addresses");
  }

  public PeerSettings(int id, int n, RaftConfig config, Duration tick, long seed) {
    this(id, n, config, tick, seed, null);
  }

  public static PeerSettings of(int id, int n) {
    return new PeerSettings(id, n, RaftConfig.defaults(), Duration.ofMillis(10), System.nanoTime() ^ id);
  }

  /** These settings for a peer that starts with {@code c} as its membership. */
  public PeerSettings withInitial(Configuration c) {
    return new PeerSettings(id, n, config, tick, seed, c);
  }

  Configuration initialOrVoters() {
    return initial != null ? initial : Configuration.ofVoters(n);
  }
}
