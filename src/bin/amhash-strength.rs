//! `amhash-strength`: the password strength helper of `amhash` (see `amhash::strength` for
//! the contract).
//!
//! It exists so that zxcvbn, which only `amhash install` needs, is not loaded by every
//! `amhash generate`. Thin on purpose: read stdin, call `amhash::strength::assess`, print one
//! line of JSON; on any failure print one line on stderr and exit 2.
#![forbid(unsafe_code)]
// A helper binary talks to amhash on stdout and stderr: printing is its job.
#![allow(clippy::print_stderr)]

use std::io::{self, Write};
use std::process::ExitCode;

use amhash::input::{InputError, read_all};
use amhash::strength::{HELPER_MAX_INPUT, assess};
use clap::Parser;

/// Password strength helper for amhash: reads a password on standard input (UTF-8, at most
/// 400 bytes, nothing added) and prints zxcvbn's estimate as one line of JSON:
/// {"guesses_log10":F,"warning":"..."|null}. Exit status: 0 success, 2 any failure.
#[derive(Parser, Debug)]
#[command(name = "amhash-strength", version, max_term_width = 100)]
struct Cli {
    /// amhash's ready handshake (see `amhash::helper`): signal readiness on stdout once
    /// protected, before reading the password.
    #[arg(long = "handshake", hide = true)]
    handshake: bool,
}

fn main() -> ExitCode {
    // As in amhash: no core dump, no ptrace by this user's other processes while the
    // password is in memory.
    let protected = amhash::hardening::protect_process();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            let message = amhash::helper::usage_line(&e.render().to_string());
            return fail(&format!(
                "{message} (it takes no arguments; see amhash-strength --help)"
            ));
        }
        Err(e) => {
            // --help, --version: on stdout, as clap renders them.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    if cli.handshake {
        // amhash sends the password only after this: fail closed, without reading it.
        if let Err(message) = amhash::helper::ready_for_secrets(protected) {
            return fail(&message);
        }
    } else if let Err(e) = protected {
        eprintln!("amhash-strength: warning: cannot disable core dumps for this process: {e}");
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

fn fail(message: &str) -> ExitCode {
    let line: String = message.chars().filter(|c| !c.is_control()).collect();
    let _ = writeln!(io::stderr().lock(), "amhash-strength: {line}");
    ExitCode::from(amhash::error::Fault::Input.exit_code())
}

fn run() -> Result<(), String> {
    let input = read_all(io::stdin().lock(), HELPER_MAX_INPUT).map_err(|e| match e {
        InputError::TooLong { .. } => format!(
            "the input is longer than {HELPER_MAX_INPUT} bytes: send at most the first 100 characters"
        ),
        InputError::Io(e) => format!("cannot read standard input: {e}"),
    })?;
    let password = std::str::from_utf8(&input)
        .map_err(|_| "the input is not UTF-8: send the password as amhash reads it".to_owned())?;
    if password.is_empty() {
        return Err("the input is empty: send the password on standard input".to_owned());
    }
    let mut line = serde_json::to_string(&assess(password))
        .map_err(|e| format!("cannot encode the estimate: {e}"))?;
    line.push('\n');
    let mut out = io::stdout().lock();
    out.write_all(line.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write standard output: {e}"))
}
