package io.raftkv.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.raftkv.client.KvClient;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;

/**
 * How a KV request ended, as an HTTP answer and a metrics outcome: the one place that maps the
 * Clerk's results and the parser's refusals to statuses and JSON bodies. Also the API's JSON
 * response helpers, so that every body is written the same way.
 */
final class HttpOutcomes {
  private static final ObjectMapper JSON = new ObjectMapper();

  private HttpOutcomes() {}

  /** The answer to one KV request and how {@link Metrics} counts it. */
  record Outcome(Metrics.Outcome kind, HttpResponse response) {}

  /** The answer to {@code op} on {@code key}, from the Clerk's result (or a Timeout at the deadline). */
  static Outcome of(Metrics.Op op, String key, KvClient.Result r) {
    boolean read = op == Metrics.Op.GET;
    return switch (r.err()) {
      case OK -> {
        ObjectNode body = object();
        if (read) body.put("key", key).put("value", r.value()).put("version", r.version());
        else if (op == Metrics.Op.DELETE) body.put("deleted", true);
        else body.put("version", r.version());
        yield new Outcome(Metrics.Outcome.OK, json(StatusCodes.OK, body));
      }
      case ErrNoKey -> new Outcome(Metrics.Outcome.NO_KEY, error(StatusCodes.NOT_FOUND, "ErrNoKey", null));
      case ErrVersion -> {
        ObjectNode body = object().put("error", "ErrVersion").put("version", r.version());
        yield new Outcome(Metrics.Outcome.VERSION_CONFLICT, json(StatusCodes.CONFLICT, body));
      }
      case ErrStaleSeq -> {
        // the Result's version field carries the session's latest seq here
        ObjectNode body =
            object()
                .put("error", "ErrStaleSeq")
                .put("message", "the session has moved past this seq; the write was not executed now")
                .put("seq", r.version());
        yield new Outcome(Metrics.Outcome.STALE_SEQ, json(StatusCodes.CONFLICT, body));
      }
      case ErrTooLarge ->
          // the Result's version field carries the value limit here; the store changed nothing
          new Outcome(
              Metrics.Outcome.TOO_LARGE,
              error(StatusCodes.CONTENT_TOO_LARGE, "TooLarge", "the value would be longer than " + r.version() + " bytes"));
      case Busy -> new Outcome(Metrics.Outcome.BUSY, error(StatusCodes.SERVICE_UNAVAILABLE, "Busy", null));
      // a read that got no answer changed nothing, so it is merely unavailable; a write may have
      // happened, and the client must be told so
      case ErrMaybe, Timeout ->
          read
              ? new Outcome(Metrics.Outcome.UNAVAILABLE, error(StatusCodes.SERVICE_UNAVAILABLE, "Unavailable", null))
              : new Outcome(Metrics.Outcome.MAYBE, error(StatusCodes.GATEWAY_TIMEOUT, "ErrMaybe", null));
    };
  }

  /** The answer to a request refused before it reached the store. */
  static Outcome refused(ClientError e) {
    StatusCode status = e.outcome() == Metrics.Outcome.TOO_LARGE ? StatusCodes.CONTENT_TOO_LARGE : StatusCodes.BAD_REQUEST;
    return new Outcome(e.outcome(), error(status, e.error(), e.message()));
  }

  static ObjectNode object() {
    return JSON.createObjectNode();
  }

  static HttpResponse json(StatusCode status, JsonNode body) {
    byte[] bytes;
    try {
      bytes = JSON.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize a JSON tree", e);
    }
    return HttpResponse.create().withStatus(status).withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, bytes));
  }

  /** {@code {"error": error[, "message": message]}}; no message when it is null. */
  static HttpResponse error(StatusCode status, String error, String message) {
    ObjectNode body = object().put("error", error);
    if (message != null) body.put("message", message);
    return json(status, body);
  }
}
