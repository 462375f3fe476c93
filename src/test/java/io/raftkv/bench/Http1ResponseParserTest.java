package io.raftkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The benchmark's HTTP/1.1 response parser, fed whole and cut at every byte. */
class Http1ResponseParserTest {
  private static List<String> parse(String stream, int cut) {
    return Http1ResponseParser.parseAll(stream.getBytes(StandardCharsets.ISO_8859_1), cut);
  }

  @Test
  void contentLengthAndChunkedBodiesAndInterimAnswers() {
    String s =
        "HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 13\r\nContent-Type: application/json\r\n\r\n{\"version\":1}"
            + "HTTP/1.1 404 Not Found\r\ncontent-length: 20\r\n\r\n{\"error\":\"ErrNoKey\"}"
            + "HTTP/1.1 100 Continue\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nTrailer: x\r\n\r\n"
            + "HTTP/1.1 204 No Content\r\n\r\n"
            + "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n";
    List<String> expected = List.of("200 {\"version\":1}", "404 {\"error\":\"ErrNoKey\"}", "200 hello, world", "204 ", "503 ");
    for (int cut = 1; cut <= s.length(); cut++) assertEquals(expected, parse(s, cut), "cut every " + cut + " bytes");
  }

  @Test
  void malformedAnswersAreErrors() {
    assertEquals(List.of("error: status line 'SSH-2.0-OpenSSH'"), parse("SSH-2.0-OpenSSH\r\n", 100));
    assertEquals(List.of("error: Content-Length 'ten'"), parse("HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n", 100));
    assertEquals(List.of("error: chunk size 'zz'"), parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 100));
  }

  @Test
  void aBodyWithoutLengthEndsWithTheConnection() {
    Http1ResponseParser p = new Http1ResponseParser();
    assertEquals(null, p.feed(java.nio.ByteBuffer.wrap("HTTP/1.0 200 OK\r\n\r\npartial".getBytes(StandardCharsets.ISO_8859_1))));
    assertEquals(true, p.endsAtClose());
    assertEquals(true, p.closeAfter());
    assertEquals("partial", new String(p.body(), StandardCharsets.ISO_8859_1));
  }

  @Test
  void oneAnswerEach() {
    String[][] table = {
      // answer, what the parser makes of it
      {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "200 ok"},
      {"HTTP/1.0 201 Created\r\nContent-Length: 0\r\n\r\n", "201 "},
      {"HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", "304 "},
      {"HTTP/1.1 200 OK\r\nTRANSFER-ENCODING: Chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n", "200 ab"},
      {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "error: Content-Length '-1'"},
      {"HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "error: header line 'no colon'"},
      {"HTTP/1.1 2x0 OK\r\n\r\n", "error: status line 'HTTP/1.1 2x0 OK'"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n", "error: no CRLF after a chunk"},
      {"HTTP/1.1 204 No Content\r\n\r\nextra", "204 "},
    };
    for (String[] row : table) assertEquals(List.of(row[1]), parse(row[0], 1000).subList(0, 1), row[0]);
  }
}
