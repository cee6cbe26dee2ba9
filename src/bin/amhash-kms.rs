//! `amhash-kms`: the Cloud KMS helper of `amhash` (see `amhash::kms` for the contract).
//!
//! Thin on purpose: parse arguments, read stdin, call `amhash::kms::client`, write stdout,
//! print one line on stderr and exit 2 (usage) or 3 (KMS) on failure.
#![forbid(unsafe_code)]

use std::io;
use std::process::ExitCode;
use std::time::Duration;

use amhash::error::{Error as _, Fault};
use amhash::input::{InputError, read_all};
use amhash::kms::client::{self, ClientError, MAX_CIPHERTEXT, MAX_PLAINTEXT};
use amhash::kms::{KmsKeyName, KmsOptions};
use base64::Engine as _;
use clap::{Args, Subcommand};
use zeroize::Zeroizing;

#[path = "shared/helper_main.rs"]
mod helper_main;

const ABOUT: helper_main::About = helper_main::About {
    name: "amhash-kms",
    about: "Google Cloud KMS helper for amhash: encrypt or decrypt standard input",
    long_about: "Google Cloud KMS helper for amhash: encrypt or decrypt standard input.\n\n\
        encrypt: reads the plaintext bytes, writes one line of standard base64, then one line \
        with the name AM must decrypt it with (the CryptoKey for a symmetric key, the version \
        for an asymmetric one).\n\
        decrypt: reads base64 (one line, or wrapped as `base64` writes it), writes the \
        plaintext.\n\
        Exit status: 0 success, 2 usage error, 3 Cloud KMS or network failure.",
};

#[derive(Subcommand, Debug)]
enum Op {
    /// Encrypt standard input; print the ciphertext as one line of base64.
    Encrypt(KmsArgs),
    /// Decrypt base64 from standard input; print the plaintext bytes.
    Decrypt(KmsArgs),
}

#[derive(Args, Debug)]
struct KmsArgs {
    /// projects/P/locations/L/keyRings/R/cryptoKeys/K (symmetric), or .../cryptoKeyVersions/V
    #[arg(long = "kms-key", value_name = "NAME")]
    kms_key: String,
    /// Service endpoint (default https://cloudkms.googleapis.com), e.g. an emulator at http://127.0.0.1:PORT
    #[arg(long = "kms-endpoint", value_name = "URL")]
    kms_endpoint: Option<String>,
    /// Send no credentials (emulators, tests); otherwise Application Default Credentials
    #[arg(long = "kms-anonymous")]
    kms_anonymous: bool,
    /// Cap on the whole operation, retries included
    #[arg(long = "kms-timeout", value_name = "SECS", default_value_t = 30, value_parser = helper_main::secs())]
    kms_timeout: u64,
}

/// A failure: whose fault (which fixes the exit status) and a one-line message.
struct Failure(Fault, String);

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Self {
        Failure(e.fault(), e.to_string())
    }
}

fn main() -> ExitCode {
    helper_main::main(&ABOUT, |op: Op| {
        run(op).map_err(|Failure(fault, message)| (fault, message))
    })
}

fn options(a: &KmsArgs) -> Result<KmsOptions, Failure> {
    let key: KmsKeyName = a
        .kms_key
        .parse()
        .map_err(|e| Failure(Fault::Input, format!("invalid --kms-key: {e}")))?;
    if let Some(e) = &a.kms_endpoint {
        client::check_endpoint(e, a.kms_anonymous)?;
    }
    Ok(KmsOptions {
        key,
        endpoint: a.kms_endpoint.clone(),
        anonymous: a.kms_anonymous,
        timeout: Duration::from_secs(a.kms_timeout),
    })
}

/// Read all of stdin into a buffer that is sized once (never reallocated, so no stray copy
/// of a plaintext is left behind) and zeroized on drop.
fn read_stdin(max: usize, op: &'static str) -> Result<Zeroizing<Vec<u8>>, Failure> {
    read_all(io::stdin().lock(), max).map_err(|e| match e {
        InputError::TooLong { .. } => ClientError::InputTooLarge { op, max }.into(),
        InputError::Io(e) => Failure(Fault::Input, format!("cannot read standard input: {e}")),
    })
}

fn write_stdout(data: &[u8]) -> Result<(), Failure> {
    helper_main::write_stdout(data).map_err(|(fault, message)| Failure(fault, message))
}

fn run(op: Op) -> Result<(), Failure> {
    match op {
        Op::Encrypt(a) => {
            let opts = options(&a)?;
            let plaintext = read_stdin(MAX_PLAINTEXT, "encrypt")?;
            let (ciphertext, decrypt_with) = client::encrypt(&opts, &plaintext)?;
            let mut lines = base64::engine::general_purpose::STANDARD.encode(ciphertext);
            lines.push('\n');
            lines.push_str(&decrypt_with.to_string());
            lines.push('\n');
            write_stdout(lines.as_bytes())
        }
        Op::Decrypt(a) => {
            let opts = options(&a)?;
            // base64 of the largest ciphertext, plus room for line breaks.
            let text = read_stdin(MAX_CIPHERTEXT / 3 * 4 * 80 / 76 + 64, "decrypt")?;
            let ciphertext = client::decode_ciphertext(&text)?;
            let plaintext = client::decrypt(&opts, &ciphertext)?;
            write_stdout(&plaintext)
        }
    }
}
