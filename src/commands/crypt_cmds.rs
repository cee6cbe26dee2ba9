//! `amhash encrypt` and `amhash decrypt`: convert an existing value.

use std::path::Path;

use crate::cli::{DecryptArgs, EncryptCommandArgs};
use crate::failure::Failure;
use crate::options;
use crate::output::{self, Report};
use amhash::input::{self, InputError};
use amhash::ssha::SshaHash;
use amhash::value::{self, Protection};

/// The largest input we read: values are a few hundred bytes, wrapped base64 a little more.
const MAX_INPUT: usize = 64 * 1024;

pub fn encrypt(args: EncryptCommandArgs) -> Result<Report, Failure> {
    let protection = options::protection(&args.encrypt)?;
    if matches!(protection, Protection::Plain) {
        return Err(Failure::input(
            "say how to encrypt: --encrypt am, aes-gcm or kms",
        ));
    }
    let input = read_input(args.input.as_deref())?;
    // Only the first line, like the password: what `generate` printed, newline and all.
    let first = input.lines().next().unwrap_or("");
    // Refuse to encrypt anything but a well-formed hash: AM would reject it after decrypting.
    let hash: SshaHash = first
        .parse()
        .map_err(|e| Failure::from(e).context("the value to encrypt"))?;
    let sealed = protection.seal(&hash, args.encrypt.keys.keyring_backend)?;
    Ok(output::value_report(&sealed, &protection))
}

pub fn decrypt(args: DecryptArgs) -> Result<Report, Failure> {
    let input = read_input(args.input.as_deref())?;
    let (hash, form) = value::open(input.trim(), &options::keys(&args.keys)?)?;
    Ok(Report::with_value(hash.to_string())
        .field("detected", form.describe())
        .field("format", "PLAIN"))
}

/// Reads all of `--in PATH`, or of stdin.
fn read_input(path: Option<&Path>) -> Result<String, Failure> {
    let (result, name) = match path {
        Some(path) => (
            std::fs::File::open(path)
                .map_err(InputError::from)
                .and_then(|f| input::read_all(f, MAX_INPUT)),
            amhash::escape::path(path),
        ),
        None => (
            input::read_all(std::io::stdin().lock(), MAX_INPUT),
            "standard input".to_string(),
        ),
    };
    let bytes = result.map_err(|e| match e {
        InputError::TooLong { .. } => {
            Failure::input(format!("{name} is larger than any value could be"))
        }
        InputError::Io(e) => Failure::operational(e).context(format!("reading {name}")),
    })?;
    String::from_utf8(bytes.to_vec())
        .map_err(|_| Failure::input(format!("{name} is not UTF-8 text")))
}
