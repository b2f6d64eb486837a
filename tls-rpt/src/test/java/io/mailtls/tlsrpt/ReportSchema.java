package io.mailtls.tlsrpt;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** docs/tlsrpt-report.schema.json, loaded once, as a validator of reports. */
final class ReportSchema {

  private static final Schema SCHEMA = load();

  private ReportSchema() {}

  private static Schema load() {
    try {
      return SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
          .getSchema(
              Files.readString(Path.of("..", "docs", "tlsrpt-report.schema.json")),
              InputFormat.JSON);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** What is wrong with {@code report}; empty when it is valid. */
  static List<Error> validate(JsonNode report) {
    return SCHEMA.validate(report);
  }
}
