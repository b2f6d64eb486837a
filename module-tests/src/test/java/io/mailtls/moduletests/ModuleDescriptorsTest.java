package io.mailtls.moduletests;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.moduletests.MailtlsModules.MailtlsModule;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleReader;
import java.lang.module.ModuleReference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every mailtls module resolves on a real module path, and its descriptor says exactly what
 * docs/design.md §5 promises: the API exported to everyone, each internal package exported only to
 * the sibling modules that use it, and nothing else exported or opened.
 */
class ModuleDescriptorsTest {

  /**
   * Each module's exports, one entry per package and target: {@code "p"} for an export to everyone,
   * {@code "p to m"} for a qualified one. A new internal package needs no line here while it is not
   * exported; an export of one to a sibling needs its {@code "p to m"} line.
   */
  private static final Map<String, Set<String>> EXPORTS =
      Map.of(
          "io.mailtls.core",
              Set.of(
                  "io.mailtls.core",
                  "io.mailtls.core.internal.smtp to io.mailtls.dane",
                  "io.mailtls.core.internal.smtp to io.mailtls.jakartamail",
                  "io.mailtls.core.internal.tls to io.mailtls.dane",
                  "io.mailtls.core.internal.tls to io.mailtls.jakartamail",
                  "io.mailtls.core.internal.tls to io.mailtls.cli"),
          "io.mailtls.mtasts",
              Set.of("io.mailtls.mtasts", "io.mailtls.mtasts.internal to io.mailtls.tlsrpt"),
          "io.mailtls.dane", Set.of("io.mailtls.dane"),
          "io.mailtls.tlsrpt", Set.of("io.mailtls.tlsrpt"),
          "io.mailtls.standard", Set.of("io.mailtls.standard"),
          "io.mailtls.jakartamail", Set.of("io.mailtls.jakartamail"),
          "io.mailtls.micrometer", Set.of("io.mailtls.micrometer"),
          "io.mailtls.redis", Set.of("io.mailtls.redis"),
          "io.mailtls.testkit", Set.of("io.mailtls.testkit", "io.mailtls.testkit.junit"),
          // an application: nothing
          "io.mailtls.cli", Set.of());

  /** Each module's opens, in the same form: only the command line's, for its reflective tools. */
  private static final Map<String, Set<String>> OPENS =
      Map.of(
          "io.mailtls.core", Set.of(),
          "io.mailtls.mtasts", Set.of(),
          "io.mailtls.dane", Set.of(),
          "io.mailtls.tlsrpt", Set.of(),
          "io.mailtls.standard", Set.of(),
          "io.mailtls.jakartamail", Set.of(),
          "io.mailtls.micrometer", Set.of(),
          "io.mailtls.redis", Set.of(),
          "io.mailtls.testkit", Set.of(),
          "io.mailtls.cli",
              Set.of(
                  "io.mailtls.cli to com.fasterxml.jackson.databind",
                  "io.mailtls.cli to info.picocli"));

  private static ModuleLayer layer;
  private static Map<String, ModuleReference> resolved;

  @BeforeAll
  static void resolveEveryModule() {
    layer = MailtlsModules.allModules();
    resolved = MailtlsModules.references(layer);
  }

  @Test
  void everyMailtlsModuleResolvesOnTheModulePathFromWhatTheReactorBuilt() throws Exception {
    assertThat(EXPORTS.keySet()).containsExactlyInAnyOrderElementsOf(MailtlsModules.names());
    for (MailtlsModule m : MailtlsModules.ALL) {
      ModuleReference ref = resolved.get(m.name());
      assertThat(ref).as(m.name()).isNotNull();
      ModuleDescriptor d = ref.descriptor();
      assertThat(d.isAutomatic()).as("%s has a module-info", m.name()).isFalse();
      assertThat(d.isOpen()).as("%s is not an open module", m.name()).isFalse();
      assertThat(Path.of(ref.location().orElseThrow())).as(m.name()).isEqualTo(m.location());
      // The module's API class, loaded in the layer, belongs to that module there.
      Module module = layer.findModule(m.name()).orElseThrow();
      Class<?> api = Class.forName(module, m.apiClass().getName());
      assertThat(api).as(m.apiClass().getName()).isNotNull();
      assertThat(api.getModule()).isSameAs(module);
      assertThat(api).isNotSameAs(m.apiClass());
    }
  }

  @Test
  void eachModuleExportsExactlyItsApiAndItsInternalsOnlyToNamedSiblings() {
    for (String name : MailtlsModules.names()) {
      ModuleDescriptor d = resolved.get(name).descriptor();
      assertThat(exports(d))
          .as("exports of %s", name)
          .containsExactlyInAnyOrderElementsOf(EXPORTS.get(name));
      assertThat(opens(d))
          .as("opens of %s", name)
          .containsExactlyInAnyOrderElementsOf(OPENS.get(name));
    }
  }

  @Test
  void noInternalPackageIsExportedOrOpenedToEveryoneNorToAModuleOutsideMailtls() {
    Set<String> mailtls = MailtlsModules.names();
    int internal = 0;
    for (String name : mailtls) {
      ModuleDescriptor d = resolved.get(name).descriptor();
      Set<String> packages = MailtlsModules.internalPackages(d);
      internal += packages.size();
      for (ModuleDescriptor.Exports e : d.exports()) {
        if (packages.contains(e.source())) {
          assertThat(e.isQualified()).as("%s exports %s to everyone", name, e.source()).isTrue();
          assertThat(e.targets())
              .as("%s exports %s to", name, e.source())
              .isSubsetOf(mailtls)
              .doesNotContain(name);
        }
      }
      assertThat(d.opens()).as("%s opens", name).noneMatch(o -> packages.contains(o.source()));
    }
    // core's six, dane's one, jakarta-mail's one, the testkit's four
    assertThat(internal).isGreaterThanOrEqualTo(11);
  }

  /**
   * "Exported only to the siblings that need it", checked against the bytecode: a sibling named in
   * a qualified export must refer to a class of that package, and a sibling that refers to one must
   * be named. Unexported internal packages are referred to by no other module.
   */
  @Test
  void internalPackagesAreExportedToExactlyTheSiblingsWhoseClassesReferToThem() throws IOException {
    Map<String, Set<String>> referencedBy = new TreeMap<>();
    for (String user : MailtlsModules.names()) {
      for (String pkg : referencedPackages(resolved.get(user))) {
        referencedBy.computeIfAbsent(pkg, k -> new TreeSet<>()).add(user);
      }
    }
    int checked = 0;
    for (String owner : MailtlsModules.names()) {
      ModuleDescriptor d = resolved.get(owner).descriptor();
      for (String pkg : MailtlsModules.internalPackages(d)) {
        Set<String> targets =
            d.exports().stream()
                .filter(e -> e.source().equals(pkg))
                .flatMap(e -> e.targets().stream())
                .collect(Collectors.toCollection(TreeSet::new));
        Set<String> users = new TreeSet<>(referencedBy.getOrDefault(pkg, Set.of()));
        users.remove(owner);
        assertThat(targets).as("modules %s exports %s to", owner, pkg).isEqualTo(users);
        checked++;
      }
    }
    assertThat(checked).isGreaterThanOrEqualTo(11);
    // The scan sees references at all: dane's DaneTrustManager uses core's CertificateFailure.
    assertThat(referencedBy.get("io.mailtls.core.internal.tls")).contains("io.mailtls.dane");
  }

  @Test
  void everyInternalPackageHasAPackageInfoSayingItIsNotApiAndWhoMayUseIt() throws IOException {
    int checked = 0;
    for (MailtlsModule m : MailtlsModules.ALL) {
      ModuleDescriptor d = resolved.get(m.name()).descriptor();
      for (String pkg : MailtlsModules.internalPackages(d)) {
        Path info = m.sources().resolve(pkg.replace('.', '/')).resolve("package-info.java");
        assertThat(info).as(pkg).isRegularFile();
        // the comment's lines joined, without their leading asterisks
        String text =
            Files.readString(info, StandardCharsets.UTF_8).replaceAll("\\s*\\n\\s*\\*?\\s*", " ");
        // not API, may change without notice, and who may use it: the module itself, and the
        // siblings it exports the package to, or none
        assertThat(text)
            .as(info.toString())
            .contains(
                "Not API", "without notice", "{@code " + m.name() + "}", "package " + pkg + ";");
        Set<String> targets =
            d.exports().stream()
                .filter(e -> e.source().equals(pkg))
                .flatMap(e -> e.targets().stream())
                .collect(Collectors.toSet());
        if (targets.isEmpty()) {
          assertThat(text).as(info.toString()).contains("does not export");
        } else {
          assertThat(text)
              .as(info.toString())
              .contains(targets.stream().map(t -> "{@code " + t + "}").toArray(String[]::new));
        }
        checked++;
      }
    }
    assertThat(checked).isGreaterThanOrEqualTo(11);
  }

  private static Set<String> exports(ModuleDescriptor d) {
    return d.exports().stream()
        .flatMap(
            e ->
                e.isQualified()
                    ? e.targets().stream().map(t -> e.source() + " to " + t)
                    : Stream.of(e.source()))
        .collect(Collectors.toSet());
  }

  private static Set<String> opens(ModuleDescriptor d) {
    return d.opens().stream()
        .flatMap(
            o ->
                o.isQualified()
                    ? o.targets().stream().map(t -> o.source() + " to " + t)
                    : Stream.of(o.source()))
        .collect(Collectors.toSet());
  }

  /** Every {@code io.mailtls} package whose classes the classes of {@code module} name. */
  private static Set<String> referencedPackages(ModuleReference module) throws IOException {
    Set<String> packages = new TreeSet<>();
    try (ModuleReader reader = module.open()) {
      List<String> classes =
          reader
              .list()
              .filter(n -> n.endsWith(".class"))
              .filter(n -> !n.equals("module-info.class") && !n.startsWith("META-INF/"))
              .toList();
      for (String name : classes) {
        try (InputStream in = reader.open(name).orElseThrow()) {
          for (String utf8 : constantPoolStrings(in.readAllBytes())) {
            Matcher matcher = CLASS_NAME.matcher(utf8);
            while (matcher.find()) {
              String internalName = matcher.group();
              packages.add(
                  internalName.substring(0, internalName.lastIndexOf('/')).replace('/', '.'));
            }
          }
        }
      }
    }
    return packages;
  }

  /** A class of mailtls as class files name it: {@code io/mailtls/core/internal/tls/TlsSupport}. */
  private static final Pattern CLASS_NAME =
      Pattern.compile("io/mailtls/(?:[a-z0-9_]+/)+[A-Za-z_$][A-Za-z0-9_$]*");

  /**
   * The UTF-8 entries of a class file's constant pool (JVMS §4.4): they hold the names of every
   * class it refers to, alone or inside field and method descriptors and signatures.
   */
  private static List<String> constantPoolStrings(byte[] classFile) throws IOException {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(classFile));
    if (in.readInt() != 0xCAFEBABE) {
      throw new IOException("not a class file");
    }
    in.readUnsignedShort(); // minor
    in.readUnsignedShort(); // major
    int count = in.readUnsignedShort();
    List<String> strings = new java.util.ArrayList<>();
    for (int i = 1; i < count; i++) {
      int tag = in.readUnsignedByte();
      switch (tag) {
        case 1 -> strings.add(in.readUTF()); // Utf8: u2 length, modified UTF-8
        case 7, 8, 16, 19, 20 -> in.skipNBytes(2); // Class, String, MethodType, Module, Package
        case 15 -> in.skipNBytes(3); // MethodHandle
        case 3, 4, 9, 10, 11, 12, 17, 18 -> in.skipNBytes(4);
        case 5, 6 -> { // Long, Double: 8 bytes and two slots
          in.skipNBytes(8);
          i++;
        }
        default -> throw new IOException("unknown constant pool tag " + tag);
      }
    }
    return strings;
  }
}
