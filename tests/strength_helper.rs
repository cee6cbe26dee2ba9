//! The `amhash-strength` helper: its contract (stdin in, one JSON line out, exit 2 on any
//! failure), `amhash install` using the copy next to it, and the reason it exists: the
//! `amhash` binary carries neither zxcvbn nor the KMS stack.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const AMHASH: &str = env!("CARGO_BIN_EXE_amhash");
const HELPER: &str = env!("CARGO_BIN_EXE_amhash-strength");
const WEAK: &str = "password1";
const STRONG: &str = "wJ7#qz!L0v^Tg2@Xe9$Rk4&Nb8*Hs1%D";

fn run(exe: &Path, args: &[&str], stdin: &[u8]) -> Output {
    run_env(exe, args, stdin, &[])
}

/// [`run`] with `env` added to the test's environment.
fn run_env(exe: &Path, args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(exe)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    // A refusal may come before the input is read: a broken pipe is fine then.
    let _ = input.write_all(stdin);
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Exit 2, nothing on stdout, exactly one line on stderr with the helper's prefix; returns it.
fn assert_refused(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("amhash-strength: ") && err.ends_with('\n'),
        "{err}"
    );
    err
}

#[test]
fn prints_zxcvbns_estimate_as_one_json_line() {
    for (password, weak) in [(WEAK, true), (STRONG, false)] {
        let out = run(Path::new(HELPER), &[], password.as_bytes());
        assert!(out.status.success(), "{out:?}");
        assert!(out.stderr.is_empty(), "{out:?}");
        let line = text(&out.stdout);
        assert_eq!(line.matches('\n').count(), 1, "{line}");
        let json: serde_json::Value = serde_json::from_str(&line).unwrap();
        let object = json.as_object().unwrap();
        assert_eq!(object.len(), 2, "{line}");
        let expected = amhash::strength::assess(password);
        assert_eq!(json["guesses_log10"].as_f64(), Some(expected.guesses_log10));
        assert_eq!(json["warning"].as_str(), expected.warning.as_deref());
        assert_eq!(expected.is_weak(), weak, "{line}");
        assert!(!line.contains(password), "{line}");
    }
    // The weak one comes with zxcvbn's warning, the strong one without.
    let out = run(Path::new(HELPER), &[], WEAK.as_bytes());
    assert!(text(&out.stdout).contains(r#""warning":"This is a very common password.""#));
    let out = run(Path::new(HELPER), &[], STRONG.as_bytes());
    assert!(text(&out.stdout).contains(r#""warning":null"#));
}

#[test]
fn takes_exactly_what_amhash_sends_and_refuses_the_rest() {
    // 100 characters of 4 UTF-8 bytes: the most amhash ever sends.
    let out = run(Path::new(HELPER), &[], "𝄞".repeat(100).as_bytes());
    assert!(out.status.success(), "{out:?}");
    // Control characters are valid UTF-8, and estimated like any other.
    let out = run(Path::new(HELPER), &[], "a\u{1}b\tc".as_bytes());
    assert!(out.status.success(), "{out:?}");

    let canary = "c4nary-in-the-input";
    let long = format!("{canary}{}", "a".repeat(400));
    for (input, says) in [
        (Vec::new(), "the input is empty"),
        (long.into_bytes(), "longer than 400 bytes"),
        ([canary.as_bytes(), b"\xff\xfe"].concat(), "not UTF-8"),
    ] {
        let out = run(Path::new(HELPER), &[], &input);
        let err = assert_refused(&out);
        assert!(err.contains(says), "{err}");
        assert!(!err.contains(canary), "{err}");
    }
    for args in [&["extra"][..], &["--bogus"], &["-"]] {
        let err = assert_refused(&run(Path::new(HELPER), args, STRONG.as_bytes()));
        assert!(err.contains("see amhash-strength --help"), "{err}");
    }
    let out = run(Path::new(HELPER), &["--version"], b"");
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout),
        format!("amhash-strength {}\n", env!("CARGO_PKG_VERSION"))
    );
}

/// A directory with a copy of `amhash` and, if given, an `amhash-strength` next to it, a
/// password file and an empty store.
struct Install {
    dir: tempfile::TempDir,
}

impl Install {
    fn new(helper: Option<HelperKind>) -> Install {
        Install::with_password(helper, WEAK)
    }

    fn with_password(helper: Option<HelperKind>, password: &str) -> Install {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(AMHASH, dir.path().join("amhash")).unwrap();
        let helper_path = dir.path().join("amhash-strength");
        match helper {
            None => {}
            Some(HelperKind::Real) => {
                std::fs::copy(HELPER, &helper_path).unwrap();
            }
            Some(HelperKind::Script(script)) => {
                std::fs::write(&helper_path, format!("#!/bin/sh\n{script}\n")).unwrap();
                std::fs::set_permissions(&helper_path, std::fs::Permissions::from_mode(0o755))
                    .unwrap();
            }
        }
        let pw = dir.path().join("pw");
        std::fs::write(&pw, format!("{password}\n")).unwrap();
        std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::create_dir(dir.path().join("store")).unwrap();
        Install { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `amhash install` of the password into the store.
    fn install(&self, extra: &[&str]) -> Output {
        self.install_env(extra, &[])
    }

    /// [`Install::install`] with `env` added to the environment.
    fn install_env(&self, extra: &[&str], env: &[(&str, &str)]) -> Output {
        let pw = self.path("pw");
        let store = self.path("store");
        let mut args = vec![
            "install",
            "--password-file",
            pw.to_str().unwrap(),
            "--dir",
            store.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        run_env(&self.path("amhash"), &args, b"", env)
    }

    fn installed(&self) -> bool {
        self.path("store/password.amadmin").exists()
    }
}

enum HelperKind {
    Real,
    Script(&'static str),
}

/// Exit `code`, one `amhash: error:` line on stderr; returns it.
fn assert_error(out: &Output, code: i32) -> String {
    assert_eq!(out.status.code(), Some(code), "{out:?}");
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("amhash: error: "), "{err}");
    err
}

#[test]
fn install_asks_the_helper_next_to_it() {
    // The real helper: the weak password is refused with zxcvbn's reason.
    let f = Install::new(Some(HelperKind::Real));
    let err = assert_error(&f.install(&[]), 2);
    assert!(
        err.contains("too weak") && err.contains("This is a very common password."),
        "{err}"
    );
    assert!(!f.installed());

    // A stand-in that calls everything strong: install believes it, so the verdict really
    // comes from the helper and not from code of its own.
    let f = Install::new(Some(HelperKind::Script(
        r#"cat >/dev/null; echo '{"guesses_log10":99.0,"warning":null}'"#,
    )));
    let out = f.install(&[]);
    assert!(out.status.success(), "{out:?}");
    assert!(f.installed());

    // A stand-in that checks what amhash gives it: no arguments, the password without its
    // newline on stdin (the `x` keeps $(...) from eating trailing newlines), and no
    // environment, so a secret in amhash's (here the canary) does not reach it.
    let f = Install::new(Some(HelperKind::Script(
        r#"[ $# -eq 0 ] || exit 7
[ -z "${AMHASH_TEST_CANARY+set}" ] || exit 8
input=$(cat; echo x); [ "$input" = password1x ] || exit 9
echo '{"guesses_log10":99.0,"warning":null}'"#,
    )));
    let out = f.install_env(&[], &[("AMHASH_TEST_CANARY", "an env: key")]);
    assert!(out.status.success(), "{out:?}");
    assert!(f.installed());
}

#[test]
fn install_sends_only_the_first_100_characters() {
    // 150 four-byte characters: amhash sends 100 of them, 400 bytes, which the real helper
    // takes (its limit) and a stand-in counts.
    let long = "𝄞".repeat(150);
    let f = Install::with_password(
        Some(HelperKind::Script(
            r#"n=$(wc -c); [ "$n" -eq 400 ] || exit 9; echo '{"guesses_log10":99.0,"warning":null}'"#,
        )),
        &long,
    );
    let out = f.install(&[]);
    assert!(out.status.success(), "{out:?}");
    let f = Install::with_password(Some(HelperKind::Real), &long);
    let err = assert_error(&f.install(&[]), 2);
    assert!(
        err.contains("too weak"),
        "a repeated character is weak: {err}"
    );
}

#[test]
fn install_without_a_working_helper_refuses_unless_allow_weak() {
    let f = Install::new(None);
    let err = assert_error(&f.install(&[]), 3);
    let missing = format!(
        "amhash-strength is not installed next to amhash (looked for {})",
        f.path("amhash-strength").display()
    );
    assert!(
        err.starts_with("amhash: error: cannot check the password's strength: ")
            && err.contains(&missing)
            && err.contains("cargo install --path .")
            && err
                .trim_end()
                .ends_with("or pass --allow-weak to skip the check"),
        "{err}"
    );
    assert!(!err.contains(WEAK), "{err}");
    assert!(!f.installed());

    // --allow-weak goes on, and says the check was skipped.
    let out = f.install(&["--allow-weak"]);
    assert!(out.status.success(), "{out:?}");
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "amhash: warning: the password's strength was not checked: {missing}"
        )),
        "{err}"
    );
    assert!(f.installed());

    // A helper that fails or talks nonsense is no estimate either.
    for (script, says) in [
        (
            "cat >/dev/null; echo 'amhash-strength: it broke' >&2; exit 2",
            "failed (exit status: 2: it broke)",
        ),
        ("cat", "failed (unexpected output)"),
        ("exit 0", "failed (unexpected output)"),
    ] {
        let f = Install::new(Some(HelperKind::Script(script)));
        let err = assert_error(&f.install(&[]), 3);
        assert!(err.contains(says), "{script}: {err}");
        // `cat` echoes the password to amhash: it must not reach the message.
        assert!(!err.contains(WEAK), "{script}: {err}");
        assert!(!f.installed());
    }
}

/// Why the helpers exist: `amhash` itself carries neither zxcvbn (its dictionaries,
/// regular expressions and libm) nor the Cloud KMS stack, so `generate` stays small and
/// quick. Each is checked by a string only that code contains.
#[test]
fn amhash_carries_neither_zxcvbn_nor_the_kms_stack() {
    let contains = |exe: &str, needle: &str| {
        let bytes = std::fs::read(exe).unwrap();
        bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
    };
    // A word of zxcvbn's password list.
    let zxcvbn = "usuckballz1";
    assert!(contains(HELPER, zxcvbn), "the marker is in zxcvbn's data");
    assert!(!contains(AMHASH, zxcvbn), "amhash links zxcvbn");
    #[cfg(feature = "kms")]
    {
        let kms = env!("CARGO_BIN_EXE_amhash-kms");
        for marker in ["cloudkms.googleapis.com", "there is no reactor running"] {
            assert!(contains(kms, marker), "{marker} is in the KMS stack");
            assert!(!contains(AMHASH, marker), "amhash links {marker}");
        }
    }
}
