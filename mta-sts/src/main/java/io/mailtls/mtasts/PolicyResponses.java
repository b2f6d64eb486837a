package io.mailtls.mtasts;

import io.mailtls.core.FailureType;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLPeerUnverifiedException;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.Buffer;
import okio.BufferedSource;
import org.jspecify.annotations.Nullable;

/**
 * Turns an HTTP response, or the exception of a failed call, into a {@link FetchResult} by the
 * rules of RFC 8461 §3.2 and §3.3. Stateless and thread-safe.
 */
final class PolicyResponses {

  private PolicyResponses() {}

  /**
   * Checks the status, the media type and the size, decodes the body as UTF-8 and parses it.
   *
   * @throws IOException if reading the body fails (the caller classifies it)
   */
  static FetchResult read(Response response, String id, int maxBytes) throws IOException {
    String url = response.request().url().toString();
    int code = response.code();
    if (code != 200) {
      // RFC 8461 §3.3: only 200 is valid; a 3xx redirect is never followed.
      if (code >= 300 && code < 400) {
        String location = response.header("Location");
        return fetchError(
            "GET "
                + url
                + ": HTTP "
                + code
                + " redirect"
                + (location == null ? "" : " to " + location)
                + " not followed (RFC 8461 §3.3)");
      }
      return fetchError(
          "GET "
              + url
              + ": HTTP "
              + code
              + (response.message().isEmpty() ? "" : " " + response.message())
              + "; only 200 is valid (RFC 8461 §3.3)");
    }
    // RFC 8461 §3.2: the media type must be text/plain (parameters are ignored).
    List<String> contentTypes = response.headers("Content-Type");
    if (contentTypes.size() != 1 || !isTextPlain(contentTypes.get(0))) {
      return fetchError(
          "GET "
              + url
              + ": Content-Type "
              + (contentTypes.isEmpty() ? "missing" : String.join(", ", contentTypes))
              + "; text/plain is required (RFC 8461 §3.2)");
    }
    ResponseBody body = response.body();
    long declared = body.contentLength();
    if (declared > maxBytes) {
      // RFC 8461 §3.3: a bound on the body size; nothing is read past it.
      return fetchError(
          "GET "
              + url
              + ": Content-Length "
              + declared
              + " exceeds the limit of "
              + maxBytes
              + " bytes (RFC 8461 §3.3)");
    }
    byte[] bytes = readAtMost(body.source(), maxBytes);
    if (bytes == null) {
      return fetchError(
          "GET " + url + ": body exceeds the limit of " + maxBytes + " bytes (RFC 8461 §3.3)");
    }
    String text;
    try {
      text = decodeUtf8(bytes);
    } catch (MalformedUtf8 e) {
      // RFC 8461 §3.2: the policy is UTF-8 (sts-policy-vchar); other bytes make it invalid.
      return new FetchResult.Failure(
          FailureType.STS_POLICY_INVALID,
          "GET "
              + url
              + ": the body is not valid UTF-8 (byte offset "
              + e.offset
              + ") (RFC 8461 §3.2)");
    }
    try {
      return new FetchResult.Success(StsPolicyParser.parse(text, id));
    } catch (StsPolicyException e) {
      return new FetchResult.Failure(
          FailureType.STS_POLICY_INVALID, "GET " + url + ": " + e.getMessage());
    }
  }

  /**
   * Whether a {@code Content-Type} value names {@code text/plain}: type and subtype compare
   * case-insensitively (RFC 2045 §5.1), parameters such as {@code charset} are ignored.
   */
  static boolean isTextPlain(String contentType) {
    int semicolon = contentType.indexOf(';');
    String type = (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).trim();
    return type.equalsIgnoreCase("text/plain");
  }

  /**
   * Reads at most {@code limit + 1} bytes, whatever {@code Content-Length} or the chunking says.
   *
   * @return the body, or null when it is longer than {@code limit}
   */
  static byte @Nullable [] readAtMost(BufferedSource source, int limit) throws IOException {
    Buffer buffer = new Buffer();
    long wanted = limit + 1L;
    while (buffer.size() < wanted) {
      if (source.read(buffer, wanted - buffer.size()) == -1) {
        break;
      }
    }
    return buffer.size() > limit ? null : buffer.readByteArray();
  }

  /** A body that is not UTF-8, with the offset of the first bad byte. */
  static final class MalformedUtf8 extends Exception {
    final int offset;

    MalformedUtf8(int offset) {
      super("malformed UTF-8 at byte " + offset, null, false, false);
      this.offset = offset;
    }
  }

  /** Strict UTF-8 (RFC 3629): malformed or overlong sequences and surrogates are refused. */
  static String decodeUtf8(byte[] bytes) throws MalformedUtf8 {
    CharsetDecoder decoder =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes);
    // UTF-8 never yields more UTF-16 units than bytes.
    CharBuffer out = CharBuffer.allocate(bytes.length);
    CoderResult result = decoder.decode(in, out, true);
    if (result.isError()) {
      throw new MalformedUtf8(in.position());
    }
    result = decoder.flush(out);
    if (result.isError()) {
      throw new MalformedUtf8(in.position());
    }
    return out.flip().toString();
  }

  /**
   * Classifies the exception of a failed call: certificate problems are {@link
   * FailureType#STS_WEBPKI_INVALID} (RFC 8461 §3.3: the certificate must chain to a trusted root
   * and be valid for {@code mta-sts.<domain>}); everything else is {@link
   * FailureType#STS_POLICY_FETCH_ERROR}.
   */
  static FetchResult.Failure failure(
      IOException e,
      String url,
      Duration connectTimeout,
      Duration readTimeout,
      Duration callTimeout) {
    if (e instanceof ResolverDns.LookupException) {
      return fetchError("GET " + url + ": " + e.getMessage());
    }
    if (e instanceof SSLPeerUnverifiedException) {
      return new FetchResult.Failure(
          FailureType.STS_WEBPKI_INVALID,
          "GET "
              + url
              + ": the certificate is not valid for the policy host: "
              + oneLine(e.getMessage())
              + " (RFC 8461 §3.3)");
    }
    if (e instanceof SSLHandshakeException && hasCertificateCause(e)) {
      return new FetchResult.Failure(
          FailureType.STS_WEBPKI_INVALID,
          "GET "
              + url
              + ": the certificate does not verify: "
              + oneLine(e.getMessage())
              + " (RFC 8461 §3.3)");
    }
    if (e instanceof SSLException) {
      return fetchError("GET " + url + ": TLS failed: " + oneLine(e.getMessage()));
    }
    if (e instanceof SocketTimeoutException) {
      return fetchError(
          "GET "
              + url
              + ": timed out (connect timeout "
              + connectTimeout
              + ", read timeout "
              + readTimeout
              + "): "
              + oneLine(e.getMessage()));
    }
    if (e instanceof InterruptedIOException) {
      // OkHttp's call timeout (or cancellation) interrupts the call.
      return fetchError(
          "GET "
              + url
              + ": no complete answer within the call timeout of "
              + callTimeout
              + " ("
              + oneLine(e.getMessage())
              + ")");
    }
    if (e instanceof ConnectException) {
      return fetchError("GET " + url + ": cannot connect: " + oneLine(e.getMessage()));
    }
    return fetchError("GET " + url + ": " + oneLine(e.toString()));
  }

  /** A message on one line: OkHttp's certificate diagnostics span several. */
  private static String oneLine(@Nullable String message) {
    return message == null ? "(no message)" : message.strip().replaceAll("\\s*\\R\\s*", " ");
  }

  private static boolean hasCertificateCause(Throwable e) {
    for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
      if (t instanceof CertificateException || t instanceof CertPathValidatorException) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }

  private static FetchResult.Failure fetchError(String reason) {
    return new FetchResult.Failure(FailureType.STS_POLICY_FETCH_ERROR, reason);
  }
}
