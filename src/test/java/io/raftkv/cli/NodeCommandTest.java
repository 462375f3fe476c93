package io.raftkv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.raft.HardState;
import io.raftkv.raft.LogEntry;
import io.raftkv.raft.Ready;
import io.raftkv.storage.FileStorage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code raftkv node} refuses bad member lists and damaged data directories with a clear message. */
class NodeCommandTest {
  @TempDir Path dir;

  private record Run(int code, String err) {}

  private static Run run(String... args) {
    CommandLine cl = Main.commandLine(args); // as Main.main builds it: the node command alone
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err));
    cl.setOut(new PrintWriter(new StringWriter()));
    int code = cl.execute(args);
    return new Run(code, err.toString());
  }

  @Test
  void aSubcommandRunsWithOnlyItsOwnModelAndReadsTheSame() {
    CommandLine node = Main.commandLine("node", "--id", "0");
    assertEquals(Set.of("node"), node.getSubcommands().keySet());
    StringWriter usage = new StringWriter();
    node.getSubcommands().get("node").usage(new PrintWriter(usage));
    assertTrue(usage.toString().startsWith("Usage: raftkv node "), usage.toString());
    // help, no command and an unknown one see every subcommand
    Set<String> all = Main.commandLine().getSubcommands().keySet();
    assertTrue(all.containsAll(Set.of("demo", "node", "get", "put", "bench", "help")), all.toString());
    assertEquals(all, Main.commandLine("help", "node").getSubcommands().keySet());
    assertEquals(all, Main.commandLine("frobnicate").getSubcommands().keySet());
  }

  @Test
  void badMembersAndIdsAreUsageErrors() {
    Run r = run("node", "--id", "0", "--members", "127.0.0.1:notaport:8081", "--data-dir", dir.toString());
    assertEquals(Main.USAGE, r.code());
    assertTrue(r.err().contains("bad member 127.0.0.1:notaport:8081"), r.err());
    r = run("node", "--id", "3", "--members", "a:1:2,b:1:2,c:1:2", "--data-dir", dir.toString());
    assertEquals(Main.USAGE, r.code());
    assertTrue(r.err().contains("--id 3 is not one of the 3 members"), r.err());
    r = run("node", "--id", "0");
    assertEquals(Main.USAGE, r.code());
    assertTrue(r.err().contains("need --config FILE"), r.err());
  }

  @Test
  void aJoinNeedsItsAddressTakesNoMemberListAndSaysWhenItCannotJoin() throws Exception {
    Run r = run("node", "--join", "http://127.0.0.1:1", "--data-dir", dir.toString());
    assertEquals(Main.USAGE, r.code());
    assertTrue(r.err().contains("--join needs --address and --data-dir"), r.err());
    r = run("node", "--join", "http://127.0.0.1:1", "--address", "127.0.0.1:2552:8080", "--id", "0", "--data-dir", dir.toString());
    assertEquals(Main.USAGE, r.code());
    assertTrue(r.err().contains("--join takes the id and the members from the cluster"), r.err());
    r = run("node", "--join", "http://127.0.0.1:1", "--address", "127.0.0.1:2552", "--data-dir", dir.toString());
    assertEquals(Main.USAGE, r.code());
    assertTrue(r.err().contains("--address: a member is host:clusterPort:httpPort"), r.err());
    // nobody listens at port 1: asked until the timeout, then a clear refusal to start
    r = run("node", "--join", "http://127.0.0.1:1", "--address", "127.0.0.1:2552:8080", "--join-timeout", "0", "--data-dir", dir.toString());
    assertEquals(Main.NOT_STARTED, r.code());
    assertTrue(r.err().contains("cannot join: not joined within 0 s"), r.err());
    // a data directory that recorded another node's join is not taken over
    Files.writeString(
        dir.resolve("joined.json"),
        "{\"id\":1,\"members\":{\"voters\":[0],\"learners\":[1],\"addresses\":{\"0\":\"127.0.0.1:1:2\",\"1\":\"127.0.0.1:3:4\"}}}");
    r = run("node", "--join", "http://127.0.0.1:1", "--address", "127.0.0.1:2552:8080", "--data-dir", dir.toString());
    assertEquals(Main.NOT_STARTED, r.code());
    assertTrue(r.err().contains("belongs to n1 at 127.0.0.1:3:4"), r.err());
  }

  @Test
  void aCorruptLogRefusesToStartAndSaysWhere() throws Exception {
    Path data = dir.resolve("node-0");
    try (FileStorage fs = FileStorage.open(data)) {
      fs.persist(new Ready(new HardState(1, 0), List.of(new LogEntry(1, 1, new byte[64])), null, List.of(), List.of()));
      fs.persist(new Ready(null, List.of(new LogEntry(2, 1, new byte[64])), null, List.of(), List.of()));
    }
    Path wal;
    try (Stream<Path> files = Files.list(data)) {
      wal = files.filter(p -> p.getFileName().toString().startsWith("wal-")).findFirst().orElseThrow();
    }
    byte[] bytes = Files.readAllBytes(wal);
    bytes[bytes.length / 3] ^= 0x5A; // inside an early record, with a valid one after it
    Files.write(wal, bytes);
    Run r = run("node", "--id", "0", "--members", "127.0.0.1:1:2", "--data-dir", data.toString());
    assertEquals(Main.NOT_STARTED, r.code());
    assertTrue(r.err().contains("corrupt storage") && r.err().contains(wal.getFileName().toString()), r.err());
  }
}
