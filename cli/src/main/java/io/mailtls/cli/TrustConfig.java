package io.mailtls.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.Enumeration;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.jspecify.annotations.Nullable;

/**
 * The PKIX roots of the command line: the JDK's, plus {@code --ca-file} and {@code --truststore}
 * certificates, or only those with {@code --ca-only}. The same roots serve the MTA-STS policy fetch
 * (RFC 8461 §3.3), PKIX-verified MX hosts (§4.2) and the STARTTLS probe. Immutable.
 *
 * @param keyStore the roots as a key store of trusted certificates; null when nothing was added,
 *     which means the JDK's default trust store
 * @param trustManager a trust manager over the same roots
 * @param summary how the roots were assembled, for the trace
 */
record TrustConfig(@Nullable KeyStore keyStore, X509TrustManager trustManager, String summary) {

  /** Whether the roots differ from the JDK's defaults. */
  boolean customised() {
    return keyStore != null;
  }

  /**
   * Assembles the roots.
   *
   * @throws CliException a usage error naming the file that cannot be read or holds no certificate
   */
  static TrustConfig load(
      List<Path> caFiles, @Nullable Path truststore, @Nullable String password, boolean caOnly) {
    if (caFiles.isEmpty() && truststore == null) {
      return new TrustConfig(null, trustManager(null), "the JDK's default roots");
    }
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      int jdk = 0;
      if (!caOnly) {
        for (X509Certificate c : trustManager(null).getAcceptedIssuers()) {
          ks.setCertificateEntry("jdk-" + jdk++, c);
        }
      }
      int added = 0;
      for (Path file : caFiles) {
        for (Certificate c : readPem(file)) {
          ks.setCertificateEntry("ca-file-" + added++, c);
        }
      }
      if (truststore != null) {
        added += addTrusted(ks, truststore, password, added);
      }
      String summary =
          added
              + " certificate(s) from --ca-file/--truststore"
              + (caOnly ? " only (--ca-only)" : " added to " + jdk + " JDK roots");
      return new TrustConfig(ks, trustManager(ks), summary);
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot build the trust store", e);
    }
  }

  private static Collection<? extends Certificate> readPem(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      Collection<? extends Certificate> certs =
          CertificateFactory.getInstance("X.509").generateCertificates(in);
      if (certs.isEmpty()) {
        throw CliException.usage("--ca-file " + file + ": no certificate in it");
      }
      return certs;
    } catch (CertificateException e) {
      throw CliException.usage(
          "--ca-file " + file + ": not PEM or DER certificates (" + e.getMessage() + ")", e);
    } catch (IOException e) {
      throw CliException.usage("cannot read --ca-file " + file + ": " + describe(e), e);
    }
  }

  private static int addTrusted(KeyStore into, Path file, @Nullable String password, int offset)
      throws GeneralSecurityException {
    KeyStore source;
    try {
      source =
          KeyStore.getInstance(file.toFile(), password == null ? null : password.toCharArray());
    } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
      // KeyStore.getInstance(File, ...) says IllegalArgumentException for a missing file.
      throw CliException.usage(
          "cannot read --truststore "
              + file
              + ": "
              + (Files.isRegularFile(file) ? describe(e) : "no such file"),
          e);
    }
    int n = 0;
    for (Enumeration<String> aliases = source.aliases(); aliases.hasMoreElements(); ) {
      String alias = aliases.nextElement();
      if (source.isCertificateEntry(alias)) {
        into.setCertificateEntry("truststore-" + (offset + n++), source.getCertificate(alias));
      }
    }
    if (n == 0) {
      throw CliException.usage(
          "--truststore "
              + file
              + ": no trusted certificate entry in it"
              + (password == null ? " (protected? give --truststore-password-env or -file)" : ""));
    }
    return n;
  }

  /** A file error in words: "no such file" rather than the exception's class name. */
  static String describe(Exception e) {
    if (e instanceof NoSuchFileException) {
      return "no such file";
    }
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof FileSystemException f && f.getReason() != null) {
      return f.getReason();
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  /** The JDK's PKIX trust manager over {@code ks} (null: the default trust store). */
  static X509TrustManager trustManager(@Nullable KeyStore ks) {
    try {
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      for (TrustManager tm : tmf.getTrustManagers()) {
        if (tm instanceof X509TrustManager x) {
          return x;
        }
      }
      throw new IllegalStateException("no X509TrustManager from " + tmf.getAlgorithm());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot load the PKIX trust store", e);
    }
  }

  /** A client TLS context trusting these roots (for OkHttp's socket factory). */
  SSLContext sslContext() {
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, new TrustManager[] {trustManager}, null);
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot create a TLS context", e);
    }
  }
}
