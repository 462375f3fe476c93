package io.raftkv.transport;

import io.raftkv.codec.ByteWriter;
import io.raftkv.raft.Envelope;
import io.raftkv.raft.PeerTransport;
import io.raftkv.raft.RaftCodec;
import io.raftkv.raft.RaftMessage;
import io.raftkv.raft.RaftPeer;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.pekko.actor.typed.ActorRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One incarnation of a Raft peer on a {@link SimNetwork}, as the lab wires it: a request from this
 * peer to peer {@code j} is a {@link SimNetwork.Call} through this incarnation's own end to {@code
 * j}, and the answer travels back on that call, so the network decides (labrpc's rules) whether and
 * when a reply arrives. Replies of an old incarnation never reach a new one, which has new ends.
 *
 * <p>Server side ({@link #service()}): an incoming request is handed to the bound {@link RaftPeer}
 * as {@link RaftPeer.Inbound}; the call is answered by the reply the peer later sends back to that
 * requester. This relies on RaftCore's contract that it answers every request exactly once, at once,
 * in the order the requests arrived: answers are matched to calls first-in first-out per requester
 * and kind of request.
 *
 * <p>Thread-safety: {@link #send} runs on the peer's actor; {@link #service()} on the network's;
 * replies arrive on the network's. The queues between them are concurrent.
 */
public final class SimPeerTransport implements PeerTransport {
  private static final Logger log = LoggerFactory.getLogger(SimPeerTransport.class);

  /**
   * Raft envelopes on the wire: the message in {@link RaftCodec}'s encoding plus the sender's id
   * (the lab's args carry it too); the receiver gets a decoded copy.
   */
  public static final SimNetwork.Wire WIRE =
      m -> {
        if (!(m instanceof Envelope e)) return null;
        byte[] b = RaftCodec.encode(e.message());
        int size = b.length + ByteWriter.varintSize(e.from());
        return new SimNetwork.Transmission(new Envelope(e.from(), e.to(), RaftCodec.decodeMessage(b)), size);
      };

  private final ActorRef<SimNetwork.Command> network;
  private final int id;
  private final List<String> ends;
  private volatile ActorRef<RaftPeer.Command> peer;
  /** Calls from (requester, kind of request) waiting for this peer's answer, oldest first. */
  private final Map<Long, Queue<CompletableFuture<Object>>> waiting = new ConcurrentHashMap<>();

  /**
   * @param ends this incarnation's end to each peer of the group, by peer id ({@code ends.get(id)}
   *     points at this peer itself and is never used)
   */
  public SimPeerTransport(ActorRef<SimNetwork.Command> network, int id, List<String> ends) {
    this.network = network;
    this.id = id;
    this.ends = List.copyOf(ends);
  }

  /** The peer that receives inbound requests and replies; bind it before registering the service. */
  public void bind(ActorRef<RaftPeer.Command> peer) {
    this.peer = peer;
  }

  /** The handler to register on the network under this peer's server name. */
  public SimNetwork.Service service() {
    return request -> {
      Envelope e = (Envelope) request;
      CompletableFuture<Object> answer = new CompletableFuture<>();
      ActorRef<RaftPeer.Command> p = peer;
      if (p == null) return answer; // not started: no answer, like a handler that never returns
      if (!e.message().expectsReply()) {
        // one-way (TimeoutNow): delivered, never answered, and it takes no place in the queues
        p.tell(new RaftPeer.Inbound(e.from(), e.message()));
        return answer;
      }
      // enqueue before telling, on one thread: the peer answers in the order it was told
      waiting.computeIfAbsent(key(e.from(), e.message()), k -> new ConcurrentLinkedQueue<>()).add(answer);
      p.tell(new RaftPeer.Inbound(e.from(), e.message()));
      return answer;
    };
  }

  @Override
  public void send(Envelope e) {
    if (e.message().isReply()) {
      Queue<CompletableFuture<Object>> q = waiting.get(key(e.to(), e.message()));
      CompletableFuture<Object> answer = q == null ? null : q.poll();
      if (answer == null) {
        log.warn("n{}: a reply to n{} answers no request: {}", id, e.to(), e.message());
        return;
      }
      answer.complete(e);
      return;
    }
    SimNetwork.call(network, ends.get(e.to()), e)
        .thenAccept(
            reply -> reply.ifPresent(r -> {
              ActorRef<RaftPeer.Command> p = peer;
              Envelope answer = (Envelope) r;
              if (p != null) p.tell(new RaftPeer.Inbound(e.to(), answer.message()));
            }));
  }

  /** Requests and their answers share a key: the requester's id and the kind of exchange. */
  private static long key(int requester, RaftMessage m) {
    int kind;
    if (m instanceof RaftMessage.RequestVote || m instanceof RaftMessage.RequestVoteReply) {
      kind = 0;
    } else if (m instanceof RaftMessage.AppendEntries || m instanceof RaftMessage.AppendEntriesReply) {
      kind = 1;
    } else {
      kind = 2;
    }
    return (long) requester * 3 + kind;
  }
}
