package io.mailtls.moduletests;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.StandardLocation;
import javax.tools.ToolProvider;

/**
 * A module that is not part of mailtls, {@code com.example.outside}, compiled at test time with the
 * JDK's compiler against the mailtls modules on a real module path, as an application module would
 * be.
 */
final class OutsideModule {

  static final String NAME = "com.example.outside";

  private OutsideModule() {}

  /** The result of one compilation: whether it succeeded, its errors, and where the classes are. */
  record Compilation(
      boolean success,
      List<Diagnostic<? extends JavaFileObject>> errors,
      Path classes,
      String log) {

    /** Each error as {@code code: message}, in the root locale. */
    List<String> describe() {
      return errors.stream()
          .map(d -> d.getCode() + ": " + d.getMessage(Locale.ROOT).replace('\n', ' '))
          .toList();
    }
  }

  /**
   * Compiles {@code module com.example.outside { requires <requires>; exports com.example.outside;
   * }} with {@code sources} (simple class name to the body that follows the package declaration)
   * into {@code dir}/classes.
   */
  static Compilation compile(Path dir, List<String> requires, Map<String, String> sources)
      throws IOException {
    Path src = dir.resolve("src");
    Path pkg = src.resolve("com/example/outside");
    Files.createDirectories(pkg);
    StringBuilder moduleInfo = new StringBuilder("module " + NAME + " {\n");
    for (String r : requires) {
      moduleInfo.append("  requires ").append(r).append(";\n");
    }
    moduleInfo.append("  exports com.example.outside;\n}\n");
    List<Path> files = new ArrayList<>();
    files.add(Files.writeString(src.resolve("module-info.java"), moduleInfo));
    for (Map.Entry<String, String> s : sources.entrySet()) {
      files.add(
          Files.writeString(
              pkg.resolve(s.getKey() + ".java"),
              "package com.example.outside;\n\n" + s.getValue(),
              StandardCharsets.UTF_8));
    }
    Path classes = Files.createDirectories(dir.resolve("classes"));

    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
    StringWriter log = new StringWriter();
    boolean ok;
    try (StandardJavaFileManager fileManager =
        javac.getStandardFileManager(diagnostics, Locale.ROOT, StandardCharsets.UTF_8)) {
      // No class path: javac would otherwise take this JVM's, where every mailtls class is, and
      // find the unexported packages in the unnamed module instead.
      fileManager.setLocation(StandardLocation.CLASS_PATH, List.of());
      List<String> options =
          List.of(
              "--release",
              "17",
              "--module-path",
              MailtlsModules.modulePathString(),
              "-d",
              classes.toString(),
              "-proc:none",
              "-implicit:none");
      ok =
          javac
              .getTask(
                  log,
                  fileManager,
                  diagnostics,
                  options,
                  null,
                  fileManager.getJavaFileObjectsFromPaths(files))
              .call();
    }
    List<Diagnostic<? extends JavaFileObject>> errors =
        diagnostics.getDiagnostics().stream()
            .filter(d -> d.getKind() == Diagnostic.Kind.ERROR)
            .toList();
    return new Compilation(ok, errors, classes, log.toString());
  }

  /**
   * The probe the reflective tests call: each method runs inside {@code com.example.outside}, so
   * the JDK checks access for a caller in that module.
   */
  static final String PROBE =
      """
      import java.lang.invoke.MethodHandles;
      import java.lang.reflect.Constructor;
      import java.lang.reflect.Executable;
      import java.lang.reflect.Method;
      import java.lang.reflect.Modifier;
      import java.util.Arrays;

      public final class Probe {
        private Probe() {}

        /** Finds a class of a module of this layer by name, without initialising it. */
        public static Class<?> find(String module, String className) throws ClassNotFoundException {
          Module m = Probe.class.getModule().getLayer().findModule(module).orElseThrow();
          Class<?> c = Class.forName(m, className);
          if (c == null) {
            throw new ClassNotFoundException(className + " in " + module);
          }
          return c;
        }

        /** MethodHandles.Lookup#accessClass with this module's full-privilege lookup. */
        public static Class<?> lookupAccess(Class<?> c) throws IllegalAccessException {
          return MethodHandles.lookup().accessClass(c);
        }

        /** Calls a public static method of c, or else one of its public constructors. */
        public static Object invokePublicMember(Class<?> c) throws ReflectiveOperationException {
          for (Method m : c.getMethods()) {
            if (m.getDeclaringClass() == c && Modifier.isStatic(m.getModifiers())) {
              return m.invoke(null, defaults(m));
            }
          }
          for (Constructor<?> k : c.getConstructors()) {
            return k.newInstance(defaults(k));
          }
          throw new NoSuchMethodException("no public static method or constructor in " + c);
        }

        /** setAccessible(true) on a member c declares itself. */
        public static void deepReflect(Class<?> c) {
          Executable[] members = c.getDeclaredMethods().length > 0
              ? c.getDeclaredMethods() : c.getDeclaredConstructors();
          members[0].setAccessible(true);
        }

        private static Object[] defaults(Executable e) {
          return Arrays.stream(e.getParameterTypes()).map(t -> !t.isPrimitive() ? null
              : t == boolean.class ? (Object) false
              : t == char.class ? (Object) '\\0'
              : t == long.class ? (Object) 0L
              : t == float.class ? (Object) 0f
              : t == double.class ? (Object) 0d
              : t == byte.class ? (Object) (byte) 0
              : t == short.class ? (Object) (short) 0
              : (Object) 0).toArray();
        }
      }
      """;
}
