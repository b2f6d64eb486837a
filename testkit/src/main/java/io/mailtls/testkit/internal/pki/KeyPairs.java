package io.mailtls.testkit.internal.pki;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Generates the key pairs of the test PKI with the JDK's own providers (no provider is registered).
 *
 * <p>Every call returns a key pair that no other caller in this JVM has received: tests compare
 * SPKI digests (DANE {@code 3 1 1}, {@code 2 1 1}), so two certificates must never share a key by
 * accident. What is cached is work, not keys: RSA-2048 generation costs 150–300 ms, so after the
 * first RSA request a daemon thread keeps a small reserve of fresh, never-handed-out RSA pairs. EC
 * P-256 pairs cost about a millisecond and are made on demand.
 *
 * <p>Thread-safe.
 */
public final class KeyPairs {

  /** How many spare RSA pairs the background thread keeps ready. */
  private static final int RSA_RESERVE = 2;

  private static final BlockingQueue<KeyPair> RSA_SPARES = new LinkedBlockingQueue<>();
  private static final AtomicBoolean REFILL_PENDING = new AtomicBoolean();

  // MIN_PRIORITY is a hint to leave the tests' own threads the CPU; nothing depends on it.
  @SuppressWarnings("ThreadPriorityCheck")
  private static final ExecutorService REFILLER =
      Executors.newSingleThreadExecutor(
          runnable -> {
            Thread thread = new Thread(runnable, "mailtls-testkit-rsa-keygen");
            thread.setDaemon(true);
            thread.setPriority(Thread.MIN_PRIORITY);
            return thread;
          });

  private KeyPairs() {}

  /** Returns a fresh EC key pair on the NIST P-256 curve (secp256r1). */
  public static KeyPair ecP256() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK cannot generate EC P-256 keys", e);
    }
  }

  /** Returns a fresh 2048-bit RSA key pair, from the reserve when one is ready. */
  public static KeyPair rsa2048() {
    KeyPair spare = RSA_SPARES.poll();
    scheduleRefill();
    return spare != null ? spare : generateRsa();
  }

  private static void scheduleRefill() {
    if (RSA_SPARES.size() >= RSA_RESERVE || !REFILL_PENDING.compareAndSet(false, true)) {
      return;
    }
    REFILLER.execute(
        () -> {
          try {
            while (RSA_SPARES.size() < RSA_RESERVE) {
              RSA_SPARES.add(generateRsa());
            }
          } finally {
            REFILL_PENDING.set(false);
          }
        });
  }

  private static KeyPair generateRsa() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
      generator.initialize(2048);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK cannot generate RSA-2048 keys", e);
    }
  }
}
