/**
 * Test fixtures for mailtls and its users: a DNSSEC-signing DNS server, a scriptable mock SMTP
 * server with real TLS, an MTA-STS policy server, a private PKI, a fake clock and a manual
 * scheduler ({@link io.mailtls.testkit}), and a JUnit 5 extension that closes them ({@link
 * io.mailtls.testkit.junit}). The {@code io.mailtls.testkit.internal} packages are not exported.
 */
module io.mailtls.testkit {
  // DnsZoneBuilder and TestDnsServer take and return dnsjava records and names.
  requires transitive org.dnsjava;
  requires transitive org.jspecify;
  requires org.bouncycastle.pkix;
  requires org.bouncycastle.provider;
  requires org.slf4j;
  requires mockwebserver3;
  requires okhttp3;
  // Optional, as in the pom: only io.mailtls.testkit.junit needs it, and a test that uses that
  // has JUnit already. Not transitive: "static transitive" would make JUnit mandatory when
  // compiling every module that reads this one, the command line's demo included.
  requires static org.junit.jupiter.api;

  exports io.mailtls.testkit;
  exports io.mailtls.testkit.junit;
}
