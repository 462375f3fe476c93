package io.raftkv.bench;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.util.ByteString;

/**
 * What every {@link LoadTargets} kind shares: its name and operations, and the transport
 * connections it opens, remembered to close them all after each run. Thread-safe: clients connect
 * from their own threads.
 */
abstract class LoadTargetBase implements LoadTarget {
  /** One client's HTTP/1.1 connection, whichever client implements it. */
  interface Http1 {
    void send(String method, String path, String contentType, byte[] body, Http1Connection.Judge judge, LoadTarget.Completion done);

    void close();
  }

  /** {@link LoadTarget.Connection#send}, for {@link #connection}. */
  @FunctionalInterface
  interface Sender {
    void send(LoadOp op, String key, String value, LoadTarget.Completion done);
  }

  /** {@link LoadTarget.Connection#send} over one client's HTTP/1.1 connection, for {@link #http1Connection}. */
  @FunctionalInterface
  interface Http1Sender {
    void send(Http1 c, LoadOp op, String key, String value, LoadTarget.Completion done);
  }

  final LoadTarget.Settings settings;
  private final String name;
  private final boolean append;
  private final List<Runnable> opened = new ArrayList<>();
  private NioHttpClient nio; // guarded by this; started by the first connection of the benchmark's own clients

  /** @param append whether the service has {@link LoadOp#APPEND} */
  LoadTargetBase(String name, boolean append, LoadTarget.Settings settings) {
    this.name = name;
    this.append = append;
    this.settings = settings;
  }

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final boolean supports(LoadOp op) {
    return op != LoadOp.APPEND || append;
  }

  /** A client's connection that sends with {@code sender} and closes with {@code close}. */
  static LoadTarget.Connection connection(Sender sender, Runnable close) {
    return new LoadTarget.Connection() {
      @Override
      public void send(LoadOp op, String key, String value, LoadTarget.Completion done) {
        sender.send(op, key, value, done);
      }

      @Override
      public void close() {
        close.run();
      }
    };
  }

  /** Client {@code client}'s connection: its own HTTP/1.1 connection ({@link #openHttp1}), sending with {@code sender}. */
  LoadTarget.Connection http1Connection(int client, Http1Sender sender) {
    Http1 c = openHttp1(client);
    return connection((op, key, value, done) -> sender.send(c, op, key, value, done), c::close);
  }

  URI endpoint(int i) {
    return settings.endpoints().get(i % settings.endpoints().size());
  }

  synchronized PekkoConnection openPekko(int endpoint, boolean http2, int maxInFlight) {
    URI e = endpoint(endpoint);
    PekkoConnection c = new PekkoConnection(settings.system(), e.getHost(), e.getPort(), http2, maxInFlight, settings.timeout(), LoadTargets.BACKOFF);
    opened.add(c::close);
    return c;
  }

  /** The I/O thread of the benchmark's own connections, started by the first. */
  synchronized NioHttpClient nio() {
    if (nio == null) nio = new NioHttpClient(settings.timeout(), LoadTargets.BACKOFF);
    return nio;
  }

  /** An HTTP/2 connection of the benchmark's own client to endpoint {@code endpoint mod n}. */
  synchronized Http2Connection openHttp2(int endpoint) {
    URI e = endpoint(endpoint);
    Http2Connection c = nio().http2Connection(e.getHost(), e.getPort());
    opened.add(c::close);
    return c;
  }

  /** Client {@code client}'s own HTTP/1.1 connection to endpoint {@code client mod n}. */
  synchronized Http1 openHttp1(int client) {
    URI e = endpoint(client);
    if (settings.pekkoClient()) {
      PekkoConnection c = openPekko(client, false, 1);
      String base = "http://" + e.getHost() + ":" + e.getPort();
      return new Http1() {
        @Override
        public void send(String method, String path, String contentType, byte[] body, Http1Connection.Judge judge, LoadTarget.Completion done) {
          HttpRequest r = HttpRequest.create(base + path).withMethod(HttpMethods.lookup(method).orElseThrow());
          if (body != null) r = r.withEntity(ContentTypes.parse(contentType), body);
          c.send(r, answer -> {
            int status = answer.status().intValue();
            return answer.entity().getDataBytes().fold(ByteString.emptyByteString(), ByteString::concat)
                .map(bytes -> LoadTargets.orOk(judge.verdict(status, bytes.toArray())));
          }, done);
        }

        @Override
        public void close() {
          c.close();
        }
      };
    }
    Http1Connection c = nio().connection(e.getHost(), e.getPort());
    opened.add(c::close);
    return new Http1() {
      @Override
      public void send(String method, String path, String contentType, byte[] body, Http1Connection.Judge judge, LoadTarget.Completion done) {
        c.send(method, path, contentType, body, judge, done);
      }

      @Override
      public void close() {
        c.close();
      }
    };
  }

  @Override
  public void disconnect() {
    List<Runnable> all;
    synchronized (this) {
      all = List.copyOf(opened);
      opened.clear();
    }
    for (Runnable c : all) c.run();
  }

  @Override
  public void close() {
    disconnect();
    NioHttpClient n;
    synchronized (this) {
      n = nio;
      nio = null;
    }
    if (n != null) n.close();
  }
}
