/**
 * The SMTP transport of mailtls: sender TLS levels, DNS with DNSSEC state, MX resolution,
 * per-recipient delivery reports, and the interfaces the MTA-STS and DANE modules plug into. The
 * API is {@link io.mailtls.core}.
 *
 * <p>The {@code internal} packages are not API. Two are exported, each only to the sibling modules
 * that share its code (docs/design.md §5): {@code io.mailtls.core.internal.smtp} to {@code
 * io.mailtls.dane} and {@code io.mailtls.jakartamail}, and {@code io.mailtls.core.internal.tls} to
 * those two and the command line, {@code io.mailtls.cli}. The others are not exported at all.
 */
// "module": the qualified exports name sibling modules that are not on the module path when
// this one is compiled; javac's "module not found" warning says only that. A misspelt target
// would hide behind it too: module-tests' ModuleDescriptorsTest checks every target by name.
@SuppressWarnings("module")
module io.mailtls.core {
  // HostnameMatcher reads certificate subjects with javax.naming.ldap.LdapName.
  requires transitive org.jspecify;
  requires java.naming;
  requires com.github.benmanes.caffeine;
  requires org.dnsjava;
  requires org.slf4j;

  exports io.mailtls.core;
  exports io.mailtls.core.internal.smtp to
      io.mailtls.dane,
      io.mailtls.jakartamail;
  exports io.mailtls.core.internal.tls to
      io.mailtls.dane,
      io.mailtls.jakartamail,
      io.mailtls.cli;
}
