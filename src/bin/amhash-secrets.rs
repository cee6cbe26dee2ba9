//! `amhash-secrets`: the secrets-manager helper of `amhash` (see `amhash::secrets` for the
//! contract).
//!
//! Thin on purpose: parse the arguments, call `amhash::secrets::client::fetch`, write the
//! secret on stdout; on failure one line on stderr and exit 2 (malformed reference) or 3.
#![forbid(unsafe_code)]

use std::process::ExitCode;
use std::time::Duration;

use amhash::error::{Error as _, Fault};
use amhash::secrets::{SecretRef, client};
use clap::{Args, Subcommand};

#[path = "shared/helper_main.rs"]
mod helper_main;

const ABOUT: helper_main::About = helper_main::About {
    name: "amhash-secrets",
    about: "Secrets-manager helper for amhash: print one secret",
    long_about: "Secrets-manager helper for amhash: print one secret (HashiCorp Vault, AWS \
        Secrets Manager, Google Secret Manager, Azure Key Vault).\n\n\
        Exit status: 0 success, 2 malformed reference, 3 any failure to fetch.",
};

#[derive(Subcommand, Debug)]
enum Op {
    /// Print the secret REFERENCE names (the selected #FIELD), nothing added.
    Fetch(FetchArgs),
}

#[derive(Args, Debug)]
struct FetchArgs {
    /// Cap on the whole operation, retries included
    #[arg(long = "timeout", value_name = "SECS", default_value_t = 30, value_parser = helper_main::secs())]
    timeout: u64,
    /// vault:MOUNT/PATH#FIELD, aws-sm:ID[#FIELD], gcp-sm:projects/P/secrets/S[#FIELD] or
    /// azure-kv:https://VAULT.vault.azure.net/secrets/NAME[#FIELD]
    #[arg(value_name = "REFERENCE")]
    reference: String,
}

fn main() -> ExitCode {
    helper_main::main(&ABOUT, |op: Op| match op {
        Op::Fetch(a) => {
            let reference: SecretRef = a
                .reference
                .parse()
                .map_err(|e| (Fault::Input, format!("{e}")))?;
            let secret = client::fetch(&reference, Duration::from_secs(a.timeout))
                .map_err(|e| (e.fault(), e.to_string()))?;
            helper_main::write_stdout(&secret)
        }
    })
}
