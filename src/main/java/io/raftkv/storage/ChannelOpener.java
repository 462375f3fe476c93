package io.raftkv.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;

/** How {@link FileStorage} opens the files it writes; tests substitute channels that fail. */
@FunctionalInterface
interface ChannelOpener {
  ChannelOpener DEFAULT = FileChannel::open;

  FileChannel open(Path path, OpenOption... options) throws IOException;
}
