package io.mailtls.moduletests;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.module.ModuleDescriptor;
import java.lang.reflect.Method;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * The Jakarta Mail Transport provider on the module path: {@code io.mailtls.jakartamail} declares
 * {@code provides jakarta.mail.Provider}, and Jakarta Mail's own {@code Session}, loaded in the
 * layer, finds the {@code mailtls} transport through it (docs/jakarta-mail.md).
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
                java.util.List.of("io.mailtls.jakartamail.MailtlsProvider")));

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
    } finally {
      thread.setContextClassLoader(before);
    }
  }
}
