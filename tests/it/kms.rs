//! Cloud KMS end to end: the real `amhash-kms` binary and the real Google client against the
//! loopback fake in `tests/it/support/fake_kms.rs`. Nothing here talks to Google.

use std::time::Duration;

use crate::support::fake_kms::{FakeKms, OaepAlg, decrypt_asymmetric, version_name};
use crate::support::kms::*;
use crate::support::*;
use amhash::error::{Error as _, Fault};
use amhash::kms::remote::{Helper, KmsError};
use amhash::kms::{KmsKeyName, KmsOptions};
use base64::Engine as _;
use serde_json::Value;

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// Encrypt successfully; returns the base64 line (without newline) after checking its shape:
/// that line, then the name AM decrypts with (see [`encrypt_ok_with`]).
fn encrypt_ok(fake: &FakeKms, key: &str, plaintext: &[u8]) -> String {
    encrypt_ok_with(fake, key, plaintext).0
}

/// [`encrypt_ok`], also returning the second line: the name AM must decrypt with, which is
/// `key` or, for a version of a symmetric key, that key.
fn encrypt_ok_with(fake: &FakeKms, key: &str, plaintext: &[u8]) -> (String, String) {
    let out = kms_helper(fake, "encrypt", key).stdin(plaintext).output();
    assert_quiet(&out);
    let text = stdout(&out);
    let body = text.strip_suffix('\n').expect("ends with a newline");
    let (line, name) = body.split_once('\n').expect("two lines");
    assert!(
        !line.contains(['\n', '\r', ' ']),
        "one line of base64: {text:?}"
    );
    assert!(!name.contains(['\n', '\r', ' ']), "one name: {text:?}");
    let crypto_key = key.split("/cryptoKeyVersions/").next().unwrap();
    assert!(name == key || name == crypto_key, "{name} for {key}");
    b64().decode(line).expect("standard base64");
    (line.to_owned(), name.to_owned())
}

fn decrypt_ok(fake: &FakeKms, key: &str, input: &[u8]) -> Vec<u8> {
    let out = kms_helper(fake, "decrypt", key).stdin(input).output();
    assert_quiet(&out);
    out.stdout
}

fn crc_str(data: &[u8]) -> String {
    crc32c::crc32c(data).to_string()
}

#[test]
fn symmetric_round_trip_one_request_each_with_checksums() {
    let (fake, key) = fake_with_key("sym", 1);

    let line = encrypt_ok(&fake, &key, HASH.as_bytes());
    let ciphertext = b64().decode(&line).unwrap();
    // Really encrypted with the fake's key: it opens with it.
    assert_eq!(
        fake.decrypt_symmetric(&key, &ciphertext).unwrap(),
        HASH.as_bytes()
    );

    let reqs = fake.requests();
    assert_eq!(
        reqs.len(),
        1,
        "symmetric encrypt is one round trip: {reqs:?}"
    );
    assert_eq!(reqs[0].method, "POST");
    assert_eq!(reqs[0].path, format!("/v1/{key}:encrypt"));
    assert!(
        !reqs[0].authorization,
        "--kms-anonymous sends no Authorization header"
    );
    let body = &reqs[0].body;
    assert_eq!(body["plaintext"], Value::String(b64().encode(HASH)));
    // int64 travels as a decimal string in proto3 JSON.
    assert_eq!(
        body["plaintextCrc32c"],
        Value::String(crc_str(HASH.as_bytes()))
    );
    assert!(body.get("name").is_none(), "the name is in the path only");

    assert_eq!(decrypt_ok(&fake, &key, line.as_bytes()), HASH.as_bytes());
    let reqs = fake.requests();
    assert_eq!(
        reqs.len(),
        2,
        "symmetric decrypt is one round trip: {reqs:?}"
    );
    assert_eq!(reqs[1].path, format!("/v1/{key}:decrypt"));
    assert_eq!(reqs[1].body["ciphertext"], Value::String(line.clone()));
    assert_eq!(
        reqs[1].body["ciphertextCrc32c"],
        Value::String(crc_str(&ciphertext))
    );
}

fn asymmetric_round_trip(alg: OaepAlg) {
    let fake = FakeKms::start();
    let version = version_name("asym", 1);
    fake.add_asymmetric(&version, alg);

    let (line, decrypt_with) = encrypt_ok_with(&fake, &version, HASH.as_bytes());
    // AsymmetricDecrypt takes the version.
    assert_eq!(decrypt_with, version);
    let ciphertext = b64().decode(&line).unwrap();
    assert_eq!(
        decrypt_asymmetric(alg, &ciphertext).expect("OAEP with the algorithm's hash"),
        HASH.as_bytes(),
        "{alg:?}"
    );
    let modulus = if alg == OaepAlg::Rsa4096Sha512 {
        512
    } else {
        256
    };
    assert_eq!(ciphertext.len(), modulus);
    assert_eq!(
        fake.calls(),
        [("publicKey".to_owned(), version.clone())],
        "asymmetric encrypt is one round trip (getPublicKey) plus local RSA-OAEP"
    );
    assert_eq!(fake.requests()[0].method, "GET");

    assert_eq!(
        decrypt_ok(&fake, &version, line.as_bytes()),
        HASH.as_bytes()
    );
    assert_second_request_decrypts(&fake, &version, &ciphertext);
}

#[test]
fn asymmetric_round_trip_sha256() {
    asymmetric_round_trip(OaepAlg::Rsa2048Sha256);
}

#[test]
fn asymmetric_round_trip_sha1() {
    asymmetric_round_trip(OaepAlg::Rsa2048Sha1);
}

#[test]
fn asymmetric_round_trip_sha512() {
    asymmetric_round_trip(OaepAlg::Rsa4096Sha512);
}

#[test]
fn version_of_a_symmetric_key_takes_two_round_trips() {
    let (fake, key) = fake_with_key("sym", 2);
    let v2 = format!("{key}/cryptoKeyVersions/2");

    let (line, decrypt_with) = encrypt_ok_with(&fake, &v2, HASH.as_bytes());
    // Cloud KMS Decrypt takes only the CryptoKey: that is what AM must be told.
    assert_eq!(decrypt_with, key);
    assert_eq!(
        fake.calls(),
        [
            ("publicKey".to_owned(), v2.clone()),
            ("encrypt".to_owned(), v2.clone())
        ],
        "getPublicKey answers FAILED_PRECONDITION, then encrypt with the version"
    );
    let ciphertext = b64().decode(&line).unwrap();
    assert_eq!(
        fake.decrypt_symmetric(&key, &ciphertext).unwrap(),
        HASH.as_bytes()
    );
    // Pinned to version 2, not the primary (the fake's layout carries the version).
    assert_eq!(&ciphertext[8..12], &2u32.to_be_bytes());

    assert_eq!(decrypt_ok(&fake, &v2, line.as_bytes()), HASH.as_bytes());
    let calls = fake.calls();
    assert_eq!(
        &calls[2..],
        [
            ("asymmetricDecrypt".to_owned(), v2.clone()),
            ("decrypt".to_owned(), key.clone())
        ]
    );
}

#[test]
fn unavailable_is_retried_then_succeeds() {
    let (fake, key) = fake_with_key("sym", 1);
    fake.knobs(|k| k.unavailable_first = 2);
    let line = encrypt_ok(&fake, &key, HASH.as_bytes());
    assert_eq!(fake.requests().len(), 3, "two 503s, then success");
    assert_eq!(decrypt_ok(&fake, &key, line.as_bytes()), HASH.as_bytes());
}

#[test]
fn malformed_key_is_a_usage_error_and_sends_nothing() {
    let fake = FakeKms::start();
    for bad in [
        "projects/amhash-test/locations/global/keyRings/amhash",
        "projects/amhash-test/locations/global/keyRings/amhash/cryptoKeys/a b",
        "projects/amhash-test/locations/global/keyRings/amhash/cryptoKeys/k/cryptoKeyVersions/x",
        "",
    ] {
        assert_helper_error(
            &kms_helper(&fake, "encrypt", bad)
                .stdin(HASH.as_bytes())
                .output(),
            2,
            &["--kms-key"],
        );
        assert_helper_error(
            &kms_helper(&fake, "decrypt", bad).stdin(b"AAAA").output(),
            2,
            &["--kms-key"],
        );
    }
    assert!(
        fake.requests().is_empty(),
        "no request for a malformed name"
    );
}

#[test]
fn bad_input_and_arguments_are_usage_errors() {
    let (fake, key) = fake_with_key("sym", 1);
    assert_helper_error(
        &kms_helper(&fake, "encrypt", &key).stdin(b"").output(),
        2,
        &["empty"],
    );
    assert_helper_error(
        &kms_helper(&fake, "decrypt", &key)
            .stdin(b"not base64!")
            .output(),
        2,
        &["not base64"],
    );
    for bad in ["0", "abc", "3601"] {
        let err = assert_helper_error(
            &kms_helper_timeout(&fake, "encrypt", &key, bad)
                .stdin(HASH.as_bytes())
                .output(),
            2,
            &["--kms-timeout", bad],
        );
        assert!(!err.contains("multiple times"), "{err}");
    }
    let cmd = Run::new(kms_helper_path()).args([
        "encrypt",
        "--kms-key",
        &key,
        "--kms-endpoint",
        "http://kms.example.com",
    ]);
    assert_helper_error(
        &cmd.stdin(HASH.as_bytes()).output(),
        2,
        &["plain http", "--kms-anonymous"],
    );
    let cmd = Run::new(kms_helper_path()).args(["encrypt"]);
    assert_helper_error(
        &cmd.stdin(HASH.as_bytes()).output(),
        2,
        &["required", "--kms-key <NAME>"],
    );
    let cmd = Run::new(kms_helper_path()).args(["frobnicate"]);
    assert_helper_error(&cmd.stdin(b"").output(), 2, &["frobnicate"]);
    assert!(fake.requests().is_empty());

    let out = Run::new(kms_helper_path()).arg("--help").output();
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("encrypt") && help.contains("decrypt"),
        "{help}"
    );
}

#[test]
fn decrypt_accepts_line_wrapped_base64() {
    let (fake, key) = fake_with_key("sym", 1);
    // Long enough to wrap: what `gcloud kms encrypt ... | base64` gives for a hash.
    let ciphertext = fake.encrypt_symmetric(&key, HASH.as_bytes());
    let one = b64().encode(&ciphertext);
    assert!(one.len() > 76);
    let wrapped: String = one
        .as_bytes()
        .chunks(76)
        .map(|c| format!("{}\n", std::str::from_utf8(c).unwrap()))
        .collect();
    assert_eq!(decrypt_ok(&fake, &key, wrapped.as_bytes()), HASH.as_bytes());
    assert_eq!(
        decrypt_ok(&fake, &key, format!("\n  {one}  \r\n").as_bytes()),
        HASH.as_bytes()
    );
    // What went to KMS is the unwrapped ciphertext.
    assert_eq!(fake.requests()[0].body["ciphertext"], Value::String(one));
}

fn options(fake: &FakeKms, key: &str) -> KmsOptions {
    let mut o = KmsOptions::new(key.parse::<KmsKeyName>().unwrap());
    o.endpoint = Some(fake.endpoint().to_owned());
    o.anonymous = true;
    o.timeout = Duration::from_secs(10);
    o
}

#[test]
fn remote_maps_the_helpers_exit_status() {
    let helper = Helper::at(kms_helper_path()).unwrap();
    let (fake, key) = fake_with_key("sym", 1);
    let opts = options(&fake, &key);

    // 0: Ok, and the two halves round trip.
    let sealed = helper.encrypt(&opts, HASH.as_bytes()).unwrap();
    assert!(!sealed.value.ends_with('\n'));
    assert_eq!(
        sealed.decrypt_with.to_string(),
        key,
        "a symmetric key decrypts by its name"
    );
    let plain = helper.decrypt(&opts, &sealed.value).unwrap();
    assert_eq!(plain.as_slice(), HASH.as_bytes());

    // 2: usage (the helper rejects the input before any request).
    let n = fake.requests().len();
    let e = helper.decrypt(&opts, "%%%").unwrap_err();
    assert_eq!(e.fault(), Fault::Input, "{e:?}");
    assert!(
        matches!(&e, KmsError::Usage { message } if message.contains("not base64")),
        "{e}"
    );
    assert_eq!(fake.requests().len(), n);

    // 3: KMS failure, with the helper's message.
    fake.knobs(|k| k.deny_permission = true);
    let e = helper.encrypt(&opts, HASH.as_bytes()).unwrap_err();
    assert_eq!(e.fault(), Fault::Operational);
    let KmsError::Kms { message } = &e else {
        panic!("{e:?}")
    };
    assert!(
        message.contains("PERMISSION_DENIED") && message.contains(&key),
        "{message}"
    );
    assert_eq!(message.lines().count(), 1);
}

#[test]
fn remote_without_helper_says_how_to_fix() {
    let e = Helper::at("/nonexistent/dir/amhash-kms").unwrap_err();
    assert!(matches!(e, KmsError::HelperMissing { .. }));
    assert!(
        e.to_string().contains(
            "amhash was built without KMS support or amhash-kms is not installed next to it"
        ),
        "{e}"
    );
}

#[test]
fn unusable_credentials_fail_before_any_request() {
    let (fake, key) = fake_with_key("sym", 1);
    // Application Default Credentials (no --kms-anonymous) pointing at a missing file.
    let cmd = Run::new(kms_helper_path())
        .args([
            "encrypt",
            "--kms-key",
            &key,
            "--kms-endpoint",
            fake.endpoint(),
        ])
        .env(
            "GOOGLE_APPLICATION_CREDENTIALS",
            "/nonexistent/amhash-test-sa.json",
        );
    assert_helper_error(
        &cmd.stdin(HASH.as_bytes()).output(),
        3,
        &[
            "Application Default Credentials",
            "GOOGLE_APPLICATION_CREDENTIALS",
        ],
    );
    assert!(fake.requests().is_empty());
}

/// Every KMS failure of the shared table, at the helper: one line, the right exit code, the
/// key and the cause named, and the requests it took.
#[test]
fn every_kms_failure_is_one_line_naming_key_and_cause() {
    check_every_fault(Layer::Helper);
}
