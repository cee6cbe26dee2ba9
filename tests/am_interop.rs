//! Interop with the JDK, the runtime AM itself decrypts with: tests/interop/AmCrypto.java uses
//! SunJCE's PBEWithMD5AndDES, PBKDF2WithHmacSHA*, AESWrap (RFC 3394), AESWrapPad (RFC 5649) and
//! AES/GCM/NoPadding exactly as AM's JCEEncryption and AESWrapEncryption do.
//!
//! - values amhash encrypts (JCE, AESWrap, AESWrapPad; default and non-default KDF settings;
//!   the local AES-GCM envelope) must decrypt in Java to the same plaintext;
//! - values Java encrypts must decrypt in amhash, which must also name the right cipher.
//!
//! Needs `java` (JDK 17 or later) on PATH. It is not skipped when java is missing: CI installs
//! a JDK, and a silent skip would hide a broken interop.

use std::io::Write;
use std::process::{Command, Stdio};

use amhash::cipher::{
    AmCipher, AmKdf, KdfDigest, LocalKey, am_decrypt, am_encrypt, gcm_open, gcm_seal,
    gcm_seal_with_nonce,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::SecretString;

/// Sends the request lines to one JVM run and returns one `Result` per line.
fn run_java(requests: &[String]) -> Vec<Result<String, String>> {
    let source = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/AmCrypto.java");
    let mut child = match Command::new("java")
        .arg(source)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => panic!(
            "cannot run `java` ({e}): the AM interop test needs a JDK 17+ on PATH \
             (Debian: apt-get install openjdk-17-jdk-headless)"
        ),
    };
    let mut input = requests.join("\n");
    input.push('\n');
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "java failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<_> = text
        .lines()
        .map(|l| match l.split_once('\t') {
            Some(("ok", r)) => Ok(r.to_owned()),
            Some(("err", m)) => Err(m.to_owned()),
            _ => panic!("bad line from java: {l:?}"),
        })
        .collect();
    assert_eq!(lines.len(), requests.len(), "one answer per request");
    lines
}

struct Case {
    cipher: AmCipher,
    password: &'static str,
    kdf: AmKdf,
    plaintext: Vec<u8>,
}

fn kdf(d: KdfDigest, it: u32, bits: u32) -> AmKdf {
    AmKdf::new(d, it, bits).unwrap()
}

fn cases() -> Vec<Case> {
    let ssha = b"{SSHA-512}FEpzEcqQWkrdrbJDWQomLOpmvunrkJKXJcXrRaEtnd0CfqdW1ZxZZodJC93Yr7PXjJ9AjlFGQ0TNCGWTpNj2+J2lNcPbPFsgo3AOiYjaRh7Smw==".to_vec();
    let binary: Vec<u8> = (0..=255u8).rev().collect();
    let kdfs = [
        AmKdf::default(),
        kdf(KdfDigest::Sha256, 20_000, 256),
        kdf(KdfDigest::Sha384, 10_000, 192),
        kdf(KdfDigest::Sha512, 12_345, 128),
    ];
    let mut out = Vec::new();
    for plaintext in [
        ssha.clone(),
        binary.clone(),
        b"8 bytes!".to_vec(),
        Vec::new(),
    ] {
        out.push(Case {
            cipher: AmCipher::Jce,
            password: "changeit AM encryption key ~!",
            kdf: AmKdf::default(),
            plaintext,
        });
    }
    for cipher in [AmCipher::AesWrap, AmCipher::AesWrapPad] {
        for (i, k) in kdfs.iter().enumerate() {
            out.push(Case {
                cipher,
                password: if i % 2 == 0 {
                    "password"
                } else {
                    "pässwörd€😀"
                },
                kdf: *k,
                plaintext: ssha.clone(),
            });
        }
        out.push(Case {
            cipher,
            password: "password",
            kdf: AmKdf::default(),
            plaintext: binary.clone(),
        });
        out.push(Case {
            cipher,
            password: "password",
            kdf: AmKdf::default(),
            plaintext: b"8 bytes!".to_vec(),
        });
    }
    for plaintext in [Vec::new(), b"x".to_vec()] {
        out.push(Case {
            cipher: AmCipher::AesWrapPad,
            password: "password",
            kdf: AmKdf::default(),
            plaintext,
        });
    }
    out
}

fn am_request(op: &str, c: &Case, data: &str) -> String {
    format!(
        "{op}\t{}\t{}\t{}\t{}\t{}\t{data}",
        c.cipher,
        c.kdf.digest(),
        c.kdf.iterations(),
        c.kdf.key_bits(),
        STANDARD.encode(c.password)
    )
}

#[test]
fn am_ciphers_interoperate_with_the_jdk_both_ways() {
    let cases = cases();
    let mut requests = Vec::new();
    let mut ours = Vec::new();
    for c in &cases {
        let pw = SecretString::from(c.password.to_owned());
        let value = am_encrypt(c.cipher, &pw, &c.kdf, &c.plaintext).unwrap();
        requests.push(am_request("am-decrypt", c, &value));
        requests.push(am_request("am-encrypt", c, &STANDARD.encode(&c.plaintext)));
        ours.push(value);
    }
    let answers = run_java(&requests);
    for (i, c) in cases.iter().enumerate() {
        let what = format!(
            "case {i}: {} {}/{}/{} {}-byte plaintext",
            c.cipher,
            c.kdf.digest(),
            c.kdf.iterations(),
            c.kdf.key_bits(),
            c.plaintext.len()
        );
        // amhash -> Java (AM)
        let java_plain = answers[2 * i]
            .as_ref()
            .unwrap_or_else(|e| panic!("{what}: Java cannot decrypt amhash's value: {e}"));
        assert_eq!(STANDARD.decode(java_plain).unwrap(), c.plaintext, "{what}");
        // Java (AM) -> amhash
        let java_value = answers[2 * i + 1]
            .as_ref()
            .unwrap_or_else(|e| panic!("{what}: Java cannot encrypt: {e}"));
        let pw = SecretString::from(c.password.to_owned());
        let d = am_decrypt(&pw, &c.kdf, java_value)
            .unwrap_or_else(|e| panic!("{what}: amhash cannot decrypt Java's value: {e}"));
        assert_eq!(d.cipher, c.cipher, "{what}: detected cipher");
        assert_eq!(d.plaintext.as_slice(), &c.plaintext[..], "{what}");
        // JCE is deterministic: both sides must produce the same text.
        if c.cipher == AmCipher::Jce {
            assert_eq!(java_value, &ours[i], "{what}: JCE values differ");
        }
    }
}

#[test]
fn aes_gcm_envelope_interoperates_with_the_jdk_both_ways() {
    let key_hex = "8f1e6b2c9d0a4f3e7b5c1d2e3f405162738495a6b7c8d9eafb0c1d2e3f405162";
    let key = LocalKey::from_hex(key_hex).unwrap();
    let plaintexts: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"x".to_vec(),
        b"{SSHA-512}FEpzEcqQWkrdrbJDWQomLOpmvunrkJKXJcXrRaEtnd0CfqdW1ZxZZodJC93Yr7PXjJ9A".to_vec(),
        (0..300u16).map(|i| (i * 7 % 256) as u8).collect(),
    ];
    let nonce = [0x42u8; 12];
    let mut requests = Vec::new();
    let mut fixed = Vec::new();
    for p in &plaintexts {
        let b64 = STANDARD.encode(p);
        requests.push(format!(
            "gcm-open\t{key_hex}\t{}",
            gcm_seal(&key, p).unwrap()
        ));
        requests.push(format!(
            "gcm-seal\t{key_hex}\t{}\t{b64}",
            hex::encode(nonce)
        ));
        fixed.push(gcm_seal_with_nonce(&key, &nonce, p).unwrap());
    }
    let answers = run_java(&requests);
    for (i, p) in plaintexts.iter().enumerate() {
        let opened = answers[2 * i]
            .as_ref()
            .unwrap_or_else(|e| panic!("plaintext {i}: Java cannot open amhash's envelope: {e}"));
        assert_eq!(&STANDARD.decode(opened).unwrap(), p, "plaintext {i}");
        let sealed = answers[2 * i + 1]
            .as_ref()
            .unwrap_or_else(|e| panic!("plaintext {i}: Java cannot seal: {e}"));
        assert_eq!(
            sealed, &fixed[i],
            "plaintext {i}: same key and nonce, same envelope"
        );
        assert_eq!(gcm_open(&key, sealed).unwrap().as_slice(), &p[..]);
    }
}

#[test]
fn jdk_refuses_what_amhash_refuses() {
    // The limits amhash enforces are the JDK's: a non-ASCII JCE password and an RFC 3394 wrap of
    // fewer than 8 plaintext bytes. Both sides must refuse them.
    let kw_short = Case {
        cipher: AmCipher::AesWrap,
        password: "password",
        kdf: AmKdf::default(),
        plaintext: b"1234567".to_vec(),
    };
    let jce_utf8 = Case {
        cipher: AmCipher::Jce,
        password: "pässwörd",
        kdf: AmKdf::default(),
        plaintext: b"hello".to_vec(),
    };
    let requests: Vec<String> = [&kw_short, &jce_utf8]
        .iter()
        .map(|c| am_request("am-encrypt", c, &STANDARD.encode(&c.plaintext)))
        .collect();
    let answers = run_java(&requests);
    for (c, a) in [&kw_short, &jce_utf8].iter().zip(&answers) {
        assert!(a.is_err(), "{}: the JDK accepted it", c.cipher);
        let pw = SecretString::from(c.password.to_owned());
        assert!(am_encrypt(c.cipher, &pw, &c.kdf, &c.plaintext).is_err());
    }
}
