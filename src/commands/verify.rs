//! `amhash verify`: check a password against a stored value, decrypting it first when it is
//! encrypted.

use std::path::Path;

use secrecy::ExposeSecret;
use zeroize::Zeroizing;

use super::crypt;
use super::install::store_failure;
use crate::cli::{ValueArgs, VerifyArgs};
use crate::failure::{Failure, Outcome};
use crate::output::Report;
use amhash::store::{self, SecretId};

/// Values are short; anything larger than this is not a value file.
const MAX_VALUE_FILE: u64 = 64 * 1024;

pub fn run(args: VerifyArgs) -> Result<Report, Failure> {
    // Open the value before asking for the password: a malformed value or a wrong key is
    // reported without a prompt.
    let mut warnings = Vec::new();
    let text = read_value(&args.value, &args.user, &mut warnings)?;
    let (hash, detected) = crypt::open(&text, &args.keys)?;
    drop(text);
    let password = super::read_password(&args.password, false)?;
    let matches = hash.verify(password.expose_secret().as_bytes());
    let (outcome, note) = if matches {
        (Outcome::Success, "the password matches")
    } else {
        (Outcome::Negative, "the password does not match")
    };
    let mut report = Report::new(outcome)
        .field("match", matches)
        .field("detected", detected.describe())
        .note(note);
    report.warnings = warnings;
    Ok(report)
}

/// The stored value named by `--hash`, `--hash-file`, `--dir`, `--env-file` or `--setenv`.
fn read_value(
    value: &ValueArgs,
    user: &str,
    warnings: &mut Vec<String>,
) -> Result<Zeroizing<String>, Failure> {
    if let Some(text) = &value.hash {
        return Ok(Zeroizing::new(text.clone()));
    }
    if let Some(path) = &value.hash_file {
        return read_value_file(path).map(Zeroizing::new);
    }
    let id = SecretId::new(user).map_err(store_failure)?;
    let missing = |place: &Path, what: String| {
        Failure::operational(format!(
            "{} has no {what}: nothing to verify",
            amhash::escape::path(place)
        ))
    };
    if let Some(dir) = &value.dir {
        let found = store::dir::read_dir_value(dir, &id).map_err(store_failure)?;
        let found = found.ok_or_else(|| missing(dir, id.file_name()))?;
        if found.trailing_newline() {
            warnings.push(format!(
                "{} ends with a newline, which AM may read as part of the value: reinstall it with amhash install",
                amhash::escape::path(&dir.join(id.file_name()))
            ));
        }
        return Ok(Zeroizing::new(
            found.value().value().expose_secret().to_string(),
        ));
    }
    if let Some(path) = &value.env_file {
        let found = store::env_file::read_path(path, &id).map_err(store_failure)?;
        let var = id.env_var();
        let found = found.ok_or_else(|| missing(path, format!("{var} assignment")))?;
        return Ok(Zeroizing::new(
            found.value.value().expose_secret().to_string(),
        ));
    }
    if let Some(path) = &value.setenv {
        let found = store::setenv::read_path(path, &id).map_err(store_failure)?;
        let found = found
            .ok_or_else(|| missing(path, format!("amhash block for {}", id.java_property())))?;
        return Ok(Zeroizing::new(
            found.value.value().expose_secret().to_string(),
        ));
    }
    Err(Failure::input(
        "give --hash-file, --hash, --dir, --env-file or --setenv",
    ))
}

/// Reads a value file: the whole file, minus one trailing newline. Opened like every file
/// amhash trusts with a secret (`store::read_secret_file`): no link another account could
/// have placed is followed, and a link at the file itself is refused.
pub fn read_value_file(path: &Path) -> Result<String, Failure> {
    let context = || amhash::escape::path(path);
    // The error names the path. A refusal by policy (a link, an owner) is the user's to fix
    // (exit 2); a file that is missing or unreadable is operational (exit 3), as for any
    // input file.
    let bytes = amhash::store::read_secret_file(path).map_err(|e| {
        if e.is_refusal() {
            Failure::input(e)
        } else {
            Failure::operational(e)
        }
    })?;
    if bytes.len() as u64 > MAX_VALUE_FILE {
        return Err(Failure::input("the file is larger than any value could be").context(context()));
    }
    let mut text = String::from_utf8(bytes.to_vec())
        .map_err(|_| Failure::input("the file is not UTF-8 text").context(context()))?;
    if text.ends_with('\n') {
        text.pop();
    }
    Ok(text)
}
