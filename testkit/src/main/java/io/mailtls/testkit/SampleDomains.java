package io.mailtls.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * A small world of recipient domains, one of each kind a sender meets, served on loopback: a
 * DNSSEC-signed tree ({@link TestDnsServer}), mock SMTP servers with real STARTTLS on {@code
 * 127.0.4.1} to {@code 127.0.4.7} sharing one port, and an MTA-STS policy host over HTTPS. Start
 * one per test class; {@link #close()} stops everything. The certificates come from one {@link
 * TestPki}; trust its root for PKIX.
 *
 * <ul>
 *   <li>{@code good.test}: STARTTLS, a certificate from the test PKI's root (PKIX-valid when the
 *       root is trusted).
 *   <li>{@code plain.test}: no STARTTLS; two {@code _smtp._tls} records (RFC 8460 §3: no reports).
 *   <li>{@code dane-ee.test}: DANE-EE {@code 3 1 1} of the server's key, plus one unusable PKIX-EE
 *       record.
 *   <li>{@code dane-bad.test}: a TLSA record that matches nothing.
 *   <li>{@code dane-unusable.test}: only a PKIX-EE {@code 1 1 1} record, unusable for SMTP (RFC
 *       7672 §3.1.3), on {@code good.test}'s server.
 *   <li>{@code sts.test}: MTA-STS {@code enforce} naming {@code mx.sts.test}; a TLS-RPT record with
 *       a {@code mailto:} and an {@code https:} {@code rua}.
 *   <li>{@code sts-testing.test}: MTA-STS {@code testing} naming another host than its MX, {@code
 *       mx.sts-testing.test}, which is {@code good.test}'s server.
 *   <li>{@code mixed.test}: {@code busy@} gets 451, {@code nobody@} 550, {@code flaky@} 451 twice
 *       and then 250, everyone else 250.
 *   <li>{@code nullmx.test}: a null MX (RFC 7505); {@code bogus.test}: expired signatures.
 * </ul>
 */
public final class SampleDomains implements AutoCloseable {

  private static final String MESSAGE =
      "From: a@sender.test\r\nTo: b@good.test\r\n"
          + "Subject: mailtls test\r\n\r\nHello from a mailtls test.\r\n";

  private final TestPki pki = TestPki.create();
  private final List<MockSmtpServer> servers = new ArrayList<>();
  private final MockSmtpServer good;
  private final MockSmtpServer mixed;
  private final MockSmtpServer daneEe;
  private final MockSmtpServer sts;
  private final MtaStsServer policies;
  private final TestDnsServer dns;
  private int port;

  /** Starts every server. */
  public SampleDomains() {
    TestPki.Issued daneLeaf = pki.root().leaf().dnsNames("mx.dane-ee.test").issue();
    good =
        smtp(
            "127.0.4.1",
            b ->
                b.hostname("mx.good.test")
                    .tls(pki.root().leaf().dnsNames("mx.good.test").issue().serverSslContext()));
    MockSmtpServer plain = smtp("127.0.4.2", b -> b.hostname("mx.plain.test"));
    daneEe = smtp("127.0.4.3", b -> b.hostname("mx.dane-ee.test").tls(daneLeaf.serverSslContext()));
    MockSmtpServer daneBad =
        smtp(
            "127.0.4.4",
            b ->
                b.hostname("mx.dane-bad.test")
                    .tls(
                        pki.root().leaf().dnsNames("mx.dane-bad.test").issue().serverSslContext()));
    sts =
        smtp(
            "127.0.4.5",
            b ->
                b.hostname("mx.sts.test")
                    .tls(pki.root().leaf().dnsNames("mx.sts.test").issue().serverSslContext()));
    mixed =
        smtp(
            "127.0.4.6",
            b ->
                b.hostname("mx.mixed.test")
                    .tls(pki.root().leaf().dnsNames("mx.mixed.test").issue().serverSslContext())
                    .onRecipient("busy@mixed.test", SmtpAction.reply(451, "4.2.1", "mailbox busy"))
                    .onRecipient(
                        "nobody@mixed.test", SmtpAction.reply(550, "5.1.1", "no such user"))
                    .onRecipient(
                        "flaky@mixed.test",
                        SmtpAction.reply(451, "4.3.0", "try again"),
                        SmtpAction.reply(451, "4.3.0", "try again"),
                        SmtpAction.proceed()));
    MockSmtpServer bogus = smtp("127.0.4.7", b -> b.hostname("mx.bogus.test"));
    policies =
        MtaStsServer.builder()
            .pki(pki)
            .domain("sts.test", MtaStsServer.policyText("enforce", 86400, "mx.sts.test"))
            .domain(
                "sts-testing.test",
                MtaStsServer.policyText("testing", 86400, "other.sts-testing.test"))
            .start();
    dns =
        TestDnsServer.builder()
            .zone("good.test", mail("good.test", good))
            .zone(
                "plain.test",
                z -> {
                  mail("plain.test", plain).accept(z);
                  // Two TLS-RPT records: the domain takes no reports (RFC 8460 §3).
                  z.txt("_smtp._tls.plain.test", "v=TLSRPTv1; rua=mailto:a@plain.test");
                  z.txt("_smtp._tls.plain.test", "v=TLSRPTv1; rua=mailto:b@plain.test");
                })
            .zone(
                "dane-ee.test",
                z ->
                    mail("dane-ee.test", daneEe)
                        .accept(
                            z.tlsaFor(Tlsa.smtpOwner("mx.dane-ee.test"), 3, 1, 1, daneLeaf)
                                .tlsaFor(Tlsa.smtpOwner("mx.dane-ee.test"), 1, 1, 1, daneLeaf)))
            .zone(
                "dane-bad.test",
                z ->
                    mail("dane-bad.test", daneBad)
                        .accept(
                            z.tlsa(Tlsa.smtpOwner("mx.dane-bad.test"), 3, 1, 1, Tlsa.wrongData(1))))
            .zone(
                "dane-unusable.test",
                z ->
                    mail("dane-unusable.test", good)
                        .accept(
                            z.tlsa(
                                Tlsa.smtpOwner("mx.dane-unusable.test"),
                                1,
                                1,
                                1,
                                Tlsa.wrongData(1))))
            .zone(
                "sts.test",
                z -> {
                  mail("sts.test", sts).accept(policies.publish(z, "sts.test", "world1"));
                  z.txt(
                      "_smtp._tls.sts.test",
                      "v=TLSRPTv1; rua=mailto:tlsrpt@sts.test, https://reports.sts.test/tlsrpt");
                })
            .zone(
                "sts-testing.test",
                z ->
                    mail("sts-testing.test", good)
                        .accept(policies.publish(z, "sts-testing.test", "testing1")))
            .zone("mixed.test", mail("mixed.test", mixed))
            .zone("nullmx.test", z -> z.nullMx("nullmx.test"))
            .zone("bogus.test", z -> mail("bogus.test", bogus).accept(z.expiredSignatures()))
            .start();
  }

  private MockSmtpServer smtp(String ip, UnaryOperator<MockSmtpServer.Builder> config) {
    try {
      MockSmtpServer.Builder b =
          MockSmtpServer.builder()
              .address(InetAddress.getByName(ip))
              .idleTimeout(Duration.ofSeconds(20));
      if (port != 0) {
        b.port(port);
      }
      MockSmtpServer s = config.apply(b).start();
      port = s.port();
      servers.add(s);
      return s;
    } catch (IOException e) {
      servers.forEach(MockSmtpServer::close);
      throw new UncheckedIOException(e);
    }
  }

  private static Consumer<DnsZoneBuilder> mail(String domain, MockSmtpServer server) {
    return z -> z.mailHost(domain, 10, "mx." + domain, server);
  }

  /** A short RFC 5322 message from {@code a@sender.test} to {@code b@good.test}: a new array. */
  public static byte[] message() {
    return MESSAGE.getBytes(StandardCharsets.US_ASCII);
  }

  /** The SMTP port every mock server listens on (each on its own loopback address). */
  public int smtpPort() {
    return port;
  }

  /** The MTA-STS policy host's HTTPS port. */
  public int mtaStsPort() {
    return policies.port();
  }

  /** The signed DNS server: {@link TestDnsServer#socketAddress()} and its trust anchor. */
  public TestDnsServer dns() {
    return dns;
  }

  /** The test PKI. */
  public TestPki pki() {
    return pki;
  }

  /** The server of {@code good.test}. */
  public MockSmtpServer good() {
    return good;
  }

  /** The server of {@code mixed.test}. */
  public MockSmtpServer mixed() {
    return mixed;
  }

  /** The server of {@code dane-ee.test}. */
  public MockSmtpServer daneEe() {
    return daneEe;
  }

  /** The server of {@code sts.test}. */
  public MockSmtpServer sts() {
    return sts;
  }

  @Override
  public void close() {
    servers.forEach(MockSmtpServer::close);
    policies.close();
    dns.close();
  }
}
