//! Known-answer vectors: every `vectors/ssha512-*.json` file, through the library and
//! through the real `amhash` binary.
//!
//! - `ok`: `with_salt` reproduces `value`, the value round-trips through parse/display and
//!   verifies; feeding `stdin_hex` to `amhash generate --salt-hex` prints `value` and a
//!   newline, byte for byte; `amhash verify --hash-file` accepts it (exit 0).
//! - `error`: the parser reports exactly `error` as the kind; `amhash verify` exits 2 with
//!   nothing on stdout and one line on stderr.
//! - `no-match`: the value parses but the password does not verify; `amhash verify` exits 1.
//!
//! A file without vectors, or a vector whose `expect` no test handles, fails the run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use amhash::password::{Origin, from_first_line};
use amhash::ssha::{Salt, SshaHash};
use secrecy::ExposeSecret;
use serde::Deserialize;

use crate::support::*;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VectorFile {
    format: String,
    topic: String,
    description: String,
    vectors: Vec<Vector>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Vector {
    name: String,
    source: String,
    expect: String,
    error: Option<String>,
    stdin_hex: Option<String>,
    password_hex: Option<String>,
    salt_hex: Option<String>,
    value: String,
}

impl Vector {
    fn hex_field(&self, field: &str, value: Option<&String>) -> Vec<u8> {
        let text = value.unwrap_or_else(|| panic!("{}: missing {field}", self.name));
        hex::decode(text).unwrap_or_else(|e| panic!("{}: {field} is not hex: {e}", self.name))
    }
    fn stdin(&self) -> Vec<u8> {
        self.hex_field("stdin_hex", self.stdin_hex.as_ref())
    }
    fn password(&self) -> Vec<u8> {
        self.hex_field("password_hex", self.password_hex.as_ref())
    }
    fn salt(&self) -> Vec<u8> {
        self.hex_field("salt_hex", self.salt_hex.as_ref())
    }
}

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors")
}

/// Every `ssha512-*.json` file in `vectors/`, checked for shape.
fn load_all() -> Vec<(String, VectorFile)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(vectors_dir()).expect("vectors/ exists") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !(name.starts_with("ssha512-") && name.ends_with(".json")) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let file: VectorFile =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(file.format, "amhash-vectors/1", "{name}");
        assert_eq!(file.topic, "ssha512", "{name}");
        assert!(!file.description.is_empty(), "{name}");
        assert!(!file.vectors.is_empty(), "{name} has no vectors");
        files.push((name, file));
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    // The glob must find at least the three files this suite was written for.
    for want in [
        "ssha512-am.json",
        "ssha512-malformed.json",
        "ssha512-reference.json",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    let mut seen = BTreeMap::new();
    for (file, f) in &files {
        for v in &f.vectors {
            assert!(!v.source.is_empty(), "{file}/{}: no source", v.name);
            if let Some(other) = seen.insert(v.name.clone(), file.clone()) {
                panic!("vector name {} is in both {other} and {file}", v.name);
            }
        }
    }
    files
}

/// A scratch directory with `content` in a file: the fixture (kept alive) and the path.
fn temp_file(content: &[u8]) -> (Fixture, PathBuf) {
    let f = Fixture::empty();
    let path = f.file("value", content, 0o600);
    (f, path)
}

/// Counts the vectors of each `expect`, failing on one no test handles.
fn for_each_vector(mut f: impl FnMut(&str, &Vector)) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for (file, vf) in load_all() {
        for v in &vf.vectors {
            match v.expect.as_str() {
                "ok" | "error" | "no-match" => {}
                other => panic!("{file}/{}: expect {other:?} is not handled", v.name),
            }
            f(&format!("{file}/{}", v.name), v);
            *counts.entry(v.expect.clone()).or_insert(0) += 1;
        }
    }
    counts
}

#[test]
fn library_reproduces_every_vector() {
    let counts = for_each_vector(|name, v| {
        match v.expect.as_str() {
            "ok" => {
                let password = v.password();
                let salt = Salt::new(v.salt()).unwrap();
                let made = SshaHash::with_salt(&password, salt.clone());
                assert_eq!(made.to_string(), v.value, "{name}: with_salt");
                let parsed: SshaHash = v.value.parse().unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(parsed, made, "{name}: parse");
                assert_eq!(parsed.to_string(), v.value, "{name}: display(parse)");
                assert_eq!(parsed.salt(), &salt, "{name}: salt");
                assert!(parsed.verify(&password), "{name}: verify");
                let mut wrong = password.clone();
                wrong.push(b'!');
                assert!(!parsed.verify(&wrong), "{name}: verify wrong");
                // The password the vector hashes is what our stdin rule makes of stdin_hex.
                let read = from_first_line(&v.stdin()[..], Origin::Stdin)
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(
                    read.expose_secret().as_bytes(),
                    &password[..],
                    "{name}: first-line + Python strip"
                );
            }
            "error" => {
                let want = v
                    .error
                    .as_deref()
                    .unwrap_or_else(|| panic!("{name}: no error"));
                match v.value.parse::<SshaHash>() {
                    Ok(_) => panic!("{name}: parsed, expected {want}"),
                    Err(e) => {
                        assert_eq!(e.kind(), want, "{name}: {e}");
                        let msg = e.to_string();
                        assert!(!msg.contains('\n'), "{name}: multi-line message {msg:?}");
                    }
                }
            }
            "no-match" => {
                let parsed: SshaHash = v.value.parse().unwrap_or_else(|e| panic!("{name}: {e}"));
                assert!(!parsed.verify(&v.password()), "{name}: verified");
                let read = from_first_line(&v.stdin()[..], Origin::Stdin).unwrap();
                assert_eq!(read.expose_secret().as_bytes(), &v.password()[..], "{name}");
            }
            _ => unreachable!(),
        }
    });
    assert!(counts.get("ok").copied().unwrap_or(0) >= 50, "{counts:?}");
    assert!(
        counts.get("error").copied().unwrap_or(0) >= 30,
        "{counts:?}"
    );
    assert!(
        counts.get("no-match").copied().unwrap_or(0) >= 1,
        "{counts:?}"
    );
}

#[test]
fn binary_reproduces_every_vector() {
    let counts = for_each_vector(|name, v| {
        match v.expect.as_str() {
            "ok" => {
                let salt_hex = v.salt_hex.as_deref().unwrap();
                let stdin = v.stdin();
                let out = run(&["generate", "--salt-hex", salt_hex], &stdin);
                assert_eq!(out.status.code(), Some(0), "{name}: {out:?}");
                assert_eq!(
                    String::from_utf8(out.stdout).unwrap(),
                    format!("{}\n", v.value),
                    "{name}: generate via stdin"
                );
                // --password-file follows the same first-line rule.
                let (_dir, pw_file) = temp_file(&stdin);
                let out = run(
                    &[
                        "generate",
                        "--salt-hex",
                        salt_hex,
                        "--password-file",
                        pw_file.to_str().unwrap(),
                    ],
                    b"",
                );
                assert_eq!(out.status.code(), Some(0), "{name}: {out:?}");
                assert_eq!(
                    String::from_utf8(out.stdout).unwrap(),
                    format!("{}\n", v.value),
                    "{name}: generate via --password-file"
                );
                let (_dir, path) = temp_file(format!("{}\n", v.value).as_bytes());
                let out = run(&["verify", "--hash-file", path.to_str().unwrap()], &stdin);
                assert_eq!(out.status.code(), Some(0), "{name}: verify {out:?}");
                assert!(out.stdout.is_empty(), "{name}: verify wrote to stdout");
            }
            "error" => {
                // The file holds the value plus the one newline `--hash-file` removes, so the
                // parser sees exactly `value`.
                let (_dir, path) = temp_file(format!("{}\n", v.value).as_bytes());
                let out = run(
                    &["verify", "--hash-file", path.to_str().unwrap()],
                    b"password\n",
                );
                assert_case_error(name, &out, 2, &[]);
                let out = run(&["verify", &format!("--hash={}", v.value)], b"password\n");
                assert_case_error(name, &out, 2, &[]);
            }
            "no-match" => {
                let (_dir, path) = temp_file(format!("{}\n", v.value).as_bytes());
                let out = run(
                    &["verify", "--hash-file", path.to_str().unwrap()],
                    v.stdin(),
                );
                assert_eq!(out.status.code(), Some(1), "{name}: {out:?}");
                assert!(out.stdout.is_empty(), "{name}: verify wrote to stdout");
            }
            _ => unreachable!(),
        }
    });
    assert!(counts.values().sum::<usize>() >= 80, "{counts:?}");
}

/// The generator is deterministic: running it again reproduces the committed files.
#[test]
fn generator_reproduces_the_committed_files() {
    let out_dir = Fixture::empty();
    let status = Command::new("python3")
        .arg(vectors_dir().join("gen_ssha512.py"))
        .arg("--out-dir")
        .arg(out_dir.root())
        .status()
        .expect("python3 is needed to run vectors/gen_ssha512.py");
    assert!(status.success());
    for name in ["ssha512-reference.json", "ssha512-malformed.json"] {
        let committed = std::fs::read(vectors_dir().join(name)).unwrap();
        let fresh = std::fs::read(out_dir.root().join(name)).unwrap();
        assert!(
            committed == fresh,
            "{name} differs from a fresh run of vectors/gen_ssha512.py: regenerate and review"
        );
    }
}

/// The error vectors cover every kind the parser has.
#[test]
fn error_vectors_cover_every_kind() {
    let mut kinds = std::collections::BTreeSet::new();
    for_each_vector(|_, v| {
        if let Some(kind) = &v.error {
            kinds.insert(kind.clone());
        }
    });
    let all = [
        "base64",
        "empty",
        "other-scheme",
        "prefix",
        "trailing-data",
        "trailing-garbage",
        "truncated",
        "whitespace",
        "zero-salt-length",
    ];
    assert_eq!(kinds.iter().map(String::as_str).collect::<Vec<_>>(), all);
}
