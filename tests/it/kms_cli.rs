//! Cloud KMS through the real `amhash` binary: `amhash` → the `amhash-kms` helper next to it →
//! Google's client → the loopback fake in `tests/it/support/fake_kms.rs`. Nothing here talks to
//! Google; every command gets `--kms-endpoint http://127.0.0.1:PORT --kms-anonymous`.
//!
//! Round trips are asserted from the fake's request log, so a regression that adds a call (or
//! sends the password) fails here. The last tests prove that local commands start no thread and
//! open no socket, with strace.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use crate::support::fake_kms::{FakeKms, OaepAlg, Recorded, decrypt_asymmetric, version_name};
use crate::support::kms::*;
use crate::support::*;
use amhash::ssha::SshaHash;
use base64::Engine as _;
use rsa::traits::PublicKeyParts as _;
use serde_json::Value;

/// A strong password (22 random characters of A-Z a-z 0-9 - _): install accepts it and
/// generate prints no warning for it, so stderr can be asserted empty.
const WRONG: &str = "Xq7-vR2_mK9pLw4zT8nB3t";

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// `--kms-key KEY --kms-endpoint <fake> --kms-anonymous`.
fn kms<'a>(fake: &'a FakeKms, key: &'a str) -> [&'a str; 5] {
    [
        "--kms-key",
        key,
        "--kms-endpoint",
        fake.endpoint(),
        "--kms-anonymous",
    ]
}

fn args<'a>(head: &[&'a str], kms: [&'a str; 5], tail: &[&'a str]) -> Vec<&'a str> {
    let mut v = head.to_vec();
    v.extend(kms);
    v.extend_from_slice(tail);
    v
}

/// One line of standard base64 (padding, no wrapping); returns the decoded bytes.
fn ciphertext_line(out: &Output) -> (String, Vec<u8>) {
    let line = quiet_line(out);
    assert!(
        line.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b)),
        "standard base64 alphabet only: {line}"
    );
    let bytes = b64().decode(&line).expect("standard base64 with padding");
    (line, bytes)
}

/// The `{SSHA-512}` string, checked to verify `KMS_PW` and not `WRONG`.
fn assert_hash_of_password(plaintext: &[u8]) -> String {
    let text = std::str::from_utf8(plaintext).expect("the plaintext is text");
    let hash: SshaHash = text.parse().expect("a {SSHA-512} hash");
    assert!(hash.verify(KMS_PW.as_bytes()), "{text} is not of KMS_PW");
    assert!(!hash.verify(WRONG.as_bytes()));
    assert_eq!(hash.to_string(), text, "canonical form");
    text.to_owned()
}

fn verbs(fake: &FakeKms) -> Vec<String> {
    fake.calls().into_iter().map(|(verb, _)| verb).collect()
}

/// The password never reaches the server: not in any path, query or body, raw or with every
/// base64 string field decoded.
fn assert_password_never_sent(requests: &[Recorded]) {
    let pw = KMS_PW.as_bytes();
    let pw_b64 = b64().encode(pw);
    let contains = |hay: &[u8]| hay.windows(pw.len()).any(|w| w == pw);
    for r in requests {
        let raw = r.body.to_string();
        for text in [&r.path, &r.query, &raw] {
            assert!(!text.contains(KMS_PW), "password sent in {r:?}");
            assert!(!text.contains(&pw_b64), "base64 password sent in {r:?}");
        }
        if let Value::Object(fields) = &r.body {
            for (name, v) in fields {
                if let Some(s) = v.as_str()
                    && let Ok(bytes) = b64().decode(s)
                {
                    assert!(!contains(&bytes), "password inside field {name} of {r:?}");
                }
            }
        }
    }
}

/// `verify`'s verdict: exit 0 or 1, nothing on stdout, the note on stderr.
fn assert_verdict(out: &Output, matches: bool) {
    let (code, note) = if matches {
        (0, "amhash: the password matches\n")
    } else {
        (1, "amhash: the password does not match\n")
    };
    assert_eq!(out.status.code(), Some(code), "{}", describe(out));
    assert!(out.stdout.is_empty(), "{}", describe(out));
    assert_eq!(stderr(out), note, "{}", describe(out));
}

/// The control for [`assert_password_never_sent`]: it does see the password wherever it is.
#[test]
fn the_leak_check_finds_the_password_in_any_form() {
    let leaks = |body: Value| {
        let r = Recorded {
            method: "POST".into(),
            path: "/v1/x:encrypt".into(),
            query: String::new(),
            body,
            authorization: false,
        };
        std::panic::catch_unwind(|| assert_password_never_sent(&[r])).is_err()
    };
    let hidden = b64().encode(format!("{{SSHA-512}}x{KMS_PW}y"));
    assert!(leaks(serde_json::json!({ "plaintext": hidden })));
    assert!(leaks(
        serde_json::json!({ "additionalAuthenticatedData": b64().encode(KMS_PW) })
    ));
    assert!(leaks(serde_json::json!({ "note": format!("pw={KMS_PW}") })));
    assert!(!leaks(
        serde_json::json!({ "plaintext": b64().encode("{SSHA-512}FAAB") })
    ));
}

fn crc_str(data: &[u8]) -> String {
    crc32c::crc32c(data).to_string()
}

// --- symmetric -----------------------------------------------------------------------------

#[test]
fn generate_symmetric_prints_one_base64_line_after_one_encrypt_without_the_password() {
    let (fake, key) = fake_with_key("sym", 1);

    let out = run(
        &args(&["generate", "--encrypt", "kms"], kms(&fake, &key), &[]),
        format!("{KMS_PW}\n"),
    );
    let (_, ciphertext) = ciphertext_line(&out);

    let reqs = fake.requests();
    assert_eq!(reqs.len(), 1, "one round trip: {reqs:?}");
    let r = &reqs[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, format!("/v1/{key}:encrypt"));
    assert!(!r.authorization, "--kms-anonymous sends no credentials");
    let sent = b64()
        .decode(r.body["plaintext"].as_str().expect("plaintext field"))
        .expect("base64 plaintext");
    let hash = assert_hash_of_password(&sent);
    assert!(hash.starts_with("{SSHA-512}"));
    assert_eq!(
        r.body["plaintextCrc32c"],
        Value::String(crc_str(hash.as_bytes()))
    );
    assert_password_never_sent(&reqs);

    // The printed value is the fake's ciphertext of exactly that hash.
    let opened = fake
        .decrypt_symmetric(&key, &ciphertext)
        .expect("opens with the fake's key");
    assert_eq!(opened, hash.as_bytes());
}

#[test]
fn encrypt_existing_value_then_decrypt_and_verify_symmetric() {
    let (fake, key) = fake_with_key("sym", 1);
    let hash = SshaHash::generate(KMS_PW.as_bytes()).unwrap().to_string();

    // encrypt: the value on stdin (as generate printed it, newline included).
    let out = run(
        &args(&["encrypt", "--encrypt", "kms"], kms(&fake, &key), &[]),
        format!("{hash}\n"),
    );
    let (line, ciphertext) = ciphertext_line(&out);
    assert_eq!(verbs(&fake), ["encrypt"]);
    let sent = b64()
        .decode(fake.requests()[0].body["plaintext"].as_str().unwrap())
        .unwrap();
    assert_eq!(sent, hash.as_bytes(), "exactly the value, no newline");
    assert_eq!(fake.decrypt_symmetric(&key, &ciphertext).unwrap(), sent);

    // decrypt: one Decrypt call, prints the hash.
    let out = run(&args(&["decrypt"], kms(&fake, &key), &[]), &line);
    assert_eq!(quiet_line(&out), hash);
    assert_eq!(verbs(&fake), ["encrypt", "decrypt"]);
    let r = &fake.requests()[1];
    assert_eq!(r.path, format!("/v1/{key}:decrypt"));
    assert_eq!(
        r.body["ciphertextCrc32c"],
        Value::String(crc_str(&ciphertext))
    );

    // verify --hash-file: one Decrypt each, 0 for the password, 1 for another.
    let fx = Fixture::empty();
    let file = fx.file("amadmin.enc", format!("{line}\n"), 0o600);
    let f = file.to_str().unwrap();
    let out = run(
        &args(&["verify", "--hash-file", f], kms(&fake, &key), &[]),
        format!("{KMS_PW}\n"),
    );
    assert_verdict(&out, true);
    let out = run(
        &args(&["verify", "--hash-file", f], kms(&fake, &key), &[]),
        format!("{WRONG}\n"),
    );
    assert_verdict(&out, false);
    assert_eq!(verbs(&fake), ["encrypt", "decrypt", "decrypt", "decrypt"]);

    // --json: the same verdict as an object.
    let out = run(
        &args(
            &["--json", "verify", "--hash-file", f],
            kms(&fake, &key),
            &[],
        ),
        format!("{KMS_PW}\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["match"], Value::Bool(true));
    assert_password_never_sent(&fake.requests());
}

#[test]
fn decrypt_accepts_gcloud_ciphertext_piped_through_base64() {
    let (fake, key) = fake_with_key("sym", 1);
    let hash = SshaHash::generate(KMS_PW.as_bytes()).unwrap().to_string();
    // What `gcloud kms encrypt --plaintext-file - --ciphertext-file - | base64` gives: the raw
    // ciphertext, in 76-column lines, with a final newline.
    let raw = fake.encrypt_symmetric(&key, hash.as_bytes());
    let encoded = b64().encode(&raw);
    let mut wrapped = String::new();
    for chunk in encoded.as_bytes().chunks(76) {
        wrapped.push_str(std::str::from_utf8(chunk).unwrap());
        wrapped.push('\n');
    }
    assert!(wrapped.lines().count() >= 3, "really wrapped: {wrapped}");
    assert!(wrapped.lines().next().unwrap().len() == 76);

    let out = run(&args(&["decrypt"], kms(&fake, &key), &[]), &wrapped);
    assert_eq!(quiet_line(&out), hash);
    // And from a file with --in.
    let fx = Fixture::empty();
    let file = fx.file("ct.b64", &wrapped, 0o600);
    let path = file.to_str().unwrap();
    let out = run(&args(&["decrypt", "--in", path], kms(&fake, &key), &[]), "");
    assert_eq!(quiet_line(&out), hash);
    let reqs = fake.requests();
    assert_eq!(verbs(&fake), ["decrypt", "decrypt"]);
    for r in &reqs {
        let sent = b64()
            .decode(r.body["ciphertext"].as_str().unwrap())
            .unwrap();
        assert_eq!(sent, raw, "the unwrapped ciphertext, byte for byte");
    }
}

#[test]
fn version_of_a_symmetric_key_takes_two_round_trips_each_way() {
    let (fake, key) = fake_with_key("sym2", 2);
    let version = format!("{key}/cryptoKeyVersions/2");

    let mut out = run(
        &args(&["generate", "--encrypt", "kms"], kms(&fake, &version), &[]),
        format!("{KMS_PW}\n"),
    );
    // The one note: AM must be told the key, not the version.
    assert_eq!(
        stderr(&out),
        format!(
            "amhash: {version} is a version of a symmetric key: AM must name the key {key} \
             (Cloud KMS Decrypt takes a CryptoKey, never a version, and finds the version itself)\n"
        )
    );
    out.stderr.clear();
    let (line, ciphertext) = ciphertext_line(&out);
    // GetPublicKey answers FAILED_PRECONDITION, then Encrypt with the version itself.
    assert_eq!(
        fake.calls(),
        [
            ("publicKey".to_owned(), version.clone()),
            ("encrypt".to_owned(), version.clone())
        ]
    );
    assert_hash_of_password(&fake.decrypt_symmetric(&key, &ciphertext).unwrap());
    assert_eq!(
        &ciphertext[8..12],
        &2u32.to_be_bytes(),
        "made with version 2"
    );

    // AsymmetricDecrypt answers FAILED_PRECONDITION, then Decrypt with the key.
    let fx = Fixture::empty();
    let file = fx.file("v.enc", &line, 0o600);
    let path = file.to_str().unwrap();
    let out = run(
        &args(&["verify", "--hash-file", path], kms(&fake, &version), &[]),
        format!("{KMS_PW}\n"),
    );
    assert_verdict(&out, true);
    let calls = fake.calls();
    assert_eq!(
        &calls[2..],
        [
            ("asymmetricDecrypt".to_owned(), version.clone()),
            ("decrypt".to_owned(), key.clone())
        ]
    );
    assert_password_never_sent(&fake.requests());
}

// --- asymmetric ----------------------------------------------------------------------------

fn asymmetric_end_to_end(alg: OaepAlg, id: &str) {
    let fake = FakeKms::start();
    let version = version_name(id, 1);
    fake.add_asymmetric(&version, alg);

    // generate: one GetPublicKey, RSA-OAEP here; nothing else reaches the server.
    let out = run(
        &args(&["generate", "--encrypt", "kms"], kms(&fake, &version), &[]),
        format!("{KMS_PW}\n"),
    );
    let (line, ciphertext) = ciphertext_line(&out);
    let expected_len = alg.private_key().to_public_key().size();
    assert_eq!(ciphertext.len(), expected_len, "{} block", alg.name());
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_eq!(reqs[0].method, "GET");
    assert_eq!(reqs[0].path, format!("/v1/{version}/publicKey"));
    let hash = assert_hash_of_password(
        &decrypt_asymmetric(alg, &ciphertext).expect("OAEP with the algorithm's hash"),
    );

    // decrypt: one AsymmetricDecrypt.
    let out = run(&args(&["decrypt"], kms(&fake, &version), &[]), &line);
    assert_eq!(quiet_line(&out), hash);
    assert_second_request_decrypts(&fake, &version, &ciphertext);

    // verify: one AsymmetricDecrypt each; 0 for the password, 1 for another.
    let fx = Fixture::empty();
    let file = fx.file("amadmin.enc", &line, 0o600);
    let f = file.to_str().unwrap();
    for (password, matches) in [(KMS_PW, true), (WRONG, false)] {
        let out = run(
            &args(&["verify", "--hash-file", f], kms(&fake, &version), &[]),
            format!("{password}\n"),
        );
        assert_verdict(&out, matches);
    }
    assert_eq!(
        verbs(&fake),
        [
            "publicKey",
            "asymmetricDecrypt",
            "asymmetricDecrypt",
            "asymmetricDecrypt"
        ]
    );
    assert_password_never_sent(&fake.requests());
}

#[test]
fn asymmetric_rsa_2048_sha256() {
    asymmetric_end_to_end(OaepAlg::Rsa2048Sha256, "rsa2048-sha256");
}

#[test]
fn asymmetric_rsa_2048_sha1() {
    asymmetric_end_to_end(OaepAlg::Rsa2048Sha1, "rsa2048-sha1");
}

#[test]
fn asymmetric_rsa_4096_sha512() {
    asymmetric_end_to_end(OaepAlg::Rsa4096Sha512, "rsa4096-sha512");
}

// --- install, verify --dir, doctor -----------------------------------------------------------

#[test]
fn install_dir_with_kms_then_verify_and_doctor() {
    let (fake, key) = fake_with_key("am", 1);
    let dir = Fixture::empty();
    let d = dir.root().to_str().unwrap();
    let file = dir.root().join("password.amadmin");

    // Text output, password on stdin.
    let out = run(
        &args(
            &["install", "--dir", d, "--encrypt", "kms"],
            kms(&fake, &key),
            &[],
        ),
        format!("{KMS_PW}\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], format!("created: {}", file.display()), "{out:?}");
    assert!(
        lines.contains(&format!("AM setting: {FORMAT_PROP}=GOOGLE_KMS_ENCRYPTED").as_str()),
        "{out:?}"
    );
    assert!(
        lines.contains(&format!("AM setting: {KEY_PROP}={key}").as_str()),
        "{out:?}"
    );
    assert_eq!(verbs(&fake), ["encrypt"]);

    let stored = std::fs::read_to_string(&file).unwrap();
    assert!(
        !stored.ends_with('\n'),
        "no trailing newline: AM reads it as is"
    );
    let meta = std::fs::metadata(&file).unwrap();
    assert_eq!(meta.permissions().mode() & 0o7777, 0o600);
    let ciphertext = b64().decode(&stored).expect("one line of standard base64");
    assert_hash_of_password(&fake.decrypt_symmetric(&key, &ciphertext).unwrap());

    // verify --dir: 0, 1.
    for (password, matches) in [(KMS_PW, true), (WRONG, false)] {
        let out = run(
            &args(&["verify", "--dir", d], kms(&fake, &key), &[]),
            format!("{password}\n"),
        );
        assert_verdict(&out, matches);
    }

    // doctor: decrypts (one Decrypt), format matches, no problem.
    let out = run(
        &args(
            &["doctor", "--dir", d, "--format", "GOOGLE_KMS_ENCRYPTED"],
            kms(&fake, &key),
            &[],
        ),
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(stdout(&out).ends_with("no problem found\n"), "{out:?}");
    assert!(
        stdout(&out).contains("decrypt: the value decrypts to a well-formed {SSHA-512} hash"),
        "{out:?}"
    );
    // doctor --check-password too.
    let out = run(
        &args(
            &[
                "doctor",
                "--dir",
                d,
                "--format",
                "GOOGLE_KMS_ENCRYPTED",
                "--check-password",
            ],
            kms(&fake, &key),
            &[],
        ),
        format!("{KMS_PW}\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        stdout(&out).contains("password: the password matches the stored value"),
        "{out:?}"
    );
    assert_eq!(
        verbs(&fake),
        ["encrypt", "decrypt", "decrypt", "decrypt", "decrypt"]
    );

    // --json, password from --password-file, replacing the value (previous one kept).
    let fx = Fixture::empty();
    let pwfile = fx.file("pw", format!("{KMS_PW}\n"), 0o600);
    let out = run(
        &args(
            &[
                "--json",
                "install",
                "--dir",
                d,
                "--encrypt",
                "kms",
                "--password-file",
                pwfile.to_str().unwrap(),
            ],
            kms(&fake, &key),
            &[],
        ),
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: Value = serde_json::from_str(&stdout(&out)).expect("one JSON object");
    assert_eq!(
        v["am_properties"][FORMAT_PROP],
        Value::String("GOOGLE_KMS_ENCRYPTED".into())
    );
    assert_eq!(v["am_properties"][KEY_PROP], Value::String(key.clone()));
    assert_eq!(v["written"][0]["action"], Value::String("replaced".into()));
    let stored2 = std::fs::read_to_string(&file).unwrap();
    assert_ne!(stored2, stored, "a fresh salt and nonce");
    assert_hash_of_password(
        &fake
            .decrypt_symmetric(&key, &b64().decode(&stored2).unwrap())
            .unwrap(),
    );
    assert_eq!(verbs(&fake).len(), 6);
    assert_eq!(verbs(&fake)[5], "encrypt");
    assert_password_never_sent(&fake.requests());
}

// --- errors --------------------------------------------------------------------------------

fn generate_with(fake: &FakeKms, key: &str, extra: &[&str]) -> Output {
    run(
        &args(&["generate", "--encrypt", "kms"], kms(fake, key), extra),
        format!("{KMS_PW}\n"),
    )
}

#[test]
fn a_kms_failure_with_json_is_one_error_object() {
    let (fake, key) = fake_with_key("sym", 1);
    fake.knobs(|k| k.deny_permission = true);
    let out = generate_with(&fake, &key, &["--json"]);
    assert_json_error(&out, 3, "operational", "PERMISSION_DENIED");
}

#[test]
fn unavailable_once_then_success_takes_two_round_trips() {
    let (fake, key) = fake_with_key("sym", 1);
    fake.knobs(|k| k.unavailable_first = 1);
    let out = generate_with(&fake, &key, &[]);
    let (_, ciphertext) = ciphertext_line(&out);
    assert_eq!(verbs(&fake), ["encrypt", "encrypt"]);
    assert_hash_of_password(&fake.decrypt_symmetric(&key, &ciphertext).unwrap());
}

#[test]
fn malformed_key_name_is_a_usage_error_and_sends_nothing() {
    let fake = FakeKms::start();
    for cmd in [
        &["generate", "--encrypt", "kms"][..],
        &["decrypt"][..],
        &["encrypt", "--encrypt", "kms"][..],
    ] {
        let out = run(
            &args(cmd, kms(&fake, "projects/p/keyRings/r"), &[]),
            format!("{KMS_PW}\n"),
        );
        assert_error(
            &out,
            2,
            &["'projects/p/keyRings/r' is not a Cloud KMS key name"],
        );
    }
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
}

#[test]
fn kms_without_key_is_a_usage_error() {
    let fake = FakeKms::start();
    let out = run(&["generate", "--encrypt", "kms"], format!("{KMS_PW}\n"));
    assert_error(&out, 2, &["--encrypt kms needs --kms-key"]);
    let out = run(
        &[
            "generate",
            "--encrypt",
            "kms",
            "--kms-endpoint",
            fake.endpoint(),
            "--kms-anonymous",
        ],
        format!("{KMS_PW}\n"),
    );
    assert_error(&out, 2, &["need --kms-key"]);
    let out = run(
        &["install", "--dir", "/nonexistent", "--encrypt", "kms"],
        format!("{KMS_PW}\n"),
    );
    assert_error(&out, 2, &["--encrypt kms needs --kms-key"]);
    assert!(fake.requests().is_empty());
}

#[test]
fn missing_helper_says_it_is_not_installed_next_to_amhash() {
    let (fake, key) = fake_with_key("sym", 1);
    let dir = Fixture::empty();
    let exe = dir.amhash_copy();
    assert!(!dir.root().join("amhash-kms").exists());
    let out = Run::new(&exe)
        .args(args(
            &["generate", "--encrypt", "kms"],
            kms(&fake, &key),
            &[],
        ))
        .stdin(format!("{KMS_PW}\n"))
        .output();
    let expected = format!(
        "amhash: error: amhash was built without KMS support or amhash-kms is not installed next to it (looked for {})",
        dir.root().join("amhash-kms").display()
    );
    assert_eq!(assert_error(&out, 3, &[]).trim_end(), expected);
    assert!(fake.requests().is_empty());

    // The copy still does local work.
    let out = Run::new(&exe)
        .args(["generate"])
        .stdin(format!("{KMS_PW}\n"))
        .output();
    let line = quiet_line(&out);
    assert_hash_of_password(line.as_bytes());
}

/// An `amhash-kms` that says it is ready, takes its input, then hangs outside any KMS call
/// (which its own `--kms-timeout` would bound): amhash stops it at `--kms-timeout` plus the
/// grace, exits 3 with one line naming the helper and the limit, and the helper is gone.
#[test]
fn a_kms_helper_that_hangs_after_ready_is_stopped_and_amhash_exits_3() {
    let (fake, key) = fake_with_key("sym", 1);
    let dir = Fixture::empty();
    let exe = dir.amhash_copy();
    let helper = write_file(
        dir.root(),
        "amhash-kms",
        format!(
            "#!/bin/sh\necho $$ >\"${{0%/*}}/pid\"\n{}\ncat >/dev/null\nexec sleep 600\n",
            say_ready()
        ),
        0o755,
    );
    let out = Run::new(&exe)
        .args(args(
            &["generate", "--encrypt", "kms"],
            kms(&fake, &key),
            &["--kms-timeout", "1"],
        ))
        .stdin(format!("{KMS_PW}\n"))
        .output();
    let line = assert_error(&out, 3, &["raise --kms-timeout"]);
    let expected = format!(
        "amhash: error: {} did not finish within 11 s and was stopped (--kms-timeout plus 10 s): ",
        helper.display()
    );
    assert!(line.starts_with(&expected), "{line}");
    let pid = pid_in(&dir.root().join("pid"));
    assert!(
        matches!(process_state(pid), None | Some('Z')),
        "the helper (pid {pid}) still runs"
    );
    assert!(fake.requests().is_empty());
}

// --- local commands: no thread, no socket ---------------------------------------------------

/// Run `amhash ARGS` under `strace -f -e trace=socket,connect,clone,clone3`; returns the
/// command's output and the trace lines (pid prefix removed).
fn straced(args: &[&str], stdin: &str) -> (Output, Vec<String>) {
    straced_at(Path::new(AMHASH), args, stdin)
}

/// [`straced`] of the executable `exe`.
fn straced_at(exe: &Path, args: &[&str], stdin: &str) -> (Output, Vec<String>) {
    let dir = Fixture::empty();
    let trace = dir.root().join("trace");
    // Needs strace (apt-get install strace).
    let out = Run::new("strace")
        .args(["-f", "-e", "trace=socket,connect,clone,clone3", "-o"])
        .arg(&trace)
        .arg(exe)
        .args(args)
        .stdin(stdin)
        .output();
    let text = std::fs::read_to_string(&trace).unwrap_or_else(|e| {
        panic!(
            "strace wrote no trace ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let lines = text
        .lines()
        .map(|l| {
            l.trim_start_matches(|c: char| c.is_ascii_digit())
                .trim_start()
                .to_owned()
        })
        .collect();
    (out, lines)
}

/// The trace of a process that made none of the traced calls: only its exit line (and
/// signal lines), from one pid.
fn assert_no_thread_no_socket(what: &str, trace: &[String]) {
    let calls: Vec<&String> = trace
        .iter()
        .filter(|l| !l.starts_with("+++ ") && !l.starts_with("--- "))
        .collect();
    assert!(
        calls.is_empty(),
        "{what}: made socket/connect/clone calls: {calls:#?}"
    );
    assert_eq!(
        trace.iter().filter(|l| l.starts_with("+++ exited")).count(),
        1,
        "{what}: exactly one process, traced to its exit: {trace:#?}"
    );
}

#[test]
fn local_commands_start_no_thread_and_open_no_socket() {
    let dir = Fixture::empty();
    let pw_line = format!("{KMS_PW}\n");

    let (out, trace) = straced(&["generate"], &pw_line);
    let hash = quiet_line(&out);
    assert_hash_of_password(hash.as_bytes());
    assert_no_thread_no_socket("generate", &trace);

    let hash_file = write_file(dir.root(), "hash", hash.as_bytes(), 0o600);
    let (out, trace) = straced(
        &["verify", "--hash-file", hash_file.to_str().unwrap()],
        &pw_line,
    );
    assert_verdict(&out, true);
    assert_no_thread_no_socket("verify", &trace);

    let am_key = write_file(dir.root(), "am.pwd", b"an AM encryption password\n", 0o600);
    let key_arg = format!("file:{}", am_key.display());
    let (out, trace) = straced(
        &["generate", "--encrypt", "am", "--key", &key_arg],
        &pw_line,
    );
    let value = quiet_line(&out);
    assert!(b64().decode(&value).is_ok(), "{value}");
    assert_no_thread_no_socket("generate --encrypt am", &trace);

    // And it decrypts back (still local).
    let (out, trace) = straced(&["decrypt", "--key", &key_arg], &value);
    assert_hash_of_password(quiet_line(&out).as_bytes());
    assert_no_thread_no_socket("decrypt --key", &trace);
}

/// The control for the test above: the same trace of a KMS command does show the stderr
/// reader thread of `amhash` and the helper process, and a trace of the helper (run by hand,
/// without the handshake) shows its connection, so an empty trace really means none
/// happened. Under `strace -f` the helper started by amhash is traced: it refuses to say it
/// is ready, so amhash sends it nothing and nothing reaches KMS.
#[test]
fn strace_sees_the_threads_and_sockets_of_a_kms_command() {
    let (fake, key) = fake_with_key("sym", 1);
    let (out, trace) = straced(
        &args(&["generate", "--encrypt", "kms"], kms(&fake, &key), &[]),
        &format!("{KMS_PW}\n"),
    );
    assert_error(
        &out,
        3,
        &[
            "this process is traced by process",
            "refusing to receive secrets",
        ],
    );
    let has = |trace: &[String], needle: &str| trace.iter().any(|l| l.contains(needle));
    assert!(
        has(&trace, "CLONE_THREAD"),
        "a thread was traced: {trace:#?}"
    );
    assert!(
        trace.iter().filter(|l| l.starts_with("+++ exited")).count() >= 3,
        "amhash, its thread and the helper: {trace:#?}"
    );
    assert!(verbs(&fake).is_empty(), "the traced helper sent a request");

    let helper = Path::new(AMHASH).with_file_name("amhash-kms");
    let (out, trace) = straced_at(&helper, &args(&["encrypt"], kms(&fake, &key), &[]), KMS_PW);
    // Run by hand, the helper prints the ciphertext line and the name AM decrypts with.
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = stdout(&out);
    let (line, name) = text.trim_end().split_once('\n').expect("two lines");
    b64().decode(line).expect("base64");
    assert_eq!(name, key);
    assert!(
        has(&trace, "socket(AF_INET"),
        "a socket was traced: {trace:#?}"
    );
    assert!(
        trace
            .iter()
            .any(|l| l.starts_with("connect(") && l.contains("127.0.0.1")),
        "the connection to the fake was traced: {trace:#?}"
    );
    assert_eq!(verbs(&fake), ["encrypt"]);
}

// --- the decryption key AM is told to use ------------------------------------------------

/// What AM does with the property: `POST /v1/{name}:decrypt` (Cloud KMS Decrypt), raw, as
/// any client would send it. Returns the HTTP status.
fn am_decrypts_with(fake: &FakeKms, name: &str, ciphertext: &[u8]) -> u16 {
    use std::io::{Read, Write};
    let addr = fake.endpoint().trim_start_matches("http://").to_owned();
    let body = serde_json::json!({
        "ciphertext": b64().encode(ciphertext),
        "ciphertextCrc32c": crc_str(ciphertext),
    })
    .to_string();
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        s,
        "POST /v1/{name}:decrypt HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    answer
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[test]
fn the_decryption_key_property_names_what_am_can_decrypt_with() {
    let (fake, key) = fake_with_key("prop", 2);
    let sym_version = format!("{key}/cryptoKeyVersions/2");
    let asym = version_name("prop-rsa", 1);
    fake.add_asymmetric(&asym, OaepAlg::Rsa2048Sha256);
    // (given, what AM must name, the note)
    let cases = [
        (key.clone(), key.clone(), None),
        (
            sym_version.clone(),
            key.clone(),
            Some(format!(
                "{sym_version} is a version of a symmetric key: AM must name the key {key} \
                 (Cloud KMS Decrypt takes a CryptoKey, never a version, and finds the version itself)"
            )),
        ),
        (asym.clone(), asym.clone(), None),
    ];
    for (given, property, note) in &cases {
        let dir = Fixture::empty();
        let d = dir.root().to_str().unwrap();
        // install: text and --json agree, and generate says the same.
        let out = run(
            &args(
                &["install", "--dir", d, "--encrypt", "kms"],
                kms(&fake, given),
                &[],
            ),
            format!("{KMS_PW}\n"),
        );
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        assert!(
            stdout(&out)
                .lines()
                .any(|l| l == format!("AM setting: {KEY_PROP}={property}")),
            "{given}: {out:?}"
        );
        assert!(
            !stdout(&out).contains(&format!("{KEY_PROP}={given}/")),
            "{out:?}"
        );
        if let Some(note) = note {
            assert!(stdout(&out).lines().any(|l| l == note), "{given}: {out:?}");
        }
        for head in [
            &["--json", "install", "--dir", d, "--encrypt", "kms"][..],
            &["--json", "generate", "--encrypt", "kms"],
        ] {
            let out = run(&args(head, kms(&fake, given), &[]), format!("{KMS_PW}\n"));
            let v: Value = serde_json::from_str(&stdout(&out)).expect("one JSON object");
            let want = Value::String(property.clone());
            assert_eq!(v["am_properties"][KEY_PROP], want, "{head:?}");
        }
        // A symmetric value opens with Decrypt on the property's name, as AM calls it, and
        // the fake, like Cloud KMS, refuses Decrypt on a version name.
        if property == &key {
            let stored = std::fs::read_to_string(dir.root().join("password.amadmin")).unwrap();
            let ciphertext = b64().decode(stored).unwrap();
            assert_eq!(am_decrypts_with(&fake, property, &ciphertext), 200);
            assert_eq!(am_decrypts_with(&fake, &sym_version, &ciphertext), 400);
        }
    }
}

/// Every KMS failure of the shared table, through amhash: the helper's line as amhash's one
/// error line, the same exit code, nothing printed, and the same requests.
#[test]
fn every_kms_failure_is_one_line_naming_key_and_cause() {
    check_every_fault(Layer::Cli);
}
