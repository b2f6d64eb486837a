package io.mailtls.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.ReceivedChain.Encryption;
import io.mailtls.core.ReceivedChain.Hop;
import io.mailtls.core.ReceivedChain.Verdict;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link ReceivedChain} on header sections as real MTAs wrote them (from public mailing-list
 * archives: Postfix at ietf.org, Exim at lists.gnu.org and digitalkingdom.org, Microsoft 365 as
 * quoted on Server Fault, Gmail's submission and MX hosts), and on broken input.
 */
class ReceivedChainTest {

  private static ReceivedChain parse(String header) {
    return ReceivedChain.parse(
        (header.replace("\n", "\r\n") + "\r\nbody\r\n").getBytes(StandardCharsets.UTF_8));
  }

  // Postfix at ietfa.amsl.com: submission with ESMTPSA, a relay over TLS, then amavisd on loopback.
  static final String POSTFIX =
      """
      Received: from localhost (localhost [127.0.0.1])
       by ietfa.amsl.com (Postfix) with ESMTP id 8A77B3A18F9
       for <tsvwg@ietfa.amsl.com>; Thu, 18 Feb 2021 14:04:24 -0800 (PST)
      Received: from mail.ietf.org ([4.31.198.44])
       by localhost (ietfa.amsl.com [127.0.0.1]) (amavisd-new, port 10024)
       with ESMTP id UpwdQFx1MXrY for <tsvwg@ietfa.amsl.com>;
       Thu, 18 Feb 2021 14:04:19 -0800 (PST)
      Received: from drew.franken.de (mail-n.franken.de [193.175.24.27])
       (using TLSv1.2 with cipher AECDH-AES256-SHA (256/256 bits))
       (No client certificate requested)
       by ietfa.amsl.com (Postfix) with ESMTPS id 915DE3A18F8
       for <tsvwg@ietf.org>; Thu, 18 Feb 2021 14:04:18 -0800 (PST)
      Received: from [IPv6:2a02:8109:1140:c3d:24:e8:6fea:b904] (unknown
       [IPv6:2a02:8109:1140:c3d:24:e8:6fea:b904])
       (Authenticated sender: macmic)
       by mail-n.franken.de (Postfix) with ESMTPSA id EB9547220B805;
       Thu, 18 Feb 2021 23:04:14 +0100 (CET)
      From: Michael Tuexen <tuexen@fh-muenster.de>
      """;

  @Test
  void postfixHopsInTransitOrderWithSubmissionAndTls() {
    ReceivedChain c = parse(POSTFIX);
    List<Hop> hops = c.hops();
    assertThat(hops).hasSize(4);
    Hop submission = hops.get(0);
    assertThat(submission.submission()).isTrue();
    assertThat(submission.type()).contains("ESMTPSA");
    assertThat(submission.by()).contains("mail-n.franken.de");
    assertThat(submission.encryption()).isEqualTo(Encryption.ENCRYPTED);
    Hop relay = hops.get(1);
    assertThat(relay.from()).contains("drew.franken.de");
    assertThat(relay.by()).contains("ietfa.amsl.com");
    assertThat(relay.type()).contains("ESMTPS");
    assertThat(relay.tlsVersion()).contains("TLSv1.2");
    assertThat(relay.cipher()).contains("AECDH-AES256-SHA");
    assertThat(relay.internal()).isFalse();
    // mail.ietf.org -> amavisd on 127.0.0.1, and back from localhost: within one host
    assertThat(hops.get(2).internal()).as(hops.get(2).text()).isTrue();
    assertThat(hops.get(3).internal()).isTrue();
    assertThat(hops.get(3).encryption()).isEqualTo(Encryption.PLAINTEXT);
    assertThat(c.afterSubmission()).containsExactly(relay);
    assertThat(c.verdict()).isEqualTo(Verdict.ALL_ENCRYPTED);
  }

  // Exim 4.90 (old annotation) at lists.gnu.org, and Exim 4.94 (new annotation).
  static final String EXIM =
      """
      Received: from eggs.gnu.org ([2001:470:142:3::10]:38882)
       by lists.gnu.org with esmtps (TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256)
       (Exim 4.90_1) (envelope-from <ehabkost@redhat.com>)
       id 1jtemV-0005WV-95
       for qemu-devel@nongnu.org; Thu, 09 Jul 2020 18:12:39 -0400
      Received: from mail-lf1-f56.google.com ([209.85.167.56]:46864)
       by stodi.digitalkingdom.org with esmtps (TLS1.3) tls TLS_AES_128_GCM_SHA256
       (Exim 4.94) (envelope-from <rdentato@gmail.com>) id 1lrG6l-008znZ-1n
       for lojban-list-archive@lojban.org; Thu, 10 Jun 2021 01:32:13 -0700
      Received: from smtp25.cstnet.cn ([159.226.251.25]:34892 helo=cstnet.cn)
       by eggs.gnu.org with esmtp (Exim 4.90_1)
       (envelope-from <liweiwei@iscas.ac.cn>)
       id 1mhkER-00032b-Cs; Mon, 01 Nov 2021 23:13:03 -0400
      Subject: x
      """;

  @Test
  void eximOldAndNewAnnotationsAndAPlaintextHop() {
    ReceivedChain c = parse(EXIM);
    List<Hop> hops = c.hops();
    assertThat(hops).hasSize(3);
    assertThat(hops.get(0).type()).contains("ESMTP");
    assertThat(hops.get(0).protocol()).contains("esmtp");
    assertThat(hops.get(0).encryption()).isEqualTo(Encryption.PLAINTEXT);
    assertThat(hops.get(1).tlsVersion()).contains("TLSv1.3");
    assertThat(hops.get(1).cipher()).contains("TLS_AES_128_GCM_SHA256");
    assertThat(hops.get(2).tlsVersion()).contains("TLSv1.2");
    assertThat(hops.get(2).cipher()).contains("ECDHE_RSA_AES_256_GCM_SHA384");
    assertThat(hops.get(2).from()).contains("eggs.gnu.org");
    assertThat(c.submission()).isEmpty();
    assertThat(c.afterSubmission()).hasSize(3);
    assertThat(c.verdict()).isEqualTo(Verdict.NOT_ALL_ENCRYPTED);
  }

  // Microsoft 365 as quoted on Server Fault (question 1035789): Frontend submission over TLS, a
  // mapi step inside the mailbox server, and a TLS hop between Exchange Online servers.
  static final String MICROSOFT =
      """
      Received: from BL0PR04MB4866.namprd04.prod.outlook.com (2603:10b6:208:2a::17)
       by MN2PR04MB6654.namprd04.prod.outlook.com (2603:10b6:208:1f1::22) with
       Microsoft SMTP Server (version=TLS1_2,
       cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.3412.21; Tue, 29 Sep
       2020 22:22:59 +0000
      Received: from BL0PR04MB4866.namprd04.prod.outlook.com
       ([fe80::b6:a4a1:2f36:8284]) by BL0PR04MB4866.namprd04.prod.outlook.com
       ([fe80::b6:a4a1:2f36:8284%7]) with mapi id 15.20.3412.029; Tue, 29 Sep 2020
       22:22:59 +0000
      Received: from PC (192.0.2.7) by MN2PR08CA0016.namprd08.prod.outlook.com
       (2603:10b6:208:239::21) with Microsoft SMTP Server (version=TLS1_2,
       cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.3412.22 via Frontend
       Transport; Tue, 29 Sep 2020 22:22:59 +0000
      """;

  @Test
  void microsoftVersionAndCipherAndMapiIsInternal() {
    ReceivedChain c = parse(MICROSOFT);
    List<Hop> hops = c.hops();
    assertThat(hops).hasSize(3);
    assertThat(hops.get(0).protocol()).contains("Microsoft SMTP Server");
    assertThat(hops.get(0).tlsVersion()).contains("TLSv1.2");
    assertThat(hops.get(0).cipher()).contains("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
    assertThat(hops.get(1).internal()).isTrue();
    assertThat(hops.get(2).encryption()).isEqualTo(Encryption.ENCRYPTED);
    assertThat(c.verdict()).isEqualTo(Verdict.ALL_ENCRYPTED);
  }

  @Test
  void microsoftWithoutVersionIsPlaintext() {
    ReceivedChain c =
        parse(
            "Received: from a.example (192.0.2.1) by b.example (192.0.2.2) with Microsoft SMTP\n"
                + " Server id 15.1.2507.39; Tue, 29 Sep 2020 22:22:59 +0000\n");
    assertThat(c.hops().get(0).encryption()).isEqualTo(Encryption.PLAINTEXT);
    assertThat(c.verdict()).isEqualTo(Verdict.NOT_ALL_ENCRYPTED);
  }

  // Gmail: submission at smtp.gmail.com (linaro.org, 2022), Gmail's internal hop, and an MX hop
  // at mx.google.com (kvack.org, 2017).
  static final String GMAIL =
      """
      Received: from mga07.intel.com (mga07.intel.com. [134.134.136.100])
              by mx.google.com with ESMTPS id n9si146219pll.307.2017.09.27.16.56.22
              for <linux-mm@kvack.org>
              (version=TLS1_2 cipher=ECDHE-RSA-AES128-GCM-SHA256 bits=128/128);
              Wed, 27 Sep 2017 16:56:23 -0700 (PDT)
      X-Received: by 2002:a05:6512:1394:: with SMTP id p20mr2990212lfa.395.1644932596276;
              Tue, 15 Feb 2022 05:43:16 -0800 (PST)
      Received: by 2002:a05:6512:1394:: with SMTP id p20mr2990212lfa.395.1644932596276;
              Tue, 15 Feb 2022 05:43:16 -0800 (PST)
      Received: from [192.168.1.211] ([37.153.55.125])
              by smtp.gmail.com with ESMTPSA id bt22sm4521054lfb.262.2022.02.15.05.43.15
              (version=TLS1_3 cipher=TLS_AES_128_GCM_SHA256 bits=128/128);
              Tue, 15 Feb 2022 05:43:15 -0800 (PST)
      Message-ID: <e2db6cd2-19d8-04e0-336a-c806d9db667b@linaro.org>
      """;

  @Test
  void gmailSubmissionInternalAndMxHops() {
    ReceivedChain c = parse(GMAIL);
    List<Hop> hops = c.hops();
    assertThat(hops).hasSize(3);
    assertThat(hops.get(0).submission()).isTrue();
    assertThat(hops.get(0).tlsVersion()).contains("TLSv1.3");
    assertThat(hops.get(0).cipher()).contains("TLS_AES_128_GCM_SHA256");
    assertThat(hops.get(1).internal()).as("no from clause").isTrue();
    assertThat(hops.get(2).by()).contains("mx.google.com");
    assertThat(hops.get(2).tlsVersion()).contains("TLSv1.2");
    assertThat(hops.get(2).cipher()).contains("ECDHE-RSA-AES128-GCM-SHA256");
    assertThat(c.afterSubmission()).containsExactly(hops.get(2));
    assertThat(c.verdict()).isEqualTo(Verdict.ALL_ENCRYPTED);
  }

  @Test
  void olderGmailVersionFormsAndPostiniAreEncrypted() {
    ReceivedChain c =
        parse(
            "Received: from localhost (adm12-98.itu.dk [130.226.133.98])\n"
                + "        by mx.google.com with ESMTPS id p17sm1645561wbe.20.2010.06.18.11.42.54\n"
                + "        (version=TLSv1/SSLv3 cipher=RC4-MD5);\n"
                + "        Fri, 18 Jun 2010 11:42:55 -0700 (PDT)\n"
                + "Received: from source ([12.158.40.254]) (using TLSv1) by\n"
                + " exprodNmxM.postini.com; Wed, 08 Jan 2007 14:39:55 PST\n");
    assertThat(c.hops().get(0).tlsVersion()).contains("TLSv1");
    assertThat(c.hops().get(0).cipher()).isEmpty();
    assertThat(c.hops().get(0).encryption()).isEqualTo(Encryption.ENCRYPTED);
    assertThat(c.hops().get(1).internal())
        .as("EHLO localhost from a public address is not local")
        .isFalse();
    assertThat(c.hops().get(1).tlsVersion()).contains("TLSv1/SSLv3");
    assertThat(c.hops().get(1).cipher()).contains("RC4-MD5");
  }

  @Test
  void noReceivedFieldsMeansNoHops() {
    ReceivedChain c = parse("From: a@example.org\nSubject: hi\n");
    assertThat(c.hops()).isEmpty();
    assertThat(c.verdict()).isEqualTo(Verdict.NO_HOPS);
    assertThat(c.problem()).isEmpty();
  }

  @Test
  void unknownProtocolMakesTheVerdictUnknown() {
    ReceivedChain c =
        parse("Received: from a.example ([192.0.2.1]) by b.example with QMQP; 1 Jan 2020\n");
    assertThat(c.hops().get(0).encryption()).isEqualTo(Encryption.UNKNOWN);
    assertThat(c.verdict()).isEqualTo(Verdict.UNKNOWN);
  }

  @Test
  void readsOnlyTheHeaderAndSkipsAnMboxLine() {
    String msg =
        "From a@example.org Thu Jan  1 00:00:00 2020\n"
            + "Received: from a.example ([192.0.2.1]) by b.example with ESMTPS; 1 Jan 2020\n"
            + "\n"
            + "Received: from body.example ([192.0.2.9]) by c.example with SMTP; 1 Jan 2020\n";
    ReceivedChain c = ReceivedChain.parse(msg.getBytes(StandardCharsets.US_ASCII));
    assertThat(c.hops()).hasSize(1);
    assertThat(c.verdict()).isEqualTo(Verdict.ALL_ENCRYPTED);
  }

  @Test
  void boundsAHugeHeaderAndManyFields() {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < ReceivedChain.MAX_HOPS + 20; i++) {
      sb.append("Received: from h")
          .append(i)
          .append(".example ([192.0.2.1]) by x.example with")
          .append(" ESMTPS; 1 Jan 2020\r\n");
    }
    sb.append("Received: from a.example")
        .append(" x".repeat(ReceivedChain.MAX_FIELD_CHARS))
        .append("\r\n");
    ReceivedChain c = ReceivedChain.parse(sb.toString().getBytes(StandardCharsets.US_ASCII));
    assertThat(c.hops()).hasSize(ReceivedChain.MAX_HOPS);
    assertThat(c.truncated()).isTrue();

    byte[] endless = new byte[ReceivedChain.MAX_HEADER_BYTES + 10];
    java.util.Arrays.fill(endless, (byte) 'a');
    ReceivedChain big = ReceivedChain.parse(endless);
    assertThat(big.truncated()).isTrue();
    assertThat(big.hops()).isEmpty();
  }

  @Test
  void aFailingStreamIsAResultNotAnException() {
    byte[] start =
        "Received: from a.example ([192.0.2.1]) by b.example with ESMTPS;\r\n"
            .getBytes(StandardCharsets.US_ASCII);
    InputStream failing =
        new InputStream() {
          private boolean done;

          @Override
          public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0];
          }

          @Override
          public int read(byte[] b, int off, int len) throws IOException {
            if (!done) {
              done = true;
              int n = Math.min(len, 30);
              System.arraycopy(start, 0, b, off, n);
              return n;
            }
            throw new IOException("disk on fire");
          }
        };
    ReceivedChain c = ReceivedChain.parse(failing);
    assertThat(c.problem()).hasValueSatisfying(p -> assertThat(p).contains("disk on fire"));
  }

  @Test
  void controlCharactersAreEscapedAndCommentsDoNotFoolTheClauses() {
    ReceivedChain c =
        ReceivedChain.parse(
            new ByteArrayInputStream(
                ("Received: from a.example (by evil.example with ESMTPS \u001b[31m) by"
                        + " b.example with SMTP; 1 Jan 2020\r\n\r\n")
                    .getBytes(StandardCharsets.UTF_8)));
    Hop h = c.hops().get(0);
    assertThat(h.by()).contains("b.example");
    assertThat(h.type()).contains("SMTP");
    assertThat(h.text()).doesNotContain("\u001b");
    assertThat(c.verdict()).isEqualTo(Verdict.NOT_ALL_ENCRYPTED);
  }
}
