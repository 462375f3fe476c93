package io.raftkv.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * The logging of the raftkv jar (found by logback through {@code META-INF/services}): INFO and up
 * to stdout as {@code 10:15:30.123 INFO  i.r.raft.RaftPeer - n1 became leader at term 3}, Pekko's
 * own loggers at WARN ({@code -Dpekko.log=INFO} shows them) and the stream materializer's at ERROR.
 *
 * <p>Set up in code because logback's XML configurator (Joran, its SAX parser and model) loads
 * about 600 classes and spins about 140 lambdas: a third of a second of a node's start-up on one
 * core, twice that with the JIT's work. {@code -Dlogback.configurationFile=FILE} still configures
 * logging from a file, and the tests' {@code logback-test.xml} wins over this too.
 */
public final class LogConfigurator extends ContextAwareBase implements Configurator {
  static final String PATTERN = "%d{HH:mm:ss.SSS} %-5level %logger{20} - %msg%n";

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (System.getProperty("logback.configurationFile") != null
        || LogConfigurator.class.getClassLoader().getResource("logback-test.xml") != null) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY; // logback's own configurator reads the file
    }
    configureDefaults(context);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  /** The jar's logging, as described above, on {@code context}. */
  static void configureDefaults(LoggerContext context) {
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern(PATTERN);
    encoder.start();
    ConsoleAppender<ILoggingEvent> stdout = new ConsoleAppender<>();
    stdout.setContext(context);
    stdout.setName("STDOUT");
    stdout.setEncoder(encoder);
    stdout.start();
    context.getLogger("org.apache.pekko.stream.Materializer").setLevel(Level.ERROR);
    // Pekko's INFO lines (cluster gossip, remoting) drown the node's own.
    context.getLogger("org.apache.pekko").setLevel(Level.toLevel(System.getProperty("pekko.log"), Level.WARN));
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.INFO);
    root.addAppender(stdout);
  }
}
