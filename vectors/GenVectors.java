// Generates vectors/am-jce.json, vectors/am-aeswrap.json and vectors/aes-gcm.json with the JDK's
// own SunJCE implementations (PBEWithMD5AndDES, PBKDF2WithHmacSHA*, AESWrap = RFC 3394,
// AESWrapPad = RFC 5649, AES/GCM/NoPadding), independent of amhash's Rust code.
//
//   javac -d /tmp/genvectors tests/interop/AmCrypto.java vectors/GenVectors.java
//   java -cp /tmp/genvectors GenVectors vectors        (JDK 17 or later)
//
// Inputs are fixed, so the output is reproducible. The ciphers are those of the interop peer
// tests/interop/AmCrypto.java (one copy of "AM's formats with the JDK": the vectors and the
// interop test cannot drift apart), which builds the AM formats exactly as AM's JCEEncryption
// and AESWrapEncryption build them. Error vectors are valid values with one change each; their
// expected error follows from the format definitions in src/cipher/.

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

public class GenVectors {
    static final String GEN = "vectors/GenVectors.java (JDK " + System.getProperty("java.version") + " SunJCE)";
    static final HexFormat HEX = HexFormat.of();
    static final Base64.Encoder B64 = Base64.getEncoder();
    static final Base64.Decoder B64D = Base64.getDecoder();
    static final String SSHA = "{SSHA-512}FEpzEcqQWkrdrbJDWQomLOpmvunrkJKXJcXrRaEtnd0CfqdW1ZxZZodJC93Yr7PXjJ9AjlFGQ0TNCGWTpNj2+J2lNcPbPFsgo3AOiYjaRh7Smw==";

    // The ciphers are AmCrypto's: jceEncrypt/jceDecrypt, wrapEncrypt/wrapDecrypt (with the
    // salt given), gcmSeal/gcmOpen.

    // ---- helpers ----
    static String q(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    static byte[] flip(byte[] v, int index) {
        byte[] r = v.clone();
        r[index] ^= 0x01;
        return r;
    }

    static byte[] seq(int n, int start) {
        byte[] r = new byte[n];
        for (int i = 0; i < n; i++) r[i] = (byte) (start + 7 * i);
        return r;
    }

    static void check(boolean ok, String what) {
        if (!ok) throw new IllegalStateException("self-check failed: " + what);
    }

    static void write(Path dir, String topic, String description, List<String> vectors) throws Exception {
        String body = "{\n  \"format\": \"amhash-vectors/1\",\n  \"topic\": " + q(topic) + ",\n  \"description\": " + q(description)
                + ",\n  \"vectors\": [\n    " + String.join(",\n    ", vectors) + "\n  ]\n}\n";
        Files.writeString(dir.resolve(topic + ".json"), body, StandardCharsets.UTF_8);
    }

    // ---- am-jce ----
    static String jceOk(String name, String source, String password, byte[] plain, byte[] value) throws Exception {
        check(Arrays.equals(AmCrypto.jceDecrypt(password, value), plain), name);
        return "{\"name\": " + q(name) + ", \"source\": " + q(source) + ", \"expect\": \"ok\", \"password\": " + q(password)
                + ", \"plaintext_hex\": " + q(HEX.formatHex(plain)) + ", \"value\": " + q(B64.encodeToString(value)) + "}";
    }

    static String err(String name, String source, String error, String operation, String fields) {
        return "{\"name\": " + q(name) + ", \"source\": " + q(source) + ", \"expect\": \"error\", \"error\": " + q(error)
                + ", \"operation\": " + q(operation) + ", " + fields + "}";
    }

    static void jce(Path dir) throws Exception {
        List<String> v = new ArrayList<>();
        String pubSrc = "ForgeRock: AM's own JCEEncryption test value, replicated in ForgeRock's Go test TestMd5DesEncode; re-checked by " + GEN;
        byte[] pubPlain = "A test message to be encrypted".getBytes(StandardCharsets.UTF_8);
        byte[] pub = B64D.decode("AQICv6c3Z1VfvgAtyLDM2OI72NmbGHybL2ERlEvoXM7eOjm0xW1l3ZzMpQ==");
        check(Arrays.equals(AmCrypto.jceEncrypt("password", pubPlain), pub), "published JCE vector");
        v.add(jceOk("forgerock-published", pubSrc, "password", pubPlain, pub));
        Object[][] gen = {
            {"ssha512-value", "changeit-AM-encryption-key-1234", SSHA.getBytes(StandardCharsets.UTF_8)},
            {"empty-plaintext", "password", new byte[0]},
            {"plaintext-7-bytes", "password", seq(7, 1)},
            {"plaintext-8-bytes", "password", seq(8, 1)},
            {"plaintext-9-bytes", "password", seq(9, 1)},
            {"binary-plaintext-all-bytes", "p", seq(256, 0)},
            {"password-printable-ascii-punctuation", " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ ", "x".getBytes(StandardCharsets.UTF_8)},
            {"password-long-100", "a".repeat(100), SSHA.getBytes(StandardCharsets.UTF_8)},
        };
        for (Object[] g : gen) {
            byte[] plain = (byte[]) g[2];
            v.add(jceOk((String) g[0], GEN + ": PBEWithMD5AndDES encryption", (String) g[1], plain, AmCrypto.jceEncrypt((String) g[1], plain)));
        }
        String src = GEN + ": forgerock-published value ";
        String pw = "\"password\": \"password\"";
        v.add(err("wrong-password", src + "decrypted with password 'Password' (derived IV differs from the stored one)", "wrong-key-or-tampered", "decrypt",
                "\"password\": \"Password\", \"value\": " + q(B64.encodeToString(pub))));
        v.add(err("flipped-bit-iv", src + "with bit 0 of byte 3 (first IV byte) flipped", "wrong-key-or-tampered", "decrypt",
                pw + ", \"value\": " + q(B64.encodeToString(flip(pub, 3)))));
        try {
            AmCrypto.jceDecrypt("password", flip(pub, pub.length - 1));
            check(false, "JDK must reject the flipped last block");
        } catch (javax.crypto.BadPaddingException expected) {
            // the JDK agrees: the padding is broken
        }
        v.add(err("flipped-bit-last-block", src + "with bit 0 of the last byte flipped (breaks the PKCS#5 padding)", "wrong-key-or-tampered", "decrypt",
                pw + ", \"value\": " + q(B64.encodeToString(flip(pub, pub.length - 1)))));
        v.add(err("flipped-bit-header", src + "with bit 0 of byte 2 flipped (01 02 03: no known scheme)", "malformed", "decrypt",
                pw + ", \"value\": " + q(B64.encodeToString(flip(pub, 2)))));
        v.add(err("truncated-header-only", src + "cut to its 11-byte header and IV", "malformed", "decrypt",
                pw + ", \"value\": " + q(B64.encodeToString(Arrays.copyOf(pub, 11)))));
        v.add(err("truncated-not-block-multiple", src + "without its last byte", "malformed", "decrypt",
                pw + ", \"value\": " + q(B64.encodeToString(Arrays.copyOf(pub, pub.length - 1)))));
        v.add(err("empty-value", "format definition: empty input", "malformed", "decrypt", pw + ", \"value\": \"\""));
        v.add(err("garbage-base64", "format definition: '*' is not base64", "malformed", "decrypt", pw + ", \"value\": \"AQIC*v6c3Z1Vfvg==\""));
        v.add(err("non-ascii-password", "JDK PBEKey refuses non-ASCII passwords (InvalidKeySpecException: Password is not ASCII)", "invalid-input", "encrypt",
                "\"password\": \"pässwörd\", \"plaintext_hex\": " + q(HEX.formatHex(pubPlain))));
        write(dir, "am-jce", "AM JCEEncryption (PBEWithMD5AndDES, bytes 01 02 02 || IV || DES-CBC): decrypt and deterministic encrypt", v);
    }

    // ---- am-aeswrap ----
    static String wrapOk(String name, String source, String wrap, String password, String digest, int it, int bits, byte[] salt, byte[] plain, byte[] value) throws Exception {
        check(Arrays.equals(AmCrypto.wrapDecrypt(wrap, password, digest, it, bits, value), plain), name);
        return "{\"name\": " + q(name) + ", \"source\": " + q(source) + ", \"expect\": \"ok\", \"cipher\": " + q(wrap) + ", \"password\": " + q(password)
                + ", \"digest\": " + q(digest) + ", \"iterations\": " + it + ", \"key_bits\": " + bits + ", \"salt_hex\": " + q(HEX.formatHex(salt))
                + ", \"plaintext_hex\": " + q(HEX.formatHex(plain)) + ", \"value\": " + q(B64.encodeToString(value)) + "}";
    }

    static String kdf(String digest, int it, int bits) {
        return "\"digest\": " + q(digest) + ", \"iterations\": " + it + ", \"key_bits\": " + bits;
    }

    static void aeswrap(Path dir) throws Exception {
        List<String> v = new ArrayList<>();
        byte[] pubPlain = "A test message to be encrypted".getBytes(StandardCharsets.UTF_8);
        byte[] pubSalt = B64D.decode("ANQ7kB2uSjlRzimzf32LRg==");
        byte[] pub = B64D.decode("AhAA1DuQHa5KOVHOKbN/fYtGe+KLLN5DbQbLo8w0EJHEum0EOd+hrF/moBOGvhvQSXO4CJrd1UnKyA==");
        check(Arrays.equals(AmCrypto.wrapEncrypt("aeswrap", "password", "SHA1", 10000, 128, pubSalt, pubPlain), pub), "published AESWrap vector");
        v.add(wrapOk("forgerock-published-kw", "ForgeRock: AM's own AESWrapEncryption test value, replicated in ForgeRock's Go test TestAesEncode; re-checked by " + GEN,
                "aeswrap", "password", "SHA1", 10000, 128, pubSalt, pubPlain, pub));
        byte[] ssha = SSHA.getBytes(StandardCharsets.UTF_8);
        Object[][] gen = {
            // name, wrap, password, digest, iterations, bits, salt seed, plaintext
            {"published-inputs-kwp", "aeswrap-pad", "password", "SHA1", 10000, 128, null, pubPlain},
            {"ssha512-kw-defaults", "aeswrap", "changeit-AM-encryption-key-1234", "SHA1", 10000, 128, 11, ssha},
            {"ssha512-kwp-defaults", "aeswrap-pad", "changeit-AM-encryption-key-1234", "SHA1", 10000, 128, 11, ssha},
            {"sha256-20000-256-kw", "aeswrap", "password", "SHA256", 20000, 256, 21, ssha},
            {"sha256-20000-256-kwp", "aeswrap-pad", "password", "SHA256", 20000, 256, 21, ssha},
            {"sha384-10000-192-kw", "aeswrap", "password", "SHA384", 10000, 192, 31, pubPlain},
            {"sha512-15000-256-kwp", "aeswrap-pad", "password", "SHA512", 15000, 256, 41, pubPlain},
            {"utf8-password-kw", "aeswrap", "pässwörd€😀", "SHA1", 10000, 128, 51, pubPlain},
            {"utf8-password-kwp", "aeswrap-pad", "pässwörd€😀", "SHA1", 10000, 128, 51, pubPlain},
            {"plaintext-8-bytes-kw", "aeswrap", "password", "SHA1", 10000, 128, 61, seq(8, 3)},
            {"empty-plaintext-kwp-single-block", "aeswrap-pad", "password", "SHA1", 10000, 128, 71, new byte[0]},
            {"plaintext-7-bytes-kwp", "aeswrap-pad", "password", "SHA1", 10000, 128, 81, seq(7, 3)},
            {"binary-plaintext-kw", "aeswrap", "password", "SHA1", 10000, 128, 91, seq(256, 0)},
        };
        byte[] kwpPub = null;
        byte[] sha256 = null;
        for (Object[] g : gen) {
            byte[] salt = g[6] == null ? pubSalt : seq(16, (Integer) g[6]);
            byte[] plain = (byte[]) g[7];
            String wrap = (String) g[1];
            byte[] value = AmCrypto.wrapEncrypt(wrap, (String) g[2], (String) g[3], (Integer) g[4], (Integer) g[5], salt, plain);
            if (g[0].equals("published-inputs-kwp")) kwpPub = value;
            if (g[0].equals("sha256-20000-256-kw")) sha256 = value;
            v.add(wrapOk((String) g[0], GEN + ": PBKDF2WithHmac" + g[3] + " + " + (wrap.equals("aeswrap") ? "AESWrap (RFC 3394)" : "AESWrapPad (RFC 5649)") + " in AM's layout",
                    wrap, (String) g[2], (String) g[3], (Integer) g[4], (Integer) g[5], salt, plain, value));
        }
        String src = GEN + ": forgerock-published-kw value ";
        String pw = "\"password\": \"password\", " + kdf("SHA1", 10000, 128);
        v.add(err("wrong-password", src + "decrypted with password 'Password'", "wrong-key-or-tampered", "decrypt",
                "\"password\": \"Password\", " + kdf("SHA1", 10000, 128) + ", \"value\": " + q(B64.encodeToString(pub))));
        v.add(err("wrong-password-kwp", GEN + ": published-inputs-kwp value decrypted with password 'Password'", "wrong-key-or-tampered", "decrypt",
                "\"password\": \"Password\", " + kdf("SHA1", 10000, 128) + ", \"value\": " + q(B64.encodeToString(kwpPub))));
        v.add(err("wrong-kdf-settings", GEN + ": sha256-20000-256-kw value decrypted with the default SHA1/10000/128", "wrong-key-or-tampered", "decrypt",
                pw + ", \"value\": " + q(B64.encodeToString(sha256))));
        v.add(err("flipped-bit-salt", src + "with bit 0 of byte 5 (in the salt) flipped", "wrong-key-or-tampered", "decrypt",
                pw + ", \"value\": " + q(B64.encodeToString(flip(pub, 5)))));
        v.add(err("flipped-bit-integrity-value", src + "with bit 0 of byte 18 (first byte of the wrapped data) flipped", "wrong-key-or-tampered", "decrypt",
                pw + ", \"value\": " + q(B64.encodeToString(flip(pub, 18)))));
        v.add(err("flipped-bit-ciphertext", src + "with bit 0 of the last byte flipped", "wrong-key-or-tampered", "decrypt",
                pw + ", \"value\": " + q(B64.encodeToString(flip(pub, pub.length - 1)))));
        v.add(err("flipped-bit-ciphertext-kwp", GEN + ": published-inputs-kwp value with bit 0 of the last byte flipped", "wrong-key-or-tampered", "decrypt",
                pw + ", \"value\": " + q(B64.encodeToString(flip(kwpPub, kwpPub.length - 1)))));
        byte[] v3 = pub.clone(); v3[0] = 3;
        v.add(err("wrong-version-byte", src + "with version byte 0x03", "malformed", "decrypt", pw + ", \"value\": " + q(B64.encodeToString(v3))));
        byte[] sl = pub.clone(); sl[1] = (byte) 0xff;
        v.add(err("salt-length-past-end", src + "with salt length byte 0xff (past the end)", "malformed", "decrypt", pw + ", \"value\": " + q(B64.encodeToString(sl))));
        byte[] s8 = pub.clone(); s8[1] = 8;
        v.add(err("salt-length-below-16", src + "with salt length byte 8 (AM requires 16 or more)", "malformed", "decrypt", pw + ", \"value\": " + q(B64.encodeToString(s8))));
        v.add(err("truncated-in-salt", src + "cut to 10 bytes", "malformed", "decrypt", pw + ", \"value\": " + q(B64.encodeToString(Arrays.copyOf(pub, 10)))));
        v.add(err("truncated-not-semiblock-multiple", src + "without its last byte", "malformed", "decrypt",
                pw + ", \"value\": " + q(B64.encodeToString(Arrays.copyOf(pub, pub.length - 1)))));
        v.add(err("truncated-one-semiblock", src + "without its last 8 bytes (lengths fine, integrity fails)", "wrong-key-or-tampered", "decrypt",
                pw + ", \"value\": " + q(B64.encodeToString(Arrays.copyOf(pub, pub.length - 8)))));
        v.add(err("empty-value", "format definition: empty input", "malformed", "decrypt", pw + ", \"value\": \"  \\n\""));
        v.add(err("garbage-base64", "format definition: '-' and '_' are not standard base64", "malformed", "decrypt", pw + ", \"value\": \"AhAA1Du-Ha5K_VHOKbN\""));
        v.add(err("kw-plaintext-below-8-bytes", "RFC 3394 §2.2.1 needs n >= 2 semiblocks; the JDK's AESWrap refuses 8-byte input", "invalid-input", "encrypt",
                "\"cipher\": \"aeswrap\", " + pw + ", \"salt_hex\": " + q(HEX.formatHex(pubSalt)) + ", \"plaintext_hex\": " + q(HEX.formatHex(seq(7, 3)))));
        v.add(err("blank-password", "AM's PBKDF2KeyDerivation.setPassword rejects blank passwords", "invalid-input", "encrypt",
                "\"cipher\": \"aeswrap\", \"password\": \" \", " + kdf("SHA1", 10000, 128) + ", \"salt_hex\": " + q(HEX.formatHex(pubSalt)) + ", \"plaintext_hex\": " + q(HEX.formatHex(pubPlain))));
        write(dir, "am-aeswrap", "AM AESWrapEncryption (02 || saltLen || salt || AESKW(PBKDF2 key, PKCS#5 plaintext)), RFC 3394 and RFC 5649 wraps, several KDF settings", v);
    }

    // ---- aes-gcm ----
    static void gcm(Path dir) throws Exception {
        List<String> v = new ArrayList<>();
        byte[] key = seq(32, 0x40);
        byte[] nonce = seq(12, 0x90);
        Object[][] gen = {
            {"ssha512-value", key, nonce, SSHA.getBytes(StandardCharsets.UTF_8)},
            {"empty-plaintext", key, nonce, new byte[0]},
            {"one-byte", key, seq(12, 1), new byte[] {0x2a}},
            {"binary-300-bytes", seq(32, 5), seq(12, 200), seq(300, 9)},
        };
        byte[] base = null;
        for (Object[] g : gen) {
            byte[] k = (byte[]) g[1], n = (byte[]) g[2], p = (byte[]) g[3];
            byte[] value = AmCrypto.gcmSeal(k, n, p);
            check(Arrays.equals(AmCrypto.gcmOpen(k, value), p), (String) g[0]);
            if (base == null) base = value;
            v.add("{\"name\": " + q((String) g[0]) + ", \"source\": " + q(GEN + ": AES/GCM/NoPadding, 128-bit tag, AAD = 'AMHG' 01") + ", \"expect\": \"ok\", \"key_hex\": "
                    + q(HEX.formatHex(k)) + ", \"nonce_hex\": " + q(HEX.formatHex(n)) + ", \"plaintext_hex\": " + q(HEX.formatHex(p)) + ", \"value\": " + q(B64.encodeToString(value)) + "}");
        }
        String src = GEN + ": ssha512-value envelope ";
        String k = "\"key_hex\": " + q(HEX.formatHex(key));
        v.add(err("wrong-key", src + "opened with another key", "wrong-key-or-tampered", "decrypt",
                "\"key_hex\": " + q(HEX.formatHex(seq(32, 0x41))) + ", \"value\": " + q(B64.encodeToString(base))));
        int[][] flips = {{0, 0}, {4, 1}, {5, 2}, {16, 2}, {17, 2}, {base.length - 17, 2}, {base.length - 16, 2}, {base.length - 1, 2}};
        String[] names = {"flipped-bit-magic", "flipped-bit-version", "flipped-bit-nonce-first", "flipped-bit-nonce-last", "flipped-bit-ciphertext-first",
            "flipped-bit-ciphertext-last", "flipped-bit-tag-first", "flipped-bit-tag-last"};
        for (int i = 0; i < flips.length; i++) {
            int at = flips[i][0];
            String error = at == 0 || at == 4 ? "malformed" : "wrong-key-or-tampered";
            v.add(err(names[i], src + "with bit 0 of byte " + at + " flipped", error, "decrypt", k + ", \"value\": " + q(B64.encodeToString(flip(base, at)))));
        }
        byte[] v2 = base.clone(); v2[4] = 2;
        v.add(err("version-2", src + "with version byte 2", "malformed", "decrypt", k + ", \"value\": " + q(B64.encodeToString(v2))));
        v.add(err("truncated-below-minimum", src + "cut to 32 bytes (header, nonce and tag need 33)", "malformed", "decrypt",
                k + ", \"value\": " + q(B64.encodeToString(Arrays.copyOf(base, 32)))));
        v.add(err("truncated-magic-only", src + "cut to its 4-byte magic", "malformed", "decrypt", k + ", \"value\": " + q(B64.encodeToString(Arrays.copyOf(base, 4)))));
        v.add(err("truncated-last-byte", src + "without its last byte (tag mismatch)", "wrong-key-or-tampered", "decrypt",
                k + ", \"value\": " + q(B64.encodeToString(Arrays.copyOf(base, base.length - 1)))));
        v.add(err("empty-value", "format definition: empty input", "malformed", "decrypt", k + ", \"value\": \"\""));
        v.add(err("garbage-base64", "format definition: spaces inside a line are not base64", "malformed", "decrypt", k + ", \"value\": \"QU1IRwE  AAAA\""));
        v.add(err("am-value-not-envelope", "ForgeRock published AM JCE value given to the envelope reader", "malformed", "decrypt",
                k + ", \"value\": \"AQICv6c3Z1VfvgAtyLDM2OI72NmbGHybL2ERlEvoXM7eOjm0xW1l3ZzMpQ==\""));
        write(dir, "aes-gcm", "amhash local AES-256-GCM envelope ('AMHG' 01 || nonce(12) || ciphertext || tag(16), AAD = header)", v);
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "vectors");
        jce(dir);
        aeswrap(dir);
        gcm(dir);
    }
}
