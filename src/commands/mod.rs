//! One module per subcommand. Each takes its parsed arguments, does its work through the
//! library, prints its result and returns an [`Outcome`] or a [`Failure`].

mod generate;
mod verify;

use crate::cli::{Cli, Command, PasswordArgs};
use crate::failure::{Failure, Outcome};
use amhash::password;
use secrecy::SecretString;

pub fn run(cli: Cli) -> Result<Outcome, Failure> {
    match cli.command {
        Command::Generate(args) => generate::run(args),
        Command::Verify(args) => verify::run(args),
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
