//! Key sources in secrets managers (`vault:`, `aws-sm:`, `gcp-sm:`, `azure-kv:`), end to end
//! through the real binaries (`amhash` and its helper `amhash-secrets`) against servers these
//! tests start on 127.0.0.1: loopback fakes that follow each REST API as documented, and
//! moto for AWS. One module a service; this one holds what they share.

mod attack;
mod aws;
mod azure;
mod gcp;
mod vault;

use std::process::Output;

use crate::support::{
    AM_PW, CLI_PW, Run, SALT, amhash, assert_error, assert_no_secret, check_failure, describe,
    ok_stdout, run,
};

/// The helper under test.
pub const HELPER: &str = env!("CARGO_BIN_EXE_amhash-secrets");

/// The AM encryption password the managers hold in these tests.
pub const HELD: &str = AM_PW;

/// `amhash-secrets fetch REFERENCE` with `env` (no handshake: the plain contract).
pub fn fetch(reference: &str, env: &[(&str, &str)]) -> Output {
    Run::new(HELPER)
        .args(["fetch", "--timeout", "20", reference])
        .envs(env.iter().copied())
        .output()
}

/// The helper printed exactly `want` and nothing else.
#[track_caller]
pub fn assert_fetched(reference: &str, env: &[(&str, &str)], want: &str) {
    let out = fetch(reference, env);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{reference}: {}",
        describe(&out)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), want, "{reference}");
    assert!(out.stderr.is_empty(), "{reference}: {}", describe(&out));
}

/// A failure to fetch `reference`: the helper exits `code` with one line holding `needles`
/// and the reference, nothing on stdout; `amhash generate --encrypt am --key REFERENCE`
/// fails the same way. No secret of the tests, nor `extra`, appears anywhere.
#[track_caller]
pub fn assert_fails(
    reference: &str,
    env: &[(&str, &str)],
    code: i32,
    needles: &[&str],
    extra: &[&str],
) {
    let out = fetch(reference, env);
    // Messages name the reference in its canonical form.
    let canonical = reference
        .parse::<amhash::secrets::SecretRef>()
        .map(|r| r.to_string());
    let mut all = needles.to_vec();
    if let (3, Ok(canonical)) = (code, &canonical) {
        all.push(canonical);
    }
    check_failure(reference, &out, "amhash-secrets: ", code, &all);
    assert_no_secret(&out, extra);
    let out = generate_with(reference, env);
    assert_error(&out, code, &all);
    assert_no_secret(&out, extra);
}

/// `amhash generate --encrypt am --key REFERENCE` of a password with a fixed salt.
pub fn generate_with(reference: &str, env: &[(&str, &str)]) -> Output {
    amhash(&[
        "generate",
        "--salt-hex",
        SALT,
        "--encrypt",
        "am",
        "--key",
        reference,
    ])
    .envs(env.iter().copied())
    .stdin(format!("{CLI_PW}\n"))
    .output()
}

/// `generate`, `encrypt`, `decrypt`, `verify` and `doctor` with `--key REFERENCE` all work,
/// and agree with the same commands given the password in a file: the whole path a key
/// from a manager takes. Returns the number of commands run.
#[track_caller]
pub fn assert_commands_work(reference: &str, env: &[(&str, &str)]) {
    let with = |args: &[&str], stdin: &str| {
        amhash(args)
            .args(["--key", reference])
            .envs(env.iter().copied())
            .stdin(stdin)
            .output()
    };
    let pw_line = format!("{CLI_PW}\n");
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("am.key");
    std::fs::write(&key_file, HELD).unwrap();
    std::fs::set_permissions(
        &key_file,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let file_key = format!("file:{}", key_file.display());

    // generate: the same value as with the key in a file (fixed salt; AM's JCE cipher with
    // a fixed salt is deterministic apart from its own random IV, so compare by decrypting).
    let out = with(
        &["generate", "--salt-hex", SALT, "--encrypt", "am"],
        &pw_line,
    );
    let value = ok_stdout(&out).trim().to_owned();
    assert_no_secret(&out, &[HELD]);
    let decrypted = ok_stdout(&run(&["decrypt", "--key", &file_key], format!("{value}\n")));
    let plain = ok_stdout(&run(&["generate", "--salt-hex", SALT], &pw_line));
    assert_eq!(decrypted.trim(), plain.trim(), "{reference}: generate");

    // encrypt, then decrypt with the manager's key.
    let out = with(&["encrypt", "--encrypt", "am"], &plain);
    let encrypted = ok_stdout(&out).trim().to_owned();
    let out = with(&["decrypt"], &format!("{encrypted}\n"));
    assert_eq!(
        ok_stdout(&out).trim(),
        plain.trim(),
        "{reference}: encrypt/decrypt"
    );

    // verify: 0 for the password, 1 for another.
    let expect = |out: &Output, code: i32, what: &str| {
        assert_eq!(
            out.status.code(),
            Some(code),
            "{reference}: {what} {}",
            describe(out)
        );
        assert_no_secret(out, &[HELD]);
    };
    let value_file = dir.path().join("value");
    std::fs::write(&value_file, &value).unwrap();
    let vf = value_file.to_str().unwrap();
    expect(&with(&["verify", "--hash-file", vf], &pw_line), 0, "verify");
    expect(
        &with(&["verify", "--hash-file", vf], "not-the-password\n"),
        1,
        "verify",
    );

    // install, then doctor: the installed ENCRYPTED_PLAIN value decrypts with the manager's
    // key.
    let store = dir.path().join("userpasswords");
    std::fs::create_dir(&store).unwrap();
    std::fs::set_permissions(&store, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let pw_file = dir.path().join("pw");
    std::fs::write(&pw_file, &pw_line).unwrap();
    let (store_arg, pw_arg) = (store.to_str().unwrap(), pw_file.to_str().unwrap());
    let install = [
        "install",
        "--no-backup",
        "--dir",
        store_arg,
        "--password-file",
        pw_arg,
    ];
    expect(
        &with(&[&install[..], &["--encrypt", "am"]].concat(), ""),
        0,
        "install",
    );
    expect(&with(&["doctor", "--dir", store_arg], ""), 0, "doctor");
}
