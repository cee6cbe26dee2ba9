//! `amhash generate`: hash a password into a `{SSHA-512}` value, optionally encrypted.

use secrecy::ExposeSecret;

use super::crypt;
use crate::cli::GenerateArgs;
use crate::failure::Failure;
use crate::output::Report;
use amhash::ssha::{Salt, SshaHash};

pub fn run(args: GenerateArgs) -> Result<Report, Failure> {
    // Validate every flag before prompting, so a typo does not cost a password entry.
    let salt = match &args.salt_hex {
        Some(hex) => {
            Some(Salt::from_hex(hex).map_err(|e| Failure::input(e).context("--salt-hex"))?)
        }
        None => None,
    };
    let protection = crypt::protection(&args.encrypt)?;
    let backend = args.encrypt.keys.keyring_backend;
    let mut warnings = Vec::new();
    let password = super::new_password(
        &args.password,
        &args.new_password,
        super::WeakPolicy::Warn,
        &mut warnings,
    )?;
    if args.new_password.random {
        super::hand_over_random(&password, args.new_password.password_out.as_ref(), backend)?;
    }
    let hash = hash_password(password.expose_secret().as_bytes(), salt)?;
    drop(password);
    let value = crypt::seal(&protection, backend, &hash.to_string())?;
    let mut report = super::value_report(value, &protection);
    report.warnings.extend(warnings);
    Ok(report)
}

/// Hashes with the given salt, or a fresh random one.
pub fn hash_password(password: &[u8], salt: Option<Salt>) -> Result<SshaHash, Failure> {
    match salt {
        Some(salt) => Ok(SshaHash::with_salt(password, salt)),
        None => SshaHash::generate(password).map_err(|e| {
            Failure::operational(format!("the operating system's random source failed: {e}"))
        }),
    }
}
