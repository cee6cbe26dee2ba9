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

use amhash::cipher::{
    AmCipher, AmKdf, KdfDigest, LocalKey, am_decrypt, am_encrypt, gcm_open, gcm_seal,
    gcm_seal_with_nonce,
};
use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::SecretString;

use crate::support::*;

/// Sends the request lines to one JVM run and returns one `Result` per line.
fn run_java(requests: &[String]) -> Vec<Result<String, String>> {
    let source = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/AmCrypto.java");
    // Needs a JDK 17+ on PATH (Debian: apt-get install openjdk-17-jdk-headless).
    let mut input = requests.join("\n");
    input.push('\n');
    let out = Run::new("java").arg(source).stdin(input).output();
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

// ---- --am-sample: learn the encryptor from a value the administrator's AM made ----------------

const SAMPLE_KEY: &str = "Am-Sample-Key_0815";
const SAMPLE_PW: &str = "7Hq-Zk2_mW9pXv4RtB8nLc3yJd6s";
const SAMPLE_SALT: &str = "000102030405060708090a0b0c0d0e0f10111213";
/// ForgeRock's published vectors encrypt this sentence: a sample need not be a hash.
const SAMPLE_TEXT: &[u8] = b"A test message to be encrypted";

/// A fixture with the sample's key (`key`), a password (`pw`) and a wrong key (`wrong`).
fn sample_dir() -> Fixture {
    let f = Fixture::empty();
    f.secret_file("key", SAMPLE_KEY);
    f.secret_file("pw", SAMPLE_PW);
    f.secret_file("wrong", "Wrong-Key_4711");
    f
}

/// Runs the real amhash binary; returns (exit code, stdout, stderr).
fn amhash(args: &[&str]) -> (Option<i32>, String, String) {
    parts(&run(args, b""))
}

fn kdf_flags(kdf: &AmKdf) -> Vec<String> {
    vec![
        "--am-kdf-digest".into(),
        kdf.digest().to_string(),
        "--am-kdf-iterations".into(),
        kdf.iterations().to_string(),
        "--am-key-size".into(),
        kdf.key_bits().to_string(),
    ]
}

/// A request for the JDK with the sample key.
fn sample_request(op: &str, cipher: AmCipher, kdf: &AmKdf, password: &str, data: &[u8]) -> String {
    format!(
        "{op}\t{cipher}\t{}\t{}\t{}\t{}\t{}",
        kdf.digest(),
        kdf.iterations(),
        kdf.key_bits(),
        STANDARD.encode(password),
        STANDARD.encode(data)
    )
}

fn variants() -> Vec<(AmCipher, AmKdf)> {
    let default = AmKdf::default();
    let custom = kdf(KdfDigest::Sha256, 20_000, 256);
    vec![
        (AmCipher::Jce, default),
        (AmCipher::AesWrap, default),
        (AmCipher::AesWrapPad, default),
        (AmCipher::AesWrap, custom),
        (AmCipher::AesWrapPad, custom),
    ]
}

/// The "administrator's AM" (the JDK) encrypts [`SAMPLE_TEXT`] with [`SAMPLE_KEY`] in each
/// variant: the samples.
fn jdk_samples(variants: &[(AmCipher, AmKdf)]) -> Vec<String> {
    let requests: Vec<String> = variants
        .iter()
        .map(|(c, k)| sample_request("am-encrypt", *c, k, SAMPLE_KEY, SAMPLE_TEXT))
        .collect();
    run_java(&requests)
        .into_iter()
        .map(|r| r.expect("the JDK makes a sample"))
        .collect()
}

/// An empty store directory `store` in `d`: its path for a command line.
fn store_dir(d: &Fixture) -> (PathBuf, String) {
    let store = d.dir("store", 0o700);
    let arg = store.to_str().unwrap().to_owned();
    (store, arg)
}

#[test]
fn am_sample_picks_the_variant_the_jdk_used_and_the_jdk_reads_the_new_value() {
    let d = sample_dir();
    let pw = d.arg("pw");
    let key = d.source("key");
    // The hash every new value must carry.
    let (code, plain, _) = amhash(&[
        "generate",
        "--password-file",
        &pw,
        "--salt-hex",
        SAMPLE_SALT,
    ]);
    assert_eq!(code, Some(0));
    let hash = plain.trim_end().to_owned();
    // The "administrator's AM" (the JDK) makes one sample per variant.
    let samples = jdk_samples(&variants());
    let mut checks = Vec::new();
    let mut expect = Vec::new();
    for (i, ((cipher, kdf), sample)) in variants().iter().zip(&samples).enumerate() {
        let sample_file = d.write(&format!("sample{i}"), &format!("{sample}\n"));
        let flags = kdf_flags(kdf);
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        // generate, encrypt and install all take it.
        let mut tail = vec![
            "--encrypt",
            "am",
            "--key",
            &key,
            "--am-sample",
            &sample_file,
        ];
        tail.extend_from_slice(&flags);
        let ok = |head: &[&str]| {
            let args: Vec<&str> = head.iter().chain(&tail).copied().collect();
            let (code, out, err) = amhash(&args);
            assert_eq!(code, Some(0), "{cipher}: {head:?}: {err}");
            (out, err)
        };
        let (out, err) = ok(&[
            "generate",
            "--password-file",
            &pw,
            "--salt-hex",
            SAMPLE_SALT,
        ]);
        let named = match cipher {
            AmCipher::Jce => "JCEEncryption (jce)",
            AmCipher::AesWrap => "AESWrapEncryption with the RFC 3394 key wrap (aeswrap)",
            AmCipher::AesWrapPad => "AESWrapEncryption with the RFC 5649 key wrap (aeswrap-pad)",
        };
        assert!(
            err.contains(&format!(
                "--am-sample: your AM's value opens as {named}; the new value uses the same"
            )),
            "{cipher}: {err}"
        );
        let generated = out.trim_end().to_owned();
        let hash_file = d.write(&format!("hash{i}"), &hash);
        let (out, _) = ok(&["encrypt", "--in", &hash_file]);
        let encrypted = out.trim_end().to_owned();
        let store = d.path(&format!("store{i}"));
        std::fs::create_dir(&store).unwrap();
        let store_arg = store.to_str().unwrap().to_owned();
        let (out, _) = ok(&[
            "install",
            "--dir",
            &store_arg,
            "--password-file",
            &pw,
            "--salt-hex",
            SAMPLE_SALT,
        ]);
        assert!(out.contains(named), "{cipher}: {out}");
        let installed = std::fs::read_to_string(store.join("password.amadmin")).unwrap();
        // The JDK opens each with the sample's own variant; the other wrap does not open them.
        for value in [&generated, &encrypted, &installed] {
            let bytes = STANDARD.decode(value).unwrap();
            checks.push(format!(
                "am-decrypt\t{cipher}\t{}\t{}\t{}\t{}\t{value}",
                kdf.digest(),
                kdf.iterations(),
                kdf.key_bits(),
                STANDARD.encode(SAMPLE_KEY)
            ));
            expect.push(Some(hash.clone()));
            let other = match cipher {
                AmCipher::AesWrap => Some(AmCipher::AesWrapPad),
                AmCipher::AesWrapPad => Some(AmCipher::AesWrap),
                AmCipher::Jce => None,
            };
            if let Some(other) = other {
                checks.push(format!(
                    "am-decrypt\t{other}\t{}\t{}\t{}\t{}\t{value}",
                    kdf.digest(),
                    kdf.iterations(),
                    kdf.key_bits(),
                    STANDARD.encode(SAMPLE_KEY)
                ));
                expect.push(None);
            }
            assert!(!bytes.is_empty());
        }
    }
    for ((answer, want), request) in run_java(&checks).into_iter().zip(expect).zip(&checks) {
        match want {
            Some(hash) => {
                let text = String::from_utf8(STANDARD.decode(answer.unwrap()).unwrap()).unwrap();
                assert_eq!(text, hash, "{request}");
            }
            None => assert!(answer.is_err(), "the other key wrap opened it: {request}"),
        }
    }
}

#[test]
fn am_sample_the_key_cannot_open_is_exit_3_and_nothing_is_printed_or_written() {
    let d = sample_dir();
    let pw = d.arg("pw");
    let custom = kdf(KdfDigest::Sha256, 20_000, 256);
    let samples = jdk_samples(&[
        (AmCipher::AesWrapPad, AmKdf::default()),
        (AmCipher::AesWrap, custom),
        (AmCipher::Jce, AmKdf::default()),
    ]);
    let wrap_default = d.write("s1", &samples[0]);
    let wrap_custom = d.write("s2", &samples[1]);
    let jce = d.write("s3", &samples[2]);
    let (store, store_arg) = store_dir(&d);
    // Wrong AM encryption password; right password but not the AM's KDF settings.
    for (sample, key) in [
        (&wrap_default, d.source("wrong")),
        (&jce, d.source("wrong")),
        (&wrap_custom, d.source("key")),
    ] {
        for cmd in ["generate", "install"] {
            let mut args = vec![cmd, "--password-file", &pw, "--am-sample", sample];
            args.extend(["--encrypt", "am", "--key", &key]);
            if cmd == "install" {
                args.extend_from_slice(&["--dir", &store_arg]);
            }
            let (code, out, err) = amhash(&args);
            assert_eq!(code, Some(3), "{cmd} {sample}: {err}");
            assert!(out.is_empty(), "{cmd}: printed {out}");
            assert!(
                err.starts_with("amhash: error: --am-sample ")
                    && err.contains("the key does not open this sample")
                    && err.lines().count() == 1,
                "{err}"
            );
            assert!(!err.contains(SAMPLE_KEY) && !err.contains(SAMPLE_PW));
        }
    }
    assert_eq!(
        std::fs::read_dir(&store).unwrap().count(),
        0,
        "install wrote something"
    );
    // Not an AM value at all; --am-sample without --encrypt am; with --am-cipher: exit 2.
    let junk = d.write("junk", "{SSHA-512}not-encrypted");
    let key = d.source("key");
    let am: &[&str] = &["--encrypt", "am", "--key", &key];
    let cases: [(&str, Vec<&str>, &str); 3] = [
        (
            "not an AM value",
            [am, &["--am-sample", &junk]].concat(),
            "",
        ),
        (
            "without --encrypt am",
            vec!["--am-sample", &jce],
            "--am-sample goes with --encrypt am",
        ),
        (
            "--am-cipher and --am-sample together",
            [am, &["--am-sample", &jce, "--am-cipher", "aeswrap"]].concat(),
            "",
        ),
    ];
    for (name, extra, needle) in cases {
        let mut args = vec!["generate", "--password-file", &pw];
        args.extend(extra);
        let (code, _, err) = amhash(&args);
        assert_eq!(code, Some(2), "{name}: {err}");
        assert!(err.contains(needle), "{name}: {err}");
    }
}

#[test]
fn doctor_says_whether_the_stored_value_matches_the_sample() {
    let d = sample_dir();
    let pw = d.arg("pw");
    let key = d.source("key");
    let samples = jdk_samples(&[
        (AmCipher::AesWrap, AmKdf::default()),
        (AmCipher::AesWrapPad, AmKdf::default()),
    ]);
    let am_key = ["--encrypt", "am", "--key", &key];
    let kw = d.write("kw", &samples[0]);
    let kwp = d.write("kwp", &samples[1]);
    let (_store, s) = store_dir(&d);
    let install = [
        &["install", "--dir", &s, "--password-file", &pw][..],
        &am_key,
    ]
    .concat();
    let (code, _, err) = amhash(&[&install[..], &["--am-cipher", "aeswrap"]].concat());
    assert_eq!(code, Some(0), "{err}");
    let (code, out, _) = amhash(&["doctor", "--dir", &s, "--key", &key, "--am-sample", &kw]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("ok       am-sample: the stored value uses AESWrapEncryption with the RFC 3394 key wrap (aeswrap), as your AM's sample does"), "{out}");
    let (code, out, _) = amhash(&["doctor", "--dir", &s, "--key", &key, "--am-sample", &kwp]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("problem  am-sample: the stored value uses AESWrapEncryption with the RFC 3394 key wrap (aeswrap) but your AM's sample uses AESWrapEncryption with the RFC 5649 key wrap (aeswrap-pad)"), "{out}");
}
