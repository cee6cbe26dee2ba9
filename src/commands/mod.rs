//! One module per subcommand, and nothing else: each reads its parsed arguments, calls the
//! library (through `options` for flags that become library values) and returns a
//! [`Report`] or a [`Failure`]. No command imports another.

mod crypt_cmds;
mod docs;
mod doctor;
mod generate;
mod install;
mod key;
mod verify;

use crate::cli::Command;
use crate::failure::Failure;
use crate::output::Report;

pub fn run(command: Command) -> Result<Report, Failure> {
    match command {
        Command::Generate(args) => generate::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Install(args) => install::run(*args),
        Command::Doctor(args) => doctor::run(args),
        Command::Encrypt(args) => crypt_cmds::encrypt(args),
        Command::Decrypt(args) => crypt_cmds::decrypt(args),
        Command::Key(command) => key::run(command),
        Command::Completions { shell } => docs::completions(shell),
        Command::Man => docs::man(),
    }
}
