//! Flags into library values: how to seal a value (`--encrypt` and its keys), how to open
//! one (`--key`, `--kms-key`), where the password comes from, and the password bar. Every
//! check here runs before any password prompt, so a typo does not cost a password entry.

use std::path::Path;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::cli::{EncryptArgs, EncryptWith, KeyArgs, NewPasswordArgs, PasswordArgs};
use crate::failure::Failure;
use amhash::cipher::{AmCipher, AmKdf};
use amhash::key_source::{KeySource, KeyringBackend};
use amhash::kms::{self, KmsOptions};
use amhash::ssha::Salt;
use amhash::value::{self, Keys, Protection, ValueError};
use amhash::{escape, password, strength, terminal};

/// Resolves `--encrypt` and its key flags, without reading any secret yet (but the AM
/// encryption password, when an `--am-sample` must be opened to learn the cipher).
pub fn protection(args: &EncryptArgs) -> Result<Protection, Failure> {
    let keys = &args.keys;
    match args.encrypt {
        None | Some(EncryptWith::AesGcm | EncryptWith::Kms) if args.am_sample.is_some() => {
            Err(Failure::input("--am-sample goes with --encrypt am"))
        }
        None => {
            if keys.key.is_some() || keys.kms.kms_key.is_some() {
                return Err(Failure::input(
                    "--key and --kms-key need --encrypt am, aes-gcm or kms to say how to encrypt",
                ));
            }
            Ok(Protection::Plain)
        }
        Some(EncryptWith::Am) => {
            let kdf = am_kdf(keys)?;
            let key = required_key(keys, "--encrypt am", "the AM encryption password")?;
            // Before any prompt: a sample the key cannot open should not cost a password entry.
            let (cipher, from_sample) = match &args.am_sample {
                Some(path) => (sample_cipher(path, &key, keys.keyring_backend, &kdf)?, true),
                None => (args.am_cipher, false),
            };
            Ok(Protection::Am {
                cipher,
                kdf,
                key,
                from_sample,
            })
        }
        Some(EncryptWith::AesGcm) => Ok(Protection::Gcm {
            key: required_key(keys, "--encrypt aes-gcm", "the local key")?,
        }),
        Some(EncryptWith::Kms) => match kms_options(keys)? {
            Some(opts) => {
                // Before any prompt: a missing helper should not cost a password entry.
                kms::remote::Helper::locate()?;
                Ok(Protection::Kms(opts))
            }
            None => Err(Failure::input(
                "--encrypt kms needs --kms-key projects/P/locations/L/keyRings/R/cryptoKeys/K",
            )),
        },
    }
}

/// The keys to open a stored value with.
pub fn keys(args: &KeyArgs) -> Result<Keys, Failure> {
    Ok(Keys {
        key: key_source(args),
        backend: args.keyring_backend,
        kdf: am_kdf(args)?,
        kms: kms_options(args)?,
    })
}

/// The AM encryptor and key wrap of the `--am-sample` file, opened with `key`.
pub fn sample_cipher(
    path: &Path,
    key: &KeySource,
    backend: KeyringBackend,
    kdf: &AmKdf,
) -> Result<AmCipher, Failure> {
    let text = value::read_value_file(path).map_err(|e| Failure::from(e).context("--am-sample"))?;
    value::am_cipher_of_sample(&text, key, backend, kdf).map_err(|e| match e {
        ValueError::SampleWrongKey | ValueError::SampleNotAm(_) => {
            Failure::from(e).context(format!("--am-sample {}", escape::path(path)))
        }
        e => e.into(),
    })
}

/// `--key`, with `--secrets-timeout` applied.
fn key_source(keys: &KeyArgs) -> Option<KeySource> {
    let timeout = std::time::Duration::from_secs(keys.secrets_timeout);
    keys.key.clone().map(|k| k.with_fetch_timeout(timeout))
}

fn required_key(keys: &KeyArgs, flag: &str, what: &str) -> Result<KeySource, Failure> {
    key_source(keys).ok_or_else(|| {
        Failure::input(format!(
            "{flag} needs --key SOURCE naming {what} (file:PATH, env:VAR, keyring:SERVICE/ACCOUNT or a secrets manager)"
        ))
    })
}

pub fn am_kdf(keys: &KeyArgs) -> Result<AmKdf, Failure> {
    Ok(AmKdf::new(
        keys.am_kdf_digest,
        keys.am_kdf_iterations,
        keys.am_key_size,
    )?)
}

pub fn kms_options(keys: &KeyArgs) -> Result<Option<KmsOptions>, Failure> {
    let Some(name) = &keys.kms.kms_key else {
        if keys.kms.kms_endpoint.is_some() || keys.kms.kms_anonymous {
            return Err(Failure::input(
                "--kms-endpoint and --kms-anonymous need --kms-key NAME",
            ));
        }
        return Ok(None);
    };
    if keys.kms.kms_timeout == 0 {
        return Err(Failure::input("--kms-timeout must be at least 1 second"));
    }
    let mut opts = KmsOptions::new(name.clone());
    opts.endpoint = keys.kms.kms_endpoint.clone();
    opts.anonymous = keys.kms.kms_anonymous;
    opts.timeout = Duration::from_secs(keys.kms.kms_timeout);
    Ok(Some(opts))
}

/// `--salt-hex`, when given.
pub fn salt(hex: Option<&str>) -> Result<Option<Salt>, Failure> {
    hex.map(|hex| Salt::from_hex(hex).map_err(|e| Failure::from(e).context("--salt-hex")))
        .transpose()
}

/// Reads the password by the reference script's rules (`confirm`: ask twice on a terminal).
pub fn read_password(args: &PasswordArgs, confirm: bool) -> Result<SecretString, Failure> {
    let source = match &args.password_file {
        Some(path) => password::Source::File(path.clone()),
        None => password::Source::Stdin,
    };
    Ok(source.read(confirm)?)
}

/// What to do with a weak password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeakPolicy {
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
pub fn new_password(
    args: &PasswordArgs,
    new: &NewPasswordArgs,
    policy: WeakPolicy,
    warnings: &mut Vec<String>,
) -> Result<SecretString, Failure> {
    if new.random {
        return Ok(strength::random_password()?);
    }
    let password = read_password(args, true)?;
    let text = password.expose_secret();
    let weakness = match policy {
        // generate: the cheap length rule only (see strength::quick_check for why).
        WeakPolicy::Warn => strength::quick_check(text),
        // install: zxcvbn, in the amhash-strength helper (see amhash::strength for why).
        WeakPolicy::Refuse | WeakPolicy::Allow => match strength::assess_in_helper(text) {
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
pub fn hand_over_random(
    password: &SecretString,
    out: Option<&KeySource>,
    backend: KeyringBackend,
) -> Result<(), Failure> {
    if let Some(out) = out {
        return out
            .create_new(password.expose_secret().as_bytes(), backend)
            .map_err(|e| Failure::from(e).context("--password-out"));
    }
    terminal::show_once("New password (shown once, store it now)", password).map_err(|e| match e {
        terminal::ShowError::NoTerminal(e) => Failure::input(format!(
            "--random needs a terminal to show the new password ({e}): add --password-out file:PATH"
        )),
        terminal::ShowError::Write(e) => {
            Failure::operational(format!("cannot show the new password on the terminal: {e}"))
        }
    })
}
