//! amhash: salted SHA-512 values for the ForgeRock / Ping AM special secret store.
//!
//! AM can read the amAdmin password (and other special users' passwords) from a special
//! secret store instead of its configuration: a file `password.amadmin`, an environment
//! variable `PASSWORD_AMADMIN` or a Java system property `password.amadmin`, holding a
//! `{SSHA-512}` value ([`ssha`]), optionally encrypted. This crate makes, checks, encrypts
//! and installs those values. It never prints, exits or panics on bad input: every
//! failure is a typed error the `amhash` binary turns into a message and an exit code.
#![forbid(unsafe_code)]
// The library never panics, prints or exits (the `[lints]` table of Cargo.toml); its unit
// tests may.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::unreachable,
        clippy::print_stdout,
        clippy::print_stderr
    )
)]

pub mod am;
pub mod cipher;
pub mod endpoint;
pub mod error;
pub mod escape;
#[cfg(any(feature = "kms", feature = "secrets"))]
mod gcp_adc;
pub mod hardening;
pub mod helper;
pub mod input;
pub mod key_source;
pub mod kms;
mod names;
pub mod password;
pub mod secrets;
pub mod ssha;
pub mod store;
pub mod strength;
pub mod terminal;
pub mod value;

/// Test helpers shared with the integration tests: one copy, in their support module.
#[cfg(test)]
#[path = "../tests/it/support/shared.rs"]
pub(crate) mod test_support;
