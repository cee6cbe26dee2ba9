//! `amhash generate`: hash a password into a `{SSHA-512}` value.

use secrecy::ExposeSecret;

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
    let password = super::read_password(&args.password, true)?;
    let bytes = password.expose_secret().as_bytes();
    let hash = match salt {
        Some(salt) => SshaHash::with_salt(bytes, salt),
        None => SshaHash::generate(bytes).map_err(|e| {
            Failure::operational(format!("the operating system's random source failed: {e}"))
        })?,
    };
    Ok(Report::with_value(hash.to_string()).field("format", "PLAIN"))
}
