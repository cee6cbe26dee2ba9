//! Encryption through the real `amhash` binary: `generate --encrypt`, `encrypt`, `decrypt`,
//! `verify --key`, `key generate`, `key store`, and every key source (file, env, both OS
//! keyrings for real).
//!
//! What is checked, for every command run: the exit code; on success one value line on
//! stdout; on failure an empty stdout and exactly one `amhash: error: ` line on stderr; and,
//! always, that no secret (user password, AM encryption password, local key) appears in
//! stdout or stderr.
//!
//! Oracles: the library's own decryption (checked against the JDK by tests/it/am_interop.rs)
//! tells which AM cipher the CLI used; JDK-made vectors in vectors/am-jce.json and
//! vectors/am-aeswrap.json check the CLI's JCE bytes and KDF flags without calling Java.
//!
//! The keyring tests need `keyctl`, `dbus-run-session` and `gnome-keyring-daemon` (Debian:
//! keyutils, dbus, gnome-keyring), which CI installs; they fail, not skip, without them.

use std::fs;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Output};

use amhash::cipher::{self, AmCipher, AmKdf, KdfDigest, LocalKey};
use amhash::key_source::{KeySource, KeyringBackend};
use amhash::ssha::{Salt, SshaHash};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::support::*;

const SALT_HEX: &str = "e379f0cf3a06ec53b8044642ceadd468b1e5cf87";

const WRONG_KEY_MSG: &str = "the key is wrong or the data was altered";
const NOT_A_HASH_MSG: &str = "the value decrypts with this key, but what it holds is not a {SSHA-512} value: it was made from something else, so AM would not accept it as a password";
const NOT_A_HASH_JCE_MSG: &str = "the value decrypts with this key, but what it holds is not a {SSHA-512} value: it was made from something else (or altered: JCE has no integrity check), so AM would not accept it as a password";
const AES_GCM_WARNING: &str = "amhash: warning: AM cannot read an AES-GCM value: decrypt it \
                               (amhash decrypt) before installing it\n";

// ---- running amhash ----------------------------------------------------------------------

/// Runs amhash with `args`, `stdin`, and `env` set on the child only; checks that no secret
/// is printed.
fn run_with(args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Output {
    // No session bus: `auto` means keyutils, and no test reaches a desktop keyring by chance.
    let out = amhash(args)
        .stdin(stdin)
        .envs(env.iter().copied())
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .output();
    assert_no_secret(&out, &[]);
    out
}

fn run(args: &[&str], stdin: &[u8]) -> Output {
    run_with(args, stdin, &[])
}

/// A temporary directory with the password and key files most tests use.
struct Fx {
    dir: Fixture,
    /// `--password-file` holding USER_PW.
    pw: String,
    /// `--password-file` holding WRONG_USER_PW.
    wrong_pw: String,
    /// `file:` source holding AM_PW.
    am_key: String,
    /// `file:` source holding WRONG_AM_PW.
    wrong_am_key: String,
    /// `file:` source holding KEY_HEX.
    gcm_key: String,
    /// `file:` source holding WRONG_KEY_HEX.
    wrong_gcm_key: String,
}

impl Fx {
    fn new() -> Self {
        let dir = Fixture::empty();
        Self {
            pw: dir.write("pw", &format!("{USER_PW}\n")),
            wrong_pw: dir.write("wrong-pw", &format!("{WRONG_USER_PW}\n")),
            am_key: dir.key("am.key", format!("{AM_PW}\n")),
            wrong_am_key: dir.key("wrong-am.key", format!("{WRONG_AM_PW}\n")),
            gcm_key: dir.key("gcm.key", format!("{KEY_HEX}\n")),
            wrong_gcm_key: dir.key("wrong-gcm.key", format!("{WRONG_KEY_HEX}\n")),
            dir,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path(name)
    }

    /// Creates `name` with `content` and exactly `mode`; returns its path.
    fn file(&self, name: &str, content: &[u8], mode: u32) -> String {
        self.dir.file(name, content, mode).display().to_string()
    }

    /// A 0600 key file: its `file:` source.
    fn key(&self, name: &str, content: &[u8]) -> String {
        self.dir.key(name, content)
    }

    /// `generate --encrypt aes-gcm --key KEY` with the fixed salt: the value, after checking
    /// that stderr has exactly the "AM cannot read it" warning.
    #[track_caller]
    fn generate_gcm(&self, key: &str) -> String {
        let out = run(
            &[
                "generate",
                "--password-file",
                &self.pw,
                "--salt-hex",
                SALT_HEX,
                "--encrypt",
                "aes-gcm",
                "--key",
                key,
            ],
            b"",
        );
        assert_eq!(stderr(&out), AES_GCM_WARNING);
        out.line()
    }

    /// `generate` with the fixed salt and `extra` flags: the value, checked to be one line
    /// and nothing else on stdout or stderr.
    #[track_caller]
    fn generate(&self, extra: &[&str]) -> String {
        let mut args = vec![
            "generate",
            "--password-file",
            &self.pw,
            "--salt-hex",
            SALT_HEX,
        ];
        args.extend_from_slice(extra);
        run(&args, b"").quiet_line().to_owned()
    }
}

/// The `{SSHA-512}` value of USER_PW with the fixed salt.
fn expected_hash() -> String {
    SshaHash::with_salt(
        USER_PW.as_bytes(),
        Salt::from_hex(SALT_HEX).expect("salt hex"),
    )
    .to_string()
}

fn kdf(digest: &str, iterations: u32, bits: u32) -> AmKdf {
    AmKdf::new(
        digest.parse::<KdfDigest>().expect("digest"),
        iterations,
        bits,
    )
    .expect("kdf")
}

fn default_kdf() -> AmKdf {
    kdf("SHA1", 10_000, 128)
}

/// Standard base64 on one line, padded, no wrapping: the decoded bytes.
#[track_caller]
fn decode_strict(value: &str) -> Vec<u8> {
    assert!(
        value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='),
        "not one line of standard base64: {value:?}"
    );
    STANDARD.decode(value).expect("standard padded base64")
}

fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// The value with bit 0 of decoded byte `index` flipped (negative: from the end).
fn flip(value: &str, index: isize) -> String {
    let mut bytes = STANDARD.decode(value).expect("base64");
    let i = if index < 0 {
        bytes.len() - index.unsigned_abs()
    } else {
        index.unsigned_abs()
    };
    bytes[i] ^= 0x01;
    encode(&bytes)
}

/// The value with its decoded bytes cut to `len`.
fn cut(value: &str, len: usize) -> String {
    let bytes = STANDARD.decode(value).expect("base64");
    encode(&bytes[..len])
}

/// Base64 wrapped at `width` columns with `eol`, ending with `eol`.
fn wrap(value: &str, width: usize, eol: &str) -> String {
    let mut out = String::new();
    for chunk in value.as_bytes().chunks(width) {
        out.push_str(std::str::from_utf8(chunk).expect("ascii"));
        out.push_str(eol);
    }
    out
}

fn am_decrypt_lib(password: &str, kdf: &AmKdf, value: &str) -> (AmCipher, String) {
    let d = cipher::am_decrypt(&SecretString::from(password), kdf, value).expect("library decrypt");
    let text = String::from_utf8(d.plaintext.to_vec()).expect("utf8 plaintext");
    (d.cipher, text)
}

fn vector(file: &str, name: &str) -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors/").to_owned() + file;
    let doc: Value = serde_json::from_str(&fs::read_to_string(&path).expect("vector file"))
        .expect("vector JSON");
    doc["vectors"]
        .as_array()
        .expect("vectors")
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no vector {name} in {file}"))
        .clone()
}

/// A KDF setting as (digest, iterations, key bits).
type KdfTriple = (&'static str, u32, u32);

/// One KDF setting: its flags and what they mean.
struct KdfCase {
    flags: &'static [&'static str],
    kdf: KdfTriple,
}

const KDF_CASES: &[KdfCase] = &[
    KdfCase {
        flags: &[],
        kdf: ("SHA1", 10_000, 128),
    },
    KdfCase {
        flags: &[
            "--am-kdf-digest",
            "SHA256",
            "--am-kdf-iterations",
            "20000",
            "--am-key-size",
            "256",
        ],
        kdf: ("SHA256", 20_000, 256),
    },
    KdfCase {
        flags: &[
            "--am-kdf-digest",
            "sha384",
            "--am-kdf-iterations",
            "10000",
            "--am-key-size",
            "192",
        ],
        kdf: ("SHA384", 10_000, 192),
    },
    KdfCase {
        flags: &["--am-kdf-digest", "Sha512", "--am-kdf-iterations", "15000"],
        kdf: ("SHA512", 15_000, 128),
    },
    KdfCase {
        flags: &["--am-key-size", "256", "--am-kdf-digest", "sha1"],
        kdf: ("SHA1", 10_000, 256),
    },
];

// ---- round trips -------------------------------------------------------------------------

#[test]
fn generate_encrypt_am_round_trips_every_cipher_and_kdf() {
    let fx = Fx::new();
    let hash = expected_hash();
    let mut files = 0;
    let ciphers: &[(&[&str], AmCipher)] = &[
        (&[], AmCipher::Jce),
        (&["--am-cipher", "jce"], AmCipher::Jce),
        (&["--am-cipher", "aeswrap"], AmCipher::AesWrap),
        (&["--am-cipher", "aeswrap-pad"], AmCipher::AesWrapPad),
    ];
    for (cipher_flags, want_cipher) in ciphers {
        for case in KDF_CASES {
            let what = format!("{cipher_flags:?} {:?}", case.flags);
            let kdf = kdf(case.kdf.0, case.kdf.1, case.kdf.2);
            let mut args = vec!["--encrypt", "am", "--key", &fx.am_key];
            args.extend_from_slice(cipher_flags);
            args.extend_from_slice(case.flags);
            let value = fx.generate(&args);

            // One line of standard base64, starting as the scheme says; the library opens it
            // with the same settings and names the cipher the flags asked for.
            let bytes = decode_strict(&value);
            assert!(value.len() > 76, "{what}: long enough to show no wrapping");
            match want_cipher {
                AmCipher::Jce => assert_eq!(bytes[..3], [1, 2, 2], "{what}"),
                _ => assert_eq!(bytes[0], 2, "{what}"),
            }
            assert_eq!(
                am_decrypt_lib(AM_PW, &kdf, &value),
                (*want_cipher, hash.clone()),
                "{what}"
            );

            let mut key_flags = vec!["--key", fx.am_key.as_str()];
            key_flags.extend_from_slice(case.flags);

            // decrypt: the {SSHA-512} value, on stdin and with --in.
            let mut args = vec!["decrypt"];
            args.extend_from_slice(&key_flags);
            assert_eq!(
                run(&args, format!("{value}\n").as_bytes()).quiet_line(),
                hash,
                "{what}"
            );
            files += 1;
            let file = fx.file(&format!("v{files}"), value.as_bytes(), 0o644);
            let mut args_in = args.clone();
            args_in.extend_from_slice(&["--in", &file]);
            assert_eq!(run(&args_in, b"").quiet_line(), hash, "{what}");

            // verify: decrypt, then 0 for the password, 1 for another.
            let mut verify = vec!["verify", "--hash-file", &file];
            verify.extend_from_slice(&key_flags);
            let mut good = verify.clone();
            good.extend_from_slice(&["--password-file", &fx.pw]);
            let out = run(&good, b"");
            assert_eq!(out.status.code(), Some(0), "{what}: {out:?}");
            assert!(out.stdout.is_empty(), "{out:?}");
            assert_eq!(stderr(&out), "amhash: the password matches\n", "{what}");
            let mut bad = verify.clone();
            bad.extend_from_slice(&["--password-file", &fx.wrong_pw]);
            let out = run(&bad, b"");
            assert_eq!(out.status.code(), Some(1), "{what}: {out:?}");
            assert_eq!(
                stderr(&out),
                "amhash: the password does not match\n",
                "{what}"
            );

            match want_cipher {
                // JCE has fixed PBE parameters: the same password always gives the same bytes
                // (and the KDF flags, which are AESWrap's, change nothing).
                AmCipher::Jce => {
                    let lib = cipher::am_encrypt(
                        AmCipher::Jce,
                        &SecretString::from(AM_PW),
                        &kdf,
                        hash.as_bytes(),
                    )
                    .expect("library encrypt");
                    assert_eq!(value, lib, "{what}");
                    let plain_flags = ["--encrypt", "am", "--key", fx.am_key.as_str()];
                    assert_eq!(value, fx.generate(&plain_flags), "{what}");
                }
                // AESWrap: a fresh salt each time; another KDF setting is another key.
                _ => {
                    let mut again = vec!["--encrypt", "am", "--key", &fx.am_key];
                    again.extend_from_slice(cipher_flags);
                    again.extend_from_slice(case.flags);
                    assert_ne!(value, fx.generate(&again), "{what}: salt not fresh");
                    let other: &[&str] = if case.flags.is_empty() {
                        &["--am-kdf-iterations", "10001"]
                    } else {
                        &[]
                    };
                    let mut args = vec!["decrypt", "--key", &fx.am_key];
                    args.extend_from_slice(other);
                    run(&args, value.as_bytes()).error(3, WRONG_KEY_MSG);
                }
            }
        }
    }
}

#[test]
fn generate_encrypt_aes_gcm_round_trips() {
    let fx = Fx::new();
    let hash = expected_hash();
    let args = ["--encrypt", "aes-gcm", "--key", &fx.gcm_key];
    let mut full = vec![
        "generate",
        "--password-file",
        &fx.pw,
        "--salt-hex",
        SALT_HEX,
    ];
    full.extend_from_slice(&args);
    let out = run(&full, b"");
    // AM cannot read it: said on stderr, always.
    assert_eq!(stderr(&out), AES_GCM_WARNING);
    let value = out.line().to_owned();
    let bytes = decode_strict(&value);
    assert_eq!(&bytes[..5], b"AMHG\x01");
    let key = LocalKey::from_hex(KEY_HEX).expect("key");
    assert_eq!(
        *cipher::gcm_open(&key, &value).expect("library opens it"),
        hash.as_bytes()
    );
    // A fresh nonce each time.
    let again = run(&full, b"");
    assert_ne!(again.line(), value);

    assert_eq!(
        run(&["decrypt", "--key", &fx.gcm_key], value.as_bytes()).quiet_line(),
        hash
    );
    let out = run(
        &[
            "verify",
            "--hash",
            &value,
            "--key",
            &fx.gcm_key,
            "--password-file",
            &fx.pw,
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = run(
        &[
            "verify",
            "--hash",
            &value,
            "--key",
            &fx.gcm_key,
            "--password-file",
            &fx.wrong_pw,
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}

#[test]
fn encrypt_command_round_trips_every_scheme() {
    let fx = Fx::new();
    let hash = expected_hash();
    let hash_file = fx.file("hash", format!("{hash}\n").as_bytes(), 0o644);
    let schemes: &[(&[&str], Option<AmCipher>)] = &[
        (&["--encrypt", "am"], Some(AmCipher::Jce)),
        (
            &["--encrypt", "am", "--am-cipher", "aeswrap"],
            Some(AmCipher::AesWrap),
        ),
        (
            &[
                "--encrypt",
                "am",
                "--am-cipher",
                "aeswrap-pad",
                "--am-kdf-digest",
                "SHA256",
                "--am-kdf-iterations",
                "20000",
                "--am-key-size",
                "256",
            ],
            Some(AmCipher::AesWrapPad),
        ),
        (&["--encrypt", "aes-gcm"], None),
    ];
    for (flags, am) in schemes {
        let key = if am.is_some() {
            &fx.am_key
        } else {
            &fx.gcm_key
        };
        let kdf_flags: Vec<&str> = flags
            .iter()
            .skip_while(|f| !f.starts_with("--am-kdf") && !f.starts_with("--am-key"))
            .copied()
            .collect();
        let mut args = vec!["encrypt", "--key", key];
        args.extend_from_slice(flags);
        // First line of stdin (what generate printed, newline and all; later lines ignored),
        // or --in PATH.
        let from_stdin = run(&args, format!("{hash}\nsecond line\n").as_bytes());
        let mut with_in = args.clone();
        with_in.extend_from_slice(&["--in", &hash_file]);
        let from_file = run(&with_in, b"");
        for out in [&from_stdin, &from_file] {
            let value = if am.is_some() {
                out.quiet_line()
            } else {
                assert_eq!(stderr(out), AES_GCM_WARNING);
                out.line()
            };
            decode_strict(&value);
            if let Some(want) = am {
                let kdf = if kdf_flags.is_empty() {
                    default_kdf()
                } else {
                    kdf("SHA256", 20_000, 256)
                };
                assert_eq!(am_decrypt_lib(AM_PW, &kdf, &value), (*want, hash.clone()));
            }
            let mut dec = vec!["decrypt", "--key", key];
            dec.extend_from_slice(&kdf_flags);
            assert_eq!(run(&dec, value.as_bytes()).quiet_line(), hash, "{flags:?}");
        }
        // JCE is deterministic: encrypt gives what generate gave for the same hash.
        if *am == Some(AmCipher::Jce) {
            assert_eq!(
                from_stdin.line(),
                fx.generate(&["--encrypt", "am", "--key", &fx.am_key])
            );
        }
    }
}

#[test]
fn encrypt_command_refuses_what_is_not_a_hash() {
    let fx = Fx::new();
    let hash = expected_hash();
    let jce = fx.generate(&["--encrypt", "am", "--key", &fx.am_key]);
    let truncated = &hash[..hash.len() - 4];
    let cases: Vec<(&str, String)> = vec![
        ("empty", String::new()),
        ("blank line", "\n".into()),
        ("text", "hello world\n".into()),
        ("bad base64", "{SSHA-512}***\n".into()),
        ("truncated", format!("{truncated}\n")),
        (
            "other scheme",
            "{SSHA-256}FAAAAAAAAAAAAAAAAAAAAAAAAAAA\n".into(),
        ),
        ("already encrypted", format!("{jce}\n")),
        ("hash on the second line", format!("\n{hash}\n")),
        ("leading space", format!(" {hash}\n")),
    ];
    for (what, stdin) in &cases {
        for flags in [
            ["--encrypt", "am", "--key", &fx.am_key],
            ["--encrypt", "aes-gcm", "--key", &fx.gcm_key],
        ] {
            let mut args = vec!["encrypt"];
            args.extend_from_slice(&flags);
            let out = run(&args, stdin.as_bytes());
            assert_eq!(out.status.code(), Some(2), "{what}: {out:?}");
            out.error(2, "the value to encrypt");
        }
    }
    // Without --encrypt there is nothing to do.
    run(&["encrypt"], format!("{hash}\n").as_bytes()).error(2, "--encrypt am, aes-gcm or kms");
    run(
        &["encrypt", "--key", &fx.am_key],
        format!("{hash}\n").as_bytes(),
    )
    .error(2, "need --encrypt");
    // A missing --in file is an I/O failure.
    run(
        &[
            "encrypt",
            "--encrypt",
            "am",
            "--key",
            &fx.am_key,
            "--in",
            &fx.path("absent").display().to_string(),
        ],
        b"",
    )
    .error(3, "absent");
}

// ---- JCE against JDK-made and published vectors -----------------------------------------------

#[test]
fn jce_is_deterministic_and_matches_jdk_and_published_bytes() {
    let fx = Fx::new();

    // vectors/am-jce.json "ssha512-value": the JDK's PBEWithMD5AndDES of a {SSHA-512}-shaped
    // text under a known password. Its first 38 plaintext bytes are "{SSHA-512}" and the
    // base64 of (0x14 || 20-byte salt), so a real hash with that salt shares the first four
    // DES blocks: the CLI's output must equal the JDK's up to there (3 + 8 + 32 bytes).
    let v = vector("am-jce.json", "ssha512-value");
    let jdk = STANDARD
        .decode(v["value"].as_str().expect("value"))
        .expect("b64");
    let plaintext = hex::decode(v["plaintext_hex"].as_str().expect("pt")).expect("hex");
    let inner = STANDARD.decode(&plaintext[10..]).expect("inner base64");
    assert_eq!(inner[0], 20, "the vector's salt length byte");
    let salt_hex = hex::encode(&inner[1..21]);
    let key = fx.key(
        "jdk.key",
        format!("{}\n", v["password"].as_str().expect("pw")).as_bytes(),
    );
    let args = [
        "generate",
        "--password-file",
        &fx.pw,
        "--salt-hex",
        &salt_hex,
        "--encrypt",
        "am",
        "--key",
        &key,
    ];
    let ours = decode_strict(&run(&args, b"").quiet_line());
    assert_eq!(ours[..43], jdk[..43], "JCE bytes differ from the JDK's");
    assert_ne!(ours, jdk, "a different digest must give a different tail");
    // The same inputs give the same value.
    assert_eq!(decode_strict(&run(&args, b"").quiet_line()), ours);

    // ForgeRock's published value (password "password"): bytes 3..11 are the IV, which JCE
    // derives from the password alone; every value the CLI makes under "password" has it.
    let published = vector("am-jce.json", "forgerock-published");
    let pub_value = published["value"].as_str().expect("value");
    let pub_bytes = STANDARD.decode(pub_value).expect("b64");
    let password_key = fx.key("password.key", b"password\n");
    let ours = decode_strict(&fx.generate(&["--encrypt", "am", "--key", &password_key]));
    assert_eq!(
        ours[..11],
        pub_bytes[..11],
        "header and password-derived IV"
    );

    // The CLI opens the published value with "password" (its plaintext, "A test message to
    // be encrypted", is not a hash: exit 3, "not a hash"), and not with "Password".
    run(&["decrypt", "--key", &password_key], pub_value.as_bytes()).error(3, NOT_A_HASH_JCE_MSG);
    let other = fx.key("Password.key", b"Password\n");
    run(&["decrypt", "--key", &other], pub_value.as_bytes()).error(3, WRONG_KEY_MSG);
}

#[test]
fn aeswrap_kdf_flags_reach_decryption_of_jdk_vectors() {
    // JDK-made AESWrap values under PBKDF2-HMAC-SHA256, 20000 iterations, 256-bit key. Their
    // plaintext is {SSHA-512}-shaped but not a real hash: with the right settings the CLI
    // decrypts and then reports "not a hash"; with any other setting the key is wrong.
    let fx = Fx::new();
    let key = fx.key("password.key", b"password\n");
    for name in ["sha256-20000-256-kw", "sha256-20000-256-kwp"] {
        let v = vector("am-aeswrap.json", name);
        let value = v["value"].as_str().expect("value");
        let right = [
            "--am-kdf-digest",
            "sha256",
            "--am-kdf-iterations",
            "20000",
            "--am-key-size",
            "256",
        ];
        let mut args = vec!["decrypt", "--key", &key];
        args.extend_from_slice(&right);
        run(&args, value.as_bytes()).error(3, NOT_A_HASH_MSG);
        let wrong: &[&[&str]] = &[
            &[],
            &["--am-kdf-digest", "SHA256", "--am-key-size", "256"],
            &["--am-kdf-digest", "SHA256", "--am-kdf-iterations", "20000"],
            &["--am-kdf-iterations", "20000", "--am-key-size", "256"],
            &[
                "--am-kdf-digest",
                "SHA512",
                "--am-kdf-iterations",
                "20000",
                "--am-key-size",
                "256",
            ],
        ];
        for flags in wrong {
            let mut args = vec!["decrypt", "--key", &key];
            args.extend_from_slice(flags);
            run(&args, value.as_bytes()).error(3, WRONG_KEY_MSG);
        }
    }
}

// ---- wrapped base64 ----------------------------------------------------------------------

#[test]
fn decrypt_and_verify_accept_wrapped_base64() {
    let fx = Fx::new();
    let hash = expected_hash();
    let values = [
        (
            fx.generate(&["--encrypt", "am", "--key", &fx.am_key]),
            &fx.am_key,
        ),
        (
            fx.generate(&[
                "--encrypt",
                "am",
                "--am-cipher",
                "aeswrap",
                "--key",
                &fx.am_key,
            ]),
            &fx.am_key,
        ),
        (
            fx.generate(&[
                "--encrypt",
                "am",
                "--am-cipher",
                "aeswrap-pad",
                "--key",
                &fx.am_key,
            ]),
            &fx.am_key,
        ),
        (fx.generate_gcm(&fx.gcm_key), &fx.gcm_key),
    ];
    for (i, (value, key)) in values.iter().enumerate() {
        assert!(value.len() > 2 * 76, "needs several wrapped lines");
        for (j, text) in [
            wrap(value, 76, "\n"),
            wrap(value, 76, "\r\n"),
            wrap(value, 64, "\n"),
            format!("  {value}\r\n"),
            format!("\n{}\n\n", wrap(value, 76, "\n")),
        ]
        .iter()
        .enumerate()
        {
            assert_eq!(
                run(&["decrypt", "--key", key], text.as_bytes()).quiet_line(),
                hash,
                "value {i}, form {j}"
            );
            let file = fx.file(&format!("w{i}-{j}"), text.as_bytes(), 0o644);
            assert_eq!(
                run(&["decrypt", "--key", key, "--in", &file], b"").quiet_line(),
                hash,
                "value {i}, form {j}"
            );
        }
        let file = fx.file(&format!("wv{i}"), wrap(value, 76, "\n").as_bytes(), 0o644);
        let out = run(
            &[
                "verify",
                "--hash-file",
                &file,
                "--key",
                key,
                "--password-file",
                &fx.pw,
            ],
            b"",
        );
        assert_eq!(out.status.code(), Some(0), "{out:?}");
    }
}

// ---- wrong key, altered data: exit 3, never 1 ---------------------------------------------

#[test]
fn wrong_key_or_altered_value_is_exit_3_never_1() {
    let fx = Fx::new();
    let jce = fx.generate(&["--encrypt", "am", "--key", &fx.am_key]);
    let kw = fx.generate(&[
        "--encrypt",
        "am",
        "--am-cipher",
        "aeswrap",
        "--key",
        &fx.am_key,
    ]);
    let kwp = fx.generate(&[
        "--encrypt",
        "am",
        "--am-cipher",
        "aeswrap-pad",
        "--key",
        &fx.am_key,
    ]);
    let gcm = fx.generate_gcm(&fx.gcm_key);

    // (what, value, key, message)
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "jce wrong password",
            jce.clone(),
            &fx.wrong_am_key,
            WRONG_KEY_MSG,
        ),
        (
            "kw wrong password",
            kw.clone(),
            &fx.wrong_am_key,
            WRONG_KEY_MSG,
        ),
        (
            "kwp wrong password",
            kwp.clone(),
            &fx.wrong_am_key,
            WRONG_KEY_MSG,
        ),
        (
            "gcm wrong key",
            gcm.clone(),
            &fx.wrong_gcm_key,
            WRONG_KEY_MSG,
        ),
        // JCE: the stored IV must be the derived one; the last block carries the padding.
        ("jce IV changed", flip(&jce, 3), &fx.am_key, WRONG_KEY_MSG),
        (
            "jce last byte changed",
            flip(&jce, -1),
            &fx.am_key,
            WRONG_KEY_MSG,
        ),
        // JCE has no MAC: a change inside decrypts to garbage, which is not a hash.
        (
            "jce middle block changed",
            flip(&jce, 40),
            &fx.am_key,
            NOT_A_HASH_JCE_MSG,
        ),
        (
            "jce first block changed",
            flip(&jce, 11),
            &fx.am_key,
            NOT_A_HASH_JCE_MSG,
        ),
        ("kw salt changed", flip(&kw, 5), &fx.am_key, WRONG_KEY_MSG),
        (
            "kw ciphertext changed",
            flip(&kw, -1),
            &fx.am_key,
            WRONG_KEY_MSG,
        ),
        (
            "kwp ciphertext changed",
            flip(&kwp, 30),
            &fx.am_key,
            WRONG_KEY_MSG,
        ),
        (
            "gcm nonce changed",
            flip(&gcm, 6),
            &fx.gcm_key,
            WRONG_KEY_MSG,
        ),
        (
            "gcm ciphertext changed",
            flip(&gcm, 40),
            &fx.gcm_key,
            WRONG_KEY_MSG,
        ),
        (
            "gcm tag changed",
            flip(&gcm, -1),
            &fx.gcm_key,
            WRONG_KEY_MSG,
        ),
    ];
    for (what, value, key, msg) in &cases {
        let err = run(&["decrypt", "--key", key], value.as_bytes())
            .error(3, msg)
            .to_owned();
        assert!(!err.contains("{SSHA-512}FL"), "{what}: no plaintext: {err}");
        // verify with the right password: still 3 (the value cannot be opened), never 1.
        run(
            &[
                "verify",
                "--hash",
                value,
                "--key",
                key,
                "--password-file",
                &fx.pw,
            ],
            b"",
        )
        .error(3, msg);
        run(&["--json", "decrypt", "--key", key], value.as_bytes()).json_error(
            3,
            "operational",
            msg,
        );
    }
}

#[test]
fn decrypted_non_hash_is_exit_3_not_a_hash() {
    // Values that decrypt correctly but hold no {SSHA-512} value, made with the library (the
    // CLI never encrypts anything but a hash): what a wrong JCE key that happened to give
    // valid padding would produce.
    let fx = Fx::new();
    let pw = SecretString::from(AM_PW);
    let gcm_key = LocalKey::from_hex(KEY_HEX).expect("key");
    let plaintexts: &[&[u8]] = &[
        b"not a hash at all",
        b"{SSHA-512}AAAA",
        b"{SSHA-512}",
        b"\xff\xfe binary \x00",
        b"        ",
    ];
    for pt in plaintexts {
        for cipher in [AmCipher::Jce, AmCipher::AesWrap, AmCipher::AesWrapPad] {
            let value = cipher::am_encrypt(cipher, &pw, &default_kdf(), pt).expect("encrypt");
            let msg = if cipher == AmCipher::Jce {
                NOT_A_HASH_JCE_MSG
            } else {
                NOT_A_HASH_MSG
            };
            run(&["decrypt", "--key", &fx.am_key], value.as_bytes()).error(3, msg);
            run(
                &[
                    "verify",
                    "--hash",
                    &value,
                    "--key",
                    &fx.am_key,
                    "--password-file",
                    &fx.pw,
                ],
                b"",
            )
            .error(3, msg);
        }
        let value = cipher::gcm_seal(&gcm_key, pt).expect("seal");
        run(&["decrypt", "--key", &fx.gcm_key], value.as_bytes()).error(3, NOT_A_HASH_MSG);
    }
}

// ---- malformed input and usage errors: exit 2 ----------------------------------------------

#[test]
fn malformed_values_are_exit_2() {
    let fx = Fx::new();
    let jce = fx.generate(&["--encrypt", "am", "--key", &fx.am_key]);
    let kw = fx.generate(&[
        "--encrypt",
        "am",
        "--am-cipher",
        "aeswrap",
        "--key",
        &fx.am_key,
    ]);
    let gcm = fx.generate_gcm(&fx.gcm_key);
    let inner_space = format!("{} {}", &jce[..20], &jce[20..]);
    let stray_cr = format!("{}\r{}", &jce[..20], &jce[20..]);
    // (what, input, key, message)
    let cases: Vec<(&str, String, &str, &str)> = vec![
        ("empty", String::new(), &fx.am_key, "base64"),
        ("blank", " \n\n".into(), &fx.am_key, "base64"),
        (
            "bad base64",
            "AQIC*v6c3Z1Vfvg==".into(),
            &fx.am_key,
            "base64",
        ),
        ("space inside a line", inner_space, &fx.am_key, "base64"),
        ("stray CR", stray_cr, &fx.am_key, "base64"),
        (
            "unpadded",
            jce.trim_end_matches('=').into(),
            &fx.am_key,
            "base64",
        ),
        (
            "unknown scheme",
            encode(&[7u8; 48]),
            &fx.am_key,
            "not an AM or amhash encrypted value",
        ),
        ("jce header only", cut(&jce, 11), &fx.am_key, "truncated"),
        (
            "jce not whole blocks",
            cut(&jce, jce_len(&jce) - 1),
            &fx.am_key,
            "multiple",
        ),
        ("aeswrap header only", cut(&kw, 2), &fx.am_key, "AESWrap"),
        (
            "aeswrap not whole semiblocks",
            cut(&kw, jce_len(&kw) - 3),
            &fx.am_key,
            "AESWrap",
        ),
        ("gcm magic only", encode(b"AMHG"), &fx.gcm_key, "truncated"),
        ("gcm cut", cut(&gcm, 20), &fx.gcm_key, "truncated"),
        (
            "gcm version 2",
            with_byte(&gcm, 4, 2),
            &fx.gcm_key,
            "version",
        ),
        (
            "malformed hash",
            "{SSHA-512}AAAA".into(),
            &fx.am_key,
            "{SSHA-512}",
        ),
    ];
    for (what, input, key, msg) in &cases {
        let err = run(&["decrypt", "--key", key], input.as_bytes())
            .error(2, msg)
            .to_owned();
        assert!(!err.is_empty(), "{what}");
        if !input.trim().is_empty() {
            run(
                &[
                    "verify",
                    "--hash",
                    input,
                    "--key",
                    key,
                    "--password-file",
                    &fx.pw,
                ],
                b"",
            )
            .error(2, msg);
        }
    }
    // A local key file that is not 64 hex characters is a bad key (2), not a wrong one.
    run(&["decrypt", "--key", &fx.am_key], gcm.as_bytes()).error(2, "64 hexadecimal");
}

fn jce_len(value: &str) -> usize {
    STANDARD.decode(value).expect("b64").len()
}

fn with_byte(value: &str, index: usize, byte: u8) -> String {
    let mut bytes = STANDARD.decode(value).expect("b64");
    bytes[index] = byte;
    encode(&bytes)
}

#[test]
fn encrypted_value_without_key_is_exit_2() {
    let fx = Fx::new();
    let values = [
        fx.generate(&["--encrypt", "am", "--key", &fx.am_key]),
        fx.generate(&[
            "--encrypt",
            "am",
            "--am-cipher",
            "aeswrap-pad",
            "--key",
            &fx.am_key,
        ]),
        fx.generate_gcm(&fx.gcm_key),
    ];
    for value in &values {
        run(&["decrypt"], value.as_bytes()).error(2, "give --key SOURCE");
        run(&["verify", "--hash", value, "--password-file", &fx.pw], b"")
            .error(2, "give --key SOURCE");
        run(&["--json", "decrypt"], value.as_bytes()).json_error(2, "input", "give --key");
    }
}

#[test]
fn usage_errors_come_before_any_prompt() {
    // Empty stdin and a --password-file that does not exist: had amhash read the password
    // first, the error would be about the password. It is about the flags.
    let fx = Fx::new();
    let absent = fx.path("no-such-password-file").display().to_string();
    let cases: &[(&[&str], &str)] = &[
        (&["--key", "file:/nonexistent"], "need --encrypt"),
        (&["--key", "env:AMHASH_X"], "need --encrypt"),
        (
            &[
                "--encrypt",
                "am",
                "--am-cipher",
                "aeswrap",
                "--am-kdf-iterations",
                "9999",
                "--key",
                "file:/nonexistent",
            ],
            "iteration count 9999",
        ),
        (
            &[
                "--encrypt",
                "am",
                "--am-kdf-iterations",
                "0",
                "--key",
                "file:/nonexistent",
            ],
            "iteration count 0",
        ),
        (
            &[
                "--encrypt",
                "am",
                "--am-key-size",
                "100",
                "--key",
                "file:/nonexistent",
            ],
            "100 bits",
        ),
        (
            &[
                "--encrypt",
                "am",
                "--am-key-size",
                "512",
                "--key",
                "file:/nonexistent",
            ],
            "512 bits",
        ),
        (&["--encrypt", "am"], "needs --key SOURCE"),
        (&["--encrypt", "aes-gcm"], "needs --key SOURCE"),
        (&["--encrypt", "rsa", "--key", "file:/k"], "rsa"),
        (
            &["--encrypt", "am", "--am-cipher", "des", "--key", "file:/k"],
            "des",
        ),
        (
            &[
                "--encrypt",
                "am",
                "--am-kdf-digest",
                "md5",
                "--key",
                "file:/k",
            ],
            "md5",
        ),
        (
            &["--encrypt", "am", "--key", "foo:bar"],
            "invalid key source",
        ),
        (
            &["--encrypt", "am", "--key", "keyring:nouser"],
            "invalid key source",
        ),
        (
            &[
                "--encrypt",
                "am",
                "--key",
                "file:/k",
                "--keyring-backend",
                "kwallet",
            ],
            "kwallet",
        ),
    ];
    for (flags, msg) in cases {
        for password in [&["--password-file", absent.as_str()][..], &[][..]] {
            let mut args = vec!["generate"];
            args.extend_from_slice(flags);
            args.extend_from_slice(password);
            run(&args, b"").error(2, msg);
        }
    }
    // JSON form of a usage error.
    run(&["--json", "generate", "--key", &fx.am_key], b"").json_error(2, "input", "--encrypt");
    // The same limits on decrypt, before the value is opened.
    let kw = fx.generate(&[
        "--encrypt",
        "am",
        "--am-cipher",
        "aeswrap",
        "--key",
        &fx.am_key,
    ]);
    run(
        &[
            "decrypt",
            "--key",
            &fx.am_key,
            "--am-kdf-iterations",
            "9999",
        ],
        kw.as_bytes(),
    )
    .error(2, "9999");
    run(
        &["decrypt", "--key", &fx.am_key, "--am-key-size", "100"],
        kw.as_bytes(),
    )
    .error(2, "100");
}

#[test]
fn flag_values_ignore_case() {
    let fx = Fx::new();
    let hash = expected_hash();
    let cases: &[(&[&str], AmCipher, KdfTriple)] = &[
        (&["--encrypt", "AM"], AmCipher::Jce, ("SHA1", 10_000, 128)),
        (
            &["--encrypt", "Am", "--am-cipher", "JCE"],
            AmCipher::Jce,
            ("SHA1", 10_000, 128),
        ),
        (
            &["--encrypt", "am", "--am-cipher", "AESWRAP-PAD"],
            AmCipher::AesWrapPad,
            ("SHA1", 10_000, 128),
        ),
        (
            &[
                "--encrypt",
                "aM",
                "--am-cipher",
                "AesWrap",
                "--am-kdf-digest",
                "sha256",
            ],
            AmCipher::AesWrap,
            ("SHA256", 10_000, 128),
        ),
        (
            &[
                "--encrypt",
                "am",
                "--am-cipher",
                "aeswrap-PAD",
                "--am-kdf-digest",
                "Sha-512",
            ],
            AmCipher::AesWrapPad,
            ("SHA512", 10_000, 128),
        ),
    ];
    for (flags, want, (d, i, b)) in cases {
        let mut args = flags.to_vec();
        args.extend_from_slice(&["--key", &fx.am_key, "--keyring-backend", "KEYUTILS"]);
        let value = fx.generate(&args);
        assert_eq!(
            am_decrypt_lib(AM_PW, &kdf(d, *i, *b), &value),
            (*want, hash.clone()),
            "{flags:?}"
        );
    }
    let out = run(
        &[
            "generate",
            "--password-file",
            &fx.pw,
            "--encrypt",
            "AES-GCM",
            "--key",
            &fx.gcm_key,
        ],
        b"",
    );
    assert_eq!(
        run(&["decrypt", "--key", &fx.gcm_key], out.line().as_bytes()).quiet_line(),
        expected_hash_of_random_salt(&out.line())
    );
}

/// The hash inside a GCM value (its salt is random), via the library.
fn expected_hash_of_random_salt(value: &str) -> String {
    let key = LocalKey::from_hex(KEY_HEX).expect("key");
    let pt = cipher::gcm_open(&key, value).expect("open");
    let hash: SshaHash = std::str::from_utf8(&pt)
        .expect("utf8")
        .parse()
        .expect("hash");
    assert!(hash.verify(USER_PW.as_bytes()));
    hash.to_string()
}

#[test]
fn non_ascii_am_password_is_refused_for_jce_only() {
    let fx = Fx::new();
    let key = fx.key("non-ascii.key", format!("{NON_ASCII_AM_PW}\n").as_bytes());
    run(
        &[
            "generate",
            "--password-file",
            &fx.pw,
            "--encrypt",
            "am",
            "--key",
            &key,
        ],
        b"",
    )
    .error(2, "printable ASCII");
    run(
        &[
            "encrypt",
            "--encrypt",
            "am",
            "--am-cipher",
            "jce",
            "--key",
            &key,
        ],
        format!("{}\n", expected_hash()).as_bytes(),
    )
    .error(2, "printable ASCII");
    // AESWrap takes any UTF-8 password.
    for cipher in ["aeswrap", "aeswrap-pad"] {
        let value = fx.generate(&["--encrypt", "am", "--am-cipher", cipher, "--key", &key]);
        assert_eq!(
            run(&["decrypt", "--key", &key], value.as_bytes()).quiet_line(),
            expected_hash()
        );
        assert_eq!(
            am_decrypt_lib(NON_ASCII_AM_PW, &default_kdf(), &value).1,
            expected_hash()
        );
    }
}

// ---- key sources -------------------------------------------------------------------------

#[test]
fn key_file_readable_by_group_or_others_is_refused() {
    let fx = Fx::new();
    let hash = expected_hash();
    let jce = fx.generate(&["--encrypt", "am", "--key", &fx.am_key]);
    for mode in [
        0o640, 0o644, 0o604, 0o660, 0o606, 0o620, 0o602, 0o610, 0o601, 0o777,
    ] {
        let path = fx.file(&format!("k{mode:o}"), format!("{AM_PW}\n").as_bytes(), mode);
        let source = format!("file:{path}");
        let want = format!("run `chmod 600 {path}`");
        let mode_text = format!("mode {mode:04o}");
        for out in [
            run(
                &[
                    "generate",
                    "--password-file",
                    &fx.pw,
                    "--encrypt",
                    "am",
                    "--key",
                    &source,
                ],
                b"",
            ),
            run(&["decrypt", "--key", &source], jce.as_bytes()),
            run(
                &[
                    "verify",
                    "--hash",
                    &jce,
                    "--key",
                    &source,
                    "--password-file",
                    &fx.pw,
                ],
                b"",
            ),
            run(
                &["encrypt", "--encrypt", "am", "--key", &source],
                format!("{hash}\n").as_bytes(),
            ),
        ] {
            // A policy refusal the user must fix: an input error.
            let err = out.error(2, &want);
            assert!(err.contains(&mode_text), "{err}");
        }
    }
    for mode in [0o600, 0o400] {
        let path = fx.file(
            &format!("ok{mode:o}"),
            format!("{AM_PW}\n").as_bytes(),
            mode,
        );
        let source = format!("file:{path}");
        assert_eq!(fx.generate(&["--encrypt", "am", "--key", &source]), jce);
        assert_eq!(
            run(&["decrypt", "--key", &source], jce.as_bytes()).quiet_line(),
            hash
        );
    }
}

/// As root (CI): a 0600 key file that uid 65534 owns, in a sticky world-writable directory
/// (where that user could have put it), is refused, exit 2, naming the owner; the key never
/// shows. Root's own key file there is used.
#[test]
fn key_file_owned_by_another_user_is_refused() {
    if !rustix::process::geteuid().is_root() {
        println!(
            "note: not root; a key file of another user cannot be made here (CI runs as root)"
        );
        return;
    }
    let fx = Fx::new();
    let hash = expected_hash();
    let shared = fx.path("shared");
    fs::create_dir(&shared).unwrap();
    fs::set_permissions(&shared, fs::Permissions::from_mode(0o1777)).unwrap();
    let key = |name: &str, owner: u32| {
        let path = shared.join(name);
        fs::write(&path, format!("{AM_PW}\n")).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        std::os::unix::fs::lchown(&path, Some(owner), Some(owner)).unwrap();
        path.display().to_string()
    };
    let theirs = key("theirs.key", 65534);
    let source = format!("file:{theirs}");
    let want = format!("key file {theirs} is owned by uid 65534");
    let name = fs::read_to_string("/etc/passwd")
        .unwrap_or_default()
        .lines()
        .find(|l| l.split(':').nth(2) == Some("65534"))
        .and_then(|l| l.split(':').next().map(str::to_owned));
    for out in [
        run(
            &["encrypt", "--encrypt", "am", "--key", &source],
            format!("{hash}\n").as_bytes(),
        ),
        run(
            &[
                "generate",
                "--password-file",
                &fx.pw,
                "--encrypt",
                "am",
                "--key",
                &source,
            ],
            b"",
        ),
    ] {
        let err = out.error(2, &want);
        if let Some(n) = &name {
            assert!(err.contains(&format!("uid 65534 ({n})")), "{err}");
        }
        assert!(err.contains("not by root"), "{err}");
        out.assert_no_secret(&[AM_PW]);
    }
    // Root's own key file in the same directory works.
    let mine = format!("file:{}", key("mine.key", 0));
    let out = run(
        &["encrypt", "--encrypt", "am", "--key", &mine],
        format!("{hash}\n").as_bytes(),
    );
    let value = out.line().to_owned();
    assert_eq!(
        run(&["decrypt", "--key", &mine], value.as_bytes()).quiet_line(),
        hash
    );
}

#[test]
fn key_file_line_endings_and_failures() {
    let fx = Fx::new();
    let hash = expected_hash();
    let jce = fx.generate(&["--encrypt", "am", "--key", &fx.am_key]);
    let kw = fx.generate(&[
        "--encrypt",
        "am",
        "--am-cipher",
        "aeswrap",
        "--key",
        &fx.am_key,
    ]);
    // One trailing "\n" or "\r\n" is not part of the key: JCE, being deterministic, gives
    // the very same bytes.
    for (i, content) in [
        AM_PW.to_owned(),
        format!("{AM_PW}\n"),
        format!("{AM_PW}\r\n"),
    ]
    .iter()
    .enumerate()
    {
        let key = fx.key(&format!("le{i}"), content.as_bytes());
        assert_eq!(fx.generate(&["--encrypt", "am", "--key", &key]), jce, "{i}");
        assert_eq!(
            run(&["decrypt", "--key", &key], kw.as_bytes()).quiet_line(),
            hash
        );
    }
    // Only one: "pw\n\n" is the key "pw\n", which JCE refuses (not printable) and which is
    // another AESWrap key.
    let two = fx.key("two-newlines", format!("{AM_PW}\n\n").as_bytes());
    run(
        &[
            "generate",
            "--password-file",
            &fx.pw,
            "--encrypt",
            "am",
            "--key",
            &two,
        ],
        b"",
    )
    .error(2, "printable ASCII");
    run(&["decrypt", "--key", &two], kw.as_bytes()).error(3, WRONG_KEY_MSG);
    // A trailing space is part of the key.
    let space = fx.key("space", format!("{AM_PW} \n").as_bytes());
    run(&["decrypt", "--key", &space], jce.as_bytes()).error(3, WRONG_KEY_MSG);

    // Local keys too.
    let gcm = fx.generate_gcm(&fx.gcm_key);
    for (i, content) in [
        KEY_HEX.to_owned(),
        format!("{KEY_HEX}\r\n"),
        KEY_HEX.to_uppercase(),
    ]
    .iter()
    .enumerate()
    {
        let key = fx.key(&format!("gle{i}"), content.as_bytes());
        let out = run(&["decrypt", "--key", &key], gcm.as_bytes());
        out.assert_no_secret(&[&KEY_HEX.to_uppercase()]);
        assert_eq!(out.quiet_line(), hash, "{i}");
    }
    let short = fx.key("short", &KEY_HEX.as_bytes()[..62]);
    run(&["decrypt", "--key", &short], gcm.as_bytes()).error(2, "64 hexadecimal");
    let not_hex = fx.key("nothex", format!("{}zz\n", &KEY_HEX[..62]).as_bytes());
    run(&["decrypt", "--key", &not_hex], gcm.as_bytes()).error(2, "not hexadecimal");

    // Missing, empty, a directory.
    let absent = fx.path("absent.key").display().to_string();
    for out in [
        run(
            &["decrypt", "--key", &format!("file:{absent}")],
            jce.as_bytes(),
        ),
        run(
            &[
                "generate",
                "--password-file",
                &fx.pw,
                "--encrypt",
                "am",
                "--key",
                &format!("file:{absent}"),
            ],
            b"",
        ),
    ] {
        out.error(3, &format!("key file {absent} does not exist"));
    }
    let empty = fx.key("empty", b"\n");
    run(&["decrypt", "--key", &empty], jce.as_bytes()).error(3, "is empty");
    let dir = fx.path("adir");
    fs::create_dir(&dir).expect("mkdir");
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).expect("chmod");
    run(
        &["decrypt", "--key", &format!("file:{}", dir.display())],
        jce.as_bytes(),
    )
    .error(3, "not a regular file");
}

#[test]
fn env_key_source_is_read_from_the_child_environment() {
    let fx = Fx::new();
    let hash = expected_hash();
    let var = unique("AMHASH_TEST_KEY").replace('-', "_");
    let source = format!("env:{var}");
    let jce = fx.generate(&["--encrypt", "am", "--key", &fx.am_key]);
    let generate_env = |value: &str| {
        run_with(
            &[
                "generate",
                "--password-file",
                &fx.pw,
                "--salt-hex",
                SALT_HEX,
                "--encrypt",
                "am",
                "--key",
                &source,
            ],
            b"",
            &[(&var, value)],
        )
    };
    for value in [
        AM_PW.to_owned(),
        format!("{AM_PW}\n"),
        format!("{AM_PW}\r\n"),
    ] {
        assert_eq!(generate_env(&value).quiet_line(), jce);
        assert_eq!(
            run_with(
                &["decrypt", "--key", &source],
                jce.as_bytes(),
                &[(&var, &value)]
            )
            .quiet_line(),
            hash
        );
        let out = run_with(
            &[
                "verify",
                "--hash",
                &jce,
                "--key",
                &source,
                "--password-file",
                &fx.pw,
            ],
            b"",
            &[(&var, &value)],
        );
        assert_eq!(out.status.code(), Some(0), "{out:?}");
    }
    // A local key in the environment.
    let out = run_with(
        &[
            "generate",
            "--password-file",
            &fx.pw,
            "--encrypt",
            "aes-gcm",
            "--key",
            &source,
        ],
        b"",
        &[(&var, &format!("{KEY_HEX}\n"))],
    );
    let gcm = out.line().to_owned();
    assert_eq!(
        run(&["decrypt", "--key", &fx.gcm_key], gcm.as_bytes()).quiet_line(),
        expected_hash_of_random_salt(&gcm)
    );
    // Wrong value: wrong key. Unset: not set (the test process never sets it). Empty.
    run_with(
        &["decrypt", "--key", &source],
        jce.as_bytes(),
        &[(&var, WRONG_AM_PW)],
    )
    .error(3, WRONG_KEY_MSG);
    run(&["decrypt", "--key", &source], jce.as_bytes()).error(
        3,
        &format!("environment variable {var} (from env:{var}) is not set"),
    );
    generate_env("").error(3, "is empty");
    generate_env("\n").error(3, "is empty");
    // env: cannot be written.
    run(&["key", "generate", "--out", &source], b"")
        .error(2, "cannot be written to an environment variable");
}

#[test]
fn malformed_key_sources_are_exit_2_and_never_echo_a_pasted_secret() {
    let fx = Fx::new();
    let jce = fx.generate(&["--encrypt", "am", "--key", &fx.am_key]);
    let cases = [
        ("foo:bar", "unknown scheme \"foo:\""),
        ("keyring:nouser", "no '/' found"),
        ("keyring:/acct", "SERVICE is empty"),
        ("keyring:svc/", "ACCOUNT is empty"),
        ("file:", "needs a path"),
        ("env:", "needs a variable name"),
        ("env:A=B", "cannot contain '='"),
        ("File:/k", "unknown scheme"),
        (AM_PW, "no scheme"),
        (KEY_HEX, "no scheme"),
    ];
    for (source, msg) in cases {
        for out in [
            run(&["decrypt", "--key", source], jce.as_bytes()),
            run(
                &[
                    "generate",
                    "--password-file",
                    &fx.pw,
                    "--encrypt",
                    "am",
                    "--key",
                    source,
                ],
                b"",
            ),
            run(&["key", "generate", "--out", source], b""),
            run(&["key", "store", source], b"x\n"),
            run(
                &[
                    "generate",
                    "--random",
                    "--password-out",
                    source,
                    "--password-file",
                    &fx.pw,
                ],
                b"",
            ),
        ] {
            let err = out.error(2, "invalid key source");
            assert!(err.contains(msg), "{source}: {err} lacks {msg}");
        }
    }
    // A secret pasted with a colon in it: the part before the colon is not echoed either
    // when it cannot be a scheme name.
    let pasted = "Xk9-Pasted-Secret:tail";
    let out = run(&["decrypt", "--key", pasted], jce.as_bytes());
    out.error(2, "the value is not shown");
    out.assert_no_secret(&["Xk9-Pasted-Secret", pasted]);
}

// ---- key generate ------------------------------------------------------------------------

#[test]
fn key_generate_writes_a_new_0600_hex_key_and_never_overwrites() {
    let fx = Fx::new();
    let path = fx.path("new.key");
    let source = format!("file:{}", path.display());
    let out = run(&["key", "generate", "--out", &source], b"");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    assert_eq!(
        stderr(&out),
        format!(
            "amhash: wrote a new 256-bit key to {source}; use it with --encrypt aes-gcm --key {source}\n"
        )
    );
    let content = fs::read_to_string(&path).expect("key file");
    let key = content.strip_suffix('\n').expect("one trailing newline");
    assert_eq!(key.len(), 64);
    assert!(
        key.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "lower-case hex"
    );
    let meta = fs::metadata(&path).expect("stat");
    assert_eq!(meta.permissions().mode() & 0o7777, 0o600);
    out.assert_no_secret(&[key]);

    // Never overwritten: exit 3, same bytes, same mode.
    let again = run(&["key", "generate", "--out", &source], b"");
    again.error(3, "already exists; refusing to overwrite");
    again.assert_no_secret(&[key]);
    assert_eq!(fs::read_to_string(&path).expect("key file"), content);
    assert_eq!(
        fs::metadata(&path).expect("stat").permissions().mode() & 0o7777,
        0o600
    );
    // Nor any other file, nor through a symlink (even a dangling one).
    let other = fx.file("other", b"keep me\n", 0o644);
    run(&["key", "generate", "--out", &format!("file:{other}")], b"").error(3, "already exists");
    assert_eq!(fs::read(&other).expect("other"), b"keep me\n");
    let link = fx.path("link.key");
    let target = fx.path("link-target");
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    run(
        &[
            "key",
            "generate",
            "--out",
            &format!("file:{}", link.display()),
        ],
        b"",
    )
    .error(3, "already exists");
    assert!(!target.exists(), "followed the symlink");
    run(
        &[
            "key",
            "generate",
            "--out",
            &format!("file:{}", fx.path("no/such/dir/k").display()),
        ],
        b"",
    )
    .error(3, "does not exist");

    // A second key is another key.
    let path2 = fx.path("new2.key");
    let out = run(
        &[
            "--json",
            "key",
            "generate",
            "--out",
            &format!("file:{}", path2.display()),
        ],
        b"",
    );
    assert_eq!(
        out.json(),
        json!({"bits": 256, "key": format!("file:{}", path2.display())})
    );
    let key2 = fs::read_to_string(&path2).expect("key2");
    out.assert_no_secret(&[key, key2.trim_end()]);
    assert_ne!(key2, content);

    // The key works with --encrypt aes-gcm.
    let out = run(
        &[
            "generate",
            "--password-file",
            &fx.pw,
            "--salt-hex",
            SALT_HEX,
            "--encrypt",
            "aes-gcm",
            "--key",
            &source,
        ],
        b"",
    );
    out.assert_no_secret(&[key]);
    let value = out.line().to_owned();
    let lib_key = LocalKey::from_hex(key).expect("key");
    assert_eq!(
        *cipher::gcm_open(&lib_key, &value).expect("open"),
        expected_hash().as_bytes()
    );
    let out = run(&["decrypt", "--key", &source], value.as_bytes());
    out.assert_no_secret(&[key]);
    assert_eq!(out.quiet_line(), expected_hash());
    let out = run(
        &[
            "verify",
            "--hash",
            &value,
            "--key",
            &source,
            "--password-file",
            &fx.pw,
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // And the other key does not open it.
    run(
        &["decrypt", "--key", &format!("file:{}", path2.display())],
        value.as_bytes(),
    )
    .error(3, WRONG_KEY_MSG);
}

// ---- --json --------------------------------------------------------------------------------

#[test]
fn json_output_of_generate_encrypt_and_decrypt() {
    let fx = Fx::new();
    let hash = expected_hash();
    let base = [
        "generate",
        "--password-file",
        &fx.pw,
        "--salt-hex",
        SALT_HEX,
    ];
    for (flags, encryption, detected) in [
        (
            vec!["--encrypt", "am"],
            "AM encryption password, jce",
            "AM JCE (PBEWithMD5AndDES) (ENCRYPTED_PLAIN)",
        ),
        (
            vec!["--encrypt", "am", "--am-cipher", "aeswrap"],
            "AM encryption password, aeswrap",
            "AM AESWrap (ENCRYPTED_PLAIN)",
        ),
        (
            vec!["--encrypt", "am", "--am-cipher", "aeswrap-pad"],
            "AM encryption password, aeswrap-pad",
            "AM AESWrap (ENCRYPTED_PLAIN)",
        ),
    ] {
        let mut args = vec!["--json"];
        args.extend_from_slice(&base);
        args.extend_from_slice(&flags);
        args.extend_from_slice(&["--key", &fx.am_key]);
        let v = fx_json(&args, b"");
        let value = v["value"].as_str().expect("value").to_owned();
        assert_eq!(
            v,
            json!({
                "value": value,
                "format": "ENCRYPTED_PLAIN",
                "encryption": encryption,
                "am_cipher": encryption.trim_start_matches("AM encryption password, "),
                "am_properties": {FORMAT_PROP: "ENCRYPTED_PLAIN"},
            })
        );
        decode_strict(&value);
        // encrypt --json: the same object.
        let mut enc = vec!["--json", "encrypt"];
        enc.extend_from_slice(&flags);
        enc.extend_from_slice(&["--key", &fx.am_key]);
        let e = fx_json(&enc, format!("{hash}\n").as_bytes());
        assert_eq!(e["format"], "ENCRYPTED_PLAIN");
        assert_eq!(e["am_properties"], json!({FORMAT_PROP: "ENCRYPTED_PLAIN"}));
        assert_eq!(e["encryption"], encryption);
        // decrypt --json.
        let d = fx_json(
            &["--json", "decrypt", "--key", &fx.am_key],
            value.as_bytes(),
        );
        assert_eq!(
            d,
            json!({"value": hash, "format": "PLAIN", "detected": detected})
        );
    }
    // AES-GCM: AM cannot read it; the warning is in the object, not on stderr.
    let mut args = vec!["--json"];
    args.extend_from_slice(&base);
    args.extend_from_slice(&["--encrypt", "aes-gcm", "--key", &fx.gcm_key]);
    let v = fx_json(&args, b"");
    let value = v["value"].as_str().expect("value").to_owned();
    assert_eq!(
        v,
        json!({
            "value": value,
            "format": null,
            "encryption": "local AES-256-GCM key",
            "warnings": ["AM cannot read an AES-GCM value: decrypt it (amhash decrypt) before installing it"],
        })
    );
    let d = fx_json(
        &["--json", "decrypt", "--key", &fx.gcm_key],
        value.as_bytes(),
    );
    assert_eq!(
        d,
        json!({"value": hash, "format": "PLAIN", "detected": "amhash AES-256-GCM (AM cannot read this format)"})
    );
    // verify --json with a key.
    let v = fx_json(
        &[
            "--json",
            "verify",
            "--hash",
            &value,
            "--key",
            &fx.gcm_key,
            "--password-file",
            &fx.pw,
        ],
        b"",
    );
    assert_eq!(v["match"], true);
    // Failures in JSON.
    run(
        &["--json", "decrypt", "--key", &fx.wrong_gcm_key],
        value.as_bytes(),
    )
    .json_error(3, "operational", WRONG_KEY_MSG);
    run(&["--json", "decrypt", "--key", &fx.am_key], b"AQIC*x==").json_error(2, "input", "base64");
}

#[track_caller]
fn fx_json(args: &[&str], stdin: &[u8]) -> Value {
    run(args, stdin).json()
}

// ---- OS keyrings, for real -------------------------------------------------------------------

/// Runs each step as `amhash ARGS` with stdout, stderr and exit code in DIR/NAME.{out,err,rc}.
/// $1 amhash, $2 dir, $3 backend, $4 the AM password source, $5 the local key source,
/// $6 a source with no entry, $7 the other backend, $8 the salt.
const KEYRING_STEPS: &str = r#"
bin=$1; dir=$2; backend=$3; src=$4; gsrc=$5; missing=$6; other=$7; salt=$8
step() { name=$1; shift; "$bin" "$@" >"$dir/$name.out" 2>"$dir/$name.err"; echo $? >"$dir/$name.rc"; }
step store key store "$src" --keyring-backend "$backend" <"$dir/am-secret"
step generate generate --password-file "$dir/pw" --salt-hex "$salt" --encrypt am --key "$src" --keyring-backend "$backend"
step verify verify --hash-file "$dir/generate.out" --key "$src" --keyring-backend "$backend" --password-file "$dir/pw"
step verify_wrong verify --hash-file "$dir/generate.out" --key "$src" --keyring-backend "$backend" --password-file "$dir/wrong-pw"
step decrypt decrypt --in "$dir/generate.out" --key "$src" --keyring-backend "$backend"
step decrypt_auto decrypt --in "$dir/generate.out" --key "$src" --keyring-backend auto
step decrypt_other decrypt --in "$dir/generate.out" --key "$src" --keyring-backend "$other"
step decrypt_missing decrypt --in "$dir/generate.out" --key "$missing" --keyring-backend "$backend"
step keygen key generate --out "$gsrc" --keyring-backend "$backend"
step keygen_again key generate --out "$gsrc" --keyring-backend "$backend"
step gcm generate --password-file "$dir/pw" --encrypt aes-gcm --key "$gsrc" --keyring-backend "$backend"
step gcm_decrypt decrypt --in "$dir/gcm.out" --key "$gsrc" --keyring-backend "$backend"
step gcm_verify verify --hash-file "$dir/gcm.out" --key "$gsrc" --keyring-backend "$backend" --password-file "$dir/pw"
echo KEYRING-STEPS-DONE
"#;

/// Removes the keyutils entries a test made, even when it fails half-way (the user keyring
/// outlives the test).
struct KeyutilsCleanup(Vec<KeySource>);

impl Drop for KeyutilsCleanup {
    fn drop(&mut self) {
        for source in &self.0 {
            let _ = source.delete(KeyringBackend::Keyutils);
        }
    }
}

/// What step `name` of the keyring script left in `dir` (exit code, stdout, stderr), as the
/// output of a run; no secret in it.
fn step(dir: &Path, name: &str) -> Output {
    use std::os::unix::process::ExitStatusExt;
    let read = |ext: &str| fs::read(dir.join(format!("{name}.{ext}"))).expect("step output");
    let rc: i32 = String::from_utf8(read("rc"))
        .expect("rc")
        .trim()
        .parse()
        .expect("rc number");
    let out = Output {
        status: std::process::ExitStatus::from_raw(rc << 8),
        stdout: read("out"),
        stderr: read("err"),
    };
    assert_no_secret(&out, &[]);
    out
}

/// The files the steps read: the passwords (0600) and the AM encryption password for
/// `key store` on stdin.
fn keyring_dir() -> Fixture {
    let dir = Fixture::empty();
    for (name, content) in [
        ("pw", USER_PW),
        ("wrong-pw", WRONG_USER_PW),
        ("am-secret", AM_PW),
    ] {
        dir.secret_file(name, &format!("{content}\n"));
    }
    dir
}

/// Checks what the steps printed; `backend_name` is how errors name the backend.
fn check_keyring_steps(dir: &Path, src: &str, gsrc: &str, missing: &str, other_msg: &str) {
    let hash = expected_hash();
    let store = step(dir, "store");
    assert_eq!(store.status.code(), Some(0), "{store:?}");
    assert!(store.stdout.is_empty(), "{store:?}");
    assert_eq!(
        stderr(&store),
        format!("amhash: stored the secret in {src}\n")
    );

    // JCE is deterministic: the keyring held exactly AM_PW (no newline).
    let fx = Fx::new();
    let want = fx.generate(&["--encrypt", "am", "--key", &fx.am_key]);
    assert_eq!(step(dir, "generate").quiet_line(), want);

    let verify = step(dir, "verify");
    assert_eq!(verify.status.code(), Some(0), "{verify:?}");
    assert_eq!(stderr(&verify), "amhash: the password matches\n");
    let wrong = step(dir, "verify_wrong");
    assert_eq!(wrong.status.code(), Some(1), "{wrong:?}");
    assert_eq!(step(dir, "decrypt").quiet_line(), hash);
    assert_eq!(step(dir, "decrypt_auto").quiet_line(), hash);
    step(dir, "decrypt_other").error(3, other_msg);
    step(dir, "decrypt_missing").error(3, &format!("{missing}: no entry"));

    let keygen = step(dir, "keygen");
    assert_eq!(keygen.status.code(), Some(0), "{keygen:?}");
    assert!(keygen.stdout.is_empty(), "{keygen:?}");
    assert!(stderr(&keygen).contains(gsrc), "{keygen:?}");
    step(dir, "keygen_again").error(3, "an entry already exists; refusing to replace it");
    let gcm = step(dir, "gcm");
    assert_eq!(stderr(&gcm), AES_GCM_WARNING);
    assert_eq!(&decode_strict(&gcm.line())[..5], b"AMHG\x01");
    let inner = step(dir, "gcm_decrypt");
    let inner_hash: SshaHash = inner.quiet_line().parse().expect("hash");
    assert!(inner_hash.verify(USER_PW.as_bytes()));
    assert_eq!(step(dir, "gcm_verify").status.code(), Some(0));
}

#[test]
fn keyutils_key_store_generate_verify_in_one_session() {
    require_tools(&["keyctl"]);
    let account = unique("enc");
    let src = format!("keyring:amhash-test-encrypt/{account}");
    let gsrc = format!("keyring:amhash-test-encrypt/{account}-gcm");
    let missing = format!("keyring:amhash-test-encrypt/{account}-missing");
    let cleanup = KeyutilsCleanup(
        [&src, &gsrc]
            .iter()
            .map(|s| s.parse().expect("source"))
            .collect(),
    );
    let dir = keyring_dir();
    let mut cmd = StdCommand::new("keyctl");
    cmd.args(["session", "-", "sh", "-c", KEYRING_STEPS, "sh"])
        .arg(env!("CARGO_BIN_EXE_amhash"))
        .arg(dir.root())
        .args([
            "keyutils",
            &src,
            &gsrc,
            &missing,
            "secret-service",
            SALT_HEX,
        ])
        .env_remove("DBUS_SESSION_BUS_ADDRESS");
    let done = run_child(cmd);
    assert!(
        done.success && done.stdout.contains("KEYRING-STEPS-DONE"),
        "{}\n{}",
        done.stdout,
        done.stderr
    );
    check_keyring_steps(dir.root(), &src, &gsrc, &missing, "no D-Bus session bus");

    // Stored in the user keyring, so this process (outside that session) sees the entries;
    // the local key there is the one the steps used.
    let gkey = cleanup.0[1]
        .read(KeyringBackend::Keyutils)
        .expect("gcm key");
    let gkey = std::str::from_utf8(secrecy::ExposeSecret::expose_secret(&gkey))
        .expect("hex")
        .to_owned();
    assert_eq!(gkey.len(), 64);
    for name in [
        "store",
        "generate",
        "verify",
        "decrypt",
        "keygen",
        "gcm",
        "gcm_decrypt",
    ] {
        step(dir.root(), name).assert_no_secret(&[&gkey]);
    }
    let gcm_value = step(dir.root(), "gcm").line().to_owned();
    cipher::gcm_open(&LocalKey::from_hex(&gkey).expect("key"), &gcm_value).expect("opens");

    drop(cleanup);
    for s in [&src, &gsrc] {
        let source: KeySource = s.parse().expect("source");
        assert!(
            source.read(KeyringBackend::Keyutils).is_err(),
            "{s} not cleaned up"
        );
    }
}

#[test]
fn secret_service_key_store_generate_verify_in_one_bus_session() {
    require_tools(&["dbus-run-session", "gnome-keyring-daemon"]);
    let home = Fixture::empty();
    let account = unique("enc");
    let src = format!("keyring:amhash-test-encrypt/{account}");
    let gsrc = format!("keyring:amhash-test-encrypt/{account}-gcm");
    let missing = format!("keyring:amhash-test-encrypt/{account}-missing");
    let dir = keyring_dir();
    let script = format!("{START_KEYRING}\nstart_keyring unlocked\n{KEYRING_STEPS}");
    let mut cmd = StdCommand::new("dbus-run-session");
    cmd.args(["--", "sh", "-c", &script, "sh"])
        .arg(env!("CARGO_BIN_EXE_amhash"))
        .arg(dir.root())
        .args([
            "secret-service",
            &src,
            &gsrc,
            &missing,
            "keyutils",
            SALT_HEX,
        ])
        .env("HOME", home.root())
        .env(
            "AMHASH_TEST_KEYRING_PASSWORD",
            "amhash-test-keyring-password",
        );
    for var in SESSION_VARS {
        cmd.env_remove(var);
    }
    let done = run_child(cmd);
    assert!(
        done.success && done.stdout.contains("KEYRING-STEPS-DONE"),
        "{}\n{}",
        done.stdout,
        done.stderr
    );
    // The keyutils store is separate: no entry there.
    check_keyring_steps(dir.root(), &src, &gsrc, &missing, "no entry");
    for name in ["store", "generate", "verify", "decrypt", "keygen", "gcm"] {
        step(dir.root(), name).assert_no_secret(&[]);
    }
    // Nothing leaked into keyutils under these names.
    for s in [&src, &gsrc] {
        let source: KeySource = s.parse().expect("source");
        assert!(source.read(KeyringBackend::Keyutils).is_err(), "{s}");
    }
    // The entries live in the keyring file under the temporary HOME, removed with it.
}
