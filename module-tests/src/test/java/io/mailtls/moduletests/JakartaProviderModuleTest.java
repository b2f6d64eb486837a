package io.mailtls.moduletests;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.module.ModuleDescriptor;
import java.lang.reflect.Method;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * The Jakarta Mail Transport provider on the module path: {@code io.mailtls.jakartamail} declares
 * {@code provides jakarta.mail.Provider}, and Jakarta Mail's own {@code Session}, loaded in the
 * layer, finds the {@code mailtls} transport through it (docs/jakarta-mail.md), and the transport
 * of {@code AngusPolicySession}'s sessions, which extends Angus Mail's.
 */
class JakartaProviderModuleTest {

  @Test
  void jakartaMailsSessionFindsTheMailtlsTransportOnTheModulePath() throws Exception {
    // Every mailtls module, and Angus Mail, the implementation an application brings.
    java.util.List<String> roots = new java.util.ArrayList<>(MailtlsModules.names());
    roots.add("org.eclipse.angus.mail");
    ModuleLayer layer = MailtlsModules.layer(MailtlsModules.finder(), roots);
    Module jakartamail = layer.findModule("io.mailtls.jakartamail").orElseThrow();
    assertThat(jakartamail.getDescriptor().provides())
        .extracting(ModuleDescriptor.Provides::service, ModuleDescriptor.Provides::providers)
        .contains(
            org.assertj.core.groups.Tuple.tuple(
                "jakarta.mail.Provider",
                java.util.List.of(
                    "io.mailtls.jakartamail.MailtlsProvider",
                    "io.mailtls.jakartamail.internal.AngusPolicyProvider")));

    Module mail = layer.findModule("jakarta.mail").orElseThrow();
    Class<?> session = Class.forName(mail, "jakarta.mail.Session");
    Thread thread = Thread.currentThread();
    ClassLoader before = thread.getContextClassLoader();
    // Session looks for providers through the context class loader, as in an application whose
    // modules one launcher loaded.
    thread.setContextClassLoader(jakartamail.getClassLoader());
    try {
      Object s = session.getMethod("getInstance", Properties.class).invoke(null, new Properties());
      Object provider = session.getMethod("getProvider", String.class).invoke(s, "mailtls");
      Method className = provider.getClass().getMethod("getClassName");
      assertThat(className.invoke(provider)).isEqualTo("io.mailtls.jakartamail.MailtlsTransport");

      // AngusPolicySession's transport: registered under its own protocol, found by the class
      // name its sessions set in mail.smtp.class, and loadable from the layer, where
      // io.mailtls.jakartamail reads Angus Mail (requires static) to extend its SMTPTransport.
      Object angus = session.getMethod("getProvider", String.class).invoke(s, "mailtls-angus-smtp");
      assertThat(className.invoke(angus)).isEqualTo("io.mailtls.jakartamail.AngusPolicyTransport");
      Properties p = new Properties();
      p.setProperty("mail.smtp.class", "io.mailtls.jakartamail.AngusPolicyTransport");
      Object withClass = session.getMethod("getInstance", Properties.class).invoke(null, p);
      Object transport = session.getMethod("getTransport", String.class).invoke(withClass, "smtp");
      assertThat(transport.getClass().getName())
          .isEqualTo("io.mailtls.jakartamail.AngusPolicyTransport");
      assertThat(transport.getClass().getModule()).isSameAs(jakartamail);
      assertThat(transport.getClass().getSuperclass().getName())
          .isEqualTo("org.eclipse.angus.mail.smtp.SMTPTransport");
    } finally {
      thread.setContextClassLoader(before);
    }
  }
}
