package io.mailtls.tlsrpt;

import java.util.Objects;
import java.util.Optional;

/**
 * What failed sessions are grouped by: one {@code failure-details} entry of a report (RFC 8460
 * §4.3, §4.4) without its count. Immutable.
 *
 * @param resultType the §4.3 result type, e.g. {@code certificate-expired}
 * @param sendingMtaIp the sending MTA's address, when configured
 * @param receivingMxHostname the MX host name
 * @param receivingMxHelo the name the MX host greeted with
 * @param receivingIp the address connected to
 * @param failureReasonCode a TLS-related code (mailtls's {@code FailureType} name)
 * @param additionalInformation a URI with more about the failure
 */
public record FailureDetail(
    String resultType,
    Optional<String> sendingMtaIp,
    Optional<String> receivingMxHostname,
    Optional<String> receivingMxHelo,
    Optional<String> receivingIp,
    Optional<String> failureReasonCode,
    Optional<String> additionalInformation) {

  public FailureDetail {
    Objects.requireNonNull(resultType, "resultType");
    Objects.requireNonNull(sendingMtaIp, "sendingMtaIp");
    Objects.requireNonNull(receivingMxHostname, "receivingMxHostname");
    Objects.requireNonNull(receivingMxHelo, "receivingMxHelo");
    Objects.requireNonNull(receivingIp, "receivingIp");
    Objects.requireNonNull(failureReasonCode, "failureReasonCode");
    Objects.requireNonNull(additionalInformation, "additionalInformation");
    if (resultType.isEmpty()) {
      throw new IllegalArgumentException("resultType is empty");
    }
  }
}
