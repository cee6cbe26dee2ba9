//! The `amhash` command line: every exit code and every bad input of `generate` and
//! `verify`. On every error stdout is empty and stderr is exactly one line that never
//! contains the password.

use std::path::Path;
use std::process::Output;

use amhash::ssha::{Salt, SshaHash};

use crate::support::*;

fn hash_of(password: &str) -> String {
    SshaHash::with_salt(password.as_bytes(), Salt::new(vec![0x42; 20]).unwrap()).to_string()
}

/// `verify --hash-file PATH` with the password on stdin.
fn verify_file(path: &Path) -> Output {
    run(
        &["verify", "--hash-file", path.to_str().unwrap()],
        stdin_line(),
    )
}

fn stdin_line() -> Vec<u8> {
    format!("{CLI_PW}\n").into_bytes()
}

// ---- generate -------------------------------------------------------------------------

#[test]
fn generate_prints_one_verifiable_value() {
    let out = run(&["generate"], stdin_line());
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stderr.is_empty(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let value = text.strip_suffix('\n').expect("one trailing newline");
    assert!(!value.contains('\n'));
    let hash: SshaHash = value.parse().unwrap();
    assert_eq!(hash.salt().as_bytes().len(), 20);
    assert!(hash.verify(CLI_PW.as_bytes()));
    // A fresh salt each time.
    let again = run(&["generate"], stdin_line());
    assert_ne!(again.stdout, text.as_bytes());
}

#[test]
fn generate_with_salt_is_deterministic() {
    let out = run(&["generate", "--salt-hex", &"42".repeat(20)], stdin_line());
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("{}\n", hash_of(CLI_PW))
    );
}

#[test]
fn generate_forgeops_vector() {
    let out = run(
        &["generate", "--salt-hex", &"00".repeat(20)],
        format!("{FORGEROCK_PASSWORD}\n"),
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("{FORGEROCK_VALUE}\n")
    );
}

#[test]
fn salt_of_1_and_255_bytes_works() {
    for len in [1usize, 255] {
        let salt = "ab".repeat(len);
        let out = run(&["generate", "--salt-hex", &salt], stdin_line());
        assert_eq!(out.status.code(), Some(0), "{len}: {out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        let hash: SshaHash = text.trim_end().parse().unwrap();
        assert_eq!(hash.salt().as_bytes(), &vec![0xab; len][..]);
        assert!(hash.verify(CLI_PW.as_bytes()));
    }
}

#[test]
fn bad_salt_hex_is_exit_2_before_reading_the_password() {
    for salt in [
        "abc".to_string(),
        "zz".into(),
        "0x00".into(),
        "".into(),
        "00".repeat(256),
        "g".repeat(40),
    ] {
        // An unreadable password file shows the salt is checked first (else exit 3).
        let out = run(
            &[
                "generate",
                "--salt-hex",
                &salt,
                "--password-file",
                "/nonexistent/pw",
            ],
            b"",
        );
        let err = assert_error(&out, 2, &[]);
        assert!(err.contains("--salt-hex"), "{salt}: {err}");
        let out = run(&["generate", &format!("--salt-hex={salt}")], stdin_line());
        assert_error(&out, 2, &[]);
    }
}

// ---- password input --------------------------------------------------------------------

#[test]
fn empty_whitespace_and_invalid_passwords_are_exit_2() {
    let cases: &[&[u8]] = &[
        b"",
        b"\n",
        b"\nsecond line\n",
        b"   \n",
        b" \t\r\n",
        b"\x0b\x0c\n",
        b"\x1c\x1d\x1e\x1f\n",
        "\u{a0}\u{3000}\u{2028}\n".as_bytes(),
        b"hunter2\xff\n",
        b"\xff\n",
        b"\xed\xa0\x80\n",
    ];
    for stdin in cases {
        for args in [&["generate"][..], &["verify", "--hash", FORGEROCK_VALUE]] {
            let out = run(args, stdin);
            assert_error(&out, 2, &[]);
        }
    }
}

#[test]
fn zero_width_space_is_a_password_not_whitespace() {
    // U+200B is not whitespace to Python: the reference hashes it, so do we.
    let out = run(
        &["generate", "--salt-hex", &"42".repeat(20)],
        "\u{200b}\n".as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("{}\n", hash_of("\u{200b}"))
    );
}

#[test]
fn password_file_works_and_reads_only_its_first_line() {
    let dir = Fixture::empty();
    let file = dir.file(
        "pw",
        format!("  {CLI_PW}\t\r\nsecond line\n\u{ff}").as_bytes(),
        0o600,
    );
    let file = file.to_str().unwrap();
    let out = run(
        &[
            "generate",
            "--salt-hex",
            &"42".repeat(20),
            "--password-file",
            file,
        ],
        b"stdin is not read\n",
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("{}\n", hash_of(CLI_PW))
    );
    let value = hash_of(CLI_PW);
    let out = run(&["verify", "--hash", &value, "--password-file", file], b"");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let other = dir.file("other", b"second line\n", 0o600);
    let out = run(
        &[
            "verify",
            "--hash",
            &value,
            "--password-file",
            other.to_str().unwrap(),
        ],
        stdin_line(),
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}

#[test]
fn password_file_problems() {
    let dir = Fixture::empty();
    let missing = dir.root().join("missing");
    let missing = missing.to_str().unwrap();
    let empty = dir.file("empty", b"", 0o600);
    let blank = dir.file("blank", b" \n", 0o600);
    let bad = dir.file("bad", b"hunter2\xfe\n", 0o600);
    let dir_path = dir.root().to_str().unwrap();
    for args in [&["generate"][..], &["verify", "--hash", FORGEROCK_VALUE]] {
        let with = |file: &str| {
            let mut v: Vec<&str> = args.to_vec();
            v.extend(["--password-file", file]);
            run(&v, stdin_line())
        };
        assert_error(&with(missing), 3, &[missing]);
        assert_error(&with(dir_path), 3, &[]);
        assert_error(&with(empty.to_str().unwrap()), 2, &[]);
        assert_error(&with(blank.to_str().unwrap()), 2, &[]);
        assert_error(&with(bad.to_str().unwrap()), 2, &[]);
    }
}

// ---- verify ---------------------------------------------------------------------------

#[test]
fn verify_match_is_0_and_no_match_is_1() {
    let value = hash_of(CLI_PW);
    let dir = Fixture::empty();
    let file = dir.file("value", format!("{value}\n").as_bytes(), 0o600);
    let file = file.to_str().unwrap();
    for args in [
        vec!["verify", "--hash", &value],
        vec!["verify", "--hash-file", file],
    ] {
        let out = run(&args, stdin_line());
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        assert!(out.stdout.is_empty());
        let out = run(&args, format!("{CLI_PW}x\n").as_bytes());
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.matches('\n').count(), 1, "{err:?}");
        assert!(!err.contains(CLI_PW));
    }
}

/// One value per parse error kind.
fn malformed() -> Vec<(&'static str, String)> {
    let body = FORGEROCK_VALUE.strip_prefix("{SSHA-512}").unwrap();
    vec![
        ("empty", String::new()),
        ("whitespace", format!(" {FORGEROCK_VALUE}")),
        ("whitespace", format!("{FORGEROCK_VALUE}\r")),
        ("other-scheme", format!("{{SSHA512}}{body}")),
        ("other-scheme", format!("{{ssha-512}}{body}")),
        ("other-scheme", "$6$salt$hash".into()),
        ("prefix", body.to_string()),
        ("base64", format!("{{SSHA-512}}{}", body.replace('+', "-"))),
        ("base64", format!("{{SSHA-512}}{}", &body[..body.len() - 2])),
        ("trailing-garbage", format!("{FORGEROCK_VALUE}AAAA")),
        ("zero-salt-length", "{SSHA-512}AA==".into()),
        ("truncated", "{SSHA-512}FA==".into()),
        ("trailing-data", format!("{{SSHA-512}}{}AAAA", &body[..112])),
    ]
}

#[test]
fn malformed_values_are_exit_2_via_hash_and_hash_file() {
    let dir = Fixture::empty();
    for (i, (kind, value)) in malformed().into_iter().enumerate() {
        assert_eq!(
            value.parse::<SshaHash>().unwrap_err().kind(),
            kind,
            "{value:?}"
        );
        let out = run(&["verify", &format!("--hash={value}")], stdin_line());
        assert_error(&out, 2, &[]);
        let file = dir.file(&format!("v{i}"), format!("{value}\n").as_bytes(), 0o600);
        let out = verify_file(&file);
        assert_error(&out, 2, &[]);
    }
}

#[test]
fn malformed_value_is_reported_before_the_password_is_read() {
    // Invalid UTF-8 on stdin would be exit 2 too; an unreadable password file tells them
    // apart: exit 2 (the value) and not 3 (the file) shows the value is checked first.
    let out = run(
        &[
            "verify",
            "--hash",
            "{SSHA}x",
            "--password-file",
            "/nonexistent/pw",
        ],
        b"",
    );
    assert_error(&out, 2, &["{SSHA}"]);
}

#[test]
fn hash_file_newline_rules() {
    let value = hash_of(CLI_PW);
    let dir = Fixture::empty();
    let cases: &[(&str, String, i32)] = &[
        ("none", value.clone(), 0),
        ("one", format!("{value}\n"), 0),
        ("two", format!("{value}\n\n"), 2),
        ("crlf", format!("{value}\r\n"), 2),
        ("cr", format!("{value}\r"), 2),
        ("leading", format!("\n{value}"), 2),
        ("space", format!("{value} \n"), 2),
        ("two-values", format!("{value}\n{value}\n"), 2),
        ("empty", String::new(), 2),
        ("newline-only", "\n".into(), 2),
    ];
    for (name, content, code) in cases {
        let file = dir.file(name, content.as_bytes(), 0o600);
        let out = verify_file(&file);
        if *code == 0 {
            assert_eq!(out.status.code(), Some(0), "{name}: {out:?}");
        } else {
            assert_error(&out, *code, &[]);
        }
    }
    let bad_utf8 = dir.file("bad-utf8", b"{SSHA-512}\xff\n", 0o600);
    let out = verify_file(&bad_utf8);
    assert_error(&out, 2, &[]);
}

#[test]
fn hash_file_problems_are_exit_3() {
    let dir = Fixture::empty();
    let missing = dir.root().join("missing");
    assert_error(&verify_file(&missing), 3, &["missing"]);
    assert_error(&verify_file(dir.root()), 3, &[]);
}

#[test]
fn hash_file_larger_than_any_value_is_exit_2() {
    let dir = Fixture::empty();
    let file = dir.file("big", vec![b'A'; 200_000], 0o600);
    assert_error(&verify_file(&file), 2, &[]);
}

// ---- usage ----------------------------------------------------------------------------

#[test]
fn usage_errors_are_exit_2_on_one_line() {
    let dir = Fixture::empty();
    let file = dir.file("value", FORGEROCK_VALUE.as_bytes(), 0o600);
    let file = file.to_str().unwrap();
    let cases: &[&[&str]] = &[
        &[],
        &["bogus"],
        &["--bogus"],
        &["generate", "--bogus"],
        &["generate", "extra"],
        &["generate", "--salt-hex"],
        &["generate", "--password-file"],
        &["verify"],
        &["verify", "--hash"],
        &["verify", "--hash-file"],
        &["verify", "--hash", FORGEROCK_VALUE, "--hash-file", file],
        &["verify", "--hash", FORGEROCK_VALUE, "--bogus"],
        &["verify", "--hash", FORGEROCK_VALUE, "--salt-hex", "00"],
        // There is deliberately no flag that takes the password itself.
        &["generate", "--password", "hunter2"],
        &["generate", "--password=hunter2"],
        &["verify", "--hash", FORGEROCK_VALUE, "--password", "hunter2"],
        &["generate", "-p", "hunter2"],
    ];
    for args in cases {
        let out = run(args, stdin_line());
        let err = assert_error(&out, 2, &[]);
        assert!(err.contains("error"), "{args:?}: {err}");
    }
}

#[test]
fn help_and_version_are_exit_0_and_help_lists_the_exit_codes() {
    for args in [
        &["--help"][..],
        &["-h"],
        &["help"],
        &["generate", "--help"],
        &["verify", "--help"],
        &["help", "verify"],
    ] {
        let out = run(args, b"");
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        for needle in [
            "Exit codes",
            "0  success",
            "1  verify: the password does not match",
            "2  malformed input or usage error",
            "3  I/O",
        ] {
            assert!(text.contains(needle), "{args:?} lacks {needle:?}:\n{text}");
        }
    }
    let out = run(&["--version"], b"");
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .starts_with("amhash ")
    );
}
