package io.mailtls.redis.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mailtls.core.DomainName;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.mtasts.CachedPolicy;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The value of a {@code <prefix>:sts:<policy domain>} key, format {@value #FORMAT} version {@value
 * #VERSION} (docs/redis.md):
 *
 * <pre>{@code
 * {"format":"mailtls-mta-sts-policy","version":1,"domain":"example.com",
 *  "id":"20160831085700Z","mode":"enforce","mx":["mail.example.com"],"max_age":604800,
 *  "fetched_at":"2026-12-05T01:00:00.123Z","expires_at":"2026-12-12T01:00:00.123Z",
 *  "fetched_at_ms":1796432400123,"text":"version: STSv1\nmode: enforce\n..."}
 * }</pre>
 *
 * <p>{@code text} is the policy body as fetched ({@link MtaStsPolicy#text()}), which TLS-RPT names
 * as the policy declared (RFC 8460 §4.4, §4.5). It is optional within version 1: values written
 * before it existed, and policies known by their fields only, lack it, and decode without a text
 * (their reports rebuild the policy from the fields); a value that is not a string of 1 to {@link
 * MtaStsPolicy#MAX_TEXT_LENGTH} characters is ignored, never a reason to drop the policy.
 *
 * <p>{@code fetched_at_ms} (epoch milliseconds) and {@code id} are what the compare-and-set script
 * orders writes by; every later version must keep them. Unknown members are ignored.
 */
public final class PolicyCodec {

  /** The instants whose milliseconds since the epoch fit a {@code long}. */
  private static final Instant MIN_MILLIS = Instant.ofEpochMilli(Long.MIN_VALUE);

  private static final Instant MAX_MILLIS = Instant.ofEpochMilli(Long.MAX_VALUE);

  public static final String FORMAT = "mailtls-mta-sts-policy";
  public static final int VERSION = 1;

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private PolicyCodec() {}

  /** The JSON value for a policy domain's entry. */
  public static String encode(DomainName domain, CachedPolicy entry) {
    MtaStsPolicy policy = entry.policy();
    ObjectNode node = JSON.createObjectNode();
    node.put("format", FORMAT);
    node.put("version", VERSION);
    node.put("domain", domain.toString());
    node.put("id", policy.id());
    node.put("mode", policy.mode().token());
    ArrayNode mx = node.putArray("mx");
    policy.mxPatterns().forEach(mx::add);
    node.put("max_age", policy.maxAge().toSeconds());
    node.put("fetched_at", entry.fetchedAt().toString());
    node.put("expires_at", entry.expiresAt().toString());
    node.put("fetched_at_ms", entry.fetchedAt().toEpochMilli());
    policy.text().ifPresent(text -> node.put("text", text));
    try {
      return JSON.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot encode an MTA-STS policy", e);
    }
  }

  /**
   * The entry in a value read from Redis, validated as RFC 8461 §3 requires.
   *
   * @throws IllegalArgumentException for anything but a valid version-1 value for {@code domain}
   */
  public static CachedPolicy decode(DomainName domain, String value) {
    JsonNode node;
    try {
      node = JSON.readTree(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not JSON", e);
    }
    if (node == null || !node.isObject()) {
      throw new IllegalArgumentException("not a JSON object");
    }
    if (!FORMAT.equals(text(node, "format"))) {
      throw new IllegalArgumentException("\"format\" is not " + FORMAT);
    }
    JsonNode version = node.get("version");
    if (version == null || !version.isIntegralNumber() || version.asLong() != VERSION) {
      throw new IllegalArgumentException("unsupported \"version\" " + version);
    }
    DomainName stored = DomainName.of(text(node, "domain"));
    if (!stored.equals(domain)) {
      throw new IllegalArgumentException("\"domain\" is " + stored + ", not " + domain);
    }
    String id = text(node, "id");
    if (!isPolicyId(id)) {
      throw new IllegalArgumentException("\"id\" must be 1 to 32 letters or digits");
    }
    MtaStsMode mode = mode(text(node, "mode"));
    JsonNode mx = node.get("mx");
    if (mx == null || !mx.isArray()) {
      throw new IllegalArgumentException("\"mx\" must be an array of strings");
    }
    List<String> patterns = new ArrayList<>();
    for (JsonNode p : mx) {
      if (!p.isTextual()) {
        throw new IllegalArgumentException("\"mx\" must be an array of strings");
      }
      patterns.add(p.textValue().toLowerCase(Locale.ROOT));
    }
    JsonNode maxAgeNode = node.get("max_age");
    if (maxAgeNode == null || !maxAgeNode.isIntegralNumber() || !maxAgeNode.canConvertToLong()) {
      throw new IllegalArgumentException("\"max_age\" must be an integer number of seconds");
    }
    long maxAgeSeconds = maxAgeNode.longValue();
    if (maxAgeSeconds < 0 || maxAgeSeconds > MtaStsPolicy.MAX_AGE_LIMIT.toSeconds()) {
      throw new IllegalArgumentException("\"max_age\" out of range (RFC 8461 §3.2)");
    }
    Duration maxAge = Duration.ofSeconds(maxAgeSeconds);
    Instant fetchedAt = instant(node, "fetched_at");
    Instant expiresAt = instant(node, "expires_at");
    if (expiresAt.isBefore(fetchedAt) || expiresAt.isAfter(fetchedAt.plus(maxAge))) {
      throw new IllegalArgumentException(
          "\"expires_at\" must lie between \"fetched_at\" and fetched_at + max_age");
    }
    // MtaStsPolicy checks the mx patterns (required unless mode is none, well-formed).
    MtaStsPolicy policy = new MtaStsPolicy(id, mode, patterns, maxAge);
    JsonNode text = node.get("text");
    if (text != null && text.isTextual()) {
      // Absent in values written before the text was kept; one that cannot be kept is ignored.
      policy = policy.withText(text.textValue());
    }
    return new CachedPolicy(policy, fetchedAt, expiresAt);
  }

  private static String text(JsonNode node, String member) {
    JsonNode value = node.get(member);
    if (value == null || !value.isTextual()) {
      throw new IllegalArgumentException("\"" + member + "\" must be a string");
    }
    return value.textValue();
  }

  private static Instant instant(JsonNode node, String member) {
    String value = text(node, member);
    Instant instant;
    try {
      instant = Instant.parse(value);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("\"" + member + "\" is not an ISO-8601 instant", e);
    }
    // Times are compared in milliseconds since the epoch, here and in the Redis scripts: an
    // instant beyond that range is refused here, never an ArithmeticException later.
    if (instant.isBefore(MIN_MILLIS) || instant.isAfter(MAX_MILLIS)) {
      throw new IllegalArgumentException("\"" + member + "\" is out of range");
    }
    return instant;
  }

  private static MtaStsMode mode(String token) {
    for (MtaStsMode mode : MtaStsMode.values()) {
      if (mode.token().equals(token)) {
        return mode;
      }
    }
    throw new IllegalArgumentException("\"mode\" must be enforce, testing or none");
  }

  // RFC 8461 §3.1: sts-id = 1*32(ALPHA / DIGIT)
  private static boolean isPolicyId(String id) {
    if (id.isEmpty() || id.length() > 32) {
      return false;
    }
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
        return false;
      }
    }
    return true;
  }
}
