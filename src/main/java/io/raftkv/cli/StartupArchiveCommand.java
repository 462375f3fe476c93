package io.raftkv.cli;

import io.raftkv.server.StartupArchive;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code raftkv startup-archive}: makes the jar's class-data archive (see {@link StartupArchive}). */
@Command(
    name = "startup-archive",
    mixinStandardHelpOptions = true,
    description = {
      "Make the class-data sharing archive that lets node JVMs start fast (a training run of about 6 s),",
      "unless it is newer than the jar already; prints its path. bin/raftkv does this on first use."
    })
final class StartupArchiveCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(arity = "0..1", paramLabel = "JAR", description = "The raftkv jar (default: the one running this command).")
  Path jar;

  @Override
  public Integer call() {
    Optional<Path> target = jar != null ? Optional.of(jar.toAbsolutePath()) : StartupArchive.singleJar(System.getProperty("java.class.path"));
    if (target.isEmpty()) {
      spec.commandLine().getErr().println("Not run from a single jar: name the raftkv jar.");
      return Main.USAGE;
    }
    Optional<Path> archive = StartupArchive.ensure(target.get());
    if (archive.isEmpty()) return Main.SOFTWARE;
    spec.commandLine().getOut().println(archive.get());
    return Main.OK;
  }
}
