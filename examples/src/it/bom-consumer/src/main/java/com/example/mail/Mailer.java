package com.example.mail;

import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.standard.StandardTransport;
import java.nio.file.Path;

/** What a user writes first: the standard set-up, from the BOM's artifacts alone. */
public final class Mailer {

  private Mailer() {
  }

  /** A transport with DNSSEC validation, MTA-STS and DANE, keeping its state in {@code state}. */
  public static SecureSmtpTransport transport(Path state) {
    return StandardTransport.builder(state).heloName("mail.example.com").build();
  }
}
