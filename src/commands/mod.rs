//! One module per subcommand. Each takes its parsed arguments, does its work through the
//! library, prints its result and returns an [`Outcome`] or a [`Failure`].

mod crypt;
mod crypt_cmds;
mod docs;
mod doctor;
mod generate;
mod install;
mod key;
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
        Command::Install(args) => install::run(args),
        Command::Doctor(args) => doctor::run(args),
        Command::Encrypt(args) => crypt_cmds::encrypt(args),
        Command::Decrypt(args) => crypt_cmds::decrypt(args),
        Command::Key(command) => key::run(command),
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

/// The report of a command that prints a value: the value, and the AM settings it needs.
fn value_report(value: String, protection: &crypt::Protection) -> Report {
    let mut report = Report::with_value(value).field("encryption", protection.describe());
    match protection.format() {
        Some(format) => {
            report = report.field("format", format.to_string());
            let mut properties = serde_json::Map::new();
            properties.insert(amhash::store::PROP_PASSWORDS_FORMAT.into(), format.to_string().into());
            if let Some(key) = protection.kms_key() {
                properties.insert(amhash::store::PROP_GOOGLE_KMS_DECRYPTION_KEY.into(), key.into());
            }
            report = report.field("am_properties", serde_json::Value::Object(properties));
        }
        None => {
            report = report.field("format", serde_json::Value::Null);
            report.warnings.push(
                "AM cannot read an AES-GCM value: decrypt it (amhash decrypt) before installing it".into(),
            );
        }
    }
    report
}
