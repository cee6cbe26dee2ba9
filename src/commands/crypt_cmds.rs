//! `amhash encrypt` and `amhash decrypt`: convert an existing value.

use std::io::Read;
use std::path::Path;

use super::crypt;
use crate::cli::{DecryptArgs, EncryptCommandArgs};
use crate::failure::Failure;
use crate::output::Report;
use amhash::ssha::SshaHash;

/// The largest input we read: values are a few hundred bytes, wrapped base64 a little more.
const MAX_INPUT: u64 = 64 * 1024;

pub fn encrypt(args: EncryptCommandArgs) -> Result<Report, Failure> {
    let protection = crypt::protection(&args.encrypt)?;
    if matches!(protection, crypt::Protection::Plain) {
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
    let value = crypt::seal(
        &protection,
        args.encrypt.keys.keyring_backend,
        &hash.to_string(),
    )?;
    Ok(super::value_report(value, &protection))
}

pub fn decrypt(args: DecryptArgs) -> Result<Report, Failure> {
    let input = read_input(args.input.as_deref())?;
    let (hash, detected) = crypt::open(input.trim(), &args.keys)?;
    Ok(Report::with_value(hash.to_string())
        .field("detected", detected.describe())
        .field("format", "PLAIN"))
}

/// Reads all of `--in PATH`, or of stdin.
fn read_input(path: Option<&Path>) -> Result<String, Failure> {
    let mut bytes = Vec::new();
    let (result, name) = match path {
        Some(path) => (
            std::fs::File::open(path).and_then(|f| f.take(MAX_INPUT + 1).read_to_end(&mut bytes)),
            amhash::escape::path(path),
        ),
        None => (
            std::io::stdin()
                .lock()
                .take(MAX_INPUT + 1)
                .read_to_end(&mut bytes),
            "standard input".to_string(),
        ),
    };
    result.map_err(|e| Failure::operational(e).context(format!("reading {name}")))?;
    if bytes.len() as u64 > MAX_INPUT {
        return Err(Failure::input(format!(
            "{name} is larger than any value could be"
        )));
    }
    String::from_utf8(bytes).map_err(|_| Failure::input(format!("{name} is not UTF-8 text")))
}
