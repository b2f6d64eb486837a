/**
 * DANE for SMTP (RFC 7672, with RFC 6698 and RFC 7671) for mailtls: TLSA lookup and certificate
 * matching. The API is {@link io.mailtls.dane}; {@code io.mailtls.dane.internal} is not exported.
 */
module io.mailtls.dane {
  requires transitive io.mailtls.core;

  exports io.mailtls.dane;
}
