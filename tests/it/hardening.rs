//! Hardening of the `amhash` binary, end to end:
//!
//! - canaries: every failure path of every subcommand, run with a random password, a random AM
//!   encryption password and a random local key, never shows any of them (or their hex or
//!   base64) on stdout or stderr;
//! - no flag takes a password or key material (every `--help` checked);
//! - process protection: the running process has a core limit of 0 and is not dumpable;
//! - concurrency through the CLI: 16 installs at once leave one complete value, 16 users in
//!   one profile or setenv.sh all get their line/block;
//! - a write that fails part way (file-size limit) leaves every file as it was, exit 3.
//!
//! The SIGKILL crash tests are in `tests/it/crash.rs`.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;
use amhash::ssha::SshaHash;

// =============================================================================================
// Canaries
// =============================================================================================

/// A syntactically valid KMS key name whose endpoint (port 1 on loopback) refuses connections.
const KMS_KEY: &str = "projects/my-project/locations/global/keyRings/r/cryptoKeys/k";
/// The key name the issue suggested: its project ID is too short, so amhash refuses it as a
/// usage error before any network use.
const KMS_KEY_BAD_PROJECT: &str = "projects/p/locations/l/keyRings/r/cryptoKeys/k";

/// The secrets of one run, all random.
struct Canaries {
    /// The password (strong), fed on stdin or in a --password-file.
    password: String,
    /// A weak password (for the refusal path).
    weak: String,
    /// The AM encryption password, in a 0600 key file and in `AMHASH_CANARY_AM`.
    am: String,
    /// Another AM encryption password (the wrong key).
    am_wrong: String,
    /// The local AES-256 key as 64 hex characters, in a key file and in `AMHASH_CANARY_KEY`.
    key_hex: String,
    /// Another local key.
    key_wrong_hex: String,
}

impl Canaries {
    fn new() -> Self {
        Canaries {
            password: strong_canary(),
            weak: weak_canary(),
            am: strong_canary(),
            am_wrong: strong_canary(),
            key_hex: hex::encode(os_random(32)),
            key_wrong_hex: hex::encode(os_random(32)),
        }
    }

    /// Every string that must never appear in output.
    fn needles(&self) -> Vec<(String, &'static str)> {
        let mut out = Vec::new();
        for (secret, what) in [
            (self.password.as_bytes().to_vec(), "password"),
            (self.weak.as_bytes().to_vec(), "weak password"),
            (self.am.as_bytes().to_vec(), "AM encryption password"),
            (
                self.am_wrong.as_bytes().to_vec(),
                "wrong AM encryption password",
            ),
            (self.key_hex.as_bytes().to_vec(), "local key (hex text)"),
            (self.key_wrong_hex.as_bytes().to_vec(), "wrong local key"),
            (hex::decode(&self.key_hex).unwrap(), "local key (raw bytes)"),
            (
                hex::decode(&self.key_wrong_hex).unwrap(),
                "wrong local key (raw bytes)",
            ),
        ] {
            for form in needle_forms(&secret) {
                out.push((form, what));
            }
        }
        out
    }
}

/// The canaries, in files of a fixture and in the environment the failure cases run with.
struct Canaried {
    _dir: Fixture,
    root: PathBuf,
    c: Canaries,
    env: Vec<(String, String)>,
}

impl Canaried {
    fn path(&self, name: &str) -> String {
        self.root.join(name).display().to_string()
    }

    /// Runs amhash with the canary environment, in the fixture's directory.
    fn run(&self, args: &[String], stdin: &[u8]) -> Output {
        amhash(args)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .cwd(&self.root)
            .stdin(stdin)
            .output()
    }

    fn must(&self, args: &[&str], stdin: &[u8]) -> String {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let out = self.run(&args, stdin);
        assert_eq!(out.status.code(), Some(0), "setup {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    }
}

fn canaried() -> Canaried {
    let dir = Fixture::empty();
    let root = dir.root().canonicalize().unwrap();
    let c = Canaries::new();
    let env = vec![
        ("AMHASH_CANARY_AM".to_string(), c.am.clone()),
        ("AMHASH_CANARY_KEY".to_string(), c.key_hex.clone()),
        ("AMHASH_CANARY_NOT_HEX".to_string(), c.am.clone()),
    ];
    let f = Canaried {
        root: root.clone(),
        env,
        _dir: dir,
        c,
    };
    let c = &f.c;
    write_file(&root, "pw", format!("{}\n", c.password).as_bytes(), 0o600);
    write_file(&root, "weak", format!("{}\n", c.weak).as_bytes(), 0o600);
    write_file(&root, "am.key", c.am.as_bytes(), 0o600);
    write_file(&root, "am.key.0644", c.am.as_bytes(), 0o644);
    write_file(&root, "am-wrong.key", c.am_wrong.as_bytes(), 0o600);
    write_file(&root, "gcm.key", c.key_hex.as_bytes(), 0o600);
    write_file(&root, "gcm.key.0640", c.key_hex.as_bytes(), 0o640);
    write_file(&root, "gcm-wrong.key", c.key_wrong_hex.as_bytes(), 0o600);
    // The AM password where a hex key is expected: the "not 64 hex characters" path must not
    // quote what it found.
    write_file(&root, "gcm-not-hex.key", c.am.as_bytes(), 0o600);
    write_file(
        &root,
        "garbage",
        b"this is neither a hash nor base64 !!\n",
        0o600,
    );
    write_file(
        &root,
        "setenv.unclosed",
        b"# BEGIN amhash password.amadmin\n",
        0o600,
    );
    write_file(&root, "existing", b"already here\n", 0o600);

    let stdin = format!("{}\n", c.password);
    let hash = f.must(&["generate"], stdin.as_bytes());
    write_file(&root, "hash", hash.as_bytes(), 0o600);
    write_file(
        &root,
        "hash.other",
        f.must(&["generate", "--password-file", &f.path("weak")], b"")
            .as_bytes(),
        0o600,
    );
    let am = format!("file:{}", f.path("am.key"));
    let gcm = format!("file:{}", f.path("gcm.key"));
    let jce = f.must(
        &["generate", "--encrypt", "am", "--key", &am],
        stdin.as_bytes(),
    );
    write_file(&root, "value.jce", jce.as_bytes(), 0o600);
    let wrap = f.must(
        &[
            "generate",
            "--encrypt",
            "am",
            "--am-cipher",
            "aeswrap-pad",
            "--key",
            &am,
        ],
        stdin.as_bytes(),
    );
    write_file(&root, "value.aeswrap", wrap.as_bytes(), 0o600);
    let sealed = f.must(
        &["generate", "--encrypt", "aes-gcm", "--key", &gcm],
        stdin.as_bytes(),
    );
    write_file(&root, "value.gcm", sealed.as_bytes(), 0o600);
    // Flip one base64 character in the middle: the tag check must fail.
    let mut tampered = sealed.trim_end().as_bytes().to_vec();
    let mid = tampered.len() / 2;
    tampered[mid] = if tampered[mid] == b'A' { b'B' } else { b'A' };
    write_file(&root, "value.gcm.tampered", &tampered, 0o600);

    // An installed directory, a group-writable one, and one whose target is a symlink.
    let store = private_dir(&root, "store");
    assert_ok(&install_into(&store, "--password-file", f.path("pw")).output());
    let jce_store = private_dir(&root, "store-jce");
    assert_ok(&install_into(&jce_store, "--value-file", f.path("value.jce")).output());
    let open = root.join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let linked = private_dir(&root, "linked");
    std::os::unix::fs::symlink(root.join("existing"), linked.join("password.amadmin")).unwrap();
    f
}

/// What a case must end with.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Exit code, stdout empty, stderr exactly one line `amhash: error: ...`.
    Error(i32),
    /// `--json`: exit code, stdout empty, stderr exactly one JSON object
    /// `{"error":{"code":N,"kind":..,"message":..}}`.
    JsonError(i32),
    /// A report, not an error (verify no match, doctor problems): only the exit code.
    Exit(i32),
}

struct Case {
    name: &'static str,
    args: Vec<String>,
    stdin: Vec<u8>,
    expect: Expect,
}

fn cases(f: &Canaried) -> Vec<Case> {
    let c = &f.c;
    let pw_line = format!("{}\n", c.password).into_bytes();
    let weak_line = format!("{}\n", c.weak).into_bytes();
    let p = |n: &str| f.path(n);
    let file = |n: &str| format!("file:{}", f.path(n));
    let kms = |op: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = op.iter().map(|s| s.to_string()).collect();
        v.extend(
            [
                "--kms-endpoint",
                "http://127.0.0.1:1",
                "--kms-anonymous",
                "--kms-key",
                KMS_KEY,
                "--kms-timeout",
                "2",
            ]
            .map(String::from),
        );
        v
    };
    let a = |v: &[&str]| -> Vec<String> { v.iter().map(|s| s.to_string()).collect() };
    let hash_value = std::fs::read_to_string(p("hash")).unwrap();
    let hash_value = hash_value.trim_end().to_string();
    let mut truncated_hash = hash_value.clone();
    truncated_hash.truncate(40);

    use Expect::*;
    let mut v = vec![
        // ---- generate --------------------------------------------------------------------
        Case {
            name: "generate: bad --salt-hex",
            args: a(&["generate", "--salt-hex", "zz"]),
            stdin: pw_line.clone(),
            expect: Error(2),
        },
        Case {
            name: "generate: --encrypt am without --key",
            args: a(&["generate", "--encrypt", "am"]),
            stdin: pw_line.clone(),
            expect: Error(2),
        },
        Case {
            name: "generate: missing key file",
            args: a(&["generate", "--encrypt", "am", "--key", &file("nope.key")]),
            stdin: pw_line.clone(),
            expect: Error(3),
        },
        Case {
            name: "generate: key file readable by others",
            args: a(&["generate", "--encrypt", "am", "--key", &file("am.key.0644")]),
            stdin: pw_line.clone(),
            expect: Error(2),
        },
        Case {
            name: "generate: local key readable by group",
            args: a(&[
                "generate",
                "--encrypt",
                "aes-gcm",
                "--key",
                &file("gcm.key.0640"),
            ]),
            stdin: pw_line.clone(),
            expect: Error(2),
        },
        Case {
            name: "generate: unset env key",
            args: a(&[
                "generate",
                "--encrypt",
                "aes-gcm",
                "--key",
                "env:AMHASH_CANARY_UNSET",
            ]),
            stdin: pw_line.clone(),
            expect: Error(3),
        },
        Case {
            name: "generate: env key not hex",
            args: a(&[
                "generate",
                "--encrypt",
                "aes-gcm",
                "--key",
                "env:AMHASH_CANARY_NOT_HEX",
            ]),
            stdin: pw_line.clone(),
            expect: Error(2),
        },
        Case {
            name: "generate: file key not hex",
            args: a(&[
                "generate",
                "--encrypt",
                "aes-gcm",
                "--key",
                &file("gcm-not-hex.key"),
            ]),
            stdin: pw_line.clone(),
            expect: Error(2),
        },
        Case {
            name: "generate: bad key source scheme",
            args: a(&["generate", "--encrypt", "am", "--key", "vault:x"]),
            stdin: pw_line.clone(),
            expect: Error(2),
        },
        Case {
            name: "generate: missing --password-file",
            args: a(&["generate", "--password-file", &p("nope.pw")]),
            stdin: pw_line.clone(),
            expect: Error(3),
        },
        Case {
            name: "generate: empty stdin",
            args: a(&["generate"]),
            stdin: Vec::new(),
            expect: Error(2),
        },
        Case {
            name: "generate: unreachable KMS",
            args: kms(&["generate", "--encrypt", "kms"]),
            stdin: pw_line.clone(),
            expect: Error(3),
        },
        Case {
            name: "generate: invalid KMS key name",
            args: a(&[
                "generate",
                "--encrypt",
                "kms",
                "--kms-endpoint",
                "http://127.0.0.1:1",
                "--kms-anonymous",
                "--kms-key",
                KMS_KEY_BAD_PROJECT,
                "--kms-timeout",
                "2",
            ]),
            stdin: pw_line.clone(),
            expect: Error(2),
        },
        Case {
            name: "generate: KMS over plain http to a remote host",
            args: a(&[
                "generate",
                "--encrypt",
                "kms",
                "--kms-endpoint",
                "http://192.0.2.1:1",
                "--kms-key",
                KMS_KEY,
                "--kms-timeout",
                "2",
            ]),
            stdin: pw_line.clone(),
            expect: Error(2),
        },
        Case {
            name: "generate: --kms-timeout 0",
            args: a(&[
                "generate",
                "--encrypt",
                "kms",
                "--kms-key",
                KMS_KEY,
                "--kms-timeout",
                "0",
            ]),
            stdin: pw_line.clone(),
            expect: Error(2),
        },
        Case {
            name: "generate: unknown flag --password",
            args: a(&["generate", "--password"]),
            stdin: pw_line.clone(),
            expect: Error(2),
        },
        Case {
            name: "generate: --random without a terminal",
            args: a(&["generate", "--random"]),
            stdin: Vec::new(),
            expect: Error(2),
        },
        Case {
            name: "generate --json: missing key",
            args: a(&[
                "--json",
                "generate",
                "--encrypt",
                "am",
                "--key",
                &file("nope.key"),
            ]),
            stdin: pw_line.clone(),
            expect: JsonError(3),
        },
        // ---- verify ----------------------------------------------------------------------
        Case {
            name: "verify: malformed --hash",
            args: a(&["verify", "--hash", &truncated_hash]),
            stdin: pw_line.clone(),
            expect: Error(2),
        },
        Case {
            name: "verify: missing --hash-file",
            args: a(&["verify", "--hash-file", &p("nope")]),
            stdin: pw_line.clone(),
            expect: Error(3),
        },
        Case {
            name: "verify: garbage --hash-file",
            args: a(&["verify", "--hash-file", &p("garbage")]),
            stdin: pw_line.clone(),
            expect: Error(2),
        },
        Case {
            name: "verify: wrong password",
            args: a(&["verify", "--hash-file", &p("hash.other")]),
            stdin: pw_line.clone(),
            expect: Exit(1),
        },
        Case {
            name: "verify: encrypted value without --key",
            args: a(&["verify", "--hash-file", &p("value.jce")]),
            stdin: pw_line.clone(),
            expect: Error(2),
        },
        Case {
            name: "verify: wrong AM key (JCE)",
            args: a(&[
                "verify",
                "--hash-file",
                &p("value.jce"),
                "--key",
                &file("am-wrong.key"),
            ]),
            stdin: pw_line.clone(),
            expect: Error(3),
        },
        Case {
            name: "verify: wrong AM key (AESWrap)",
            args: a(&[
                "verify",
                "--hash-file",
                &p("value.aeswrap"),
                "--key",
                &file("am-wrong.key"),
            ]),
            stdin: pw_line.clone(),
            expect: Error(3),
        },
        Case {
            name: "verify: dir without a value",
            args: a(&["verify", "--dir", &p("open")]),
            stdin: pw_line.clone(),
            expect: Error(3),
        },
        Case {
            name: "verify: unreachable KMS",
            args: {
                let mut v = kms(&["verify", "--hash-file"]);
                v.insert(2, p("value.gcm"));
                v
            },
            stdin: pw_line.clone(),
            expect: Error(3),
        },
        Case {
            name: "verify --json: wrong key",
            args: a(&[
                "--json",
                "verify",
                "--hash-file",
                &p("value.gcm"),
                "--key",
                &file("gcm-wrong.key"),
            ]),
            stdin: pw_line.clone(),
            expect: JsonError(3),
        },
        // ---- encrypt ---------------------------------------------------------------------
        Case {
            name: "encrypt: stdin is a password, not a hash",
            args: a(&["encrypt", "--encrypt", "am", "--key", &file("am.key")]),
            stdin: pw_line.clone(),
            expect: Error(2),
        },
        Case {
            name: "encrypt: too few PBKDF2 iterations",
            args: a(&[
                "encrypt",
                "--encrypt",
                "am",
                "--am-cipher",
                "aeswrap",
                "--am-kdf-iterations",
                "5",
                "--key",
                "env:AMHASH_CANARY_AM",
                "--in",
                &p("hash"),
            ]),
            stdin: Vec::new(),
            expect: Error(2),
        },
        Case {
            name: "encrypt: key not hex",
            args: a(&[
                "encrypt",
                "--encrypt",
                "aes-gcm",
                "--key",
                "env:AMHASH_CANARY_AM",
                "--in",
                &p("hash"),
            ]),
            stdin: Vec::new(),
            expect: Error(2),
        },
        Case {
            name: "encrypt: unreachable KMS",
            args: {
                let mut v = kms(&["encrypt", "--encrypt", "kms", "--in"]);
                v.insert(4, p("hash"));
                v
            },
            stdin: Vec::new(),
            expect: Error(3),
        },
        Case {
            name: "encrypt --json: missing --in",
            args: a(&[
                "--json",
                "encrypt",
                "--encrypt",
                "am",
                "--key",
                &file("am.key"),
                "--in",
                &p("nope"),
            ]),
            stdin: Vec::new(),
            expect: JsonError(3),
        },
        // ---- decrypt ---------------------------------------------------------------------
        Case {
            name: "decrypt: wrong AM key (JCE)",
            args: a(&[
                "decrypt",
                "--key",
                &file("am-wrong.key"),
                "--in",
                &p("value.jce"),
            ]),
            stdin: Vec::new(),
            expect: Error(3),
        },
        Case {
            name: "decrypt: wrong local key",
            args: a(&[
                "decrypt",
                "--key",
                &file("gcm-wrong.key"),
                "--in",
                &p("value.gcm"),
            ]),
            stdin: Vec::new(),
            expect: Error(3),
        },
        Case {
            name: "decrypt: tampered AES-GCM",
            args: a(&[
                "decrypt",
                "--key",
                "env:AMHASH_CANARY_KEY",
                "--in",
                &p("value.gcm.tampered"),
            ]),
            stdin: Vec::new(),
            expect: Error(3),
        },
        Case {
            name: "decrypt: AM key where a hex key is needed",
            args: a(&[
                "decrypt",
                "--key",
                "env:AMHASH_CANARY_AM",
                "--in",
                &p("value.gcm"),
            ]),
            stdin: Vec::new(),
            expect: Error(2),
        },
        Case {
            name: "decrypt: garbage",
            args: a(&["decrypt", "--key", &file("am.key")]),
            stdin: b"!!not base64!!\n".to_vec(),
            expect: Error(2),
        },
        Case {
            name: "decrypt: missing --in",
            args: a(&["decrypt", "--key", &file("am.key"), "--in", &p("nope")]),
            stdin: Vec::new(),
            expect: Error(3),
        },
        Case {
            name: "decrypt: unreachable KMS",
            args: kms(&["decrypt"]),
            stdin: std::fs::read(p("value.gcm")).unwrap(),
            expect: Error(3),
        },
        Case {
            name: "decrypt --json: wrong AM key",
            args: a(&[
                "--json",
                "decrypt",
                "--key",
                &file("am-wrong.key"),
                "--in",
                &p("value.aeswrap"),
            ]),
            stdin: Vec::new(),
            expect: JsonError(3),
        },
        // ---- key -------------------------------------------------------------------------
        Case {
            name: "key generate: refuses to overwrite",
            args: a(&["key", "generate", "--out", &file("gcm.key")]),
            stdin: Vec::new(),
            expect: Error(3),
        },
        Case {
            name: "key generate: bad source",
            args: a(&["key", "generate", "--out", "nowhere"]),
            stdin: Vec::new(),
            expect: Error(2),
        },
        Case {
            name: "key generate: env is not a place to store",
            args: a(&["key", "generate", "--out", "env:AMHASH_CANARY_KEY"]),
            stdin: Vec::new(),
            expect: Error(2),
        },
        Case {
            name: "key store: refuses to overwrite",
            args: a(&["key", "store", &file("existing")]),
            stdin: format!("{}\n", c.am).into_bytes(),
            expect: Error(3),
        },
        Case {
            name: "key store: bad backend",
            args: a(&[
                "key",
                "store",
                "keyring:svc/acct",
                "--keyring-backend",
                "kwallet",
            ]),
            stdin: format!("{}\n", c.am).into_bytes(),
            expect: Error(2),
        },
        Case {
            name: "key store: empty stdin",
            args: a(&["key", "store", &file("new-secret")]),
            stdin: Vec::new(),
            expect: Error(2),
        },
        Case {
            name: "key store --json: refuses to overwrite",
            args: a(&["--json", "key", "store", &file("am.key")]),
            stdin: format!("{}\n", c.am_wrong).into_bytes(),
            expect: JsonError(3),
        },
        // ---- install ---------------------------------------------------------------------
        Case {
            name: "install: weak password refused",
            args: a(&["install", "--dir", &p("store")]),
            stdin: weak_line.clone(),
            expect: Error(2),
        },
        Case {
            name: "install --json: weak password refused",
            args: a(&[
                "--json",
                "install",
                "--dir",
                &p("store"),
                "--password-file",
                &p("weak"),
            ]),
            stdin: Vec::new(),
            expect: JsonError(2),
        },
        Case {
            name: "install: missing directory",
            args: a(&["install", "--dir", &p("nope-dir")]),
            stdin: pw_line.clone(),
            expect: Error(2),
        },
        Case {
            name: "install: directory writable by others",
            args: a(&["install", "--dir", &p("open")]),
            stdin: pw_line.clone(),
            expect: Error(2),
        },
        Case {
            name: "install: target is a symlink",
            args: a(&["install", "--dir", &p("linked")]),
            stdin: pw_line.clone(),
            expect: Error(2),
        },
        Case {
            name: "install: bad user name",
            args: a(&["install", "--dir", &p("store"), "--user", "am admin"]),
            stdin: pw_line.clone(),
            expect: Error(2),
        },
        Case {
            name: "install: AES-GCM refused",
            args: a(&[
                "install",
                "--dir",
                &p("store"),
                "--encrypt",
                "aes-gcm",
                "--key",
                &file("gcm.key"),
            ]),
            stdin: pw_line.clone(),
            expect: Error(2),
        },
        Case {
            name: "install: garbage --value-file",
            args: a(&[
                "install",
                "--dir",
                &p("store"),
                "--value-file",
                &p("garbage"),
            ]),
            stdin: Vec::new(),
            expect: Error(2),
        },
        Case {
            name: "install: unset env AM key",
            args: a(&[
                "install",
                "--dir",
                &p("store"),
                "--encrypt",
                "am",
                "--key",
                "env:AMHASH_CANARY_UNSET",
            ]),
            stdin: pw_line.clone(),
            expect: Error(3),
        },
        Case {
            name: "install: unreachable KMS",
            args: {
                let mut v = kms(&["install", "--dir"]);
                v.insert(2, p("store"));
                v.insert(3, "--encrypt".into());
                v.insert(4, "kms".into());
                v
            },
            stdin: pw_line.clone(),
            expect: Error(3),
        },
        Case {
            name: "install: unclosed setenv block",
            args: a(&[
                "install",
                "--setenv",
                &p("setenv.unclosed"),
                "--password-file",
                &p("pw"),
            ]),
            stdin: Vec::new(),
            expect: Error(2),
        },
        Case {
            name: "install: unknown owner",
            args: a(&[
                "install",
                "--dir",
                &p("store"),
                "--owner",
                "no-such-user-amhash",
            ]),
            stdin: pw_line.clone(),
            expect: Error(2),
        },
        Case {
            name: "install: --value-file with --password-file",
            args: a(&[
                "install",
                "--dir",
                &p("store"),
                "--value-file",
                &p("hash"),
                "--password-file",
                &p("pw"),
            ]),
            stdin: Vec::new(),
            expect: Error(2),
        },
        // ---- doctor ----------------------------------------------------------------------
        Case {
            name: "doctor: wrong password",
            args: a(&["doctor", "--dir", &p("store"), "--check-password"]),
            stdin: weak_line.clone(),
            expect: Exit(1),
        },
        Case {
            name: "doctor: wrong AM key",
            args: a(&[
                "doctor",
                "--dir",
                &p("store-jce"),
                "--key",
                &file("am-wrong.key"),
                "--check-password",
            ]),
            stdin: pw_line.clone(),
            expect: Exit(1),
        },
        Case {
            name: "doctor: missing directory",
            args: a(&["doctor", "--dir", &p("nope-dir")]),
            stdin: Vec::new(),
            expect: Exit(1),
        },
        Case {
            name: "doctor: bad --format",
            args: a(&["doctor", "--dir", &p("store"), "--format", "ROT13"]),
            stdin: Vec::new(),
            expect: Error(2),
        },
        Case {
            name: "doctor --json: key readable by others",
            args: a(&[
                "--json",
                "doctor",
                "--dir",
                &p("store-jce"),
                "--key",
                &file("am.key.0644"),
            ]),
            stdin: Vec::new(),
            // A key file the user must fix is an input error, not a finding of the report.
            expect: JsonError(2),
        },
    ];
    // A password-looking flag value must not be echoed either.
    v.push(Case {
        name: "unknown flag with a value: --password=CANARY",
        args: vec!["generate".into(), format!("--password={}", c.password)],
        stdin: Vec::new(),
        expect: Error(2),
    });
    // `amhash generate PASSWORD` by mistake: clap would quote the word back.
    v.push(Case {
        name: "password given as a positional argument",
        args: vec!["generate".into(), c.password.clone()],
        stdin: Vec::new(),
        expect: Error(2),
    });
    v.push(Case {
        name: "AM password given as a positional argument to key store",
        args: vec![
            "key".into(),
            "store".into(),
            file("new-secret"),
            c.am.clone(),
        ],
        stdin: Vec::new(),
        expect: Error(2),
    });
    v.push(Case {
        name: "no command",
        args: a(&["--json"]),
        stdin: pw_line,
        expect: JsonError(2),
    });
    v
}

#[test]
fn canaries_never_appear_in_any_failure_output() {
    let f = canaried();
    let needles = f.c.needles();
    let cases = cases(&f);
    assert!(cases.len() >= 30, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let out = f.run(&case.args, &case.stdin);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        for (needle, what) in &needles {
            for (stream, text) in [("stdout", &stdout), ("stderr", &stderr)] {
                if text.contains(needle.as_str()) {
                    failures.push(format!(
                        "{}: the {what} appears on {stream}: {text:?}",
                        case.name
                    ));
                }
            }
        }
        if let Err(problem) = check_shape(case.expect, &out) {
            failures.push(format!("{}: {problem} ({out:?})", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} problem(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The files the commands refused to touch are as they were.
    assert_eq!(
        std::fs::read(f.root.join("existing")).unwrap(),
        b"already here\n"
    );
    assert_eq!(
        std::fs::read_to_string(f.root.join("gcm.key")).unwrap(),
        f.c.key_hex
    );
    assert_eq!(
        std::fs::read_to_string(f.root.join("am.key")).unwrap(),
        f.c.am
    );
    assert!(names(&f.root.join("open")).is_empty());
}

fn check_shape(expect: Expect, out: &Output) -> Result<(), String> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code();
    match expect {
        Expect::Exit(want) => {
            if code != Some(want) {
                return Err(format!("exit {code:?}, want {want}"));
            }
        }
        Expect::Error(want) => {
            if code != Some(want) {
                return Err(format!("exit {code:?}, want {want}"));
            }
            if !out.stdout.is_empty() {
                return Err("stdout is not empty".into());
            }
            if !(stderr.starts_with("amhash: error: ")
                && stderr.ends_with('\n')
                && stderr.matches('\n').count() == 1)
            {
                return Err("stderr is not one `amhash: error: ` line".into());
            }
        }
        Expect::JsonError(want) => {
            if code != Some(want) {
                return Err(format!("exit {code:?}, want {want}"));
            }
            if !out.stdout.is_empty() {
                return Err("stdout is not empty".into());
            }
            if stderr.matches('\n').count() != 1 {
                return Err("stderr is not one line".into());
            }
            let v: serde_json::Value =
                serde_json::from_str(&stderr).map_err(|e| format!("stderr is not JSON: {e}"))?;
            let e = &v["error"];
            let kind = if want == 2 { "input" } else { "operational" };
            if e["code"] != want || e["kind"] != kind || !e["message"].is_string() {
                return Err(format!("JSON error object {v}"));
            }
        }
    }
    Ok(())
}

// =============================================================================================
// No flag takes a secret
// =============================================================================================

/// The value-taking flags of every subcommand, from `--help`: `(flag, VALUE NAME)`.
fn value_flags(sub: &[&str]) -> Vec<(String, String)> {
    let out = amhash(sub).arg("--help").output();
    assert_eq!(out.status.code(), Some(0), "{sub:?} --help");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut flags = Vec::new();
    for line in text.lines() {
        let t = line.trim_start();
        let t = t
            .strip_prefix("-q, ")
            .or_else(|| t.strip_prefix("-h, "))
            .or_else(|| t.strip_prefix("-V, "))
            .unwrap_or(t);
        let Some(rest) = t.strip_prefix("--") else {
            continue;
        };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        let after = &rest[name.len()..];
        let value = after
            .strip_prefix(" <")
            .and_then(|s| s.split_once('>'))
            .map(|(v, _)| v.to_string())
            .unwrap_or_default();
        flags.push((name, value));
    }
    flags
}

#[test]
fn no_flag_of_any_subcommand_takes_a_password_or_key() {
    // What a value-taking flag may carry: paths, references to where a secret lives, names,
    // numbers, choices. `--hash VALUE` takes a {SSHA-512} hash (public by design, documented
    // as visible to other users); `--salt-hex` a salt (not secret).
    let allowed_values = [
        "PATH",
        "DIR",
        "FILE",
        "SOURCE",
        "NAME",
        "NS",
        "USER[:GROUP]",
        "HEX",
        "HOW",
        "CIPHER",
        "BACKEND",
        "DIGEST",
        "N",
        "BITS",
        "URL",
        "SECS",
        "SECONDS",
        "FORMAT",
        "VALUE",
        "SHELL",
        "UNIT",
        "MODE",
    ];
    let secretish = [
        "password", "passwd", "pass", "secret", "key-hex", "pin", "token",
    ];
    let subs: Vec<&[&str]> = [&[][..], &["key"]]
        .into_iter()
        .chain(SUBCOMMANDS.iter().copied())
        .collect();
    let mut seen = 0;
    for sub in &subs {
        for (flag, value) in value_flags(sub) {
            seen += 1;
            if value.is_empty() {
                continue;
            }
            assert!(
                allowed_values.contains(&value.as_str()),
                "{sub:?} --{flag} <{value}>: a new kind of flag value; make sure it is never a secret and add it here"
            );
            if value == "VALUE" {
                assert_eq!(flag, "hash", "{sub:?}: only --hash takes a VALUE");
            }
            if secretish
                .iter()
                .any(|s| flag.split('-').any(|w| w == *s) || flag.contains("password"))
            {
                assert!(
                    matches!(
                        (flag.as_str(), value.as_str()),
                        ("password-file", "PATH")
                            | ("password-out", "SOURCE")
                            // The name of a Kubernetes Secret object, not a secret.
                            | ("k8s-secret", "NAME")
                    ),
                    "{sub:?} --{flag} <{value}> looks like it takes a secret on the command line"
                );
            }
        }
    }
    assert!(
        seen > 60,
        "parsed only {seen} flags: did the help format change?"
    );
    // And the names that would be the obvious mistake do not exist anywhere.
    for sub in [
        "generate", "verify", "install", "doctor", "encrypt", "decrypt",
    ] {
        for flag in [
            "--password",
            "--am-password",
            "--encryption-password",
            "--key-hex",
            "--secret",
        ] {
            let out = run(&[sub, flag, "x"], b"");
            assert_eq!(out.status.code(), Some(2), "{sub} {flag}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("unexpected argument"), "{sub} {flag}: {err}");
        }
    }
}

// =============================================================================================
// Process protection: RLIMIT_CORE 0 and not dumpable
// =============================================================================================

/// The uid the child runs as: 65534 (nobody) when we are root, else ourselves. Either way the
/// kernel makes `/proc/PID/*` root's only for a non-dumpable process.
fn child_ids() -> Option<(u32, u32)> {
    let uid = rustix::process::getuid().as_raw();
    (uid == 0).then_some((65534, 65534))
}

/// A copy of `exe` that uid 65534 can run (the build directory may be private).
fn runnable_copy(exe: &Path, dir: &Path) -> PathBuf {
    let name = exe.file_name().unwrap();
    let dest = dir.join(name);
    if std::fs::hard_link(exe, &dest).is_err() {
        crate::support::copy_executable(exe, &dest);
    }
    std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o755)).unwrap();
    dest
}

fn spawn_waiting(exe: &Path, args: &[&str]) -> std::process::Child {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(exe);
    cmd.args(args)
        .current_dir("/")
        .env_clear()
        .env("AMHASH_CANARY_ENV", "must-not-be-readable-by-others")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some((uid, gid)) = child_ids() {
        // std drops the supplementary groups when it changes the uid.
        cmd.uid(uid).gid(gid);
    }
    spawn(&mut cmd)
}

/// Waits (bounded; a hang guard, not a timing assertion) until the child runs `comm` and
/// `done` holds of its pid.
fn wait_until(pid: u32, what: &str, mut done: impl FnMut(u32) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done(pid) {
        assert!(
            Instant::now() < deadline,
            "pid {pid}: {what} did not happen within 30 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim_end()
        .to_string()
}

fn status_uid(pid: u32) -> u32 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn core_limit(pid: u32) -> Option<(String, String)> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))?;
    let mut f = line["Max core file size".len()..].split_whitespace();
    Some((f.next()?.to_string(), f.next()?.to_string()))
}

#[test]
fn running_amhash_has_no_core_limit_and_is_not_dumpable() {
    let tmp = Fixture::empty();
    std::fs::set_permissions(tmp.root(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let expected_uid = child_ids().map_or_else(|| rustix::process::getuid().as_raw(), |(u, _)| u);

    // Control: `sleep` started the same way is dumpable, so its /proc files are its own.
    let sleep = which("sleep");
    let mut control = spawn_waiting(&sleep, &["30"]);
    let cpid = control.id();
    wait_until(cpid, "exec of sleep", |pid| comm(pid) == "sleep");
    let control_owner = std::fs::metadata(format!("/proc/{cpid}/environ"))
        .unwrap()
        .uid();
    let control_limit = core_limit(cpid);
    control.kill().unwrap();
    control.wait().unwrap();
    assert_eq!(
        control_owner, expected_uid,
        "control: /proc/PID/environ of a plain sleep"
    );
    assert_ne!(
        control_limit,
        Some(("0".into(), "0".into())),
        "control: sleep keeps the inherited hard core limit"
    );

    // amhash generate waits for its first stdin line, amhash-kms and amhash-strength for the
    // end of their input; the pipe stays open until we drop it.
    let kms_args = [
        "encrypt",
        "--kms-key",
        KMS_KEY,
        "--kms-endpoint",
        "http://127.0.0.1:1",
        "--kms-anonymous",
    ];
    let runs: [(&str, &[&str]); 3] = [
        (AMHASH, &["generate"]),
        (env!("CARGO_BIN_EXE_amhash-kms"), &kms_args),
        (env!("CARGO_BIN_EXE_amhash-strength"), &[]),
    ];
    for (bin, args) in runs {
        let exe = runnable_copy(Path::new(bin), tmp.root());
        let name = exe.file_name().unwrap().to_str().unwrap().to_string();
        // If uid 65534 could not read the binary, the kernel would make the process
        // non-dumpable on its own (would_dump at exec) and the test would prove nothing.
        assert_eq!(std::fs::metadata(&exe).unwrap().mode() & 0o004, 0o004);
        let mut child = spawn_waiting(&exe, args);
        let pid = child.id();
        wait_until(pid, "exec", |pid| comm(pid) == name);
        // The protections are applied first thing in main; wait until they are visible.
        wait_until(pid, "core limit 0 0", |pid| {
            core_limit(pid).is_some_and(|(soft, hard)| soft == "0" && hard == "0")
        });
        let runs_as = status_uid(pid);
        let environ_owner = std::fs::metadata(format!("/proc/{pid}/environ"))
            .unwrap()
            .uid();
        let mem_owner = std::fs::metadata(format!("/proc/{pid}/mem")).unwrap().uid();
        let still_running = child.try_wait().unwrap().is_none();
        // End it: EOF on stdin (an empty input is refused, which is fine here).
        drop(child.stdin.take());
        child.wait().unwrap();

        assert!(still_running, "{name} exited before it was inspected");
        assert_eq!(runs_as, expected_uid, "{name}");
        assert_eq!(
            environ_owner, 0,
            "{name}: /proc/PID/environ is root's: not dumpable"
        );
        assert_eq!(
            mem_owner, 0,
            "{name}: /proc/PID/mem is root's: not dumpable"
        );
    }
}

fn which(tool: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{tool} not on PATH"))
}

// =============================================================================================
// Concurrency through the CLI
// =============================================================================================

const N: usize = 16;

fn spawn_all(cmds: Vec<Command>) -> Vec<Output> {
    let children: Vec<_> = cmds
        .into_iter()
        .map(|mut c| {
            c.stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect()
}

#[test]
fn sixteen_concurrent_dir_installs_leave_one_complete_value() {
    let tmp = Fixture::empty();
    let store = private_dir(tmp.root(), "store");
    let passwords: Vec<String> = (0..N).map(|_| strong_canary()).collect();
    let values: Vec<String> = passwords.iter().map(|p| value_of(p)).collect();
    let cmds = passwords
        .iter()
        .enumerate()
        .map(|(i, pw)| {
            let pf = write_file(tmp.root(), &format!("pw{i}"), pw.as_bytes(), 0o600);
            let mut c = Command::new(AMHASH);
            c.args(["install", "--dir"])
                .arg(&store)
                .arg("--password-file")
                .arg(pf)
                .args(["--salt-hex", SALT_HEX]);
            c
        })
        .collect();
    for out in spawn_all(cmds) {
        assert_eq!(out.status.code(), Some(0), "{out:?}");
    }
    let stored = std::fs::read_to_string(store.join("password.amadmin")).unwrap();
    let i = values
        .iter()
        .position(|v| *v == stored)
        .unwrap_or_else(|| panic!("not one of the values: {stored:?}"));
    assert!(
        stored
            .parse::<SshaHash>()
            .unwrap()
            .verify(passwords[i].as_bytes())
    );
    let previous = std::fs::read_to_string(store.join("password.amadmin.previous")).unwrap();
    assert!(
        values.contains(&previous) && previous != stored,
        "previous {previous:?}"
    );
    assert_eq!(
        names(&store),
        ["password.amadmin", "password.amadmin.previous"]
    );
    for f in ["password.amadmin", "password.amadmin.previous"] {
        assert_eq!(
            std::fs::metadata(store.join(f)).unwrap().mode() & 0o777,
            0o600
        );
    }
}

/// Sixteen different users, one value each, from --value-file.
fn sixteen_values(dir: &Path) -> Vec<(String, String, PathBuf)> {
    (1..=N)
        .map(|n| {
            let value = value_of(&strong_canary());
            let file = write_file(dir, &format!("value{n}"), value.as_bytes(), 0o600);
            (format!("u{n}"), value, file)
        })
        .collect()
}

fn source_in_bash(script: &str) -> String {
    String::from_utf8(bash(script, &[])).unwrap()
}

/// The file sixteen users installed into at once: its directory, path and text, and the
/// users with their values.
struct Shared {
    _f: Fixture,
    dir: PathBuf,
    file: PathBuf,
    text: String,
    users: Vec<(String, String, PathBuf)>,
}

/// Sixteen users install at once with `flag` into one file `dir/name` that starts as `head`:
/// every install succeeds and the file still starts with `head`.
fn sixteen_at_once(flag: &str, dir: &str, name: &str, head: &str) -> Shared {
    let f = Fixture::empty();
    let dir = private_dir(f.root(), dir);
    let file = write_file(&dir, name, head.as_bytes(), 0o600);
    let users = sixteen_values(f.root());
    let cmds = users
        .iter()
        .map(|(user, _, value_file)| {
            let mut c = Command::new(AMHASH);
            c.args(["install", flag])
                .arg(&file)
                .args(["--user", user, "--value-file"])
                .arg(value_file);
            c
        })
        .collect();
    for out in spawn_all(cmds) {
        assert_eq!(out.status.code(), Some(0), "{flag}: {out:?}");
    }
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with(head), "{flag}: {text}");
    Shared {
        _f: f,
        dir,
        file,
        text,
        users,
    }
}

#[test]
fn sixteen_users_in_one_env_file_at_once_all_get_their_line() {
    let Shared {
        dir,
        file: profile,
        text,
        users,
        _f: _fixture,
    } = sixteen_at_once(
        "--env-file",
        "home",
        ".bash_profile",
        "# the AM user's profile\nexport PATH\n",
    );
    assert_eq!(text.lines().count(), 2 + N, "{text}");
    let mut script = format!("set -eu; . '{}'", profile.display());
    for (user, value, _) in &users {
        let var = format!("PASSWORD_{}", user.to_uppercase());
        assert_eq!(
            text.matches(&format!("export {var}=")).count(),
            1,
            "{var}: {text}"
        );
        assert!(
            text.contains(&format!("export {var}='{value}'\n")),
            "{var}: {text}"
        );
        script.push_str(&format!("; printf '%s\\n' \"${var}\""));
    }
    let got = source_in_bash(&script);
    let want: String = users.iter().map(|(_, v, _)| format!("{v}\n")).collect();
    assert_eq!(got, want);
    assert_eq!(names(&dir), [".bash_profile"], "no temp file left");
}

#[test]
fn sixteen_users_in_one_setenv_at_once_all_get_their_block() {
    let Shared {
        dir,
        file: setenv,
        text,
        users,
        _f: _fixture,
    } = sixteen_at_once(
        "--setenv",
        "bin",
        "setenv.sh",
        "#!/bin/sh\nCATALINA_OPTS=\"-Xmx1g\"\n",
    );
    let opts = source_in_bash(&format!(
        "set -eu; unset CATALINA_OPTS; . '{}'; printf '%s' \"$CATALINA_OPTS\"",
        setenv.display()
    ));
    assert!(opts.starts_with("-Xmx1g "), "{opts}");
    for (user, value, _) in &users {
        assert_eq!(
            text.matches(&format!("# BEGIN amhash password.{user} "))
                .count(),
            1,
            "{user}: {text}"
        );
        assert_eq!(
            text.matches(&format!("# END amhash password.{user}\n"))
                .count(),
            1,
            "{user}: {text}"
        );
        assert_eq!(
            opts.matches(&format!(" -Dpassword.{user}='{value}' "))
                .count(),
            1,
            "{user}: {opts}"
        );
    }
    assert_eq!(text.matches("# BEGIN amhash ").count(), N);
    assert_eq!(names(&dir), ["setenv.sh"], "no temp file left");
}

// =============================================================================================
// A write that fails part way (file-size limit)
// =============================================================================================

/// Runs amhash with RLIMIT_FSIZE 0 and SIGXFSZ ignored, so every write() to a regular file
/// fails with EFBIG (the signal's disposition survives exec). dash's `ulimit -f` counts
/// 512-byte blocks; 0 forbids any growth whatever the unit. Works as root, where permission
/// bits cannot make a write fail.
fn amhash_with_no_file_growth(args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(r#"trap "" XFSZ; ulimit -f 0; exec "$0" "$@""#)
        .arg(AMHASH)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn snapshot(dir: &Path) -> BTreeMap<String, (Vec<u8>, u32, i64)> {
    names(dir)
        .into_iter()
        .map(|name| {
            let path = dir.join(&name);
            let meta = std::fs::symlink_metadata(&path).unwrap();
            (
                name,
                (
                    std::fs::read(&path).unwrap(),
                    meta.mode(),
                    meta.mtime_nsec(),
                ),
            )
        })
        .collect()
}

#[test]
fn a_write_that_fails_part_way_leaves_everything_as_it_was() {
    let tmp = Fixture::empty();
    let store = private_dir(tmp.root(), "store");
    let (old_pw, older_pw, new_pw) = (strong_canary(), strong_canary(), strong_canary());
    let s = store.to_str().unwrap();
    for pw in [&older_pw, &old_pw] {
        let pf = write_file(tmp.root(), "pw", pw.as_bytes(), 0o600);
        let out = amhash(&[
            "install",
            "--dir",
            s,
            "--salt-hex",
            SALT_HEX,
            "--password-file",
        ])
        .arg(&pf)
        .output();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
    }
    let profile = write_file(tmp.root(), "profile", b"export PATH\n", 0o600);
    let pf = write_file(tmp.root(), "pw", new_pw.as_bytes(), 0o600);
    let pf = pf.to_str().unwrap();
    let before = snapshot(&store);
    assert_eq!(before["password.amadmin"].0, value_of(&old_pw).as_bytes());
    assert_eq!(
        before["password.amadmin.previous"].0,
        value_of(&older_pw).as_bytes()
    );

    let runs: [&[&str]; 4] = [
        // Fails writing the backup (the first write).
        &["install", "--dir", s, "--password-file", pf],
        // Fails writing the value itself.
        &["install", "--dir", s, "--password-file", pf, "--no-backup"],
        &[
            "--json",
            "install",
            "--dir",
            s,
            "--password-file",
            pf,
            "--no-backup",
        ],
        &[
            "install",
            "--env-file",
            profile.to_str().unwrap(),
            "--password-file",
            pf,
        ],
    ];
    for args in runs {
        let out = amhash_with_no_file_growth(args);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {out:?}");
        assert!(out.stdout.is_empty(), "{args:?}: {out:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.matches('\n').count(), 1, "{args:?}: one line: {err:?}");
        if args[0] == "--json" {
            let v: serde_json::Value = serde_json::from_str(&err).unwrap();
            assert_eq!(v["error"]["code"], 3);
            assert!(
                v["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("File too large"),
                "{v}"
            );
        } else {
            assert!(
                err.starts_with("amhash: error: ") && err.contains("File too large"),
                "{err:?}"
            );
        }
        assert!(!err.contains(&new_pw) && !err.contains(&old_pw), "{err:?}");
        assert_eq!(snapshot(&store), before, "{args:?}: the directory changed");
    }
    assert_eq!(std::fs::read(&profile).unwrap(), b"export PATH\n");
    assert_eq!(names(tmp.root()), ["profile", "pw", "store"]);

    // The same command without the limit succeeds: the failure was the limit.
    let out = run(&["install", "--dir", s, "--password-file", pf], b"");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let now = std::fs::read_to_string(store.join("password.amadmin")).unwrap();
    assert!(now.parse::<SshaHash>().unwrap().verify(new_pw.as_bytes()));
    assert_eq!(
        std::fs::read(store.join("password.amadmin.previous")).unwrap(),
        value_of(&old_pw).as_bytes()
    );
}
