package io.mailtls.moduletests;

import io.mailtls.cli.Mailtls;
import io.mailtls.core.DomainName;
import io.mailtls.dane.DaneResolver;
import io.mailtls.jakartamail.MailtlsJakarta;
import io.mailtls.micrometer.MailtlsMetrics;
import io.mailtls.mtasts.MtaStsResolver;
import io.mailtls.redis.RedisPolicyStore;
import io.mailtls.standard.StandardTransport;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.tlsrpt.TlsRptDiscovery;
import java.io.File;
import java.lang.module.Configuration;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The mailtls modules and a real module path to load them from: the jars (or class directories) the
 * reactor built, found through one public class of each, and every third-party jar on this test's
 * class path. The tests themselves run on the class path, where nothing is a named module;
 * everything they prove about modules happens in layers and compilations built from this path.
 */
final class MailtlsModules {

  /** One mailtls module: its name, its directory in the reactor, and one class of its API. */
  record MailtlsModule(String name, String directory, Class<?> apiClass) {

    /** Where the module's classes come from: a jar, or a directory of classes. */
    Path location() {
      try {
        return Path.of(apiClass.getProtectionDomain().getCodeSource().getLocation().toURI());
      } catch (URISyntaxException e) {
        throw new IllegalStateException(e);
      }
    }

    /** The module's main sources in the reactor. */
    Path sources() {
      return root().resolve(directory).resolve("src/main/java");
    }
  }

  /** Every mailtls module, the command line included (examples stay on the class path). */
  static final List<MailtlsModule> ALL =
      List.of(
          new MailtlsModule("io.mailtls.core", "core", DomainName.class),
          new MailtlsModule("io.mailtls.mtasts", "mta-sts", MtaStsResolver.class),
          new MailtlsModule("io.mailtls.dane", "dane", DaneResolver.class),
          new MailtlsModule("io.mailtls.tlsrpt", "tls-rpt", TlsRptDiscovery.class),
          new MailtlsModule("io.mailtls.standard", "standard", StandardTransport.class),
          new MailtlsModule("io.mailtls.jakartamail", "jakarta-mail", MailtlsJakarta.class),
          new MailtlsModule("io.mailtls.micrometer", "micrometer", MailtlsMetrics.class),
          new MailtlsModule("io.mailtls.redis", "redis", RedisPolicyStore.class),
          new MailtlsModule("io.mailtls.testkit", "testkit", TestDnsServer.class),
          new MailtlsModule("io.mailtls.cli", "cli", Mailtls.class));

  private MailtlsModules() {}

  static MailtlsModule named(String name) {
    return ALL.stream()
        .filter(m -> m.name().equals(name))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("not a mailtls module: " + name));
  }

  static Set<String> names() {
    return ALL.stream()
        .map(MailtlsModule::name)
        .collect(Collectors.toCollection(LinkedHashSet::new));
  }

  /** The reactor's root directory (set by the pom). */
  static Path root() {
    String root = System.getProperty("mailtls.root");
    if (root == null) {
      throw new IllegalStateException(
          "system property mailtls.root is not set (module-tests/pom.xml sets it)");
    }
    return Path.of(root).toAbsolutePath().normalize();
  }

  /**
   * The module path: each mailtls module's location, then every jar on the class path that is not
   * one of them (third-party libraries, and the test tools, which nothing here requires).
   */
  static List<Path> modulePath() {
    Set<Path> mailtls = new LinkedHashSet<>();
    for (MailtlsModule m : ALL) {
      mailtls.add(m.location());
    }
    List<Path> path = new ArrayList<>(mailtls);
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator, -1)) {
      Path p = Path.of(entry).toAbsolutePath().normalize();
      if (p.toString().endsWith(".jar") && Files.isRegularFile(p) && !mailtls.contains(p)) {
        path.add(p);
      }
    }
    return path;
  }

  /** {@link #modulePath()} in the form of {@code --module-path} and {@code -cp}. */
  static String modulePathString() {
    return modulePath().stream()
        .map(Path::toString)
        .collect(Collectors.joining(File.pathSeparator));
  }

  /** A finder over {@link #modulePath()} and, before it, {@code extra} (compiled test modules). */
  static ModuleFinder finder(Path... extra) {
    List<Path> all = new ArrayList<>(List.of(extra));
    all.addAll(modulePath());
    return ModuleFinder.of(all.toArray(Path[]::new));
  }

  /**
   * A layer over the boot layer holding {@code roots} and everything they require, each module with
   * its own class loader, as a launcher given {@code --module-path} would.
   */
  static ModuleLayer layer(ModuleFinder finder, Collection<String> roots) {
    ModuleLayer boot = ModuleLayer.boot();
    Configuration cf = boot.configuration().resolve(finder, ModuleFinder.of(), roots);
    return boot.defineModulesWithManyLoaders(cf, ClassLoader.getPlatformClassLoader());
  }

  /** The layer of every mailtls module. */
  static ModuleLayer allModules() {
    return layer(finder(), names());
  }

  /** The descriptor and location of each module of {@code layer}, by name. */
  static Map<String, ModuleReference> references(ModuleLayer layer) {
    Map<String, ModuleReference> refs = new LinkedHashMap<>();
    layer.configuration().modules().forEach(r -> refs.put(r.name(), r.reference()));
    return refs;
  }

  /** The packages of a mailtls module that are not API: those with an {@code internal} segment. */
  static Set<String> internalPackages(ModuleDescriptor descriptor) {
    return descriptor.packages().stream()
        .filter(MailtlsModules::isInternal)
        .sorted()
        .collect(Collectors.toCollection(LinkedHashSet::new));
  }

  static boolean isInternal(String pkg) {
    return List.of(pkg.split("\\.")).contains("internal");
  }
}
