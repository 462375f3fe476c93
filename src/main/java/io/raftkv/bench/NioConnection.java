package io.raftkv.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * A client connection on {@link NioHttpClient}'s I/O thread, whatever it speaks ({@link
 * Http1Connection}, {@link Http2Connection}): its channel, the connect (no new try before the
 * backoff after a failure), readiness handed to {@link #connectedNow}, {@link #flush} and {@link
 * #read}, and the close. All state belongs to the I/O thread.
 */
abstract class NioConnection implements NioHttpClient.Handler {
  final NioHttpClient loop;
  private final InetSocketAddress address;
  SocketChannel channel; // null: none open
  SelectionKey key;
  boolean connected;
  String lastFailure = "none"; // why the last connect failed
  private long noConnectBefore;

  NioConnection(NioHttpClient loop, InetSocketAddress address) {
    this.loop = loop;
    this.address = address;
  }

  /** Starts connecting; false (and a backoff) if that failed at once or a backoff runs. */
  final boolean openChannel() {
    if (System.nanoTime() - noConnectBefore < 0) return false;
    try {
      channel = NioHttpClient.openChannel(address);
      connected = channel.isConnected();
      key = loop.register(channel, connected ? SelectionKey.OP_READ : SelectionKey.OP_CONNECT, this);
      return true;
    } catch (IOException e) {
      connectFailed(NioHttpClient.describe(e));
      closeChannel();
      return false;
    }
  }

  /** A failed connect: {@code why} is what requests without a connection are told, until the backoff is over. */
  final void connectFailed(String why) {
    lastFailure = why;
    noConnectBefore = System.nanoTime() + loop.backoff().toNanos();
  }

  @Override
  public final void ready(SelectionKey k) {
    try {
      if (k.isConnectable()) {
        channel.finishConnect();
        connected = true;
        k.interestOps(SelectionKey.OP_READ);
        connectedNow();
        return;
      }
      if (k.isWritable()) flush();
      if (k.isReadable()) read();
    } catch (IOException e) {
      broken(NioHttpClient.describe(e), !connected);
    }
  }

  /** The connect has just completed: what waited for it may be written. */
  abstract void connectedNow();

  /** Writes what is pending, as much as the channel takes. */
  abstract void flush();

  /** Reads what the channel has. */
  abstract void read() throws IOException;

  /** The connection is unusable: its requests fail, the channel closes; {@code connectFailure}: it never connected. */
  abstract void broken(String why, boolean connectFailure);

  /** Closes the channel; a subclass that keeps more per channel resets it too, and calls this. */
  void closeChannel() {
    NioHttpClient.closeQuietly(channel);
    channel = null;
    key = null;
    connected = false;
  }
}
