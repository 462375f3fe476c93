package io.raftkv.transport;

import io.raftkv.codec.CorruptDataException;
import io.raftkv.raft.Envelope;
import io.raftkv.raft.PeerTransport;
import io.raftkv.raft.RaftCodec;
import io.raftkv.raft.RaftMessage;
import io.raftkv.raft.RaftPeer;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * Raft peers talking over Pekko remoting (Artery). Each node runs an {@link #inbox}, registered with
 * the Receptionist under {@link #peerKey}(group, id). Routes come one of two ways:
 *
 * <ul>
 *   <li>fixed, when the peers' addresses are known ({@link #useFixedRoute}): a ref resolved from the
 *       inbox's actor path. Messages flow as soon as both ActorSystems are up, whatever the cluster's
 *       membership or the Receptionist's gossip say, and keep flowing to a restarted peer (a path
 *       names whichever incarnation runs at that address);
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
  public static final int DEFAULT_CHUNK_SIZE = 128 * 1024;

  private final int self;
  private final int chunkSize;
  private final AtomicReferenceArray<List<ActorRef<PeerPacket>>> routes;
  private final AtomicReferenceArray<Boolean> fixed;
  private final AtomicLong nextMsgId = new AtomicLong();

  public ClusterTransport(int self, int n, int chunkSize) {
    if (chunkSize < 1024) throw new IllegalArgumentException("chunkSize too small: " + chunkSize);
    this.self = self;
    this.chunkSize = chunkSize;
    this.routes = new AtomicReferenceArray<>(n);
    this.fixed = new AtomicReferenceArray<>(n);
    for (int i = 0; i < n; i++) {
      routes.set(i, List.of());
      fixed.set(i, false);
    }
  }

  /**
   * Sends to {@code peer} through {@code inbox} from now on; the {@link #directory} no longer
   * changes this route. {@code inbox} is typically resolved from the peer's actor path (see {@link
   * #inboxPath}), so it stays valid across the peer's restarts.
   */
  public void useFixedRoute(int peer, ActorRef<PeerPacket> inbox) {
    if (peer == self) throw new IllegalArgumentException("no route to self");
    fixed.set(peer, true);
    routes.set(peer, List.of(inbox));
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
    List<ActorRef<PeerPacket>> to = routes.get(e.to());
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

  /** True once a route to {@code peer} is known. */
  public boolean knows(int peer) {
    return !routes.get(peer).isEmpty();
  }

  /** Subscribes to every other peer's key and updates this transport's routes. */
  public Behavior<Receptionist.Listing> directory(String group) {
    return Behaviors.setup(
        ctx -> {
          for (int i = 0; i < routes.length(); i++) {
            if (i != self) ctx.getSystem().receptionist().tell(Receptionist.subscribe(peerKey(group, i), ctx.getSelf()));
          }
          return Behaviors.receiveMessage(
              listing -> {
                for (int i = 0; i < routes.length(); i++) {
                  ServiceKey<PeerPacket> key = peerKey(group, i);
                  if (listing.isForKey(key) && !fixed.get(i)) {
                    // all instances, reachable or not: a paused peer that comes back must hear from us
                    List<ActorRef<PeerPacket>> now = List.copyOf(listing.getAllServiceInstances(key));
                    routes.set(i, now);
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
