/**
 * The {@code mailtls} command line (picocli): {@code check} (a recipient domain's posture, with an
 * optional live STARTTLS probe, alone or in bulk), {@code send} (deliver a message and report per
 * recipient), {@code mx}, {@code inspect}, {@code tlsrpt show}, {@code tlsrpt send}, {@code
 * completion} and {@code demo}. The JSON output and the exit codes are documented in
 * docs/cli-json.md; {@link io.mailtls.cli.Mailtls#commandLine()} is the entry point tests run
 * in-process.
 */
@NullMarked
package io.mailtls.cli;

import org.jspecify.annotations.NullMarked;
