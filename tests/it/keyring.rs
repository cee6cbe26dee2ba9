//! Real OS keyrings, both backends, each value stored by one process and read by another.
//!
//! The test binary re-runs itself (see `support::child`): every step below is a separate
//! process. keyutils steps run under `keyctl session -`, i.e. each in its own fresh, throw-away
//! session keyring, which proves that what amhash stores survives the session it was stored
//! from. Secret Service steps run inside one `dbus-run-session` with an isolated HOME and
//! a gnome-keyring-daemon unlocked with a test password.
//!
//! Needs `keyctl`, `dbus-run-session` and `gnome-keyring-daemon` (Debian: keyutils, dbus,
//! gnome-keyring; see .ci/keyring-setup.sh). Missing tools fail the tests.

use crate::support::*;

use std::process::Command;

use amhash::error::{Error as _, Fault};
use amhash::key_source::{KeySource, KeySourceError, KeyringBackend, KeyringProblem};
use secrecy::ExposeSecret;

const SOURCE_VAR: &str = "AMHASH_TEST_KEY_SOURCE";
const BACKEND_VAR: &str = "AMHASH_TEST_KEYRING_BACKEND";
const KEYRING_PASSWORD: &str = "amhash-test-keyring-password";

const SECRET_1: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const SECRET_2: &str = "AM encryption password, replaced";

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("child step needs {name}"))
}

fn keyring_problem(err: KeySourceError, backend: KeyringBackend) -> KeyringProblem {
    let msg = err.to_string();
    match err {
        KeySourceError::Keyring {
            backend: b,
            problem,
            service,
            account,
        } => {
            assert_eq!(b, backend, "{msg}");
            assert!(
                msg.contains(&format!("keyring:{service}/{account}")),
                "{msg}"
            );
            problem
        }
        other => panic!("expected a keyring error, got {other:?}"),
    }
}

/// `err` is the keyring problem `want`, and its message holds `needle`.
fn assert_problem(
    err: KeySourceError,
    backend: KeyringBackend,
    want: KeyringProblem,
    needle: &str,
) {
    let msg = err.to_string();
    assert_eq!(keyring_problem(err, backend), want, "{msg}");
    assert!(msg.contains(needle), "{msg}");
}

/// One step, in a child process.
fn run_child_step(step: &str) {
    let source: KeySource = env(SOURCE_VAR).parse().expect("valid source");
    let backend: KeyringBackend = env(BACKEND_VAR).parse().expect("valid backend");
    let (op, arg) = step.split_once(':').unwrap_or((step, ""));
    match op {
        "create_new" => source
            .create_new(arg.as_bytes(), backend)
            .expect("create_new"),
        "store" => source.store(arg.as_bytes(), backend).expect("store"),
        "read" => {
            let got = source.read(backend).expect("read");
            assert!(
                got.expose_secret() == arg.as_bytes(),
                "read back a different secret"
            );
        }
        "read_auto" => {
            let got = source.read(KeyringBackend::Auto).expect("read with auto");
            assert!(
                got.expose_secret() == arg.as_bytes(),
                "auto read a different secret"
            );
        }
        "create_new_refused" => {
            let err = source
                .create_new(b"must not replace", backend)
                .expect_err("exists");
            assert!(err.fault() == Fault::Operational);
            assert_eq!(keyring_problem(err, backend), KeyringProblem::AlreadyExists);
        }
        "read_missing" => {
            let err = source.read(backend).expect_err("no entry");
            assert_problem(err, backend, KeyringProblem::NoEntry, "amhash key store");
        }
        "read_locked" => {
            let err = source.read(backend).expect_err("locked");
            let msg = err.to_string();
            let problem = keyring_problem(err, backend);
            assert!(
                matches!(problem, KeyringProblem::Locked(_)),
                "{problem:?}: {msg}"
            );
            assert!(msg.contains("locked") && msg.contains("--unlock"), "{msg}");
        }
        "no_bus" => {
            let err = source.read(backend).expect_err("no bus");
            let want = KeyringProblem::NoSessionBus;
            assert_problem(err, backend, want, "DBUS_SESSION_BUS_ADDRESS");
        }
        "delete" => source.delete(backend).expect("delete"),
        "resolve" => assert_eq!(KeyringBackend::Auto.resolve().to_string(), arg),
        other => panic!("unknown step {other}"),
    }
    child_done(step);
}

/// Removes a keyutils entry even when the test fails half-way (the user keyring outlives
/// the test run).
struct Cleanup(KeySource);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = self.0.delete(KeyringBackend::Keyutils);
    }
}

#[test]
fn keyutils_round_trip_across_processes() {
    const TEST: &str = "keyring::keyutils_round_trip_across_processes";
    if ran_as_child(run_child_step) {
        return;
    }
    require_tools(&["keyctl"]);
    let reference = format!("keyring:amhash-test/{}", unique("keyutils"));
    let source: KeySource = reference.parse().expect("valid");
    let _cleanup = Cleanup(source.clone());

    let in_fresh_session = |step: &str| {
        let mut cmd = Command::new("keyctl");
        cmd.args(["session", "-"])
            .args(self_args(TEST))
            .env(STEP_VAR, step)
            .env(SOURCE_VAR, &reference)
            .env(BACKEND_VAR, "keyutils");
        run_child(cmd).assert_done(step, 1);
    };
    in_fresh_session("read_missing");
    in_fresh_session(&format!("create_new:{SECRET_1}"));
    in_fresh_session(&format!("read:{SECRET_1}"));
    in_fresh_session("create_new_refused");
    in_fresh_session(&format!("store:{SECRET_2}"));
    in_fresh_session(&format!("read:{SECRET_2}"));

    // This process never joined a new session keyring, and sees the same entry.
    let got = source
        .read(KeyringBackend::Keyutils)
        .expect("read outside the sessions");
    assert!(got.expose_secret() == SECRET_2.as_bytes());

    in_fresh_session("delete");
    let err = source.read(KeyringBackend::Keyutils).expect_err("deleted");
    assert!(err.to_string().contains("kernel keyutils"), "{err}");
    assert_eq!(
        keyring_problem(err, KeyringBackend::Keyutils),
        KeyringProblem::NoEntry
    );
    in_fresh_session("read_missing");
}

#[test]
fn secret_service_round_trip_across_processes() {
    const TEST: &str = "keyring::secret_service_round_trip_across_processes";
    if ran_as_child(run_child_step) {
        return;
    }
    require_tools(&["dbus-run-session", "gnome-keyring-daemon"]);
    let home = Fixture::empty();
    let reference = format!("keyring:amhash-test/{}", unique("ss"));

    // $1 = the test binary, $2 = the test name, $3 = how to start the daemon, rest = steps.
    let script = format!(
        r#"{START_KEYRING}
        exe=$1; test=$2; mode=$3; shift 3
        start_keyring "$mode"
        for step in "$@"; do
            AMHASH_TEST_CHILD_STEP=$step "$exe" --exact "$test" --nocapture --test-threads=1 || exit 91
        done
    "#
    );
    let session = |mode: &str, steps: &[String]| {
        let mut cmd = Command::new("dbus-run-session");
        cmd.args(["--", "sh", "-c", &script, "sh"])
            .args([&self_args(TEST)[0], TEST, mode])
            .args(steps)
            .env("HOME", home.root())
            .env("AMHASH_TEST_KEYRING_PASSWORD", KEYRING_PASSWORD)
            .env(SOURCE_VAR, &reference)
            .env(BACKEND_VAR, "secret-service");
        for var in SESSION_VARS {
            cmd.env_remove(var);
        }
        run_child(cmd).assert_done(&format!("dbus session ({mode})"), steps.len());
    };

    let steps: Vec<String> = [
        "resolve:secret-service".to_owned(),
        "read_missing".to_owned(),
        format!("create_new:{SECRET_1}"),
        format!("read:{SECRET_1}"),
        "create_new_refused".to_owned(),
        format!("store:{SECRET_2}"),
        format!("read:{SECRET_2}"),
        format!("read_auto:{SECRET_2}"),
    ]
    .into();
    session("unlocked", &steps);
    // The keyring file in HOME outlives the bus; a daemon started without the password
    // finds it locked, and no unlock prompt can be shown without a display.
    session("locked", &["read_locked".to_owned()]);
    session(
        "unlocked",
        &[
            format!("read:{SECRET_2}"),
            "delete".to_owned(),
            "read_missing".to_owned(),
        ],
    );

    // Without a session bus: explicit secret-service fails clearly, auto means keyutils.
    for step in ["no_bus", "resolve:keyutils"] {
        let mut cmd = Command::new(&self_args(TEST)[0]);
        cmd.args(&self_args(TEST)[1..])
            .env(STEP_VAR, step)
            .env(SOURCE_VAR, &reference)
            .env(BACKEND_VAR, "secret-service")
            .env_remove("DBUS_SESSION_BUS_ADDRESS");
        run_child(cmd).assert_done(step, 1);
    }
}
