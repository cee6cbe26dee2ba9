//! Runs against the fake Cloud KMS: the `amhash-kms` helper, and its failures.

use std::path::PathBuf;
use std::process::Output;

use super::Run;
use super::fake_kms::{FakeKms, Knobs, OaepAlg, encrypt_asymmetric, key_name, version_name};

/// `amhash-kms OP --kms-key KEY --kms-endpoint <fake> --kms-anonymous --kms-timeout 10`.
pub fn kms_helper(fake: &FakeKms, op: &str, key: &str) -> Run {
    kms_helper_timeout(fake, op, key, "10")
}

/// As [`kms_helper`] with another `--kms-timeout` value.
pub fn kms_helper_timeout(fake: &FakeKms, op: &str, key: &str, secs: &str) -> Run {
    Run::new(kms_helper_path())
        .args([op, "--kms-key", key, "--kms-endpoint", fake.endpoint()])
        .args(["--kms-anonymous", "--kms-timeout", secs])
}

/// The path of the built helper, for `amhash::kms::remote::Helper::at`.
///
/// `AMHASH_TEST_KMS_HELPER` overrides it, to test an installed binary, or a copy when several
/// worktrees share one target directory (each build there replaces `target/debug/amhash-kms`).
pub fn kms_helper_path() -> PathBuf {
    match std::env::var_os("AMHASH_TEST_KMS_HELPER") {
        Some(p) if !p.is_empty() => p.into(),
        _ => PathBuf::from(env!("CARGO_BIN_EXE_amhash-kms")),
    }
}

/// A failure of the helper: exit `code`, nothing on stdout, one `amhash-kms: ` line on stderr
/// holding every one of `needles`; returns it.
#[track_caller]
pub fn assert_helper_error(out: &Output, code: i32, needles: &[&str]) -> String {
    super::check_failure("", out, "amhash-kms: ", code, needles)
}

/// A fake with one symmetric key `id` of `versions` versions: the fake and the key's name.
pub fn fake_with_key(id: &str, versions: u32) -> (FakeKms, String) {
    let fake = FakeKms::start();
    let key = key_name(id);
    fake.add_symmetric(&key, versions);
    (fake, key)
}

/// Two requests reached the fake, the second an AsymmetricDecrypt of `ciphertext` by
/// `version` with the ciphertext's CRC32C.
#[track_caller]
pub fn assert_second_request_decrypts(fake: &FakeKms, version: &str, ciphertext: &[u8]) {
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[1].path, format!("/v1/{version}:asymmetricDecrypt"));
    let crc = crc32c::crc32c(ciphertext).to_string();
    assert_eq!(
        reqs[1].body["ciphertextCrc32c"],
        serde_json::Value::String(crc)
    );
}

/// A realistic plaintext for the helper: an `{SSHA-512}` string is 126 bytes.
/// (0x14, salt 00..13, password "correct horse battery staple"; made with Python hashlib.)
pub const HASH: &str = "{SSHA-512}FAABAgMEBQYHCAkKCwwNDg8QERITMV2mHRwL+gOZjai7exfdYXPqgZ4Y7eVpG1/NubSw03IBVzVzf8bdSOv29u0I9ge4nbiiepGONP8srBAHBbnROQ==";

// ---- KMS failures, one table for both layers -----------------------------------------------

/// Where a [`Fault`] is run: the helper by hand (`amhash-kms encrypt|decrypt`, stdin [`HASH`]
/// or the ciphertext), or through amhash (`amhash generate --encrypt kms` with the password,
/// or `amhash decrypt` with the ciphertext), which runs the helper next to it.
#[derive(Clone, Copy, Debug)]
pub enum Layer {
    Helper,
    Cli,
}

/// What the command asks of KMS.
#[derive(Clone, Copy)]
pub enum Op {
    Encrypt,
    /// Decrypt what this makes of the key (before the fault is switched on).
    Decrypt(fn(&FakeKms, &str) -> Vec<u8>),
}

/// One KMS failure: how the fake is set up and broken, and what the command must then say.
pub struct Fault {
    pub name: &'static str,
    /// Adds the key to the fake (or not) and returns the name the command uses.
    pub key: fn(&FakeKms) -> String,
    pub op: Op,
    pub knobs: fn(&mut Knobs),
    /// `--kms-timeout` (10 when None).
    pub timeout: Option<&'static str>,
    /// The endpoint refuses connections (no fake there).
    pub refused: bool,
    pub code: i32,
    /// Each must be in the error line; `{key}` and `{endpoint}` are filled in.
    pub needles: &'static [&'static str],
    /// How many requests reached the fake, where that is the point.
    pub requests: Option<usize>,
}

fn sym(fake: &FakeKms) -> String {
    let key = key_name("sym");
    fake.add_symmetric(&key, 1);
    key
}

fn asym(fake: &FakeKms) -> String {
    let version = version_name("asym", 1);
    fake.add_asymmetric(&version, OaepAlg::Rsa2048Sha256);
    version
}

fn sealed_sym(fake: &FakeKms, key: &str) -> Vec<u8> {
    fake.encrypt_symmetric(key, HASH.as_bytes())
}

fn sealed_asym(_: &FakeKms, _: &str) -> Vec<u8> {
    encrypt_asymmetric(OaepAlg::Rsa2048Sha256, HASH.as_bytes())
}

const NO_KNOB: fn(&mut Knobs) = |_| {};

/// Every KMS failure, each run at both layers by `tests/it/kms.rs` and `tests/it/kms_cli.rs`.
pub const FAULTS: &[Fault] = &[
    Fault {
        name: "permission denied: encrypt names the permission; permanent, not retried",
        key: sym,
        op: Op::Encrypt,
        knobs: |k| k.deny_permission = true,
        timeout: None,
        refused: false,
        code: 3,
        needles: &[
            "Cloud KMS encrypt on {key} failed with PERMISSION_DENIED: ",
            "cloudkms.cryptoKeyVersions.useToEncrypt",
            "credentials in use",
        ],
        requests: Some(1),
    },
    Fault {
        name: "permission denied: decrypt names the decrypt permission",
        key: sym,
        op: Op::Decrypt(sealed_sym),
        knobs: |k| k.deny_permission = true,
        timeout: None,
        refused: false,
        code: 3,
        needles: &[
            "{key}",
            "PERMISSION_DENIED",
            "cloudkms.cryptoKeyVersions.useToDecrypt",
        ],
        requests: Some(1),
    },
    Fault {
        name: "permission denied: a version's public key names viewPublicKey",
        key: |_| version_name("asym", 1),
        op: Op::Encrypt,
        knobs: |k| k.deny_permission = true,
        timeout: None,
        refused: false,
        code: 3,
        needles: &[
            "{key}",
            "PERMISSION_DENIED",
            "cloudkms.cryptoKeyVersions.viewPublicKey",
        ],
        requests: Some(1),
    },
    Fault {
        name: "not found: a key says to check the name and location",
        key: |_| key_name("missing"),
        op: Op::Encrypt,
        knobs: NO_KNOB,
        timeout: None,
        refused: false,
        code: 3,
        needles: &["{key}", "NOT_FOUND", "check the resource name", "location"],
        requests: Some(1),
    },
    Fault {
        name: "not found: a version to decrypt with",
        key: |_| version_name("missing", 4),
        op: Op::Decrypt(sealed_asym),
        knobs: NO_KNOB,
        timeout: None,
        refused: false,
        code: 3,
        needles: &["{key}", "NOT_FOUND"],
        requests: Some(1),
    },
    Fault {
        name: "unavailable for ever: gives up after five attempts",
        key: sym,
        op: Op::Encrypt,
        knobs: |k| k.unavailable_first = 1000,
        timeout: None,
        refused: false,
        code: 3,
        needles: &["{key}", "UNAVAILABLE", "5 attempts", "try again later"],
        requests: Some(5),
    },
    Fault {
        name: "wrong ciphertextCrc32c: retried, then reported, the ciphertext discarded",
        key: sym,
        op: Op::Encrypt,
        knobs: |k| k.wrong_ciphertext_crc = true,
        timeout: None,
        refused: false,
        code: 3,
        needles: &[
            "{key}",
            "ciphertext_crc32c",
            "on all 3 attempts",
            "discarded",
        ],
        requests: Some(3),
    },
    Fault {
        name: "verifiedPlaintextCrc32c false: retried, then reported",
        key: sym,
        op: Op::Encrypt,
        knobs: |k| k.unverified_plaintext_crc = true,
        timeout: None,
        refused: false,
        code: 3,
        needles: &[
            "{key}",
            "verified_plaintext_crc32c is false",
            "on all 3 attempts",
        ],
        requests: Some(3),
    },
    Fault {
        name: "an encrypt response naming another key",
        key: sym,
        op: Op::Encrypt,
        knobs: |k| k.wrong_response_name = true,
        timeout: None,
        refused: false,
        code: 3,
        needles: &["{key}", "cryptoKeys/other"],
        requests: None,
    },
    Fault {
        name: "a public key response naming another key",
        key: asym,
        op: Op::Encrypt,
        knobs: |k| k.wrong_response_name = true,
        timeout: None,
        refused: false,
        code: 3,
        needles: &["{key}", "getPublicKey", "cryptoKeys/other"],
        requests: None,
    },
    Fault {
        name: "wrong pemCrc32c: retried, then reported",
        key: asym,
        op: Op::Encrypt,
        knobs: |k| k.wrong_pem_crc = true,
        timeout: None,
        refused: false,
        code: 3,
        needles: &["{key}", "pem_crc32c"],
        requests: Some(3),
    },
    Fault {
        name: "decrypt: wrong plaintextCrc32c of a symmetric key",
        key: sym,
        op: Op::Decrypt(sealed_sym),
        knobs: |k| k.wrong_plaintext_crc = true,
        timeout: None,
        refused: false,
        code: 3,
        needles: &["{key}", "plaintext_crc32c"],
        requests: None,
    },
    Fault {
        name: "decrypt: wrong plaintextCrc32c of an asymmetric key",
        key: asym,
        op: Op::Decrypt(sealed_asym),
        knobs: |k| k.wrong_plaintext_crc = true,
        timeout: None,
        refused: false,
        code: 3,
        needles: &["{key}", "plaintext_crc32c"],
        requests: None,
    },
    Fault {
        name: "decrypt: verifiedCiphertextCrc32c false",
        key: asym,
        op: Op::Decrypt(sealed_asym),
        knobs: |k| k.unverified_ciphertext_crc = true,
        timeout: None,
        refused: false,
        code: 3,
        needles: &["{key}", "verified_ciphertext_crc32c"],
        requests: None,
    },
    Fault {
        name: "a slow server hits the timeout",
        key: sym,
        op: Op::Encrypt,
        knobs: |k| k.delay = Some(std::time::Duration::from_secs(6)),
        timeout: Some("2"),
        refused: false,
        code: 3,
        needles: &[
            "{key}",
            "did not finish within the 2 s timeout",
            "{endpoint}",
        ],
        requests: Some(1),
    },
    Fault {
        name: "a refused connection",
        key: sym,
        op: Op::Encrypt,
        knobs: NO_KNOB,
        timeout: None,
        refused: true,
        code: 3,
        needles: &["{key}", "cannot connect to Cloud KMS", "{endpoint}"],
        requests: Some(0),
    },
];

/// A loopback endpoint nothing listens on.
pub fn refused_endpoint() -> String {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    format!("http://127.0.0.1:{port}")
}

/// Runs `fault` at `layer` on a fresh fake and checks the failure; returns the error line.
pub fn check_fault(layer: Layer, fault: &Fault) -> String {
    let fake = FakeKms::start();
    let key = (fault.key)(&fake);
    let input = match fault.op {
        Op::Encrypt => None,
        Op::Decrypt(seal) => Some(b64(&seal(&fake, &key))),
    };
    fake.knobs(fault.knobs);
    let endpoint = if fault.refused {
        refused_endpoint()
    } else {
        fake.endpoint().to_owned()
    };
    let flags = [
        "--kms-key",
        &key,
        "--kms-endpoint",
        &endpoint,
        "--kms-anonymous",
        "--kms-timeout",
        fault.timeout.unwrap_or("10"),
    ];
    let verb = match fault.op {
        Op::Encrypt => "encrypt",
        Op::Decrypt(_) => "decrypt",
    };
    let (run, prefix, stdin) = match layer {
        Layer::Helper => (
            Run::new(kms_helper_path()).arg(verb),
            "amhash-kms: ",
            input.unwrap_or_else(|| HASH.to_owned()),
        ),
        Layer::Cli => match fault.op {
            Op::Encrypt => (
                super::amhash(&["generate", "--encrypt", "kms"]),
                "amhash: error: ",
                format!("{}\n", super::KMS_PW),
            ),
            Op::Decrypt(_) => (
                super::amhash(&["decrypt"]),
                "amhash: error: ",
                input.unwrap_or_default(),
            ),
        },
    };
    let out = run.args(flags).stdin(stdin).output();
    let needles: Vec<String> = fault
        .needles
        .iter()
        .map(|n| n.replace("{key}", &key).replace("{endpoint}", &endpoint))
        .collect();
    let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
    let case = format!("{layer:?}: {}", fault.name);
    let line = super::check_failure(&case, &out, prefix, fault.code, &needles);
    if let Some(n) = fault.requests {
        assert_eq!(fake.requests().len(), n, "{case}: {:?}", fake.calls());
    }
    line
}

/// Every row of [`FAULTS`] at `layer`.
pub fn check_every_fault(layer: Layer) {
    for fault in FAULTS {
        let line = check_fault(layer, fault);
        eprintln!("{layer:?}: {}: {}", fault.name, line.trim_end());
    }
}

fn b64(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(data)
}
