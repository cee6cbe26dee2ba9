//! The command-line definition. Completions and the man page are generated from this same
//! definition, so help text written here is the documentation.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand};

pub const EXIT_CODES: &str = "\
Exit codes:
  0  success (verify: the password matches)
  1  verify: the password does not match
  2  malformed input or usage error
  3  I/O or other operational failure (wrong key, altered data, keyring, KMS)";

#[derive(Debug, Parser)]
#[command(
    name = "amhash",
    version,
    about = "Make, check, encrypt and install the {SSHA-512} amAdmin password for ForgeRock / Ping AM",
    long_about = "Make, check, encrypt and install the {SSHA-512} value that AM's special secret store \
                  reads for amAdmin (file password.amadmin, variable PASSWORD_AMADMIN or system property \
                  password.amadmin).\n\nPasswords are never taken on the command line: they come from the \
                  terminal (without echo), the first line of standard input, or --password-file.",
    after_help = EXIT_CODES,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Hash a password into a {SSHA-512} value and print it on one line.
    #[command(after_help = EXIT_CODES)]
    Generate(GenerateArgs),
    /// Check a password against a {SSHA-512} value (exit 0 match, 1 no match).
    #[command(after_help = EXIT_CODES)]
    Verify(VerifyArgs),
}

/// Where the password comes from. There is deliberately no flag that takes the password
/// itself: the command line is visible to every local user.
#[derive(Debug, Args)]
pub struct PasswordArgs {
    /// Read the password from the first line of PATH (whitespace stripped as Python's
    /// str.strip() does). Without it: a terminal prompt without echo when stdin is a
    /// terminal, else the first line of stdin.
    #[arg(long, value_name = "PATH")]
    pub password_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub password: PasswordArgs,

    /// Use this salt (hex, 1 to 255 bytes) instead of 20 random bytes. For test vectors and
    /// reproducible tests only: a fixed salt in production defeats the point of salting.
    #[arg(long, value_name = "HEX")]
    pub salt_hex: Option<String>,
}

#[derive(Debug, Args)]
#[group(id = "value", required = true, multiple = false)]
pub struct ValueArgs {
    /// The {SSHA-512} value to check. Prefer --hash-file: a command line is visible to other
    /// local users, and a fast salted hash can be brute-forced.
    #[arg(long, value_name = "VALUE", group = "value")]
    pub hash: Option<String>,

    /// Read the value from PATH (one trailing newline is accepted).
    #[arg(long, value_name = "PATH", group = "value")]
    pub hash_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub value: ValueArgs,

    #[command(flatten)]
    pub password: PasswordArgs,
}

/// Parses the command line. Usage errors are reported on one line and exit 2; `--help`
/// and `--version` print and exit 0.
pub fn parse() -> Result<Cli, ExitCode> {
    Cli::try_parse().map_err(|e| {
        use clap::error::ErrorKind;
        match e.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                let _ = e.print();
                ExitCode::SUCCESS
            }
            ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                // No command given: a usage error like any other, so one line on stderr
                // (clap would dump the whole help there) naming what to run instead.
                let names: Vec<String> = Cli::command()
                    .get_subcommands()
                    .map(|c| c.get_name().to_string())
                    .collect();
                eprintln!(
                    "amhash: error: no command given: use one of {} (see amhash --help)",
                    names.join(", ")
                );
                ExitCode::from(2)
            }
            _ => {
                // clap's message is the first paragraph (a list of missing arguments
                // continues on indented lines); fold it onto one line.
                let rendered = e.render().to_string();
                let first: Vec<&str> = rendered
                    .lines()
                    .take_while(|line| !line.trim().is_empty())
                    .map(str::trim)
                    .collect();
                let message = first.join(" ");
                let message = message.trim_start_matches("error: ");
                eprintln!("amhash: error: {message} (see amhash --help)");
                ExitCode::from(2)
            }
        }
    })
}

/// The clap command, for completions and the man page.
#[allow(dead_code)]
pub fn command() -> clap::Command {
    Cli::command()
}
