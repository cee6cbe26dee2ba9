//! `--random`: a new password of at least 128 bits from the documented alphabet, stored with
//! `--password-out` (0600, never overwritten) or shown once on the terminal, never on stdout.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use amhash::ssha::SshaHash;
use amhash::strength::{RANDOM_ALPHABET, RANDOM_LEN};

use crate::support::*;

/// The stored password: RANDOM_LEN symbols of the alphabet and one newline; the file 0600.
fn stored_password(path: &std::path::Path) -> String {
    let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{}", path.display());
    let text = std::fs::read_to_string(path).unwrap();
    let password = text.strip_suffix('\n').expect("one trailing newline");
    assert_eq!(password.len(), RANDOM_LEN);
    assert!(
        password.bytes().all(|b| RANDOM_ALPHABET.contains(&b)),
        "{password}"
    );
    password.to_string()
}

#[test]
fn generate_random_stores_the_password_and_prints_only_the_value() {
    let dir = Fixture::empty();
    let out_path = dir.root().join("amadmin.pw");
    let source = format!("file:{}", out_path.display());
    let out = run(&["generate", "--random", "--password-out", &source], b"");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let password = stored_password(&out_path);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stdout.contains(&password) && !stderr.contains(&password));
    assert!(
        stderr.is_empty(),
        "a random password is never weak: {stderr}"
    );
    let hash: SshaHash = stdout.trim_end().parse().unwrap();
    assert!(hash.verify(password.as_bytes()));

    // The value verifies through the CLI with the stored password.
    let verify = run(
        &[
            "verify",
            "--hash",
            stdout.trim_end(),
            "--password-file",
            out_path.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(verify.status.code(), Some(0), "{verify:?}");

    // Never overwritten: a second run fails, prints no value and keeps the first password.
    let again = run(&["generate", "--random", "--password-out", &source], b"");
    assert_eq!(again.status.code(), Some(3), "{again:?}");
    assert!(again.stdout.is_empty());
    assert_eq!(stored_password(&out_path), password);
}

#[test]
fn random_passwords_differ_between_runs() {
    let dir = Fixture::empty();
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..5 {
        let path = dir.root().join(format!("pw{i}"));
        let source = format!("file:{}", path.display());
        let out = run(&["generate", "--random", "--password-out", &source], b"");
        assert!(out.status.success(), "{out:?}");
        assert!(seen.insert(stored_password(&path)));
    }
}

#[test]
fn install_random_installs_a_value_the_stored_password_verifies() {
    let dir = Fixture::empty();
    let store = dir.root().join("userpasswords");
    std::fs::create_dir(&store).unwrap();
    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o700)).unwrap();
    let pw_path = dir.root().join("amadmin.pw");
    let out = run(
        &[
            "install",
            "--dir",
            store.to_str().unwrap(),
            "--random",
            "--password-out",
            &format!("file:{}", pw_path.display()),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let password = stored_password(&pw_path);
    let value = std::fs::read_to_string(store.join("password.amadmin")).unwrap();
    let hash: SshaHash = value.parse().unwrap();
    assert!(hash.verify(password.as_bytes()));
    let verify = verify_dir(&store, &pw_path);
    assert_eq!(verify.status.code(), Some(0), "{verify:?}");
}

/// Without --password-out the password is shown once on the terminal, and the value that
/// stdout carries verifies with it.
#[test]
fn random_is_shown_once_on_the_terminal() {
    let mut cmd = Command::new(AMHASH);
    cmd.args(["generate", "--random"]);
    let mut session = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
    session
        .exp_string("New password (shown once, store it now): ")
        .unwrap();
    let line = session.read_line().unwrap();
    let password = line.trim().to_string();
    assert_eq!(password.len(), RANDOM_LEN, "{line:?}");
    let rest = session.exp_eof().unwrap();
    let value = rest
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("{SSHA-512}"))
        .unwrap_or_else(|| panic!("no value in {rest:?}"));
    let hash: SshaHash = value.parse().unwrap();
    assert!(hash.verify(password.as_bytes()));
    // Shown once: the password appears nowhere else in the session.
    assert!(!rest.contains(&password), "{rest:?}");
}
