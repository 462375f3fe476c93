package io.raftkv.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;

/**
 * Sends one request to a cluster's HTTP endpoints in turn: the next endpoint is tried when one
 * cannot be reached, answers 503 (no leader, no quorum) or, for requests that are safe to repeat,
 * 504 (outcome unknown). Every try is reported on {@code err}. Blocking; for a command line.
 */
final class HttpFailover {

  /** An endpoint's answer. */
  record Answer(URI endpoint, int status, String body) {}

  private final List<URI> endpoints;
  private final Duration timeout;
  private final PrintWriter err;
  private final HttpClient http;
  private final String token; // null: none sent

  HttpFailover(List<URI> endpoints, Duration timeout, PrintWriter err) {
    this(endpoints, timeout, err, null, null);
  }

  /**
   * @param tls trust for https endpoints (null: the JDK's default)
   * @param token sent as {@code Authorization: Bearer} with every request (null: none)
   */
  HttpFailover(List<URI> endpoints, Duration timeout, PrintWriter err, SSLContext tls, String token) {
    this.endpoints = List.copyOf(endpoints);
    this.timeout = timeout;
    this.err = err;
    this.token = token;
    HttpClient.Builder b = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(timeout);
    if (tls != null) b.sslContext(tls);
    this.http = b.build();
  }

  List<URI> endpoints() {
    return endpoints;
  }

  /**
   * @param pathAndQuery already percent-encoded
   * @param jsonBody null for none
   * @param repeatable whether sending the request again cannot do harm (a read, or a write with a
   *     client session): then a 504 moves on to the next endpoint too
   * @return the first answer that settles the request; else the last 503/504 answer; else null
   *     (no endpoint could be reached)
   */
  Answer send(String method, String pathAndQuery, String jsonBody, boolean repeatable) {
    Answer last = null;
    for (URI endpoint : endpoints) {
      Answer a = sendTo(endpoint, method, pathAndQuery, jsonBody);
      if (a == null) continue;
      boolean tryNext = a.status() == 503 || (repeatable && a.status() == 504);
      if (!tryNext) return a;
      err.println(endpoint + ": " + a.status() + " " + a.body());
      last = a;
    }
    return last;
  }

  /** One endpoint's answer, or null (reported on err) when it could not be reached. */
  Answer sendTo(URI endpoint, String method, String pathAndQuery, String jsonBody) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(endpoint + pathAndQuery))
            .timeout(timeout)
            .method(
                method,
                jsonBody == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(jsonBody, StandardCharsets.UTF_8));
    if (jsonBody != null) b.header("Content-Type", "application/json");
    if (token != null) b.header("Authorization", "Bearer " + token);
    try {
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      return new Answer(endpoint, r.statusCode(), r.body());
    } catch (IOException e) {
      err.println(endpoint + ": " + (e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName()));
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      err.println(endpoint + ": interrupted");
      return null;
    }
  }

  /** {@code key} as one path segment: its UTF-8 bytes percent-encoded, but for letters, digits and "-._~". */
  static String pathSegment(String key) {
    StringBuilder sb = new StringBuilder(key.length() + 16);
    for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "-._~".indexOf(c) >= 0) {
        sb.append((char) c);
      } else {
        sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)));
        sb.append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      }
    }
    return sb.toString();
  }
}
