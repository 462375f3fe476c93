package io.raftkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StartupArchiveTest {
  @TempDir Path dir;

  @Test
  void theArchiveLivesNextToTheJar() {
    assertEquals(Path.of("/opt/raftkv/raftkv.jsa"), StartupArchive.archiveOf(Path.of("/opt/raftkv/raftkv.jar")));
    assertEquals(Path.of("/opt/x/raftkv-1.2.jsa"), StartupArchive.archiveOf(Path.of("/opt/x/raftkv-1.2.jar")));
  }

  @Test
  void onlyASingleExistingJarCanHaveAnArchive() throws Exception {
    Path jar = Files.createFile(dir.resolve("raftkv.jar"));
    assertEquals(Optional.of(jar.toAbsolutePath()), StartupArchive.singleJar(jar.toString()));
    assertEquals(Optional.empty(), StartupArchive.singleJar(dir.resolve("missing.jar").toString()));
    assertEquals(Optional.empty(), StartupArchive.singleJar(dir.toString())); // classes directory
    assertEquals(Optional.empty(), StartupArchive.singleJar(jar + File.pathSeparator + jar));
    assertEquals(Optional.empty(), StartupArchive.singleJar(null));
  }

  @Test
  void withoutAJarANodeGetsTheFastStartOptionsOnly() {
    String classes = dir.toString(); // as under mvn test: directories, which the JVM cannot archive
    assertEquals(StartupArchive.FAST_START_OPTIONS, StartupArchive.nodeOptions(classes));
  }

  @Test
  void aCurrentArchiveIsUsedWithoutATrainingRun() throws Exception {
    Path jar = Files.createFile(dir.resolve("raftkv.jar"));
    Path archive = Files.writeString(StartupArchive.archiveOf(jar), "archive");
    Files.setLastModifiedTime(archive, Files.getLastModifiedTime(jar)); // as new as the jar
    List<String> opts = StartupArchive.nodeOptions(jar.toString());
    assertTrue(opts.containsAll(StartupArchive.FAST_START_OPTIONS));
    assertTrue(opts.contains("-XX:SharedArchiveFile=" + archive.toAbsolutePath()), opts.toString());
  }

  @Test
  void aStaleArchiveIsNotUsedWhenNoTrainingRunCanMakeANewOne() throws Exception {
    Path jar = Files.writeString(dir.resolve("raftkv.jar"), "not a jar"); // the training node cannot start
    Path archive = Files.writeString(StartupArchive.archiveOf(jar), "old archive");
    Files.setLastModifiedTime(archive, java.nio.file.attribute.FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() - 60_000));
    assertEquals(StartupArchive.FAST_START_OPTIONS, StartupArchive.nodeOptions(jar.toString()));
  }
}
