//! Cross-check against the AM documentation's Python reference script, run by `python3`.
//!
//! The script is vendored verbatim in `vectors/reference_amadmin_hash.py` (plus a few
//! `# amhash-note:` comment lines). A tiny harness replaces `os.urandom` with a given salt,
//! so the script's output can be compared byte for byte with `amhash generate --salt-hex`.
//! The passwords are random bytes from a seeded RNG (so a failure reproduces): ASCII,
//! Unicode, whitespace on the edges, several lines, long ones.

use std::path::{Path, PathBuf};
use std::process::Output;

use base64::Engine as _;
use proptest::prelude::Rng;
use proptest::test_runner::{RngAlgorithm, TestRng};
use sha2::{Digest, Sha256};

use crate::support::*;

/// SHA-256 of the reference script as printed in the AM documentation (seed 001, lines
/// 115-147, 4-space indent removed), i.e. of the vendored copy without its note lines.
const REFERENCE_SHA256: &str = "c1468f58c4e3b5dc939356db806d680811b0226d6d53ff185a04d80a6190ee8d";

/// Runs the script with `os.urandom` returning the salt given as argv[2] (hex).
const HARNESS: &str = r#"
import os, runpy, sys
script, salt = sys.argv[1], bytes.fromhex(sys.argv[2])
def fixed_urandom(n):
    if n != len(salt):
        sys.exit("harness: the script asked for %d random bytes, the salt has %d" % (n, len(salt)))
    return salt
os.urandom = fixed_urandom
sys.argv = [script]
runpy.run_path(script, run_name="__main__")
"#;

fn script_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors/reference_amadmin_hash.py")
}

fn without_notes(text: &str) -> String {
    text.split_inclusive('\n')
        .filter(|line| !line.starts_with("# amhash-note:"))
        .collect()
}

/// The code block of the seed document: from the shebang to `print(outform)`, unindented.
fn extract_from_seed(doc: &str) -> String {
    let lines: Vec<&str> = doc.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.trim() == "#!/usr/bin/env python3")
        .expect("shebang in seed");
    let len = lines[start..]
        .iter()
        .position(|l| l.trim() == "print(outform)")
        .expect("print(outform) in seed");
    lines[start..=start + len]
        .iter()
        .map(|l| format!("{}\n", l.strip_prefix("    ").unwrap_or(l.trim())))
        .collect()
}

#[test]
fn vendored_script_is_the_documented_one() {
    let copy = std::fs::read_to_string(script_path()).unwrap();
    let code = without_notes(&copy);
    assert_eq!(
        hex::encode(Sha256::digest(code.as_bytes())),
        REFERENCE_SHA256,
        "vectors/reference_amadmin_hash.py was edited: it must stay the documentation's script"
    );
    // Where the seed document is at hand (the project's workspace; override with
    // AMHASH_SEED_DOC), compare with it directly too; the pinned digest above is what
    // travels with the repository.
    let seed = std::env::var_os("AMHASH_SEED_DOC")
        .map(PathBuf::from)
        .or_else(|| {
            std::fs::read_dir("/work/shared/seeds").ok().and_then(|d| {
                d.filter_map(Result::ok).map(|e| e.path()).find(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("001_"))
                })
            })
        });
    if let Some(seed) = seed {
        let doc = std::fs::read_to_string(&seed).unwrap();
        assert_eq!(
            code,
            extract_from_seed(&doc),
            "differs from {}",
            seed.display()
        );
    }
}

fn reference(stdin: &[u8], salt: &[u8]) -> Output {
    Run::new("python3")
        .arg("-c")
        .arg(HARNESS)
        .arg(script_path())
        .arg(hex::encode(salt))
        .stdin(stdin)
        .output()
}

fn reference_random_salt(stdin: &[u8]) -> Output {
    Run::new("python3").arg(script_path()).stdin(stdin).output()
}

fn rng() -> TestRng {
    TestRng::from_seed(RngAlgorithm::ChaCha, &[0x5a; 32])
}

fn pick<T: Copy>(rng: &mut TestRng, items: &[T]) -> T {
    items[rng.next_u32() as usize % items.len()]
}

/// Whitespace to Python's str.strip(): the ASCII separators U+001C..U+001F included.
const PY_WHITESPACE: &[char] = &[
    ' ', '\t', '\r', '\u{b}', '\u{c}', '\u{1c}', '\u{1d}', '\u{1e}', '\u{1f}', '\u{85}', '\u{a0}',
    '\u{1680}', '\u{2000}', '\u{2007}', '\u{200a}', '\u{2028}', '\u{2029}', '\u{202f}', '\u{205f}',
    '\u{3000}',
];
/// Look like whitespace, are not whitespace to Python: kept in the password.
const NOT_WHITESPACE: &[char] = &['\u{200b}', '\u{feff}', '\u{180e}', '\u{2060}', '\u{0}'];
const UNICODE: &[char] = &[
    'é',
    'ß',
    'ñ',
    'ø',
    '\u{301}',
    '\u{308}',
    'Ω',
    'ж',
    'א',
    'ك',
    '中',
    '密',
    'パ',
    '비',
    '€',
    '😀',
    '🔑',
    '🦀',
    '\u{200d}',
    '𝔭',
    '\u{10ffff}',
    '\u{e000}',
];

/// Any Unicode scalar value except a line feed.
fn any_char(rng: &mut TestRng) -> char {
    loop {
        if let Some(c) = char::from_u32(rng.next_u32() % 0x11_0000)
            && c != '\n'
        {
            return c;
        }
    }
}

/// One random password line, as raw stdin bytes, whose stripped form is never empty.
fn random_stdin(rng: &mut TestRng, i: usize) -> Vec<u8> {
    let mut s = String::new();
    for _ in 0..rng.next_u32() % 4 {
        s.push(pick(rng, PY_WHITESPACE));
    }
    let len = match i % 10 {
        0 => 1000 + rng.next_u32() as usize % 3000,
        1 => 100 + rng.next_u32() as usize % 60,
        _ => 1 + rng.next_u32() as usize % 40,
    };
    // Start and end with a printable ASCII character so stripping never empties the line.
    s.push(char::from(b'!' + (rng.next_u32() % 94) as u8));
    for _ in 0..len {
        let c = match rng.next_u32() % 10 {
            0..=3 => char::from(b' ' + (rng.next_u32() % 95) as u8),
            4..=5 => pick(rng, UNICODE),
            6 => pick(rng, PY_WHITESPACE),
            7 => pick(rng, NOT_WHITESPACE),
            _ => any_char(rng),
        };
        s.push(c);
    }
    s.push(char::from(b'!' + (rng.next_u32() % 94) as u8));
    for _ in 0..rng.next_u32() % 4 {
        s.push(pick(rng, PY_WHITESPACE));
    }
    match rng.next_u32() % 5 {
        0 => {}
        1 => s.push_str("\r\n"),
        2 => s.push_str("\nsecond line, ignored\n"),
        _ => s.push('\n'),
    }
    s.into_bytes()
}

fn random_salt(rng: &mut TestRng) -> [u8; 20] {
    let mut salt = [0u8; 20];
    rng.fill_bytes(&mut salt);
    salt
}

#[test]
fn amhash_matches_the_reference_on_random_passwords() {
    let mut rng = rng();
    for i in 0..50 {
        let stdin = random_stdin(&mut rng, i);
        let salt = random_salt(&mut rng);
        let want = reference(&stdin, &salt);
        assert!(
            want.status.success(),
            "case {i}: reference failed: {}",
            String::from_utf8_lossy(&want.stderr)
        );
        let got = run(&["generate", "--salt-hex", &hex::encode(salt)], &stdin);
        assert_eq!(got.status.code(), Some(0), "case {i}: {got:?}");
        assert_eq!(
            got.stdout,
            want.stdout,
            "case {i}: stdin {}",
            hex::encode(&stdin)
        );
    }
}

/// First lines amhash refuses (exit 2, nothing on stdout), and whether the reference hashes
/// them. Where the reference cannot produce a value (invalid UTF-8: a traceback), amhash
/// refuses too. The one deliberate difference: the reference hashes an empty (or
/// all-whitespace) line; amhash refuses it, since AM would then accept an empty amAdmin
/// password.
const REFUSED: &[(&str, &[u8], bool)] = &[
    ("invalid UTF-8", b"pass\xffword\n", false),
    ("truncated UTF-8", b"\xc3\n", false),
    ("a surrogate", b"\xed\xa0\x80surrogate\n", false),
    ("above U+10FFFF", b"\xf4\x90\x80\x80\n", false),
    ("empty input", b"", true),
    ("empty line", b"\n", true),
    ("blanks", b"  \t\r\n", true),
    ("ASCII separators", b"\x1c\x1f\n", true),
    ("ideographic space", "\u{3000}\n".as_bytes(), true),
];

#[test]
fn amhash_refuses_what_the_reference_cannot_hash_and_the_empty_password() {
    let salt = [9u8; 20];
    let empty =
        amhash::ssha::SshaHash::with_salt(b"", amhash::ssha::Salt::new(salt.to_vec()).unwrap());
    for (name, stdin, hashed) in REFUSED {
        let want = reference(stdin, &salt);
        if *hashed {
            assert!(want.status.success(), "{name}: {}", describe(&want));
            assert_eq!(stdout(&want), format!("{empty}\n"), "{name}");
        } else {
            assert!(!want.status.success(), "{name}");
            assert!(
                String::from_utf8_lossy(&want.stderr).contains("UnicodeDecodeError"),
                "{name}: {}",
                describe(&want)
            );
        }
        let got = run(&["generate", "--salt-hex", &hex::encode(salt)], stdin);
        assert_eq!(got.status.code(), Some(2), "{name}: {}", describe(&got));
        assert!(got.stdout.is_empty(), "{name}");
    }
}

/// The salt of a `{SSHA-512}` value, read independently of amhash: length byte 20, the salt,
/// the 64-byte digest.
fn salt_of(value: &str) -> Vec<u8> {
    let b64 = value.trim_end().strip_prefix("{SSHA-512}").unwrap();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    assert!(raw[0] == 20 && raw.len() == 85, "{value}");
    raw[1..21].to_vec()
}

/// amhash's own random salts produce values the reference accepts: given a value's salt and
/// the same stdin, the reference script prints the same value.
#[test]
fn amhash_values_verify_under_the_reference_algorithm() {
    let mut rng = rng();
    let mut first = None;
    for i in 0..20 {
        let stdin = random_stdin(&mut rng, i);
        let out = run(&["generate"], &stdin);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let value = String::from_utf8(out.stdout).unwrap();
        let want = reference(&stdin, &salt_of(&value));
        assert!(want.status.success(), "case {i}: {}", describe(&want));
        assert_eq!(
            stdout(&want),
            value,
            "case {i}: stdin {}",
            hex::encode(&stdin)
        );
        first.get_or_insert(value);
    }
    // A wrong password must come out as a mismatch, or the check proves nothing.
    let first = first.unwrap();
    let wrong = reference(b"definitely not it\n", &salt_of(&first));
    assert!(wrong.status.success(), "{}", describe(&wrong));
    assert_ne!(stdout(&wrong), first);
}

/// The reference's own random-salt output verifies under `amhash verify`.
#[test]
fn reference_values_verify_under_amhash() {
    let mut rng = rng();
    for i in 0..15 {
        let stdin = random_stdin(&mut rng, i);
        let out = reference_random_salt(&stdin);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let value = String::from_utf8(out.stdout).unwrap();
        let value = value.strip_suffix('\n').unwrap();
        let ok = run(&["verify", &format!("--hash={value}")], &stdin);
        assert_eq!(ok.status.code(), Some(0), "case {i}: {ok:?}");
        let mut wrong = stdin.clone();
        wrong.insert(0, b'x');
        let no = run(&["verify", &format!("--hash={value}")], &wrong);
        assert_eq!(no.status.code(), Some(1), "case {i}: {no:?}");
    }
}
