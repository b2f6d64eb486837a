package io.mailtls.benchmarks.micro;

import io.mailtls.benchmarks.Messages;
import io.mailtls.core.internal.smtp.ContentScanner;
import io.mailtls.core.internal.smtp.CrlfNormalizingOutputStream;
import io.mailtls.core.internal.smtp.DotStuffingOutputStream;
import io.mailtls.core.internal.smtp.LineBreakEncoder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The content path in bytes per second (the score's unit, "ops/s", is octets per second: each
 * invocation counts {@value #SIZE} operations): the DATA encoder (dot-stuffing and CRLF
 * normalisation, {@code DotStuffingOutputStream}), the BDAT encoder (CRLF only, {@code
 * CrlfNormalizingOutputStream}) and the scan every message gets before sending ({@code
 * ContentScanner}: size, 8-bit, line lengths), over a 100 KB message with CRLF line ends and the
 * same with bare LF. The classes are in {@code io.mailtls.core.internal.smtp}, called on the class
 * path (see {@link SmtpReplyBenchmark}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class EncoderBenchmark {

  static final int SIZE = 102_400;

  private final byte[] crlf = Messages.rfc5322("rcpt@bench.test", SIZE);
  private final byte[] lf =
      new String(crlf, StandardCharsets.US_ASCII)
          .replace("\r\n", "\n")
          .getBytes(StandardCharsets.US_ASCII);
  private final OutputStream discard = OutputStream.nullOutputStream();

  private long encode(LineBreakEncoder e, byte[] message) throws IOException {
    // written in 16 KiB pieces, as the transport copies from the content stream
    for (int off = 0; off < message.length; off += 16384) {
      e.write(message, off, Math.min(16384, message.length - off));
    }
    e.finish();
    return e.bytesWritten();
  }

  @Benchmark
  @OperationsPerInvocation(SIZE)
  public long dotStuffCrlf() throws IOException {
    return encode(new DotStuffingOutputStream(discard), crlf);
  }

  @Benchmark
  @OperationsPerInvocation(SIZE)
  public long dotStuffBareLf() throws IOException {
    return encode(new DotStuffingOutputStream(discard), lf);
  }

  @Benchmark
  @OperationsPerInvocation(SIZE)
  public long bdatCrlf() throws IOException {
    return encode(new CrlfNormalizingOutputStream(discard), crlf);
  }

  @Benchmark
  @OperationsPerInvocation(SIZE)
  public ContentScanner.Result scan() throws IOException {
    return ContentScanner.scan(new ByteArrayInputStream(crlf));
  }
}
