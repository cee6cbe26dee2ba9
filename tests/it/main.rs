//! The integration tests of amhash: one test binary (`cargo test --test it`), one module per
//! area, and one support module (`support/`) with the runner for the binaries, the output
//! assertions, the fixture type, the shared vectors and the fake Cloud KMS.
//!
//! Tests run as threads of this one process: none may change process-wide state (cwd, env,
//! umask, rlimits, signal dispositions). What must run alone runs in a child process: a
//! re-run of this binary (`support::child`) or a shell (`ulimit`, `setpriv`).

// Tests may unwrap, panic and print (the `[lints]` table of Cargo.toml denies it in the
// library and the binaries).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::unreachable,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::exit
)]

mod support;

mod am_interop;
mod architecture;
mod cipher_vectors;
mod cli;
mod crash;
mod doctor;
mod encrypt_cli;
mod hardening;
mod install;
mod key_source_env;
mod keyring;
#[cfg(feature = "kms")]
mod kms;
#[cfg(feature = "kms")]
mod kms_cli;
mod packaging;
mod parsers_prop;
mod pty;
mod random;
mod reference;
mod root_safety;
#[cfg(feature = "secrets")]
mod secrets;
mod services;
#[cfg(feature = "strength")]
mod strength_helper;
mod vectors;
