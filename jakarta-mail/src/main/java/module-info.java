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

  exports io.mailtls.jakartamail;
}
