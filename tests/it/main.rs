//! The integration tests of amhash: one test binary, one module per area, one support module.

mod support;

mod am_interop;
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
#[cfg(feature = "strength")]
mod strength_helper;
mod vectors;
