//! `amhash generate`: hash a password into a `{SSHA-512}` value, optionally encrypted.

use secrecy::ExposeSecret;

use crate::cli::GenerateArgs;
use crate::failure::Failure;
use crate::options::{self, WeakPolicy};
use crate::output::{self, Report};
use amhash::ssha::SshaHash;

pub fn run(args: GenerateArgs) -> Result<Report, Failure> {
    // Validate every flag before prompting, so a typo does not cost a password entry.
    let salt = options::salt(args.salt_hex.as_deref())?;
    let protection = options::protection(&args.encrypt)?;
    let backend = args.encrypt.keys.keyring_backend;
    let mut warnings = Vec::new();
    let password = options::new_password(
        &args.password,
        &args.new_password,
        WeakPolicy::Warn,
        &mut warnings,
    )?;
    if args.new_password.random {
        options::hand_over_random(&password, args.new_password.password_out.as_ref(), backend)?;
    }
    let hash = SshaHash::new(password.expose_secret().as_bytes(), salt)?;
    drop(password);
    let sealed = protection.seal(&hash, backend)?;
    let mut report = output::value_report(&sealed, &protection);
    report.warnings.extend(warnings);
    Ok(report)
}
