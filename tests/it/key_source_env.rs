//! `env:VAR` against a real process environment: the parent sets a uniquely named variable
//! on a child run of this test binary (the library forbids `unsafe`, and edition 2024 makes
//! `std::env::set_var` unsafe, so the test does not modify its own environment).

use crate::support::*;

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::process::Command;

use amhash::key_source::{KeySource, KeySourceError, KeyringBackend};
use secrecy::ExposeSecret;

const NAME_VAR: &str = "AMHASH_TEST_ENV_NAME";

fn run_child_step(step: &str) {
    let var = std::env::var(NAME_VAR).expect("variable name");
    let source: KeySource = format!("env:{var}").parse().expect("valid");
    let result = source.read(KeyringBackend::Auto);
    match step.split_once(':').unwrap_or((step, "")) {
        ("ok", hex_want) => {
            let got = result.expect("readable");
            assert_eq!(hex::encode(got.expose_secret()), hex_want);
        }
        ("empty", _) => assert!(matches!(result, Err(KeySourceError::Empty { .. }))),
        ("not_unicode", _) => assert!(matches!(result, Err(KeySourceError::EnvNotUnicode { .. }))),
        ("unset", _) => {
            let err = result.expect_err("unset");
            assert!(err.to_string().contains(&var), "{err}");
            assert!(matches!(err, KeySourceError::EnvNotSet { .. }));
        }
        (other, _) => panic!("unknown step {other}"),
    }
    child_done(step);
}

/// (value of the variable, None = unset; expected key; expected outcome)
type Case = (Option<&'static [u8]>, &'static [u8], &'static str);

#[test]
fn env_source_reads_the_process_environment() {
    const TEST: &str = "key_source_env::env_source_reads_the_process_environment";
    if ran_as_child(run_child_step) {
        return;
    }
    let var = unique("AMHASH_TEST_ENV").replace('-', "_");
    let cases: &[Case] = &[
        (Some(b"s3cret value\n"), b"s3cret value", "ok"),
        (Some(b"k\n\n"), b"k\n", "ok"),
        (Some(b"k\r\n"), b"k", "ok"),
        (Some(b"no newline"), b"no newline", "ok"),
        (Some(b""), b"", "empty"),
        (Some(b"\n"), b"", "empty"),
        (Some(b"\xff\xfe"), b"", "not_unicode"),
        (None, b"", "unset"),
    ];
    for (value, want, kind) in cases {
        let step = if *kind == "ok" {
            format!("ok:{}", hex::encode(want))
        } else {
            (*kind).to_owned()
        };
        let args = self_args(TEST);
        let mut cmd = Command::new(&args[0]);
        cmd.args(&args[1..])
            .env(STEP_VAR, &step)
            .env(NAME_VAR, &var);
        match value {
            Some(v) => cmd.env(&var, OsString::from_vec(v.to_vec())),
            None => cmd.env_remove(&var),
        };
        run_child(cmd).assert_done(&step, 1);
    }
}
