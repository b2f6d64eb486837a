package io.mailtls.moduletests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.moduletests.OutsideModule.Compilation;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleReader;
import java.lang.module.ModuleReference;
import java.lang.reflect.Constructor;
import java.lang.reflect.InaccessibleObjectException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * An outside module, {@code com.example.outside}, that requires a mailtls module can use its API
 * and cannot use its internal packages: javac refuses the import, and reflection from inside the
 * outside module fails at run time. Run for every mailtls module that has an {@code internal}
 * package, found from the descriptors, so a module that gets one is covered without a change here.
 */
class InternalPackagesTest {

  private static ModuleLayer all;

  @BeforeAll
  static void resolveEveryModule() {
    all = MailtlsModules.allModules();
  }

  /** Every mailtls module that has at least one internal package. */
  static List<String> modulesWithInternalPackages() {
    ModuleLayer layer = all != null ? all : MailtlsModules.allModules();
    return MailtlsModules.names().stream()
        .filter(n -> !MailtlsModules.internalPackages(descriptor(layer, n)).isEmpty())
        .toList();
  }

  @Test
  void theModulesWithInternalPackagesAreFoundFromTheirDescriptors() {
    assertThat(modulesWithInternalPackages())
        .contains(
            "io.mailtls.core", "io.mailtls.dane", "io.mailtls.jakartamail", "io.mailtls.testkit");
    assertThat(MailtlsModules.internalPackages(descriptor(all, "io.mailtls.core")))
        .containsExactly(
            "io.mailtls.core.internal",
            "io.mailtls.core.internal.dns",
            "io.mailtls.core.internal.policy",
            "io.mailtls.core.internal.smtp",
            "io.mailtls.core.internal.tls",
            "io.mailtls.core.internal.transport");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("modulesWithInternalPackages")
  void anOutsideModuleCompilesAgainstTheApiButNotAgainstAnInternalPackage(
      String module, @TempDir Path dir) throws IOException {
    // The control: the same module path and the same requires, importing the API, compiles.
    String api = MailtlsModules.named(module).apiClass().getName();
    Compilation ok =
        OutsideModule.compile(
            dir.resolve("api"), List.of(module), Map.of("UsesApi", uses("UsesApi", api)));
    assertThat(ok.success()).as("%s %s", ok.describe(), ok.log()).isTrue();

    // One source file per internal package, each importing a class of it.
    Map<String, String> sources = new LinkedHashMap<>();
    Map<String, String> internal = representatives(module);
    int i = 0;
    for (String className : internal.values()) {
      String simple = "UsesInternal" + i++;
      sources.put(simple, uses(simple, className));
    }
    Compilation refused = OutsideModule.compile(dir.resolve("internal"), List.of(module), sources);

    assertThat(refused.success()).as("compiling %s", internal.values()).isFalse();
    assertThat(refused.errors())
        .as("%s", refused.describe())
        .hasSize(internal.size())
        .allSatisfy(d -> assertThat(d.getCode()).isEqualTo("compiler.err.package.not.visible"));
    for (String pkg : internal.keySet()) {
      assertThat(refused.describe())
          .as(pkg)
          .anySatisfy(
              e ->
                  assertThat(e)
                      .contains("package " + pkg + " is not visible")
                      .contains(
                          "package "
                              + pkg
                              + " is declared in module "
                              + module
                              + ", which does not export it"));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("modulesWithInternalPackages")
  void reflectionFromAnOutsideModuleCannotReachAnInternalPackage(String module, @TempDir Path dir)
      throws Exception {
    Compilation compiled =
        OutsideModule.compile(dir, List.of(module), Map.of("Probe", OutsideModule.PROBE));
    assertThat(compiled.success()).as("%s %s", compiled.describe(), compiled.log()).isTrue();
    ModuleLayer layer =
        MailtlsModules.layer(
            MailtlsModules.finder(compiled.classes()), List.of(OutsideModule.NAME));
    Module outside = layer.findModule(OutsideModule.NAME).orElseThrow();
    Module target = layer.findModule(module).orElseThrow();
    Class<?> probe = Class.forName(outside, "com.example.outside.Probe");
    assertThat(outside.canRead(target)).isTrue();

    // The control: the probe reaches the module's API.
    Class<?> api =
        (Class<?>) call(probe, "find", module, MailtlsModules.named(module).apiClass().getName());
    assertThat(call(probe, "lookupAccess", api)).isSameAs(api);

    for (Map.Entry<String, String> e : representatives(module).entrySet()) {
      String pkg = e.getKey();
      assertThat(target.isExported(pkg, outside)).as(pkg).isFalse();
      assertThat(target.isOpen(pkg, outside)).as(pkg).isFalse();
      // Finding and loading the class works; using it does not.
      Class<?> c = (Class<?>) call(probe, "find", module, e.getValue());
      assertThat(c.getModule()).isSameAs(target);
      if (Modifier.isPublic(c.getModifiers())) {
        assertThatThrownBy(() -> call(probe, "lookupAccess", c))
            .as(c.getName())
            .isInstanceOf(IllegalAccessException.class);
        if (hasPublicEntryPoint(c)) {
          assertThatThrownBy(() -> call(probe, "invokePublicMember", c))
              .as(c.getName())
              .isInstanceOf(IllegalAccessException.class)
              .hasMessageContaining("does not export " + pkg + " to module " + OutsideModule.NAME);
        }
      }
      // "exports" for a public member of a public class, else "opens"
      assertThatThrownBy(() -> call(probe, "deepReflect", c))
          .as(c.getName())
          .isInstanceOf(InaccessibleObjectException.class)
          .hasMessageFindingMatch(
              "does not \"(exports|opens) "
                  + Pattern.quote(pkg)
                  + "\" to module "
                  + Pattern.quote(OutsideModule.NAME));
    }
  }

  /**
   * The other side of a qualified export: at run time the named siblings may use the package, and
   * no one else. Checked in the layer of every mailtls module.
   */
  @Test
  void qualifiedExportsOpenTheirPackageToTheNamedSiblingsAloneAtRunTime() {
    int checked = 0;
    for (String name : MailtlsModules.names()) {
      Module owner = all.findModule(name).orElseThrow();
      for (ModuleDescriptor.Exports e : owner.getDescriptor().exports()) {
        if (!e.isQualified()) {
          continue;
        }
        assertThat(owner.isExported(e.source())).as(e.source()).isFalse();
        for (String t : e.targets()) {
          Module sibling = all.findModule(t).orElseThrow();
          assertThat(owner.isExported(e.source(), sibling)).as("%s to %s", e.source(), t).isTrue();
          assertThat(sibling.canRead(owner)).as("%s reads %s", t, name).isTrue();
          checked++;
        }
        for (String other : MailtlsModules.names()) {
          if (!other.equals(name) && !e.targets().contains(other)) {
            assertThat(owner.isExported(e.source(), all.findModule(other).orElseThrow()))
                .as("%s to %s", e.source(), other)
                .isFalse();
          }
        }
      }
    }
    assertThat(checked).isEqualTo(6);
  }

  /** {@code simple}: a class of the outside module with a field of type {@code className}. */
  private static String uses(String simple, String className) {
    return "import "
        + className
        + ";\n\nfinal class "
        + simple
        + " {\n  "
        + className.substring(className.lastIndexOf('.') + 1)
        + " field;\n}\n";
  }

  /**
   * For each internal package of {@code module}, one top-level class of it: the first, by name,
   * that is public and has a public static method or constructor; else the first public one; else
   * the first.
   */
  private static Map<String, String> representatives(String module) {
    ModuleDescriptor d = descriptor(all, module);
    Module m = all.findModule(module).orElseThrow();
    ModuleReference ref = all.configuration().findModule(module).orElseThrow().reference();
    Map<String, String> chosen = new LinkedHashMap<>();
    for (String pkg : MailtlsModules.internalPackages(d)) {
      List<Class<?>> classes =
          classesOf(ref, pkg).stream()
              .<Class<?>>map(n -> Class.forName(m, n))
              .sorted(Comparator.comparing(Class::getName))
              .toList();
      assertThat(classes).as(pkg).isNotEmpty();
      Class<?> c =
          classes.stream()
              .filter(InternalPackagesTest::hasPublicEntryPoint)
              .findFirst()
              .or(
                  () ->
                      classes.stream().filter(k -> Modifier.isPublic(k.getModifiers())).findFirst())
              .orElse(classes.get(0));
      chosen.put(pkg, c.getName());
    }
    return chosen;
  }

  private static boolean hasPublicEntryPoint(Class<?> c) {
    if (!Modifier.isPublic(c.getModifiers())) {
      return false;
    }
    boolean staticMethod =
        Arrays.stream(c.getMethods())
            .anyMatch(x -> x.getDeclaringClass() == c && Modifier.isStatic(x.getModifiers()));
    Constructor<?>[] constructors = c.getConstructors();
    return staticMethod || constructors.length > 0;
  }

  /** The top-level classes of {@code pkg} in a module, by binary name. */
  private static Set<String> classesOf(ModuleReference ref, String pkg) {
    String dir = pkg.replace('.', '/') + "/";
    try (ModuleReader reader = ref.open()) {
      return reader
          .list()
          .filter(n -> n.startsWith(dir) && n.endsWith(".class"))
          .map(n -> n.substring(dir.length(), n.length() - ".class".length()))
          .filter(n -> !n.contains("/") && !n.contains("$") && !n.equals("package-info"))
          .map(n -> pkg + "." + n)
          .collect(Collectors.toSet());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static ModuleDescriptor descriptor(ModuleLayer layer, String module) {
    return layer.findModule(module).orElseThrow().getDescriptor();
  }

  /** Calls a static method of the probe; what it throws comes out as itself. */
  private static Object call(Class<?> probe, String method, Object... args) throws Exception {
    Method target =
        Arrays.stream(probe.getMethods())
            .filter(x -> x.getName().equals(method))
            .findFirst()
            .orElseThrow();
    try {
      return target.invoke(null, args);
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof Exception cause) {
        throw cause;
      }
      throw e;
    }
  }
}
