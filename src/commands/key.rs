//! `amhash key generate` and `amhash key store`.

use std::io::IsTerminal;

use secrecy::{ExposeSecret, SecretString};

use crate::cli::KeyCommand;
use crate::failure::Failure;
use crate::output::Report;
use amhash::cipher::LocalKey;
use amhash::key_source::{KeySource, KeyringBackend};

pub fn run(command: KeyCommand) -> Result<Report, Failure> {
    match command {
        KeyCommand::Generate {
            out,
            keyring_backend,
        } => generate(&out, keyring_backend),
        KeyCommand::Store {
            source,
            keyring_backend,
        } => store(&source, keyring_backend),
    }
}

fn generate(out: &KeySource, backend: KeyringBackend) -> Result<Report, Failure> {
    if matches!(out, KeySource::Env(_)) {
        return Err(Failure::input(
            "a key cannot be written to an environment variable: use file:PATH or keyring:SERVICE/ACCOUNT",
        ));
    }
    let key = LocalKey::generate()?;
    out.create_new(key.to_hex().as_bytes(), backend)?;
    Ok(Report::new(crate::failure::Outcome::Success)
        .field("key", out.to_string())
        .field("bits", 256)
        .note(format!(
            "wrote a new 256-bit key to {out}; use it with --encrypt aes-gcm --key {out}"
        )))
}

fn store(source: &KeySource, backend: KeyringBackend) -> Result<Report, Failure> {
    let secret = read_secret()?;
    source.store(secret.expose_secret().as_bytes(), backend)?;
    Ok(Report::new(crate::failure::Outcome::Success)
        .field("key", source.to_string())
        .note(format!("stored the secret in {source}")))
}

/// The secret to store: twice at a terminal prompt, or the first line of stdin without its
/// line ending (a secret is stored as given, not stripped).
fn read_secret() -> Result<SecretString, Failure> {
    if std::io::stdin().is_terminal() {
        return Ok(amhash::password::from_terminal("Secret: ", true)?);
    }
    use amhash::input::{InputError, read_line};
    let line =
        read_line(std::io::stdin().lock(), amhash::password::MAX_LINE).map_err(|e| match e {
            InputError::TooLong { max } => Failure::input(format!(
                "the secret on standard input is longer than {max} bytes"
            )),
            InputError::Io(e) => {
                Failure::operational(e).context("reading the secret from standard input")
            }
        })?;
    let text = std::str::from_utf8(&line)
        .map_err(|_| Failure::input("the secret on standard input is not UTF-8"))?;
    let text = text.strip_suffix('\n').unwrap_or(text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    if text.is_empty() {
        return Err(Failure::input("the secret on standard input is empty"));
    }
    Ok(SecretString::from(text))
}
