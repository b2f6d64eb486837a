package io.mailtls.core.internal.smtp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class BatchingOutputStreamTest {

  private static final int SIZE = 16;

  @Property
  void passesOnEveryOctetInOrderInWritesNoLargerThanTheBufferUnlessTheWriteWas(
      @ForAll("writes") List<byte[]> writes) throws IOException {
    TestStreams.Recording under = new TestStreams.Recording();
    List<Integer> sizes = new java.util.ArrayList<>();
    OutputStream watched =
        new OutputStream() {
          @Override
          public void write(int b) throws IOException {
            under.write(b);
            sizes.add(1);
          }

          @Override
          public void write(byte[] b, int off, int len) throws IOException {
            under.write(b, off, len);
            sizes.add(len);
          }
        };
    BatchingOutputStream batching = new BatchingOutputStream(watched, SIZE);
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    for (byte[] w : writes) {
      if (w.length == 1) {
        batching.write(w[0]);
      } else {
        batching.write(w, 0, w.length);
      }
      expected.write(w, 0, w.length);
    }
    batching.drain();

    assertThat(under.bytes()).isEqualTo(expected.toByteArray());
    assertThat(under.singleByteWrites).isZero();
    assertThat(under.flushes).isZero();
    // Every write that reaches the stream is either a batch or a caller's write of at least the
    // buffer's size passed through whole; none is empty.
    long largeWrites = writes.stream().filter(w -> w.length >= SIZE).count();
    assertThat(sizes.stream().filter(n -> n > SIZE).count()).isLessThanOrEqualTo(largeWrites);
    assertThat(sizes).allMatch(n -> n > 0);
    // Small writes are gathered: no more downstream writes than one per full buffer of small
    // octets, plus one per large write and the one before it, plus the last drain.
    long small = writes.stream().filter(w -> w.length < SIZE).mapToLong(w -> w.length).sum();
    assertThat((long) sizes.size()).isLessThanOrEqualTo(2 * (small / SIZE + 1) + 2 * largeWrites);
  }

  @Provide
  Arbitrary<List<byte[]>> writes() {
    return Arbitraries.bytes()
        .array(byte[].class)
        .ofMinSize(1)
        .ofMaxSize(3 * SIZE)
        .list()
        .ofMaxSize(40);
  }

  @Test
  void smallWritesStayUntilDrainedAndFlushDrainsThenFlushes() throws IOException {
    TestStreams.Recording under = new TestStreams.Recording();
    BatchingOutputStream batching = new BatchingOutputStream(under, SIZE);
    batching.write('a');
    batching.write(TestStreams.bytes("bc"), 0, 2);
    assertThat(under.count).isZero();

    batching.flush();
    assertThat(under.text()).isEqualTo("abc");
    assertThat(under.arrayWrites).isEqualTo(1);
    assertThat(under.flushes).isEqualTo(1);

    batching.drain(); // nothing gathered: no empty write
    assertThat(under.arrayWrites).isEqualTo(1);
  }

  @Test
  void closeDrainsAndClosesEvenWhenTheDrainFails() throws IOException {
    TestStreams.Recording under = new TestStreams.Recording();
    BatchingOutputStream batching = new BatchingOutputStream(under, SIZE);
    batching.write('x');
    batching.close();
    assertThat(under.text()).isEqualTo("x");
    assertThat(under.closed).isTrue();

    boolean[] closed = {false};
    OutputStream failing =
        new OutputStream() {
          @Override
          public void write(int b) throws IOException {
            throw new IOException("gone");
          }

          @Override
          public void write(byte[] b, int off, int len) throws IOException {
            throw new IOException("gone");
          }

          @Override
          public void close() {
            closed[0] = true;
          }
        };
    BatchingOutputStream broken = new BatchingOutputStream(failing, SIZE);
    broken.write('y');
    assertThatThrownBy(broken::close).isInstanceOf(IOException.class).hasMessage("gone");
    assertThat(closed[0]).isTrue();
  }

  @Test
  void refusesAnEmptyBuffer() {
    assertThatThrownBy(() -> new BatchingOutputStream(new TestStreams.Recording(), 0))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
