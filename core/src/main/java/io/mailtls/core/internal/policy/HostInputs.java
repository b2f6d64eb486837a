package io.mailtls.core.internal.policy;

import io.mailtls.core.MxHost;
import io.mailtls.core.NextHop;
import io.mailtls.core.TlsaLookup;
import java.util.Objects;
import java.util.Optional;

/**
 * What the decision for one host is made from: the domain's inputs, and for an MX host the host
 * with its address answers and its TLSA lookup. Immutable.
 *
 * @param domain the domain-level inputs
 * @param host the MX host; empty exactly when the next hop is an address literal (the literal is
 *     then the one host)
 * @param tlsa the host's TLSA lookup; empty when DANE is not configured or the host was not looked
 *     up (no address)
 */
public record HostInputs(DomainInputs domain, Optional<MxHost> host, Optional<TlsaLookup> tlsa) {

  public HostInputs {
    Objects.requireNonNull(domain, "domain");
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(tlsa, "tlsa");
    if (host.isPresent() != (domain.nextHop() instanceof NextHop.Domain)) {
      throw new IllegalArgumentException(
          "an MX host goes with a domain, none with an address" + " literal: " + domain.nextHop());
    }
    if (tlsa.isPresent() && (host.isEmpty() || !domain.daneConfigured())) {
      throw new IllegalArgumentException("a TLSA lookup needs an MX host and a DANE provider");
    }
  }

  /** One MX host of a domain. */
  public static HostInputs mxHost(DomainInputs domain, MxHost host, Optional<TlsaLookup> tlsa) {
    return new HostInputs(domain, Optional.of(host), tlsa);
  }

  /** The one host of an address literal. */
  public static HostInputs addressLiteral(DomainInputs domain) {
    return new HostInputs(domain, Optional.empty(), Optional.empty());
  }
}
