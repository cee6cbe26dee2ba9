//! One module per subcommand. Each takes its parsed arguments, does its work through the
//! library, prints its result and returns an [`Outcome`] or a [`Failure`].

mod docs;
mod generate;
mod verify;

use crate::cli::{Command, PasswordArgs};
use crate::failure::Failure;
use crate::output::Report;
use amhash::password;
use secrecy::SecretString;

pub fn run(command: Command) -> Result<Report, Failure> {
    match command {
        Command::Generate(args) => generate::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Completions { shell } => docs::completions(shell),
        Command::Man => docs::man(),
    }
}

/// Reads the password by the reference script's rules (`confirm`: ask twice on a terminal).
fn read_password(args: &PasswordArgs, confirm: bool) -> Result<SecretString, Failure> {
    let source = match &args.password_file {
        Some(path) => password::Source::File(path.clone()),
        None => password::Source::Stdin,
    };
    Ok(source.read(confirm)?)
}
