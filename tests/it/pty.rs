//! The terminal path, through a real pseudo-terminal.
//!
//! rexpect switches echo off on the pty before it starts the program, which would make "the
//! password is not echoed" true by construction. So every session starts through
//! `sh -c 'stty echo && exec ...'`: the terminal echoes, as a user's does, and only amhash
//! can turn that off. A control test shows the same harness does see echoed input.
//!
//! Typing waits until the terminal's ECHO flag is off (read from the master side, which
//! shares the slave's termios): the prompt is written just before echo is switched off, and
//! a human is never fast enough to hit that window, but a test would be.

use std::process::Command;
use std::time::{Duration, Instant};

use amhash::ssha::SshaHash;
use rexpect::process::WaitStatus;
use rexpect::session::{PtySession, spawn_command};
use rustix::termios::{LocalModes, tcgetattr};

use crate::support::AMHASH;
const TIMEOUT_MS: u64 = 20_000;

/// Starts `amhash ARGS` on a fresh pty whose echo is on.
fn spawn(args: &[&str]) -> PtySession {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(r#"stty echo && exec "$0" "$@""#)
        .arg(AMHASH)
        .args(args);
    spawn_command(cmd, Some(TIMEOUT_MS)).expect("spawn amhash on a pty")
}

fn echo_is_on(session: &PtySession) -> bool {
    let master = session.process().get_file_handle().unwrap();
    tcgetattr(&master)
        .unwrap()
        .local_modes
        .contains(LocalModes::ECHO)
}

/// Waits for `prompt`, then for echo to be off, then types `text` and Enter.
fn answer(session: &mut PtySession, prompt: &str, text: &str) -> String {
    let before = session.exp_string(prompt).unwrap();
    let deadline = Instant::now() + Duration::from_millis(TIMEOUT_MS);
    while echo_is_on(session) {
        assert!(
            Instant::now() < deadline,
            "echo never went off after {prompt:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    session.send(text).unwrap();
    session.send("\r").unwrap();
    session.flush().unwrap();
    before
}

/// Reads everything up to the end and returns (output, exit code).
fn finish(mut session: PtySession) -> (String, i32) {
    let rest = session.exp_eof().unwrap();
    let code = match session.process().wait().unwrap() {
        WaitStatus::Exited(_, code) => code,
        other => panic!("amhash did not exit normally: {other:?}"),
    };
    (rest, code)
}

fn value_in(output: &str) -> SshaHash {
    let line = output
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("{SSHA-512}"))
        .unwrap_or_else(|| panic!("no value in {output:?}"));
    line.parse().unwrap()
}

/// Control: with the same harness, a program that does not turn echo off shows the input.
#[test]
fn control_the_harness_sees_echoed_input() {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(r#"stty echo && printf 'Type: ' && read x && echo "got:$x""#);
    let mut session = spawn_command(cmd, Some(TIMEOUT_MS)).unwrap();
    session.exp_string("Type: ").unwrap();
    session.send_line("visible-Echo-42").unwrap();
    let out = session.exp_eof().unwrap();
    assert_eq!(out.matches("visible-Echo-42").count(), 2, "{out:?}");
}

#[test]
fn generate_prompts_twice_without_echo_and_prints_the_value() {
    let password = "pty-Secret-9f3a";
    let mut session = spawn(&["generate"]);
    let mut seen = answer(&mut session, "Password: ", password);
    seen += &answer(&mut session, "Confirm: ", password);
    let (rest, code) = finish(session);
    seen += &rest;
    assert_eq!(code, 0, "{seen:?}");
    assert!(
        !seen.contains(password),
        "the password was echoed: {seen:?}"
    );
    let hash = value_in(&seen);
    assert!(hash.verify(password.as_bytes()));
    assert!(!hash.verify(b"pty-Secret-9f3"));
}

#[test]
fn generate_refuses_a_mismatched_confirmation() {
    let mut session = spawn(&["generate"]);
    let mut seen = answer(&mut session, "Password: ", "first-Entry-1");
    seen += &answer(&mut session, "Confirm: ", "second-Entry-2");
    let (rest, code) = finish(session);
    seen += &rest;
    assert_eq!(code, 2, "{seen:?}");
    assert!(seen.contains("do not match"), "{seen:?}");
    assert!(
        !seen.contains("{SSHA-512}"),
        "a value was printed: {seen:?}"
    );
    assert!(!seen.contains("first-Entry-1") && !seen.contains("second-Entry-2"));
}

#[test]
fn generate_refuses_an_empty_entry_without_asking_to_confirm() {
    let mut session = spawn(&["generate"]);
    let mut seen = answer(&mut session, "Password: ", "");
    let (rest, code) = finish(session);
    seen += &rest;
    assert_eq!(code, 2, "{seen:?}");
    assert!(seen.contains("empty"), "{seen:?}");
    assert!(!seen.contains("Confirm"), "{seen:?}");
    assert!(!seen.contains("{SSHA-512}"), "{seen:?}");
}

#[test]
fn verify_prompts_once_and_exits_0_or_1() {
    let value = SshaHash::with_salt(
        b"verify-Me-77",
        amhash::ssha::Salt::new(vec![3; 20]).unwrap(),
    )
    .to_string();
    for (typed, want) in [("verify-Me-77", 0), ("verify-Me-78", 1)] {
        let mut session = spawn(&["verify", "--hash", &value]);
        let mut seen = answer(&mut session, "Password: ", typed);
        let (rest, code) = finish(session);
        seen += &rest;
        assert_eq!(code, want, "{typed}: {seen:?}");
        assert!(!seen.contains("Confirm"), "{seen:?}");
        assert!(!seen.contains(typed), "echoed: {seen:?}");
        let verdict = if want == 0 {
            "the password matches"
        } else {
            "does not match"
        };
        assert!(seen.contains(verdict), "{seen:?}");
    }
}

/// A password typed at the prompt: what generate must hash exactly, what it must not
/// match, how `verify` answers when it is typed again, and its exit code when piped instead.
struct Typed {
    name: &'static str,
    password: &'static str,
    not: &'static [&'static str],
    retyped: &'static [(&'static str, i32)],
    piped: Option<i32>,
}

const TYPED: &[Typed] = &[
    // The reference script only strips what arrives on stdin, and so does amhash: typed, the
    // spaces are part of the password; piped, the line is stripped first, so it does not match.
    Typed {
        name: "leading and trailing spaces",
        password: "  spaced out ",
        not: &["spaced out"],
        retyped: &[("  spaced out ", 0), ("spaced out", 1), ("  spaced out", 1)],
        piped: Some(1),
    },
    // A tab and non-ASCII are part of the password, as with Python's getpass (which only
    // turns echo off). A raw-mode reader that drops control characters would hash `ab-ü`.
    Typed {
        name: "tab and non-ASCII",
        password: "a\tb-ü-Tab-Kept-7",
        not: &["ab-ü-Tab-Kept-7"],
        retyped: &[],
        piped: None,
    },
];

#[test]
fn terminal_entry_is_taken_as_typed() {
    for t in TYPED {
        let mut session = spawn(&["generate"]);
        let mut seen = answer(&mut session, "Password: ", t.password);
        seen += &answer(&mut session, "Confirm: ", t.password);
        let (rest, code) = finish(session);
        seen += &rest;
        assert_eq!(code, 0, "{}: {seen:?}", t.name);
        let hash = value_in(&seen);
        assert!(hash.verify(t.password.as_bytes()), "{}: {seen:?}", t.name);
        for not in t.not {
            assert!(!hash.verify(not.as_bytes()), "{}: {not:?}", t.name);
        }
        let value = hash.to_string();
        for (typed, want) in t.retyped {
            let mut session = spawn(&["verify", "--hash", &value]);
            answer(&mut session, "Password: ", typed);
            let (_, code) = finish(session);
            assert_eq!(code, *want, "{}: {typed:?}", t.name);
        }
        if let Some(want) = t.piped {
            let stdin = format!("{}\n", t.password);
            let out = crate::support::run(&["verify", "--hash", &value], stdin.as_bytes());
            assert_eq!(out.status.code(), Some(want), "{}: piped", t.name);
        }
    }
}
