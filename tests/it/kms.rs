//! Cloud KMS end to end: the real `amhash-kms` binary and the real Google client against the
//! loopback fake in `tests/it/support/fake_kms.rs`. Nothing here talks to Google.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::support::fake_kms::{FakeKms, OaepAlg, decrypt_asymmetric, key_name, version_name};
use crate::support::kms_helper::{kms_helper, kms_helper_path, kms_helper_timeout};
use amhash::kms::remote::{Helper, KmsError};
use amhash::kms::{KmsKeyName, KmsOptions};
use base64::Engine as _;
use serde_json::Value;

/// A realistic plaintext: an `{SSHA-512}` string is 126 bytes.
/// (0x14, salt 00..13, password "correct horse battery staple"; made with Python hashlib.)
const HASH: &str = "{SSHA-512}FAABAgMEBQYHCAkKCwwNDg8QERITMV2mHRwL+gOZjai7exfdYXPqgZ4Y7eVpG1/NubSw03IBVzVzf8bdSOv29u0I9ge4nbiiepGONP8srBAHBbnROQ==";

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// Run the helper; returns (exit code, stdout, stderr).
fn run(cmd: &mut assert_cmd::Command, stdin: &[u8]) -> (i32, Vec<u8>, String) {
    let out = cmd
        .write_stdin(stdin.to_vec())
        .output()
        .expect("run amhash-kms");
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Encrypt successfully; returns the base64 line (without newline) after checking its shape:
/// that line, then the name AM decrypts with (see [`encrypt_ok_with`]).
fn encrypt_ok(fake: &FakeKms, key: &str, plaintext: &[u8]) -> String {
    encrypt_ok_with(fake, key, plaintext).0
}

/// [`encrypt_ok`], also returning the second line: the name AM must decrypt with, which is
/// `key` or, for a version of a symmetric key, that key.
fn encrypt_ok_with(fake: &FakeKms, key: &str, plaintext: &[u8]) -> (String, String) {
    let (code, out, err) = run(&mut kms_helper(fake, "encrypt", key), plaintext);
    assert_eq!(code, 0, "stderr: {err}");
    assert!(err.is_empty(), "stderr on success: {err}");
    let text = String::from_utf8(out).expect("utf-8");
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
    let (code, out, err) = run(&mut kms_helper(fake, "decrypt", key), input);
    assert_eq!(code, 0, "stderr: {err}");
    assert!(err.is_empty(), "stderr on success: {err}");
    out
}

/// Assert a failure: exit status, nothing on stdout, one stderr line containing `needles`.
fn assert_fails(result: (i32, Vec<u8>, String), code: i32, needles: &[&str]) -> String {
    let (got, out, err) = result;
    assert_eq!(got, code, "stderr: {err}");
    assert!(
        out.is_empty(),
        "stdout must be empty on failure, got {out:?}"
    );
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one stderr line: {err:?}"
    );
    for n in needles {
        assert!(err.contains(n), "stderr lacks {n:?}: {err}");
    }
    assert!(
        !err.contains(HASH),
        "plaintext leaked into the error: {err}"
    );
    eprintln!("exit {code}: {}", err.trim_end());
    err
}

fn crc_str(data: &[u8]) -> String {
    crc32c::crc32c(data).to_string()
}

#[test]
fn symmetric_round_trip_one_request_each_with_checksums() {
    let fake = FakeKms::start();
    let key = key_name("sym");
    fake.add_symmetric(&key, 1);

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
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].path, format!("/v1/{version}:asymmetricDecrypt"));
    assert_eq!(
        reqs[1].body["ciphertextCrc32c"],
        Value::String(crc_str(&ciphertext))
    );
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
    let fake = FakeKms::start();
    let key = key_name("sym");
    fake.add_symmetric(&key, 2);
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
fn permission_denied_names_key_status_and_permission() {
    let fake = FakeKms::start();
    let key = key_name("sym");
    fake.add_symmetric(&key, 1);
    fake.knobs(|k| k.deny_permission = true);
    let err = assert_fails(
        run(&mut kms_helper(&fake, "encrypt", &key), HASH.as_bytes()),
        3,
        &[
            &key,
            "PERMISSION_DENIED",
            "cloudkms.cryptoKeyVersions.useToEncrypt",
            "credentials in use",
        ],
    );
    assert_eq!(
        fake.requests().len(),
        1,
        "permanent errors are not retried: {err}"
    );

    assert_fails(
        run(&mut kms_helper(&fake, "decrypt", &key), b"AAAA"),
        3,
        &[
            &key,
            "PERMISSION_DENIED",
            "cloudkms.cryptoKeyVersions.useToDecrypt",
        ],
    );
    let version = version_name("asym", 1);
    assert_fails(
        run(&mut kms_helper(&fake, "encrypt", &version), HASH.as_bytes()),
        3,
        &[
            &version,
            "PERMISSION_DENIED",
            "cloudkms.cryptoKeyVersions.viewPublicKey",
        ],
    );
}

#[test]
fn not_found_says_to_check_name_and_location() {
    let fake = FakeKms::start();
    let key = key_name("missing");
    assert_fails(
        run(&mut kms_helper(&fake, "encrypt", &key), HASH.as_bytes()),
        3,
        &[&key, "NOT_FOUND", "resource name", "location"],
    );
    let version = version_name("missing", 4);
    assert_fails(
        run(&mut kms_helper(&fake, "decrypt", &version), b"AAAA"),
        3,
        &[&version, "NOT_FOUND"],
    );
    assert_eq!(fake.requests().len(), 2);
}

#[test]
fn unavailable_is_retried_then_succeeds() {
    let fake = FakeKms::start();
    let key = key_name("sym");
    fake.add_symmetric(&key, 1);
    fake.knobs(|k| k.unavailable_first = 2);
    let line = encrypt_ok(&fake, &key, HASH.as_bytes());
    assert_eq!(fake.requests().len(), 3, "two 503s, then success");
    assert_eq!(decrypt_ok(&fake, &key, line.as_bytes()), HASH.as_bytes());
}

#[test]
fn unavailable_for_ever_gives_up_after_five_attempts() {
    let fake = FakeKms::start();
    let key = key_name("sym");
    fake.add_symmetric(&key, 1);
    fake.knobs(|k| k.unavailable_first = 1000);
    assert_fails(
        run(&mut kms_helper(&fake, "encrypt", &key), HASH.as_bytes()),
        3,
        &[&key, "UNAVAILABLE", "5 attempts", "try again later"],
    );
    assert_eq!(fake.requests().len(), 5);
}

#[test]
fn wrong_ciphertext_crc_is_retried_then_reported() {
    let fake = FakeKms::start();
    let key = key_name("sym");
    fake.add_symmetric(&key, 1);
    fake.knobs(|k| k.wrong_ciphertext_crc = true);
    assert_fails(
        run(&mut kms_helper(&fake, "encrypt", &key), HASH.as_bytes()),
        3,
        &[&key, "ciphertext_crc32c", "3 attempts", "discarded"],
    );
    assert_eq!(
        fake.requests().len(),
        3,
        "integrity failures are retried a bounded number of times"
    );
}

#[test]
fn unverified_plaintext_crc_is_an_error() {
    let fake = FakeKms::start();
    let key = key_name("sym");
    fake.add_symmetric(&key, 1);
    fake.knobs(|k| k.unverified_plaintext_crc = true);
    assert_fails(
        run(&mut kms_helper(&fake, "encrypt", &key), HASH.as_bytes()),
        3,
        &[&key, "verified_plaintext_crc32c"],
    );
    assert_eq!(fake.requests().len(), 3);
}

#[test]
fn response_naming_another_key_is_an_error() {
    let fake = FakeKms::start();
    let key = key_name("sym");
    fake.add_symmetric(&key, 1);
    fake.knobs(|k| k.wrong_response_name = true);
    assert_fails(
        run(&mut kms_helper(&fake, "encrypt", &key), HASH.as_bytes()),
        3,
        &[&key, "cryptoKeys/other"],
    );
    let version = version_name("asym", 1);
    fake.add_asymmetric(&version, OaepAlg::Rsa2048Sha256);
    assert_fails(
        run(&mut kms_helper(&fake, "encrypt", &version), HASH.as_bytes()),
        3,
        &[&version, "getPublicKey", "cryptoKeys/other"],
    );
}

#[test]
fn wrong_pem_crc_is_an_error() {
    let fake = FakeKms::start();
    let version = version_name("asym", 1);
    fake.add_asymmetric(&version, OaepAlg::Rsa2048Sha256);
    fake.knobs(|k| k.wrong_pem_crc = true);
    assert_fails(
        run(&mut kms_helper(&fake, "encrypt", &version), HASH.as_bytes()),
        3,
        &[&version, "pem_crc32c"],
    );
    assert_eq!(fake.requests().len(), 3);
}

#[test]
fn decrypt_checks_plaintext_crc_and_verified_ciphertext() {
    let fake = FakeKms::start();
    let key = key_name("sym");
    fake.add_symmetric(&key, 1);
    let version = version_name("asym", 1);
    fake.add_asymmetric(&version, OaepAlg::Rsa2048Sha256);
    let sym = encrypt_ok(&fake, &key, HASH.as_bytes());
    let asym = encrypt_ok(&fake, &version, HASH.as_bytes());

    fake.knobs(|k| k.wrong_plaintext_crc = true);
    assert_fails(
        run(&mut kms_helper(&fake, "decrypt", &key), sym.as_bytes()),
        3,
        &[&key, "plaintext_crc32c"],
    );
    assert_fails(
        run(&mut kms_helper(&fake, "decrypt", &version), asym.as_bytes()),
        3,
        &[&version, "plaintext_crc32c"],
    );
    fake.knobs(|k| {
        k.wrong_plaintext_crc = false;
        k.unverified_ciphertext_crc = true;
    });
    assert_fails(
        run(&mut kms_helper(&fake, "decrypt", &version), asym.as_bytes()),
        3,
        &[&version, "verified_ciphertext_crc32c"],
    );
}

#[test]
fn slow_server_hits_the_timeout() {
    let fake = FakeKms::start();
    let key = key_name("sym");
    fake.add_symmetric(&key, 1);
    fake.knobs(|k| k.delay = Some(Duration::from_secs(8)));
    let mut cmd = kms_helper_timeout(&fake, "encrypt", &key, "2");
    assert_fails(
        run(&mut cmd, HASH.as_bytes()),
        3,
        &[&key, "2 s timeout", fake.endpoint()],
    );
    assert_eq!(fake.requests().len(), 1);
}

#[test]
fn refused_connection_fails_fast() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let endpoint = format!("http://127.0.0.1:{port}");
    let key = key_name("sym");
    let mut cmd = assert_cmd::Command::new(kms_helper_path());
    cmd.args([
        "encrypt",
        "--kms-key",
        &key,
        "--kms-endpoint",
        &endpoint,
        "--kms-anonymous",
    ]);
    let start = Instant::now();
    let result = run(&mut cmd, HASH.as_bytes());
    // Measured, reported, not asserted.
    eprintln!("refused connection: failed after {:?}", start.elapsed());
    assert_fails(result, 3, &[&key, "cannot connect", &endpoint]);
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
        assert_fails(
            run(&mut kms_helper(&fake, "encrypt", bad), HASH.as_bytes()),
            2,
            &["--kms-key"],
        );
        assert_fails(
            run(&mut kms_helper(&fake, "decrypt", bad), b"AAAA"),
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
    let fake = FakeKms::start();
    let key = key_name("sym");
    fake.add_symmetric(&key, 1);
    assert_fails(
        run(&mut kms_helper(&fake, "encrypt", &key), b""),
        2,
        &["empty"],
    );
    assert_fails(
        run(&mut kms_helper(&fake, "decrypt", &key), b"not base64!"),
        2,
        &["not base64"],
    );
    for bad in ["0", "abc", "3601"] {
        let err = assert_fails(
            run(
                &mut kms_helper_timeout(&fake, "encrypt", &key, bad),
                HASH.as_bytes(),
            ),
            2,
            &["--kms-timeout", bad],
        );
        assert!(!err.contains("multiple times"), "{err}");
    }
    let mut cmd = assert_cmd::Command::new(kms_helper_path());
    cmd.args([
        "encrypt",
        "--kms-key",
        &key,
        "--kms-endpoint",
        "http://kms.example.com",
    ]);
    assert_fails(
        run(&mut cmd, HASH.as_bytes()),
        2,
        &["plain http", "--kms-anonymous"],
    );
    let mut cmd = assert_cmd::Command::new(kms_helper_path());
    cmd.args(["encrypt"]);
    assert_fails(
        run(&mut cmd, HASH.as_bytes()),
        2,
        &["required", "--kms-key <NAME>"],
    );
    let mut cmd = assert_cmd::Command::new(kms_helper_path());
    cmd.args(["frobnicate"]);
    assert_fails(run(&mut cmd, b""), 2, &["frobnicate"]);
    assert!(fake.requests().is_empty());

    let out = assert_cmd::Command::new(kms_helper_path())
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("encrypt") && help.contains("decrypt"),
        "{help}"
    );
}

#[test]
fn decrypt_accepts_line_wrapped_base64() {
    let fake = FakeKms::start();
    let key = key_name("sym");
    fake.add_symmetric(&key, 1);
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
    let fake = FakeKms::start();
    let key = key_name("sym");
    fake.add_symmetric(&key, 1);
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
    assert!(e.is_usage(), "{e:?}");
    assert!(
        matches!(&e, KmsError::Usage { message } if message.contains("not base64")),
        "{e}"
    );
    assert_eq!(fake.requests().len(), n);

    // 3: KMS failure, with the helper's message.
    fake.knobs(|k| k.deny_permission = true);
    let e = helper.encrypt(&opts, HASH.as_bytes()).unwrap_err();
    assert!(!e.is_usage());
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
    let fake = FakeKms::start();
    let key = key_name("sym");
    fake.add_symmetric(&key, 1);
    // Application Default Credentials (no --kms-anonymous) pointing at a missing file.
    let mut cmd = assert_cmd::Command::new(kms_helper_path());
    cmd.args([
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
    assert_fails(
        run(&mut cmd, HASH.as_bytes()),
        3,
        &[
            "Application Default Credentials",
            "GOOGLE_APPLICATION_CREDENTIALS",
        ],
    );
    assert!(fake.requests().is_empty());
}
