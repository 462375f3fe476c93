package io.raftkv.server;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.Map;
import java.util.Objects;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import org.apache.pekko.actor.setup.ActorSystemSetup;
import org.apache.pekko.actor.BootstrapSetup;
import org.apache.pekko.remote.artery.tcp.SSLEngineProvider;
import org.apache.pekko.remote.artery.tcp.SSLEngineProviderSetup;
import scala.Option;

/**
 * Artery's TLS between nodes ({@code pekko.remote.artery.transport = tls-tcp}) from the node's own
 * SSLContext, handed to the ActorSystem through an {@link SSLEngineProviderSetup} (so no password
 * goes into the ActorSystem's config). TLS 1.3 only; mutual authentication: the accepting side
 * requires the connecting node's certificate, and each side accepts only a chain that ends at a
 * certificate its SSLContext trusts. Host names are not checked (nodes address each other by the
 * member list, and any holder of a trusted certificate is a node), as with Pekko's own default.
 */
final class ArteryTls implements SSLEngineProvider {
  private static final String[] PROTOCOLS = {"TLSv1.3"};

  private final SSLContext context;

  ArteryTls(SSLContext context) {
    this.context = Objects.requireNonNull(context, "context");
  }

  /** What a config needs on top to run Artery over TLS. */
  static Config transportConfig() {
    return ConfigFactory.parseMap(Map.of("pekko.remote.artery.transport", "tls-tcp"));
  }

  /** The ActorSystem's setup: {@code config} with Artery over TLS from {@code context}. */
  static ActorSystemSetup setup(Config config, SSLContext context) {
    ArteryTls provider = new ArteryTls(context);
    return ActorSystemSetup.create(
        BootstrapSetup.create(transportConfig().withFallback(config)), SSLEngineProviderSetup.create(system -> provider));
  }

  @Override
  public SSLEngine createServerSSLEngine(String hostname, int port) {
    SSLEngine e = context.createSSLEngine(hostname, port);
    e.setUseClientMode(false);
    e.setEnabledProtocols(PROTOCOLS);
    e.setNeedClientAuth(true);
    return e;
  }

  @Override
  public SSLEngine createClientSSLEngine(String hostname, int port) {
    SSLEngine e = context.createSSLEngine(hostname, port);
    e.setUseClientMode(true);
    e.setEnabledProtocols(PROTOCOLS);
    return e;
  }

  // The handshake already checked the peer's chain against the trusted certificates.
  @Override
  public Option<Throwable> verifyClientSession(String hostname, SSLSession session) {
    return Option.empty();
  }

  @Override
  public Option<Throwable> verifyServerSession(String hostname, SSLSession session) {
    return Option.empty();
  }
}
