package io.raftkv.server;

import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.ParsingErrorHandler;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.scaladsl.model.ErrorInfo;
import org.apache.pekko.http.scaladsl.model.StatusCode;
import org.apache.pekko.http.scaladsl.settings.ServerSettings;

/**
 * Answers what pekko-http refuses before any route sees it (a malformed request line or header, a
 * URI or head over the limits, an unknown method or HTTP version, a broken body framing) with the
 * API's JSON error shape, keeping pekko-http's status, and logs it through the connection's {@link
 * ConnectionLog} (one line per connection, rate-limited) instead of a WARN per request.
 *
 * <p>Named in {@code pekko.http.server.parsing.error-handler}; pekko-http creates one per connection
 * through this public no-argument constructor. Stateless.
 */
public final class JsonParsingErrorHandler extends ParsingErrorHandler {

  public JsonParsingErrorHandler() {}

  @Override
  public HttpResponse handle(StatusCode status, ErrorInfo info, LoggingAdapter log, ServerSettings settings) {
    String message = info.summary().isEmpty() ? status.reason() : info.summary();
    int code = statusFor(status.intValue(), message);
    if (log instanceof ConnectionLog c) c.metrics().countRefusedBeforeRouting();
    if (log != null && log.isWarningEnabled()) log.warning("refused a request with " + code + ": " + message);
    return HttpOutcomes.error(StatusCodes.get(code), errorName(code), message);
  }

  /**
   * pekko-http's status, with two changes. Too many header fields is 431 (RFC 6585 §5), where
   * pekko-http says 400. And no 5xx: an unknown method (pekko-http's 501), an unsupported HTTP
   * version (505) or transfer coding are the client's doing, and a 5xx would tell monitoring that
   * the server failed; they are 400, the message naming what was not understood.
   */
  static int statusFor(int pekkoStatus, String summary) {
    if (pekkoStatus >= 500) return 400;
    if (pekkoStatus != 400) return pekkoStatus;
    if (summary.startsWith("HTTP message contains more than the configured limit")) return 431;
    return 400;
  }

  /** The {@code error} field for a status that pekko-http (or the connection guard) answers with. */
  static String errorName(int status) {
    return switch (status) {
      case 408 -> "RequestTimeout";
      case 413 -> "TooLarge";
      case 414 -> "UriTooLong";
      case 431 -> "HeaderTooLarge";
      default -> "BadRequest";
    };
  }
}
