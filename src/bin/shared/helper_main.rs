//! The `main` every network helper binary shares (`amhash-kms`, `amhash-secrets`): protect
//! the process, parse the arguments, do the ready handshake, run, and report a failure as
//! the contract says (one line on stderr, exit 2 or 3). Included with `#[path]`, because it
//! needs clap, which the library does not use.

use std::io::{self, Write};
use std::process::ExitCode;

use amhash::error::Fault;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// A helper's command line: the hidden handshake flag, then one operation.
#[derive(Parser, Debug)]
#[command(version, max_term_width = 100)]
struct Cli<Op: Subcommand> {
    /// amhash's ready handshake (see `amhash::helper`): signal readiness on stdout once
    /// protected, before reading the input. Comes before the operation.
    #[arg(long = "handshake", hide = true)]
    handshake: bool,
    #[command(subcommand)]
    op: Op,
}

/// What `--help` says of a helper.
pub struct About {
    /// The binary's name.
    pub name: &'static str,
    /// One line.
    pub about: &'static str,
    /// The whole text (`--help`).
    pub long_about: &'static str,
}

/// Runs a helper: `run` gets the operation once the process is protected (and, with
/// `--handshake`, once amhash has been told it is ready) and returns a failure as whose
/// fault it is and one line.
pub fn main<Op: Subcommand>(
    about: &About,
    run: impl FnOnce(Op) -> Result<(), (Fault, String)>,
) -> ExitCode {
    let name = about.name;
    // No core dump and no ptrace or /proc/PID/mem by this user's other processes while the
    // secret and the credentials are in memory.
    let protected = amhash::hardening::protect_process();
    let parsed = Cli::<Op>::command()
        .name(name)
        .bin_name(name)
        .about(about.about)
        .long_about(about.long_about)
        .try_get_matches()
        .and_then(|m| Cli::<Op>::from_arg_matches(&m));
    let cli = match parsed {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                // Help and version go to stdout (or stderr for the missing-subcommand case)
                // exactly as clap renders them.
                let _ = e.print();
                return if e.use_stderr() {
                    ExitCode::from(Fault::Input.exit_code())
                } else {
                    ExitCode::SUCCESS
                };
            }
            // Keep the one-line contract.
            let message = amhash::helper::usage_line(&e.render().to_string());
            return fail(
                name,
                Fault::Input,
                &format!("{message} (see {name} --help)"),
            );
        }
    };
    if cli.handshake {
        // amhash sends its input only after this: fail closed, without reading it. Not a
        // usage error: an operational failure (exit 3) in the contract.
        if let Err(message) = amhash::helper::ready_for_secrets(protected) {
            return fail(name, Fault::Operational, &message);
        }
    } else if let Err(e) = protected {
        let _ = writeln!(
            io::stderr().lock(),
            "{name}: warning: cannot disable core dumps for this process: {e}"
        );
    }
    match run(cli.op) {
        Ok(()) => ExitCode::SUCCESS,
        Err((fault, message)) => fail(name, fault, &message),
    }
}

fn fail(name: &str, fault: Fault, message: &str) -> ExitCode {
    let line: String = message.chars().filter(|c| !c.is_control()).collect();
    let _ = writeln!(io::stderr().lock(), "{name}: {line}");
    ExitCode::from(fault.exit_code())
}

/// Writes `data` to stdout (the socket, under the handshake) and flushes it.
pub fn write_stdout(data: &[u8]) -> Result<(), (Fault, String)> {
    let mut out = io::stdout().lock();
    out.write_all(data).and_then(|()| out.flush()).map_err(|e| {
        (
            Fault::Operational,
            format!("cannot write standard output: {e}"),
        )
    })
}

/// The parser of a helper's time limit in whole seconds: 1 to 3600.
pub fn secs() -> clap::builder::RangedU64ValueParser<u64> {
    clap::value_parser!(u64).range(1..=3600)
}
