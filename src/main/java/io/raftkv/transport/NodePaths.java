package io.raftkv.transport;

import io.raftkv.raft.Configuration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Where a group's nodes live: the actor path of each node's {@code RaftKvNode} actor, by id. It
 * starts with the paths given at start (the static address book, ids {@code 0 .. size-1}) and
 * grows with the nodes that joined later, whose addresses the group's configuration records
 * ({@link Configuration#addresses()}, turned into paths by {@link Addressing}); an address there
 * also overrides the one given at start (a node that moved).
 *
 * <p>One writer, the node's Raft peer (through its transport's {@code configurationChanged}), and
 * lock-free readers (the transport for every message, the node's Clerk for every try): the paths
 * are an immutable snapshot, replaced whole.
 */
public final class NodePaths {
  /** How a configuration's address for node {@code id} becomes that node's actor path. */
  @FunctionalInterface
  public interface Addressing {
    /** The path, or an {@link IllegalArgumentException} for an address it cannot read. */
    String nodePath(int id, String address);
  }

  private final List<String> given;
  private final Addressing addressing;
  /** By id; null where no node is known. */
  private volatile List<String> paths;

  private NodePaths(List<String> given, Addressing addressing) {
    for (String p : given) Objects.requireNonNull(p, "node path");
    this.given = List.copyOf(given);
    this.addressing = addressing;
    this.paths = this.given;
  }

  /** These paths, for good: addresses in the configuration are ignored. */
  public static NodePaths fixed(List<String> paths) {
    return new NodePaths(paths, null);
  }

  /** These paths, and the configuration's addresses through {@code addressing}. */
  public static NodePaths growing(List<String> paths, Addressing addressing) {
    return new NodePaths(paths, Objects.requireNonNull(addressing, "addressing"));
  }

  /** One more than the highest id with a known path. */
  public int size() {
    return paths.size();
  }

  /** The paths given at start. */
  public List<String> given() {
    return given;
  }

  /** Node {@code id}'s path, or null if no node of that id is known. */
  public String path(int id) {
    List<String> p = paths;
    return id >= 0 && id < p.size() ? p.get(id) : null;
  }

  /**
   * Takes the addresses of {@code c}: true if a path was added or changed. An address the {@link
   * Addressing} cannot read keeps the id's earlier path (or none) and is reported in {@code
   * unreadable}.
   */
  public synchronized boolean learn(Configuration c, List<String> unreadable) {
    if (addressing == null || c.addresses().isEmpty()) return false;
    List<String> next = new ArrayList<>(paths);
    for (Map.Entry<Integer, String> a : c.addresses().entrySet()) {
      String path;
      try {
        path = addressing.nodePath(a.getKey(), a.getValue());
      } catch (IllegalArgumentException e) {
        unreadable.add("n" + a.getKey() + " at '" + a.getValue() + "': " + e.getMessage());
        continue;
      }
      while (next.size() <= a.getKey()) next.add(null);
      next.set(a.getKey(), path);
    }
    if (next.equals(paths)) return false;
    paths = Collections.unmodifiableList(next);
    return true;
  }
}
