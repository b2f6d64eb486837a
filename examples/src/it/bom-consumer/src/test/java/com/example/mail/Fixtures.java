package com.example.mail;

import io.mailtls.testkit.TestDnsServer;

/** The testkit, at test scope, compiles against the BOM's version too. */
final class Fixtures {

  private Fixtures() {
  }

  static TestDnsServer dns() {
    return TestDnsServer.builder()
        .zone("example.test", z -> z.mx("example.test", 10, "mx.example.test"))
        .start();
  }
}
