package io.raftkv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/** The jar's logging set-up in code: what logback.xml used to say, and out of the way of files. */
class LogConfiguratorTest {
  @Test
  void theDefaultsAreInfoToStdoutWithPekkoAtWarn() {
    LoggerContext context = new LoggerContext();
    LogConfigurator.configureDefaults(context);
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    assertEquals(Level.INFO, root.getLevel());
    assertEquals(Level.INFO, context.getLogger("io.raftkv.raft.RaftPeer").getEffectiveLevel());
    assertEquals(Level.WARN, context.getLogger("org.apache.pekko.cluster.Cluster").getEffectiveLevel());
    assertEquals(Level.ERROR, context.getLogger("org.apache.pekko.stream.Materializer").getEffectiveLevel());
    ConsoleAppender<ILoggingEvent> stdout = (ConsoleAppender<ILoggingEvent>) root.getAppender("STDOUT");
    assertTrue(stdout.isStarted());
    assertEquals(LogConfigurator.PATTERN, ((PatternLayoutEncoder) stdout.getEncoder()).getPattern());
    context.stop();
  }

  @Test
  void aLogbackTestFileOnTheClassPathIsLeftToLogback() {
    // this test's class path has logback-test.xml
    LoggerContext context = new LoggerContext();
    assertEquals(Configurator.ExecutionStatus.INVOKE_NEXT_IF_ANY, new LogConfigurator().configure(context));
    assertFalse(context.getLogger(Logger.ROOT_LOGGER_NAME).iteratorForAppenders().hasNext());
    context.stop();
  }

  @Test
  void logbackFindsItAsAService() {
    assertTrue(
        ServiceLoader.load(Configurator.class).stream().anyMatch(p -> p.type() == LogConfigurator.class),
        "META-INF/services/ch.qos.logback.classic.spi.Configurator names LogConfigurator");
  }
}
