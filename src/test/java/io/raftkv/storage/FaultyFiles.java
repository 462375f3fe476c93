package io.raftkv.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A {@link ChannelOpener} whose channels can be told to fail (as a full disk does: writes and
 * fsyncs throw) or to hold a write until released (a slow disk), by file name.
 */
final class FaultyFiles implements ChannelOpener {
  private volatile Predicate<String> failing = name -> false;
  private volatile Predicate<String> held = name -> false;
  final CountDownLatch entered = new CountDownLatch(1); // a held write has started
  final CountDownLatch released = new CountDownLatch(1);

  /** From now on, writes and fsyncs of files whose name matches throw "No space left on device". */
  void fail(Predicate<String> names) {
    failing = names;
  }

  /** From now on, an fsync of a file whose name matches waits for {@link #release}. */
  void hold(Predicate<String> names) {
    held = names;
  }

  void release() {
    released.countDown();
  }

  /** Waits until a held fsync has started. */
  void awaitHeld() throws InterruptedException {
    if (!entered.await(30, TimeUnit.SECONDS)) throw new AssertionError("no write was held");
  }

  @Override
  public FileChannel open(Path path, OpenOption... options) throws IOException {
    return new Channel(FileChannel.open(path, options), path.getFileName().toString());
  }

  private final class Channel extends FileChannel {
    private final FileChannel ch;
    private final String name;

    Channel(FileChannel ch, String name) {
      this.ch = ch;
      this.name = name;
    }

    private void check() throws IOException {
      if (failing.test(name)) throw new IOException("No space left on device (injected, " + name + ")");
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      check();
      return ch.write(src);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
      check();
      return ch.write(srcs, offset, length);
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
      check();
      return ch.write(src, position);
    }

    @Override
    public void force(boolean metaData) throws IOException {
      if (held.test(name)) {
        entered.countDown();
        try {
          if (!released.await(60, TimeUnit.SECONDS)) throw new IOException("held write was never released");
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException(e);
        }
      }
      check();
      ch.force(metaData);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      return ch.read(dst);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
      return ch.read(dsts, offset, length);
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
      return ch.read(dst, position);
    }

    @Override
    public long position() throws IOException {
      return ch.position();
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
      ch.position(newPosition);
      return this;
    }

    @Override
    public long size() throws IOException {
      return ch.size();
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
      check();
      ch.truncate(size);
      return this;
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
      return ch.transferTo(position, count, target);
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
      check();
      return ch.transferFrom(src, position, count);
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
      return ch.map(mode, position, size);
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
      return ch.lock(position, size, shared);
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
      return ch.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
      ch.close();
    }
  }
}
