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

const BIN: &str = env!("CARGO_BIN_EXE_amhash");
const TIMEOUT_MS: u64 = 20_000;

/// Starts `amhash ARGS` on a fresh pty whose echo is on.
fn spawn(args: &[&str]) -> PtySession {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(r#"stty echo && exec "$0" "$@""#)
        .arg(BIN)
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

/// On a terminal the password is taken as typed: the reference script only strips what
/// arrives on stdin, and so does amhash.
#[test]
fn terminal_entry_is_not_stripped() {
    let password = "  spaced out ";
    let mut session = spawn(&["generate"]);
    let mut seen = answer(&mut session, "Password: ", password);
    seen += &answer(&mut session, "Confirm: ", password);
    let (rest, code) = finish(session);
    seen += &rest;
    assert_eq!(code, 0, "{seen:?}");
    let hash = value_in(&seen);
    assert!(hash.verify(password.as_bytes()));
    assert!(!hash.verify(b"spaced out"));
    let value = hash.to_string();
    // Typed at the prompt again: only the exact entry, spaces included, matches.
    for (typed, want) in [(password, 0), ("spaced out", 1), ("  spaced out", 1)] {
        let mut session = spawn(&["verify", "--hash", &value]);
        answer(&mut session, "Password: ", typed);
        let (_, code) = finish(session);
        assert_eq!(code, want, "{typed:?}");
    }
    // Piped, the line is stripped first, so the spaces are lost and it does not match.
    let out = std::process::Command::new(BIN)
        .args(["verify", "--hash", &value])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(format!("{password}\n").as_bytes())?;
            child.wait()
        })
        .unwrap();
    assert_eq!(out.code(), Some(1));
}

/// A tab and non-ASCII typed at the prompt are part of the password, as with Python's
/// getpass (which only turns echo off). A raw-mode reader that drops control characters
/// would hash `ab-ü` here and fail this test.
#[test]
fn terminal_entry_keeps_tabs_and_non_ascii() {
    let password = "a\tb-ü-Tab-Kept-7";
    let mut session = spawn(&["generate"]);
    let mut seen = answer(&mut session, "Password: ", password);
    seen += &answer(&mut session, "Confirm: ", password);
    let (rest, code) = finish(session);
    seen += &rest;
    assert_eq!(code, 0, "{seen:?}");
    let hash = value_in(&seen);
    assert!(hash.verify(password.as_bytes()), "{seen:?}");
    assert!(!hash.verify("ab-ü-Tab-Kept-7".as_bytes()));
}
