// Interop peer for tests/am_interop.rs: the JDK's own SunJCE ciphers used the way AM uses them
// (com.iplanet.services.util.JCEEncryption, org.forgerock.openam.shared.security.crypto.
// AESWrapEncryption with PBKDF2KeyDerivation) and the amhash AES-GCM envelope layout.
// vectors/GenVectors.java builds the checked-in vectors with these same methods.
//
//   java tests/interop/AmCrypto.java  < requests  > responses     (JDK 17 or later)
//
// One request per line, fields separated by TAB, binary fields in standard base64:
//   am-encrypt  CIPHER DIGEST ITERATIONS KEYBITS PASSWORD_B64 PLAINTEXT_B64   -> ok VALUE
//   am-decrypt  CIPHER DIGEST ITERATIONS KEYBITS PASSWORD_B64 VALUE           -> ok PLAINTEXT_B64
//   gcm-seal    KEY_HEX NONCE_HEX PLAINTEXT_B64                               -> ok VALUE
//   gcm-open    KEY_HEX VALUE                                                 -> ok PLAINTEXT_B64
// CIPHER is jce, aeswrap (AESWrap, RFC 3394) or aeswrap-pad (AESWrapPad, RFC 5649); JCE ignores
// the KDF fields. Each request gets one response line: "ok<TAB>result" or "err<TAB>message".

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.PBEParameterSpec;
import javax.crypto.spec.SecretKeySpec;

public class AmCrypto {
    static final PBEParameterSpec JCE_PARAMS = new PBEParameterSpec(new byte[] {1, 1, 1, 1, 1, 1, 1, 1}, 5);
    static final byte[] GCM_HEADER = {'A', 'M', 'H', 'G', 1};
    static final SecureRandom RANDOM = new SecureRandom();

    static Cipher jceCipher(int mode, String password) throws Exception {
        SecretKey key = SecretKeyFactory.getInstance("PBEWithMD5AndDES").generateSecret(new PBEKeySpec(password.toCharArray()));
        Cipher c = Cipher.getInstance("PBEWithMD5AndDES");
        c.init(mode, key, JCE_PARAMS);
        return c;
    }

    // JCEEncryption.pbeEncrypt + addPrefix
    static byte[] jceEncrypt(String password, byte[] plain) throws Exception {
        Cipher c = jceCipher(Cipher.ENCRYPT_MODE, password);
        byte[] ct = c.doFinal(plain);
        byte[] out = new byte[11 + ct.length];
        out[0] = 1; out[1] = 2; out[2] = 2;
        System.arraycopy(c.getIV(), 0, out, 3, 8);
        System.arraycopy(ct, 0, out, 11, ct.length);
        return out;
    }

    // JCEEncryption.pbeDecrypt: checks the version byte, skips header and IV.
    static byte[] jceDecrypt(String password, byte[] value) throws Exception {
        if (value[0] != 1) throw new IllegalArgumentException("not a JCE value");
        return jceCipher(Cipher.DECRYPT_MODE, password).doFinal(value, 11, value.length - 11);
    }

    static SecretKeySpec kek(String password, String digest, int iterations, int bits, byte[] salt) throws Exception {
        byte[] k = SecretKeyFactory.getInstance("PBKDF2WithHmac" + digest)
                .generateSecret(new PBEKeySpec(password.toCharArray(), salt, iterations, bits)).getEncoded();
        return new SecretKeySpec(k, "AES");
    }

    static Cipher wrapCipher(String cipher) throws Exception {
        return Cipher.getInstance(cipher.equals("aeswrap") ? "AESWrap" : "AESWrapPad");
    }

    static byte[] pkcs5pad(byte[] d) {
        int pad = 8 - d.length % 8;
        byte[] r = Arrays.copyOf(d, d.length + pad);
        Arrays.fill(r, d.length, r.length, (byte) pad);
        return r;
    }

    static byte[] pkcs5unpad(byte[] d) {
        int pad = d[d.length - 1];
        if (pad <= 0 || pad > 8) throw new IllegalArgumentException("bad padding");
        for (int i = d.length - pad; i < d.length; i++) if (d[i] != pad) throw new IllegalArgumentException("bad padding");
        return Arrays.copyOf(d, d.length - pad);
    }

    // AESWrapEncryption.encrypt + formatEncryptedMessage, with the salt given (AM draws 16 random
    // bytes; the vector generator fixes them).
    static byte[] wrapEncrypt(String cipher, String password, String digest, int it, int bits, byte[] salt, byte[] plain) throws Exception {
        Cipher c = wrapCipher(cipher);
        c.init(Cipher.WRAP_MODE, kek(password, digest, it, bits, salt));
        byte[] w = c.wrap(new SecretKeySpec(pkcs5pad(plain), "RAW"));
        byte[] out = new byte[2 + salt.length + w.length];
        out[0] = 2; out[1] = (byte) salt.length;
        System.arraycopy(salt, 0, out, 2, salt.length);
        System.arraycopy(w, 0, out, 2 + salt.length, w.length);
        return out;
    }

    // AESWrapEncryption.decrypt
    static byte[] wrapDecrypt(String cipher, String password, String digest, int it, int bits, byte[] value) throws Exception {
        if (value.length < 2 || value[0] != 2) throw new IllegalArgumentException("malformed input");
        int saltLen = value[1] & 0xff;
        if (saltLen > value.length - 2) throw new IllegalArgumentException("invalid salt length");
        byte[] salt = Arrays.copyOfRange(value, 2, 2 + saltLen);
        if (salt.length < 16) throw new IllegalArgumentException("salt too short");
        Cipher c = wrapCipher(cipher);
        c.init(Cipher.UNWRAP_MODE, kek(password, digest, it, bits, salt));
        return pkcs5unpad(c.unwrap(Arrays.copyOfRange(value, 2 + saltLen, value.length), "RAW", Cipher.SECRET_KEY).getEncoded());
    }

    static byte[] gcmSeal(byte[] key, byte[] nonce, byte[] plain) throws Exception {
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
        c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, nonce));
        c.updateAAD(GCM_HEADER);
        byte[] ct = c.doFinal(plain);
        byte[] out = new byte[17 + ct.length];
        System.arraycopy(GCM_HEADER, 0, out, 0, 5);
        System.arraycopy(nonce, 0, out, 5, 12);
        System.arraycopy(ct, 0, out, 17, ct.length);
        return out;
    }

    static byte[] gcmOpen(byte[] key, byte[] value) throws Exception {
        if (!Arrays.equals(Arrays.copyOf(value, 5), GCM_HEADER)) throw new IllegalArgumentException("not an envelope");
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
        c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, Arrays.copyOfRange(value, 5, 17)));
        c.updateAAD(GCM_HEADER);
        return c.doFinal(value, 17, value.length - 17);
    }

    static String handle(String[] f) throws Exception {
        Base64.Encoder enc = Base64.getEncoder();
        Base64.Decoder dec = Base64.getDecoder();
        HexFormat hex = HexFormat.of();
        switch (f[0]) {
            case "am-encrypt": case "am-decrypt": {
                String cipher = f[1], digest = f[2];
                int it = Integer.parseInt(f[3]), bits = Integer.parseInt(f[4]);
                String password = new String(dec.decode(f[5]), StandardCharsets.UTF_8);
                byte[] data = dec.decode(f[6]);
                boolean jce = cipher.equals("jce");
                if (f[0].equals("am-encrypt")) {
                    byte[] salt = new byte[16];
                    RANDOM.nextBytes(salt);
                    return enc.encodeToString(jce ? jceEncrypt(password, data) : wrapEncrypt(cipher, password, digest, it, bits, salt, data));
                }
                return enc.encodeToString(jce ? jceDecrypt(password, data) : wrapDecrypt(cipher, password, digest, it, bits, data));
            }
            case "gcm-seal":
                return enc.encodeToString(gcmSeal(hex.parseHex(f[1]), hex.parseHex(f[2]), dec.decode(f[3])));
            case "gcm-open":
                return enc.encodeToString(gcmOpen(hex.parseHex(f[1]), dec.decode(f[2])));
            default:
                throw new IllegalArgumentException("unknown request " + f[0]);
        }
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        StringBuilder out = new StringBuilder();
        for (String line; (line = in.readLine()) != null; ) {
            if (line.isEmpty()) continue;
            try {
                String result = handle(line.split("\t", -1));
                out.append("ok\t").append(result);
            } catch (Exception e) {
                out.append("err\t").append(e.toString().replace('\n', ' ').replace('\t', ' '));
            }
            out.append('\n');
        }
        System.out.print(out);
        System.out.flush();
    }
}
