package io.mailtls.spring;

import io.mailtls.core.DnsResolver;
import io.mailtls.core.DnssecSelfCheck;
import io.mailtls.core.DomainName;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * mailtls's health: UP when the DNS resolver answers and validates DNSSEC ({@link DnssecSelfCheck}:
 * a signed name resolves SECURE, a deliberately bogus one is refused) and the MTA-STS policy
 * store's directory takes a new file; DOWN with the problems otherwise. Each call makes two DNS
 * lookups and writes and deletes one small file. Thread-safe.
 */
public final class MailtlsHealthIndicator implements HealthIndicator {

  private final DnsResolver dns;
  private final DomainName signedName;
  private final DomainName bogusName;
  private final @Nullable Path storeDirectory;

  /**
   * An indicator checking {@code dns} with the two names and, unless null, that {@code
   * storeDirectory} is writable.
   */
  public MailtlsHealthIndicator(
      DnsResolver dns, DomainName signedName, DomainName bogusName, @Nullable Path storeDirectory) {
    this.dns = Objects.requireNonNull(dns, "dns");
    this.signedName = Objects.requireNonNull(signedName, "signedName");
    this.bogusName = Objects.requireNonNull(bogusName, "bogusName");
    this.storeDirectory = storeDirectory;
  }

  @Override
  public Health health() {
    DnssecSelfCheck.Result check = DnssecSelfCheck.run(dns, bogusName, signedName);
    Health.Builder health = check.passed() ? Health.up() : Health.down();
    health
        .withDetail("dnssec", check.passed() ? "validating" : "not validating")
        .withDetail("signedName", signedName.toString())
        .withDetail("signedState", String.valueOf(check.signed().state()));
    if (!check.passed()) {
      health.withDetail("dnsProblems", check.problems());
    }
    if (storeDirectory != null) {
      String problem = writeProblem(storeDirectory);
      health.withDetail("policyStore", storeDirectory.toString());
      if (problem == null) {
        health.withDetail("policyStoreWritable", true);
      } else {
        health
            .down()
            .withDetail("policyStoreWritable", false)
            .withDetail("policyStoreProblem", problem);
      }
    }
    return health.build();
  }

  /** Null when a file can be created (and is deleted again) in {@code directory}. */
  private static @Nullable String writeProblem(Path directory) {
    try {
      Path probe = Files.createTempFile(directory, ".mailtls-health", ".tmp");
      Files.delete(probe);
      return null;
    } catch (IOException | RuntimeException e) {
      return "cannot write in " + directory + ": " + e;
    }
  }

  @Override
  public String toString() {
    return "MailtlsHealthIndicator{dns=" + dns + ", store=" + storeDirectory + "}";
  }
}
