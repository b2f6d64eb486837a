/**
 * The Jakarta Mail adapter of mailtls: sends a {@code MimeMessage} through a mailtls transport and
 * returns its delivery report, or keeps Angus Mail's own transport under mailtls's policy. The API
 * is {@link io.mailtls.jakartamail}; {@code io.mailtls.jakartamail.internal} is not exported.
 */
module io.mailtls.jakartamail {
  requires transitive io.mailtls.core;
  // The API takes MimeMessages and configures Sessions. The application brings Jakarta Mail
  // and an implementation (Angus Mail), as the pom's provided scope says.
  requires transitive jakarta.mail;
  // AngusPolicyTransport, which AngusPolicySession's sessions name, extends Angus Mail's
  // SMTPTransport. Static: Angus (the aggregate org.eclipse.angus.mail jar) is needed only by an
  // application that uses AngusPolicySession, and brings it.
  requires static transitive org.eclipse.angus.mail;
  // The Transport provider (MailtlsTransport) builds the standard transport: DNSSEC, MTA-STS with
  // its policy cache, DANE; its HTTPS client for policy fetches is OkHttp.
  requires io.mailtls.standard;
  requires io.mailtls.mtasts;
  requires io.mailtls.dane;
  requires okhttp3;

  exports io.mailtls.jakartamail;

  // Jakarta Mail 2.1 finds transports by ServiceLoader (META-INF/services on the class path).
  provides jakarta.mail.Provider with
      io.mailtls.jakartamail.MailtlsProvider,
      io.mailtls.jakartamail.internal.AngusPolicyProvider;
}
