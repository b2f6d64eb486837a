package io.mailtls.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.random.RandomGenerator;

/**
 * Plans delivery for a recipient domain: its MX hosts in order, each with the TLS requirement
 * that the sender's level and the recipient's policies impose, and a decision record. Immutable
 * and thread-safe; build once and share.
 *
 * <p>Recipient-side policies (MTA-STS, DANE) come from the {@code mailtls-mta-sts} and {@code
 * mailtls-dane} modules. Without them, the levels {@link TlsLevel#STS_REQUIRED} and {@link
 * TlsLevel#DANE_REQUIRED} fail closed: every recipient is deferred with {@link
 * FailureType#POLICY_UNAVAILABLE}, never delivered opportunistically.
 *
 * <p>Lookups that do not depend on each other run concurrently (every MX host's A and AAAA), so a
 * plan costs about one dependent chain of round trips.
 */
public final class TransportPolicyResolver {

  private final MxResolver mxResolver;

  private TransportPolicyResolver(Builder b) {
    this.mxResolver = new MxResolver(b.dns, b.random);
  }

  /** A builder; {@link Builder#dns(DnsResolver)} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /** Plans delivery to {@code nextHop} under the sender's {@code level}. Completes normally. */
  public CompletionStage<DeliveryPlan> plan(NextHop nextHop, TlsLevel level) {
    Objects.requireNonNull(nextHop, "nextHop");
    Objects.requireNonNull(level, "level");
    return mxResolver.resolve(nextHop).thenCompose(mx -> fromMx(nextHop, level, mx));
  }

  /** Blocking convenience for {@link #plan}. */
  public DeliveryPlan planBlocking(NextHop nextHop, TlsLevel level) {
    return plan(nextHop, level).toCompletableFuture().join();
  }

  private CompletionStage<DeliveryPlan> fromMx(NextHop nextHop, TlsLevel level, MxResolution mx) {
    List<String> reasons = new ArrayList<>();
    reasons.add("sender level " + level);
    reasons.addAll(mx.notes());
    Optional<DeliveryPlan.Failure> mxFailure = mxFailure(mx);
    if (mxFailure.isPresent()) {
      reasons.add("MX resolution: " + mx.kind());
      return done(new DeliveryPlan(nextHop, level, mx, List.of(), List.of(), mxFailure, reasons));
    }
    if (level == TlsLevel.STS_REQUIRED || level == TlsLevel.DANE_REQUIRED) {
      // Fail closed: these levels need recipient policy that this resolver cannot obtain.
      String module = level == TlsLevel.STS_REQUIRED ? "mailtls-mta-sts" : "mailtls-dane";
      String why = level + " needs a recipient policy provider (" + module
          + ") and none is configured; not delivering rather than downgrading";
      reasons.add(why);
      return done(new DeliveryPlan(nextHop, level, mx, List.of(), List.of(),
          Optional.of(new DeliveryPlan.Failure(DeliveryStatus.DEFERRED,
              SmtpReply.local(451, EnhancedStatus.CRYPTOGRAPHIC_FAILURE, why),
              FailureType.POLICY_UNAVAILABLE)),
          reasons));
    }
    TlsRequirement requirement = level == TlsLevel.ENFORCED
        ? new TlsRequirement.Encrypted()
        : new TlsRequirement.Opportunistic();
    PolicySource source = level == TlsLevel.ENFORCED ? PolicySource.SENDER : PolicySource.NONE;
    String why = level == TlsLevel.ENFORCED
        ? "sender level enforced: TLS 1.2+ required, certificate not checked"
        : "opportunistic: STARTTLS when offered, plaintext otherwise";
    List<PlannedHost> hosts = new ArrayList<>();
    List<SkippedHost> skipped = new ArrayList<>();
    if (nextHop instanceof NextHop.AddressLiteral literal) {
      hosts.add(new PlannedHost(Optional.empty(), List.of(literal.address()), requirement, source,
          why + " (address literal: no MX, no SNI)"));
    } else {
      for (MxHost h : mx.hosts()) {
        if (h.addresses().isEmpty()) {
          skipped.add(new SkippedHost(h.name(),
              h.addressLookupFailed() ? FailureType.DNS_FAILURE : FailureType.CONNECTION_FAILED,
              h.addressLookupFailed()
                  ? "address lookup failed: " + h.ipv4() + "; " + h.ipv6()
                  : "host has no A or AAAA records"));
          continue;
        }
        hosts.add(new PlannedHost(Optional.of(h.name()), h.addresses(), requirement, source, why));
      }
    }
    reasons.add(why);
    Optional<DeliveryPlan.Failure> failure = Optional.empty();
    if (hosts.isEmpty()) {
      boolean dns = skipped.stream().anyMatch(s -> s.failure() == FailureType.DNS_FAILURE);
      failure = Optional.of(new DeliveryPlan.Failure(DeliveryStatus.DEFERRED,
          SmtpReply.local(451, dns ? EnhancedStatus.DIRECTORY_SERVER_FAILURE
              : EnhancedStatus.UNABLE_TO_ROUTE.withStatusClass(4),
              "no MX host with a usable address"),
          dns ? FailureType.DNS_FAILURE : FailureType.CONNECTION_FAILED));
    }
    return done(new DeliveryPlan(nextHop, level, mx, hosts, skipped, failure, reasons));
  }

  /** The failure an MX outcome imposes on every recipient, if any (RFC 5321 §5.1, RFC 7505). */
  private static Optional<DeliveryPlan.Failure> mxFailure(MxResolution mx) {
    return switch (mx.kind()) {
      case NULL_MX -> Optional.of(new DeliveryPlan.Failure(DeliveryStatus.BOUNCED,
          SmtpReply.local(556, EnhancedStatus.NULL_MX,
              "recipient domain accepts no mail (null MX, RFC 7505)"),
          FailureType.DNS_FAILURE));
      case NO_SUCH_DOMAIN -> Optional.of(new DeliveryPlan.Failure(DeliveryStatus.BOUNCED,
          SmtpReply.local(550, "5.1.2", "recipient domain does not exist (NXDOMAIN)"),
          FailureType.DNS_FAILURE));
      case NO_MAIL_HOST -> Optional.of(new DeliveryPlan.Failure(DeliveryStatus.BOUNCED,
          SmtpReply.local(550, EnhancedStatus.UNABLE_TO_ROUTE,
              "recipient domain has neither MX nor address records"),
          FailureType.DNS_FAILURE));
      case TEMPORARY_FAILURE -> Optional.of(new DeliveryPlan.Failure(DeliveryStatus.DEFERRED,
          SmtpReply.local(451, EnhancedStatus.DIRECTORY_SERVER_FAILURE,
              "MX lookup failed: " + mx.mxAnswer().map(DnsAnswer::toString).orElse("")),
          FailureType.DNS_FAILURE));
      case MX, IMPLICIT_MX, ADDRESS_LITERAL -> Optional.empty();
    };
  }

  private static CompletionStage<DeliveryPlan> done(DeliveryPlan plan) {
    return CompletableFuture.completedFuture(plan);
  }

  /** Configures a {@link TransportPolicyResolver}. Not thread-safe. */
  public static final class Builder {
    private DnsResolver dns;
    private RandomGenerator random;

    private Builder() {}

    /** The DNS resolver for MX and address lookups (required). */
    public Builder dns(DnsResolver dns) {
      if (this.dns != null) {
        throw new IllegalStateException("dns already set");
      }
      this.dns = Objects.requireNonNull(dns, "dns");
      return this;
    }

    /** The random source that orders equal-preference MX hosts; default a new {@link Random}. */
    public Builder random(RandomGenerator random) {
      if (this.random != null) {
        throw new IllegalStateException("random already set");
      }
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    public TransportPolicyResolver build() {
      if (dns == null) {
        throw new IllegalStateException("dns is required");
      }
      if (random == null) {
        random = new Random();
      }
      return new TransportPolicyResolver(this);
    }
  }
}
