package io.mailtls.core;

import java.util.Objects;

/**
 * SMTP AUTH credentials for a relay (RFC 4954). Immutable. {@link #toString()} never shows the
 * password, and mailtls never logs or reports either value.
 */
public record Credentials(String username, String password) {

  public Credentials {
    Objects.requireNonNull(username, "username");
    Objects.requireNonNull(password, "password");
    if (username.isEmpty() || password.isEmpty()) {
      throw new IllegalArgumentException("username and password must not be empty");
    }
  }

  @Override
  public String toString() {
    return "Credentials[username=" + username + ", password=***]";
  }
}
