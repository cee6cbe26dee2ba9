//! The `amhash` command: parse the arguments, run one command, turn its outcome into an
//! exit code. Everything else lives in `cli` (the clap definition), `commands` (one module
//! per subcommand) and the library.
#![forbid(unsafe_code)]

mod cli;
mod commands;
mod failure;
mod options;
mod output;

use std::process::ExitCode;

fn main() -> ExitCode {
    // Before anything can read a secret: no core dumps, no ptrace or /proc/PID/mem by
    // other processes of this user. A failure is not fatal (nothing is in memory yet), but
    // it is reported.
    if let Err(e) = amhash::hardening::protect_process() {
        output::early_warning(&format!("cannot disable core dumps for this process: {e}"));
    }
    let cli = match cli::parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let mode = output::Mode::new(cli.json, cli.quiet);
    match commands::run(cli.command) {
        Ok(report) => report.emit(mode),
        Err(failure) => output::report_failure(failure, mode),
    }
}
