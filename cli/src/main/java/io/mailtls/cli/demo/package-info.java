/**
 * The embedded demo behind {@code mailtls demo}: the testkit's DNSSEC-signed DNS server, validating
 * resolver, MTA-STS policy server and mock SMTP servers, started in-process on loopback. The only
 * package of the command line that uses the testkit (cli/README.md says why the command line may,
 * and no library may).
 */
@NullMarked
package io.mailtls.cli.demo;

import org.jspecify.annotations.NullMarked;
