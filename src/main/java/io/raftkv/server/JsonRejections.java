package io.raftkv.server;

import static org.apache.pekko.http.javadsl.server.Directives.complete;

import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpMethod;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.Allow;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.MethodRejection;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.scaladsl.model.IllegalRequestException;

/**
 * What the sealed routes answer when no route took a request or one failed: the API's JSON error
 * shape instead of pekko-http's plain text, so that clients parse every error the same way.
 */
final class JsonRejections {
  private JsonRejections() {}

  /** 405 with {@code Allow}, 404 NotFound, and pekko's own rejections turned into JSON. */
  static RejectionHandler rejectionHandler() {
    return RejectionHandler.newBuilder()
        .handleAll(
            MethodRejection.class,
            rejections -> {
              HttpMethod[] allowed = rejections.stream().map(MethodRejection::supported).distinct().toArray(HttpMethod[]::new);
              return complete(
                  HttpOutcomes.error(StatusCodes.METHOD_NOT_ALLOWED, "MethodNotAllowed", null).addHeader(Allow.create(allowed)));
            })
        .handleNotFound(complete(HttpOutcomes.error(StatusCodes.NOT_FOUND, "NotFound", null)))
        .build()
        .withFallback(RejectionHandler.defaultHandler())
        .mapRejectionResponse(JsonRejections::asJsonError);
  }

  /** Requests pekko found illegal keep their status; anything else is a 500 that names the failure. */
  static ExceptionHandler exceptionHandler() {
    return ExceptionHandler.newBuilder()
        .match(IllegalRequestException.class, e -> complete(illegalRequest(e)))
        .matchAny(e -> complete(HttpOutcomes.error(StatusCodes.INTERNAL_SERVER_ERROR, "Internal", e.toString())))
        .build();
  }

  /**
   * pekko-http's request timeout (set above the deadline, so it fires only if a route hangs): a read
   * changed nothing, a write may have happened.
   */
  static HttpResponse requestTimeout(HttpRequest request) {
    String method = request.method().name();
    return method.equals("GET") || method.equals("HEAD")
        ? HttpOutcomes.error(StatusCodes.SERVICE_UNAVAILABLE, "Unavailable", "no answer within the request timeout")
        : HttpOutcomes.error(StatusCodes.GATEWAY_TIMEOUT, "ErrMaybe", "no answer within the request timeout");
  }

  private static HttpResponse illegalRequest(IllegalRequestException e) {
    String name = e.status().intValue() == 413 ? "TooLarge" : "BadRequest";
    return HttpOutcomes.error(e.status(), name, e.info().summary());
  }

  /** Turns the default handler's plain-text rejections into the API's JSON error shape. */
  private static HttpResponse asJsonError(HttpResponse r) {
    if (r.entity().getContentType().equals(ContentTypes.APPLICATION_JSON)) return r;
    String text = r.entity() instanceof HttpEntity.Strict s ? s.getData().utf8String() : null;
    String name = r.status().intValue() == 413 ? "TooLarge" : r.status().intValue() < 500 ? "BadRequest" : "Internal";
    return HttpOutcomes.error(r.status(), name, text);
  }
}
