package io.mailtls.mtasts;

import io.mailtls.core.MtaStsPolicy;
import java.io.IOException;
import okhttp3.MediaType;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;

/**
 * The package-private policy parser and response reader, for the reliability module's fuzz targets
 * and round-trip properties (a split package: the tests run on the class path).
 */
public final class MtaStsFuzzAccess {

  private static final MediaType TEXT_PLAIN = MediaType.get("text/plain");

  private MtaStsFuzzAccess() {}

  /** {@link StsPolicyParser#parse}; throws {@link StsPolicyException} for an invalid body. */
  public static MtaStsPolicy parsePolicy(String text, String id) {
    return StsPolicyParser.parse(text, id);
  }

  /** The exception {@link StsPolicyParser} documents. */
  public static Class<? extends RuntimeException> policyException() {
    return StsPolicyException.class;
  }

  /**
   * What {@link OkHttpPolicyFetcher} makes of a 200 {@code text/plain} response with this body
   * ({@link PolicyResponses#read}, with the fetcher's body limit).
   */
  public static FetchResult readPolicyResponse(byte[] body, String id) throws IOException {
    Request request =
        new Request.Builder().url("https://mta-sts.example.com/.well-known/mta-sts.txt").build();
    try (Response response =
        new Response.Builder()
            .request(request)
            .protocol(Protocol.HTTP_1_1)
            .code(200)
            .message("OK")
            .header("Content-Type", "text/plain")
            .body(ResponseBody.create(body, TEXT_PLAIN))
            .build()) {
      return PolicyResponses.read(response, id, OkHttpPolicyFetcher.MAX_BODY_BYTES);
    }
  }
}
