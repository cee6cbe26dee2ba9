//! The `amhash` command: parse the arguments, run one command, turn its outcome into an
//! exit code. Everything else lives in `cli` (the clap definition), `commands` (one module
//! per subcommand) and the library.
#![forbid(unsafe_code)]

mod cli;
mod commands;
mod failure;

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match cli::parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    match commands::run(cli) {
        Ok(outcome) => outcome.into(),
        Err(failure) => failure.report(),
    }
}
