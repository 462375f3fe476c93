package io.raftkv.server;

import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.event.LoggingAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The log of one HTTP connection: everything pekko-http's server layer and the connection's guard
 * report about it. A misbehaving client gets at most one line per connection (the first; later ones
 * go to DEBUG), and the node's {@link LogLimiter} bounds the lines of all connections together; a
 * line let through after others were held back says how many. ERROR lines (a fault of the server,
 * not of the client) are never demoted, only rate-limited.
 */
final class ConnectionLog implements LoggingAdapter {
  static final Logger LOG = LoggerFactory.getLogger("io.raftkv.server.http");

  private final LogLimiter limiter;
  private final Metrics metrics;
  private final String peer;
  private final AtomicBoolean spoke = new AtomicBoolean();

  ConnectionLog(LogLimiter limiter, Metrics metrics, InetSocketAddress remote) {
    this.limiter = limiter;
    this.metrics = metrics;
    this.peer = remote == null ? "?" : remote.getAddress().getHostAddress() + ":" + remote.getPort();
  }

  private enum Level { ERROR, WARN, INFO }

  /** The node's metrics, which count what happens to connections. */
  Metrics metrics() {
    return metrics;
  }

  /** One line about this connection (WARN), subject to the limits above. */
  void warn(String message) {
    line(Level.WARN, message, null);
  }

  private void line(Level level, String message, Throwable cause) {
    String text = "HTTP client " + peer + ": " + message;
    if (level != Level.ERROR && !spoke.compareAndSet(false, true)) {
      LOG.debug(text);
      return;
    }
    long suppressed = limiter.tryAcquire();
    if (suppressed < 0) {
      metrics.countSuppressedLogLine();
      LOG.debug(text);
      return;
    }
    if (suppressed > 0) text += " (" + suppressed + " more line" + (suppressed == 1 ? "" : "s") + " about HTTP clients suppressed)";
    switch (level) {
      case ERROR -> LOG.error(text, cause);
      case WARN -> LOG.warn(text);
      case INFO -> LOG.info(text);
    }
  }

  @Override
  public boolean isErrorEnabled() {
    return LOG.isErrorEnabled();
  }

  @Override
  public boolean isWarningEnabled() {
    return LOG.isWarnEnabled();
  }

  @Override
  public boolean isInfoEnabled() {
    return LOG.isInfoEnabled();
  }

  @Override
  public boolean isDebugEnabled() {
    return LOG.isDebugEnabled();
  }

  @Override
  public void notifyError(String message) {
    line(Level.ERROR, message, null);
  }

  @Override
  public void notifyError(Throwable cause, String message) {
    line(Level.ERROR, message, cause);
  }

  @Override
  public void notifyWarning(String message) {
    line(Level.WARN, message, null);
  }

  @Override
  public void notifyInfo(String message) {
    line(Level.INFO, message, null);
  }

  @Override
  public void notifyDebug(String message) {
    LOG.debug("HTTP client {}: {}", peer, message);
  }
}
