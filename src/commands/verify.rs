//! `amhash verify`: check a password against a stored value.

use std::path::Path;

use secrecy::ExposeSecret;

use crate::cli::VerifyArgs;
use crate::failure::{Failure, Outcome};
use crate::output::Report;
use amhash::ssha::SshaHash;

/// Values are short; anything larger than this is not a value file.
const MAX_VALUE_FILE: u64 = 64 * 1024;

pub fn run(args: VerifyArgs) -> Result<Report, Failure> {
    // Parse the value before asking for the password: a malformed value is exit 2 without
    // a prompt.
    let text = match (&args.value.hash, &args.value.hash_file) {
        (Some(value), _) => value.clone(),
        (None, Some(path)) => read_value_file(path)?,
        (None, None) => return Err(Failure::input("give --hash-file PATH or --hash VALUE")),
    };
    let hash: SshaHash = text.parse::<SshaHash>().map_err(Failure::from)?;
    let password = super::read_password(&args.password, false)?;
    let matches = hash.verify(password.expose_secret().as_bytes());
    let (outcome, note) = if matches {
        (Outcome::Success, "the password matches")
    } else {
        (Outcome::Negative, "the password does not match")
    };
    Ok(Report::new(outcome).field("match", matches).note(note))
}

/// Reads a value file: the whole file, minus one trailing newline.
pub fn read_value_file(path: &Path) -> Result<String, Failure> {
    use std::io::Read;
    let context = || format!("--hash-file {}", path.display());
    let file = std::fs::File::open(path).map_err(|e| Failure::operational(e).context(context()))?;
    let mut bytes = Vec::new();
    file.take(MAX_VALUE_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::operational(e).context(context()))?;
    if bytes.len() as u64 > MAX_VALUE_FILE {
        return Err(Failure::input("the file is larger than any value could be").context(context()));
    }
    let mut text = String::from_utf8(bytes)
        .map_err(|_| Failure::input("the file is not UTF-8 text").context(context()))?;
    if text.ends_with('\n') {
        text.pop();
    }
    Ok(text)
}
