/**
 * The {@code mailtls} command line, an application: it exports nothing. Run it on the module path
 * with {@code java -p DIR -m io.mailtls.cli/io.mailtls.cli.Mailtls}, or from its shaded jar on the
 * class path.
 */
module io.mailtls.cli {
  requires io.mailtls.core;
  requires io.mailtls.dane;
  requires io.mailtls.mtasts;
  requires io.mailtls.tlsrpt;
  requires io.mailtls.testkit;
  requires com.fasterxml.jackson.databind;
  requires info.picocli;
  requires okhttp3;
  requires org.dnsjava;

  // picocli fills the commands' options, and Jackson writes the JSON reports (package-private
  // records), by reflection.
  opens io.mailtls.cli to
      com.fasterxml.jackson.databind,
      info.picocli;
}
