package io.raftkv.storage;

import java.nio.file.Path;

/** One log segment file as recovery and the writer see it. */
final class Segment {
  final long seq;
  final Path path;
  long liveLast; // the highest live (not overwritten or discarded) index this segment may hold

  Segment(long seq, Path path) {
    this.seq = seq;
    this.path = path;
  }
}
