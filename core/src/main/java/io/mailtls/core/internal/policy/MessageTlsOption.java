package io.mailtls.core.internal.policy;

/**
 * What one message asks of TLS on top of the sender's level and the recipients' policies (RFC
 * 8689): nothing, REQUIRETLS, or {@code TLS-Required: No}. See {@link MessageTlsPolicy}.
 */
public enum MessageTlsOption {
  /** Neither: the plan applies as the sender's level and the recipient policies made it. */
  DEFAULT,
  /** REQUIRETLS (RFC 8689 §4.2.1), asked for on the envelope; wins over the header field. */
  REQUIRETLS,
  /** A {@code TLS-Required: No} header field (RFC 8689 §4.2.2) and no REQUIRETLS. */
  TLS_REQUIRED_NO;

  /**
   * The option of a message: REQUIRETLS when the envelope asks for it, whatever the header says
   * (RFC 8689 §4.1: the header field is then ignored); else the header field's.
   */
  public static MessageTlsOption of(boolean requireTls, boolean tlsRequiredNo) {
    if (requireTls) {
      return REQUIRETLS;
    }
    return tlsRequiredNo ? TLS_REQUIRED_NO : DEFAULT;
  }
}
