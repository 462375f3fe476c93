package io.raftkv.transport;

import io.raftkv.codec.CorruptDataException;
import io.raftkv.raft.Configuration;
import io.raftkv.raft.Envelope;
import io.raftkv.raft.PeerTransport;
import io.raftkv.raft.RaftCodec;
import io.raftkv.raft.RaftMessage;
import io.raftkv.raft.RaftPeer;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Raft peers talking over Pekko remoting (Artery). Each node runs an {@link #inbox}, registered with
 * the Receptionist under {@link #peerKey}(group, id). Routes come one of two ways:
 *
 * <ul>
 *   <li>fixed, when the peers' addresses are known ({@link #fixed}): refs resolved from the inboxes'
 *       actor paths, given at construction; with {@link NodePaths}, also those of nodes that join
 *       later, as the configuration records their addresses. Messages flow as soon as both
 *       ActorSystems are up, whatever the cluster's membership or the Receptionist's gossip say, and
 *       keep flowing to a restarted peer (a path names whichever incarnation runs at that address);
 *   <li>discovered: the {@link #directory} subscribes to the other peers' keys and keeps the routes
 *       current, so a restarted node is found again without manual steps. It keeps routes to
 *       instances the failure detector calls unreachable: Raft, not the failure detector, decides
 *       whether a peer is worth talking to.
 * </ul>
 *
 * Messages travel as {@link PeerPacket}s; those larger than {@code chunkSize} are split, since Artery
 * refuses frames over its maximum frame size.
 *
 * <p>{@link #send} is called on the Raft peer's thread and never blocks; a message to a peer with no
 * known route is dropped, as the network might have.
 */
public final class ClusterTransport implements PeerTransport {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterTransport.class);
  public static final int DEFAULT_CHUNK_SIZE = 128 * 1024;

  private final int self;
  private final int n;
  private final int chunkSize;
  /** Fixed routes: the nodes' paths, which may grow with the configuration (no directory may change them); else null. */
  private final NodePaths nodePaths;
  /** Resolves an inbox's actor path; with {@link #nodePaths} only. */
  private final Function<String, ActorRef<PeerPacket>> resolver;
  /** Whether {@link #directory} was called: it is the one writer of {@link #routes}. */
  private boolean directoryMade;
  /**
   * The routes, by peer id: an immutable snapshot, replaced whole. The one publication point
   * between threads: written only at construction and then by the {@link #directory} actor (or,
   * with {@link #nodePaths}, by {@link #configurationChanged} on the Raft peer's thread), read
   * by {@link #send} on the Raft peer's thread for every message. A lock-free read is the point:
   * telling an actor, or asking it, per Raft message would add a hop (or an ask) to every
   * heartbeat and AppendEntries.
   */
  private volatile List<List<ActorRef<PeerPacket>>> routes;
  private final AtomicLong nextMsgId = new AtomicLong();

  /** Routes to be discovered: spawn {@link #directory} once. */
  public ClusterTransport(int self, int n, int chunkSize) {
    this(self, n, chunkSize, Collections.nCopies(n, List.of()), null, null);
  }

  private ClusterTransport(
      int self,
      int n,
      int chunkSize,
      List<List<ActorRef<PeerPacket>>> routes,
      NodePaths nodePaths,
      Function<String, ActorRef<PeerPacket>> resolver) {
    if (chunkSize < 1024) throw new IllegalArgumentException("chunkSize too small: " + chunkSize);
    if (self < 0 || self >= n) throw new IllegalArgumentException("peer " + self + " outside 0.." + (n - 1));
    this.self = self;
    this.n = n;
    this.chunkSize = chunkSize;
    this.nodePaths = nodePaths;
    this.resolver = resolver;
    this.routes = List.copyOf(routes);
  }

  /**
   * Sends to the inboxes of the nodes at {@code paths}, resolved by {@code resolver} from {@link
   * #inboxPath}: a path names whichever incarnation runs at that address, so a route stays valid
   * across the peer's restarts. Routes to nodes that join later are added as the configuration
   * names them ({@link #configurationChanged}). No {@link #directory}.
   */
  public static ClusterTransport fixed(
      int self, NodePaths paths, int chunkSize, Function<String, ActorRef<PeerPacket>> resolver) {
    return new ClusterTransport(self, paths.given().size(), chunkSize, routesTo(self, paths, resolver), paths, resolver);
  }

  private static List<List<ActorRef<PeerPacket>>> routesTo(
      int self, NodePaths paths, Function<String, ActorRef<PeerPacket>> resolver) {
    List<List<ActorRef<PeerPacket>>> routes = new ArrayList<>();
    for (int i = 0; i < paths.size(); i++) {
      String p = paths.path(i);
      if (i == self || p == null) {
        routes.add(List.of());
        continue;
      }
      try {
        routes.add(List.of(resolver.apply(inboxPath(p))));
      } catch (RuntimeException unresolvable) { // an address no system could have: no route
        LOG.warn("n{}: no route to n{} at {}: {}", self, i, p, unresolvable.toString());
        routes.add(List.of());
      }
    }
    return routes;
  }

  /** Adds or moves the routes of nodes the configuration's addresses name (fixed routes from paths only). */
  @Override
  public void configurationChanged(Configuration c) {
    if (nodePaths == null) return;
    List<String> unreadable = new ArrayList<>();
    if (nodePaths.learn(c, unreadable)) {
      routes = List.copyOf(routesTo(self, nodePaths, resolver));
      LOG.info("n{} routes to {} node(s) after configuration {}", self, routes.size() - 1, c);
    }
    for (String u : unreadable) LOG.warn("n{}: no route from the configuration's address of {}", self, u);
  }

  @Override
  public boolean reaches(int peer) {
    List<List<ActorRef<PeerPacket>>> r = routes;
    return peer == self || (peer >= 0 && peer < r.size() && !r.get(peer).isEmpty());
  }

  /** Where the inbox of a node whose {@code RaftKvNode} actor lives at {@code nodePath} is. */
  public static String inboxPath(String nodePath) {
    return nodePath + "/" + INBOX_NAME;
  }

  /** The name the inbox must be spawned under, as a child of the node's actor. */
  public static final String INBOX_NAME = "inbox";

  public static ServiceKey<PeerPacket> peerKey(String group, int id) {
    return ServiceKey.create(PeerPacket.class, "raftkv-" + group + "-peer-" + id);
  }

  @Override
  public void send(Envelope e) {
    List<List<ActorRef<PeerPacket>>> r = routes;
    if (e.to() >= r.size()) return; // a node not known (yet)
    List<ActorRef<PeerPacket>> to = r.get(e.to());
    if (to.isEmpty()) return;
    byte[] bytes = RaftCodec.encode(e.message());
    long id = nextMsgId.incrementAndGet();
    int chunks = Math.max(1, (bytes.length + chunkSize - 1) / chunkSize);
    for (int c = 0; c < chunks; c++) {
      byte[] part =
          chunks == 1 ? bytes : Arrays.copyOfRange(bytes, c * chunkSize, Math.min(bytes.length, (c + 1) * chunkSize));
      PeerPacket p = new PeerPacket(self, e.to(), id, c, chunks, part);
      // Normally one route; during a restart the old and new incarnation may both be listed.
      for (ActorRef<PeerPacket> ref : to) ref.tell(p);
    }
  }


  /**
   * Subscribes to every other peer's key and keeps this transport's routes current. Spawn it once,
   * and only for a transport without fixed routes: it is the one writer of the routes.
   */
  public Behavior<Receptionist.Listing> directory(String group) {
    if (nodePaths != null) throw new IllegalStateException("fixed routes: no directory");
    if (directoryMade) throw new IllegalStateException("one directory per transport");
    directoryMade = true;
    return Behaviors.setup(
        ctx -> {
          for (int i = 0; i < n; i++) {
            if (i != self) ctx.getSystem().receptionist().tell(Receptionist.subscribe(peerKey(group, i), ctx.getSelf()));
          }
          // The directory's own copy: it alone changes the routes, and publishes a snapshot of them.
          List<List<ActorRef<PeerPacket>>> current = new ArrayList<>(routes);
          return Behaviors.receiveMessage(
              listing -> {
                for (int i = 0; i < n; i++) {
                  ServiceKey<PeerPacket> key = peerKey(group, i);
                  if (listing.isForKey(key)) {
                    // all instances, reachable or not: a paused peer that comes back must hear from us
                    List<ActorRef<PeerPacket>> now = List.copyOf(listing.getAllServiceInstances(key));
                    current.set(i, now);
                    routes = List.copyOf(current);
                    ctx.getLog().info("n{} knows {} route(s) to n{}", self, now.size(), i);
                  }
                }
                return Behaviors.same();
              });
        });
  }

  /**
   * Receives packets addressed to peer {@code self} of {@code group}, reassembles chunked messages
   * and hands them to the local Raft peer. Registers itself with the Receptionist.
   */
  public static Behavior<PeerPacket> inbox(String group, int self, ActorRef<RaftPeer.Command> peer) {
    return Behaviors.setup(
        ctx -> {
          ctx.getSystem().receptionist().tell(Receptionist.register(peerKey(group, self), ctx.getSelf()));
          Map<Integer, Assembly> partial = new HashMap<>();
          return Behaviors.receiveMessage(
              p -> {
                if (p.to() != self) return Behaviors.same();
                byte[] whole = p.data();
                if (p.chunks() > 1) {
                  whole = assemble(partial, p);
                  if (whole == null) return Behaviors.same();
                }
                RaftMessage m;
                try {
                  m = RaftCodec.decodeMessage(whole);
                } catch (CorruptDataException bad) {
                  ctx.getLog().warn("n{} dropped a malformed message from n{}: {}", self, p.from(), bad.getMessage());
                  return Behaviors.same();
                }
                peer.tell(new RaftPeer.Inbound(p.from(), m));
                return Behaviors.same();
              });
        });
  }

  /** Chunks of one message from one sender; they arrive in order or not at all (Artery keeps order). */
  private static final class Assembly {
    final long msgId;
    int next;
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    Assembly(long msgId) {
      this.msgId = msgId;
    }
  }

  private static byte[] assemble(Map<Integer, Assembly> partial, PeerPacket p) {
    Assembly a = partial.get(p.from());
    if (p.chunk() == 0) {
      a = new Assembly(p.msgId());
      partial.put(p.from(), a);
    }
    if (a == null || a.msgId != p.msgId() || a.next != p.chunk()) {
      partial.remove(p.from()); // a chunk went missing: give up on this message
      return null;
    }
    a.bytes.write(p.data(), 0, p.data().length);
    a.next++;
    if (a.next < p.chunks()) return null;
    partial.remove(p.from());
    return a.bytes.toByteArray();
  }
}
