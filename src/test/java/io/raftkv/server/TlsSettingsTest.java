package io.raftkv.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading key material: PKCS#12 and PEM, the config section, and the mistakes it refuses by name. */
class TlsSettingsTest {
  @TempDir static Path dir;
  static SelfSignedTls.Pair a;
  static SelfSignedTls.Pair b;
  static Path keyA;

  @BeforeAll
  static void pairs() throws Exception {
    a = TlsFixtures.pair(dir.resolve("a"));
    b = TlsFixtures.pair(dir.resolve("b"));
    keyA = TlsFixtures.pemKey(a, dir.resolve("a/node.key"));
  }

  @Test
  void pkcs12AndPemGiveAContextAndTheKeyStoreIsOwnerOnly() throws Exception {
    assertNotNull(a.settings().sslContext());
    assertNotNull(TlsSettings.pem(a.certificate(), keyA, null).sslContext());
    assertNotNull(TlsSettings.pem(a.certificate(), keyA, b.certificate()).sslContext());
    String pa = TlsSettings.readSecretFile(a.passwordFile());
    String pb = TlsSettings.readSecretFile(b.passwordFile());
    assertNotNull(new TlsSettings(a.keyStore(), pa, null, null, b.keyStore(), pb, null).sslContext());
    String perms = java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(a.passwordFile()));
    assertEquals("rw-------", perms);
    assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(a.keyStore())));
  }

  @Test
  void aValidPairIsReusedAndAnUnreadableOneReplaced() throws Exception {
    byte[] before = Files.readAllBytes(a.keyStore());
    SelfSignedTls.Pair again = SelfSignedTls.ensure(dir.resolve("a"), java.util.List.of(), 30);
    assertEquals(a, again);
    assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(a.keyStore())), "reused, not remade");
    Path broken = dir.resolve("broken");
    SelfSignedTls.Pair p = TlsFixtures.pair(broken);
    Files.writeString(p.certificate(), "garbage");
    SelfSignedTls.Pair remade = SelfSignedTls.ensure(broken, java.util.List.of("10.1.2.3", "kv.example"), 30);
    String san = TlsMaterial.certificates(remade.certificate()).get(0).getSubjectAlternativeNames().toString();
    assertTrue(san.contains("10.1.2.3") && san.contains("kv.example") && san.contains("127.0.0.1"), san);
  }

  @Test
  void theConfigSectionReadsPasswordsFromFilesAndHidesThem() {
    TlsSettings s =
        TlsSettings.fromConfig(
            ConfigFactory.parseMap(Map.of("key-store", a.keyStore().toString(), "key-store-password-file", a.passwordFile().toString())));
    assertEquals(TlsSettings.readSecretFile(a.passwordFile()), s.keyStorePassword());
    assertFalse(s.toString().contains(s.keyStorePassword()), s.toString());
    assertNotNull(s.sslContext());
    TlsSettings pem =
        TlsSettings.fromConfig(ConfigFactory.parseMap(Map.of("cert", a.certificate().toString(), "key", keyA.toString(), "ca", a.certificate().toString())));
    assertNotNull(pem.sslContext());
    assertNull(TlsSettings.fromConfig(ConfigFactory.parseMap(Map.of("enabled", false, "key-store", "x"))));
  }

  @Test
  void mistakesAreRefusedWithTheFilesName() {
    IllegalArgumentException wrongPassword =
        assertThrows(IllegalArgumentException.class, () -> TlsSettings.pkcs12(a.keyStore(), "wrong", null).sslContext());
    assertTrue(wrongPassword.getMessage().contains(a.keyStore().toString()), wrongPassword.getMessage());
    IllegalArgumentException mismatch =
        assertThrows(IllegalArgumentException.class, () -> TlsSettings.pem(b.certificate(), keyA, null).sslContext());
    assertTrue(mismatch.getMessage().contains("does not belong"), mismatch.getMessage());
    IllegalArgumentException notAKey =
        assertThrows(IllegalArgumentException.class, () -> TlsSettings.pem(a.certificate(), a.certificate(), null).sslContext());
    assertTrue(notAKey.getMessage().contains("PKCS#8"), notAKey.getMessage());
    assertThrows(IllegalArgumentException.class, () -> TlsSettings.pem(a.certificate(), null, null));
    assertThrows(IllegalArgumentException.class, () -> new TlsSettings(a.keyStore(), "p", a.certificate(), keyA, null, null, null));
    assertThrows(IllegalArgumentException.class, () -> TlsSettings.pem(a.certificate(), keyA, dir.resolve("missing.pem")).sslContext());
  }
}
