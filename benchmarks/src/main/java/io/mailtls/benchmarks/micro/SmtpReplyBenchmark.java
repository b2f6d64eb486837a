package io.mailtls.benchmarks.micro;

import io.mailtls.core.SmtpReply;
import io.mailtls.core.internal.smtp.SmtpReplyReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
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
 * SMTP reply parsing with the transport's own reader ({@code SmtpReplyReader} in {@code
 * io.mailtls.core.internal.smtp}). That package is exported only to mailtls's own modules; the
 * benchmarks run on the class path, where module exports do not apply, so it is called as it is.
 * Per operation: one reply, read as one connection reads its pipelined replies (one reader over
 * {@value #REPLIES} of them).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SmtpReplyBenchmark {

  static final int REPLIES = 1000;

  private final byte[] single = repeat("250 2.1.5 Recipient OK\r\n");
  private final byte[] ehlo =
      repeat(
          "250-mx.example.com Hello client.example.org\r\n"
              + "250-PIPELINING\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n250-STARTTLS\r\n"
              + "250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n");

  private static byte[] repeat(String reply) {
    return reply.repeat(REPLIES).getBytes(StandardCharsets.US_ASCII);
  }

  private static SmtpReply readAll(byte[] replies) throws IOException {
    SmtpReplyReader r = new SmtpReplyReader(new ByteArrayInputStream(replies));
    SmtpReply last = null;
    for (int i = 0; i < REPLIES; i++) {
      last = r.read();
    }
    return last;
  }

  @Benchmark
  @OperationsPerInvocation(REPLIES)
  public SmtpReply singleLine() throws IOException {
    return readAll(single);
  }

  @Benchmark
  @OperationsPerInvocation(REPLIES)
  public SmtpReply ehloEightLines() throws IOException {
    return readAll(ehlo);
  }
}
