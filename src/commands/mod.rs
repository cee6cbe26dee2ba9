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

use crate::cli::{Command, NewPasswordArgs, PasswordArgs};
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

/// What to do with a weak password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WeakPolicy {
    /// `generate`: warn on stderr, still print (parity with the reference script).
    Warn,
    /// `install`: refuse, unless --allow-weak.
    Refuse,
    /// `install --allow-weak`.
    Allow,
}

/// A password for a new value: random, or read and checked for strength. A random password
/// is not handed over here: the caller calls [`hand_over_random`] once it is sure to use it
/// (install: after every target was checked).
fn new_password(
    args: &PasswordArgs,
    new: &NewPasswordArgs,
    policy: WeakPolicy,
    warnings: &mut Vec<String>,
) -> Result<SecretString, Failure> {
    if new.random {
        return amhash::strength::random_password().map_err(|e| {
            Failure::operational(format!("the operating system's random source failed: {e}"))
        });
    }
    let password = read_password(args, true)?;
    let text = secrecy::ExposeSecret::expose_secret(&password);
    let weakness = match policy {
        // generate: the cheap length rule only (see strength::quick_check for why).
        WeakPolicy::Warn => amhash::strength::quick_check(text),
        // install: zxcvbn, in the amhash-strength helper (see amhash::strength for why).
        WeakPolicy::Refuse | WeakPolicy::Allow => match amhash::strength::assess_in_helper(text) {
            Ok(strength) => strength.is_weak().then(|| strength.reason()),
            Err(e) if policy == WeakPolicy::Allow => {
                warnings.push(format!("the password's strength was not checked: {e}"));
                None
            }
            Err(e) => {
                return Err(Failure::operational(format!(
                    "cannot check the password's strength: {e}; or pass --allow-weak to skip the check"
                )));
            }
        },
    };
    if let Some(reason) = weakness {
        if policy == WeakPolicy::Refuse {
            return Err(Failure::input(format!(
                "the password is too weak for a fast hash: {reason} (or pass --allow-weak)"
            )));
        }
        warnings.push(format!("the password is weak: {reason}"));
    }
    Ok(password)
}

/// Stores a random password where --password-out says, or shows it once on the terminal:
/// never on stdout, which carries the value.
fn hand_over_random(
    password: &SecretString,
    out: Option<&amhash::key_source::KeySource>,
    backend: amhash::key_source::KeyringBackend,
) -> Result<(), Failure> {
    // (`--random` only; the caller checks.)
    use secrecy::ExposeSecret;
    use std::io::Write;
    if let Some(out) = out {
        return out
            .create_new(password.expose_secret().as_bytes(), backend)
            .map_err(crypt::key_failure)
            .map_err(|f| f.context("--password-out"));
    }
    let mut tty = std::fs::OpenOptions::new().write(true).open("/dev/tty").map_err(|e| {
        Failure::input(format!(
            "--random needs a terminal to show the new password ({e}): add --password-out file:PATH"
        ))
    })?;
    writeln!(
        tty,
        "New password (shown once, store it now): {}",
        password.expose_secret()
    )
    .map_err(|e| Failure::operational(format!("cannot show the new password on the terminal: {e}")))
}

/// The report of a command that prints a value: the value, and the AM settings it needs.
fn value_report(sealed: crypt::Sealed, protection: &crypt::Protection) -> Report {
    let note = sealed.kms_note(protection);
    let mut report = Report::with_value(sealed.value).field("encryption", protection.describe());
    if let Some(note) = note {
        report = report.note(note);
    }
    if let crypt::Protection::Am { cipher, .. } = protection {
        report = report.field("am_cipher", cipher.as_str());
    }
    if let Some(note) = protection.sample_note() {
        report = report.note(note);
    }
    match protection.format() {
        Some(format) => {
            report = report.field("format", format.to_string());
            let mut properties = serde_json::Map::new();
            properties.insert(
                amhash::store::PROP_PASSWORDS_FORMAT.into(),
                format.to_string().into(),
            );
            if let Some(key) = sealed.kms_decrypt_with.as_ref().map(ToString::to_string) {
                properties.insert(
                    amhash::store::PROP_GOOGLE_KMS_DECRYPTION_KEY.into(),
                    key.into(),
                );
            }
            report = report.field("am_properties", serde_json::Value::Object(properties));
        }
        None => {
            report = report.field("format", serde_json::Value::Null);
            report.warnings.push(
                "AM cannot read an AES-GCM value: decrypt it (amhash decrypt) before installing it"
                    .into(),
            );
        }
    }
    report
}
