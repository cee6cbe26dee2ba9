//! Known-answer vectors of the cipher module: vectors/am-jce.json, vectors/am-aeswrap.json,
//! vectors/aes-gcm.json (see each vector's `source`). Every `ok` vector is checked both ways
//! (decrypt gives the plaintext, encrypt with the vector's salt or nonce gives the value); every
//! `error` vector must fail with the stated kind. A file with no vectors, or a vector this test
//! does not know how to run, fails the test.

use std::path::Path;

use amhash::cipher::am_aeswrap::{self, KeyWrap};
use amhash::cipher::{
    AmCipher, AmKdf, CipherError, ErrorKind, KdfDigest, LocalKey, am_decrypt, am_encrypt, gcm_open,
    gcm_seal_with_nonce,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::SecretString;
use serde_json::Value;

fn load(topic: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("vectors")
        .join(format!("{topic}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(doc["format"], "amhash-vectors/1", "{topic}");
    assert_eq!(doc["topic"], topic);
    let vectors = doc["vectors"].as_array().expect("vectors array").clone();
    assert!(!vectors.is_empty(), "{topic}: no vectors");
    for v in &vectors {
        let source = v["source"].as_str().unwrap_or("");
        assert!(!source.is_empty(), "{topic}/{}: no source", v["name"]);
    }
    vectors
}

fn s<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("{}: missing string field {field}", v["name"]))
}

fn n(v: &Value, field: &str) -> u32 {
    let x = v[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{}: missing number field {field}", v["name"]));
    u32::try_from(x).unwrap()
}

fn bytes(v: &Value, field: &str) -> Vec<u8> {
    hex::decode(s(v, field)).unwrap()
}

fn pw(v: &Value) -> SecretString {
    SecretString::from(s(v, "password").to_owned())
}

fn kdf(v: &Value) -> AmKdf {
    AmKdf::new(
        s(v, "digest").parse::<KdfDigest>().unwrap(),
        n(v, "iterations"),
        n(v, "key_bits"),
    )
    .unwrap()
}

fn kind(v: &Value) -> ErrorKind {
    match s(v, "error") {
        "malformed" => ErrorKind::Malformed,
        "wrong-key-or-tampered" => ErrorKind::WrongKeyOrTampered,
        "invalid-input" => ErrorKind::InvalidInput,
        other => panic!("{}: unknown error kind {other}", v["name"]),
    }
}

fn check_err<T>(v: &Value, r: Result<T, CipherError>) {
    match r {
        Ok(_) => panic!("{}: succeeded, expected error {}", v["name"], s(v, "error")),
        Err(e) => assert_eq!(e.kind(), kind(v), "{}: {e}", v["name"]),
    }
}

fn salt(v: &Value) -> [u8; 16] {
    bytes(v, "salt_hex").try_into().unwrap()
}

#[test]
fn am_jce_vectors() {
    let vectors = load("am-jce");
    let mut run = 0;
    let kdf = AmKdf::default();
    for v in &vectors {
        match (s(v, "expect"), v["operation"].as_str()) {
            ("ok", None) => {
                let plain = bytes(v, "plaintext_hex");
                let d = am_decrypt(&pw(v), &kdf, s(v, "value"))
                    .unwrap_or_else(|e| panic!("{}: {e}", v["name"]));
                assert_eq!(d.cipher, AmCipher::Jce, "{}", v["name"]);
                assert_eq!(d.plaintext.as_slice(), &plain[..], "{}", v["name"]);
                let value = am_encrypt(AmCipher::Jce, &pw(v), &kdf, &plain).unwrap();
                assert_eq!(value, s(v, "value"), "{}", v["name"]);
            }
            ("error", Some("decrypt")) => check_err(v, am_decrypt(&pw(v), &kdf, s(v, "value"))),
            ("error", Some("encrypt")) => check_err(
                v,
                am_encrypt(AmCipher::Jce, &pw(v), &kdf, &bytes(v, "plaintext_hex")),
            ),
            other => panic!("{}: cannot run {other:?}", v["name"]),
        }
        run += 1;
    }
    assert_eq!(run, vectors.len());
}

#[test]
fn am_aeswrap_vectors() {
    let vectors = load("am-aeswrap");
    let mut run = 0;
    let mut wraps = [false; 2];
    for v in &vectors {
        match (s(v, "expect"), v["operation"].as_str()) {
            ("ok", None) => {
                let cipher: AmCipher = s(v, "cipher").parse().unwrap();
                let wrap = match cipher {
                    AmCipher::AesWrap => KeyWrap::Kw,
                    AmCipher::AesWrapPad => KeyWrap::Kwp,
                    AmCipher::Jce => panic!("{}: jce in aeswrap vectors", v["name"]),
                };
                wraps[usize::from(wrap == KeyWrap::Kwp)] = true;
                let plain = bytes(v, "plaintext_hex");
                let d = am_decrypt(&pw(v), &kdf(v), s(v, "value"))
                    .unwrap_or_else(|e| panic!("{}: {e}", v["name"]));
                assert_eq!(d.cipher, cipher, "{}", v["name"]);
                assert_eq!(d.plaintext.as_slice(), &plain[..], "{}", v["name"]);
                let value =
                    am_aeswrap::encrypt_with_salt(wrap, &pw(v), &kdf(v), &salt(v), &plain).unwrap();
                assert_eq!(STANDARD.encode(value), s(v, "value"), "{}", v["name"]);
            }
            ("error", Some("decrypt")) => {
                check_err(v, am_decrypt(&pw(v), &kdf(v), s(v, "value")));
            }
            ("error", Some("encrypt")) => {
                let wrap = match s(v, "cipher") {
                    "aeswrap" => KeyWrap::Kw,
                    "aeswrap-pad" => KeyWrap::Kwp,
                    other => panic!("{}: cipher {other}", v["name"]),
                };
                let plain = bytes(v, "plaintext_hex");
                check_err(
                    v,
                    am_aeswrap::encrypt_with_salt(wrap, &pw(v), &kdf(v), &salt(v), &plain),
                );
            }
            other => panic!("{}: cannot run {other:?}", v["name"]),
        }
        run += 1;
    }
    assert_eq!(run, vectors.len());
    assert_eq!(wraps, [true, true], "both KW and KWP must have vectors");
}

#[test]
fn aes_gcm_vectors() {
    let vectors = load("aes-gcm");
    let mut run = 0;
    for v in &vectors {
        let key = LocalKey::from_hex(s(v, "key_hex")).unwrap();
        match (s(v, "expect"), v["operation"].as_str()) {
            ("ok", None) => {
                let plain = bytes(v, "plaintext_hex");
                let opened =
                    gcm_open(&key, s(v, "value")).unwrap_or_else(|e| panic!("{}: {e}", v["name"]));
                assert_eq!(opened.as_slice(), &plain[..], "{}", v["name"]);
                let nonce: [u8; 12] = bytes(v, "nonce_hex").try_into().unwrap();
                let value = gcm_seal_with_nonce(&key, &nonce, &plain).unwrap();
                assert_eq!(value, s(v, "value"), "{}", v["name"]);
            }
            ("error", Some("decrypt")) => check_err(v, gcm_open(&key, s(v, "value"))),
            other => panic!("{}: cannot run {other:?}", v["name"]),
        }
        run += 1;
    }
    assert_eq!(run, vectors.len());
}
