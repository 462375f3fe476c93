package io.raftkv.server;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.HttpChallenge;
import org.apache.pekko.http.javadsl.model.headers.WWWAuthenticate;
import org.apache.pekko.http.javadsl.server.Route;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bearer tokens for the HTTP API (RFC 6750), of two kinds: a read token may {@code GET}; a write
 * token may do anything (reads, writes, leadership transfer). Without a valid token a request is
 * answered 401 {@code {"error":"Unauthorized"}} with {@code WWW-Authenticate: Bearer}; a read token
 * on anything but GET/HEAD gets 403 {@code {"error":"Forbidden"}}. {@code GET /v1/status} and
 * {@code GET /metrics} (no keys, no values: Raft positions and request counts) stay open unless
 * {@code openNodeEndpoints} is off.
 *
 * <p>Only SHA-256 digests of the tokens are kept; a presented token is digested and compared with
 * every known digest by {@link MessageDigest#isEqual} (constant time, no early exit), so the time
 * an answer takes says nothing about how much of a token was right. Tokens are never logged.
 */
public final class HttpAuth {
  private static final Logger log = LoggerFactory.getLogger(HttpAuth.class);

  /** The shortest token accepted: guessing must stay out of reach. */
  public static final int MIN_TOKEN_LENGTH = 16;

  // RFC 6750 b64token: what fits in "Authorization: Bearer ..." unquoted
  private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9._~+/-]+=*");
  private static final Set<String> OPEN_PATHS = Set.of("/v1/status", "/metrics");

  /** What a request gets. */
  public enum Decision {
    ALLOW,
    /** No bearer token: 401. */
    NO_TOKEN,
    /** A token that is not one of ours: 401 with {@code error="invalid_token"}. */
    INVALID_TOKEN,
    /** A read token on a write: 403. */
    FORBIDDEN
  }

  private final List<byte[]> readDigests;
  private final List<byte[]> writeDigests;
  private final boolean openNodeEndpoints;

  private HttpAuth(List<byte[]> readDigests, List<byte[]> writeDigests, boolean openNodeEndpoints) {
    this.readDigests = List.copyOf(readDigests);
    this.writeDigests = List.copyOf(writeDigests);
    this.openNodeEndpoints = openNodeEndpoints;
  }

  /**
   * @param readTokens may GET only (may be empty)
   * @param writeTokens may do everything; at least one
   * @param openNodeEndpoints whether GET /v1/status and GET /metrics need no token
   */
  public static HttpAuth of(Collection<String> readTokens, Collection<String> writeTokens, boolean openNodeEndpoints) {
    if (writeTokens.isEmpty()) throw new IllegalArgumentException("auth needs at least one write token (else nothing could ever write)");
    return new HttpAuth(digests(readTokens, "read"), digests(writeTokens, "write"), openNodeEndpoints);
  }

  /**
   * Reads an {@code auth} section: {@code write-token-file} (required), {@code read-token-file}
   * (optional), {@code open-node-endpoints} (default on). Returns null when {@code enabled = off}.
   */
  public static HttpAuth fromConfig(Config c) {
    try {
      if (c.hasPath("enabled") && !c.getBoolean("enabled")) return null;
      if (!c.hasPath("write-token-file")) throw new IllegalArgumentException("auth needs write-token-file");
      Path write = Path.of(c.getString("write-token-file"));
      Path read = c.hasPath("read-token-file") ? Path.of(c.getString("read-token-file")) : null;
      boolean open = !c.hasPath("open-node-endpoints") || c.getBoolean("open-node-endpoints");
      return fromFiles(read, write, open);
    } catch (ConfigException e) {
      throw new IllegalArgumentException("bad auth section: " + e.getMessage(), e);
    }
  }

  /** Tokens from files (see {@link #readTokenFile}); {@code readFile} may be null. */
  public static HttpAuth fromFiles(Path readFile, Path writeFile, boolean openNodeEndpoints) {
    List<String> read = readFile == null ? List.of() : readTokenFile(readFile);
    List<String> write = readTokenFile(writeFile);
    if (write.isEmpty()) throw new IllegalArgumentException("no token in " + writeFile);
    return of(read, write, openNodeEndpoints);
  }

  /**
   * The tokens of a token file: one a line; blank lines and lines starting with {@code #} are
   * skipped, surrounding white space is dropped. Warns when others than the owner may read it.
   */
  public static List<String> readTokenFile(Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read the token file " + file + ": " + e.getMessage(), e);
    }
    warnIfShared(file);
    List<String> tokens = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String t = lines.get(i).strip();
      if (t.isEmpty() || t.startsWith("#")) continue;
      // the line number, never the token: this message may end up in a log
      if (t.length() < MIN_TOKEN_LENGTH) throw new IllegalArgumentException(file + " line " + (i + 1) + ": a token needs at least " + MIN_TOKEN_LENGTH + " characters");
      if (!TOKEN.matcher(t).matches()) throw new IllegalArgumentException(file + " line " + (i + 1) + ": a token is letters, digits and -._~+/ (then = padding)");
      tokens.add(t);
    }
    return tokens;
  }

  private static void warnIfShared(Path file) {
    try {
      Set<PosixFilePermission> p = Files.getPosixFilePermissions(file);
      if (p.contains(PosixFilePermission.GROUP_READ) || p.contains(PosixFilePermission.OTHERS_READ)) {
        log.warn("token file {} is readable by other users (chmod 600 it)", file);
      }
    } catch (IOException | UnsupportedOperationException e) {
      // no POSIX permissions here: nothing to say
    }
  }

  private static List<byte[]> digests(Collection<String> tokens, String kind) {
    List<byte[]> out = new ArrayList<>();
    for (String t : tokens) {
      if (t == null || t.length() < MIN_TOKEN_LENGTH || !TOKEN.matcher(t).matches()) {
        throw new IllegalArgumentException("a " + kind + " token must be at least " + MIN_TOKEN_LENGTH + " of the characters A-Z a-z 0-9 -._~+/");
      }
      out.add(sha256(t));
    }
    return out;
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  /**
   * What a request gets.
   *
   * @param method the HTTP method, e.g. {@code GET}
   * @param path the request's path, e.g. {@code /v1/kv/k}
   * @param authorization the {@code Authorization} header's value, if any
   */
  public Decision decide(String method, String path, Optional<String> authorization) {
    boolean read = method.equals("GET") || method.equals("HEAD");
    if (openNodeEndpoints && read && OPEN_PATHS.contains(path)) return Decision.ALLOW;
    String token = bearer(authorization);
    if (token == null) return Decision.NO_TOKEN;
    byte[] presented = sha256(token);
    boolean writer = false;
    boolean reader = false;
    for (byte[] d : writeDigests) writer |= MessageDigest.isEqual(d, presented);
    for (byte[] d : readDigests) reader |= MessageDigest.isEqual(d, presented);
    if (writer) return Decision.ALLOW;
    if (reader) return read ? Decision.ALLOW : Decision.FORBIDDEN;
    return Decision.INVALID_TOKEN;
  }

  /** The token of {@code Bearer TOKEN} (the scheme in any case), else null. */
  static String bearer(Optional<String> authorization) {
    if (authorization.isEmpty()) return null;
    String v = authorization.get().strip();
    int space = v.indexOf(' ');
    if (space < 0 || !v.substring(0, space).equalsIgnoreCase("Bearer")) return null;
    String t = v.substring(space + 1).strip();
    return t.isEmpty() ? null : t;
  }

  /** {@code inner}, behind the token check: refused requests never reach it. */
  public Route protect(Route inner) {
    return extractRequest(
        request -> {
          Decision d =
              decide(request.method().value(), request.getUri().path(), request.getHeader("Authorization").map(HttpHeader::value));
          return d == Decision.ALLOW ? inner : complete(refusal(d));
        });
  }

  static HttpResponse refusal(Decision d) {
    return switch (d) {
      case NO_TOKEN -> HttpOutcomes.error(StatusCodes.UNAUTHORIZED, "Unauthorized", null)
          .addHeader(WWWAuthenticate.create(HttpChallenge.create("Bearer", "raftkv")));
      case INVALID_TOKEN -> HttpOutcomes.error(StatusCodes.UNAUTHORIZED, "Unauthorized", null)
          .addHeader(WWWAuthenticate.create(HttpChallenge.create("Bearer", "raftkv", Map.of("error", "invalid_token"))));
      case FORBIDDEN -> HttpOutcomes.error(StatusCodes.FORBIDDEN, "Forbidden", "a read token cannot write");
      case ALLOW -> throw new IllegalArgumentException("not a refusal");
    };
  }

  @Override
  public String toString() {
    return "HttpAuth[" + writeDigests.size() + " write tokens, " + readDigests.size() + " read tokens, node endpoints "
        + (openNodeEndpoints ? "open" : "protected") + "]";
  }
}
