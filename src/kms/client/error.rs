//! The helper's errors, and how service and library messages are quoted in them.

use std::io;

use google_cloud_gax::error::Error as GaxError;

use super::Rpc;

/// Failures of a KMS operation in the helper. Every message names the key and says what to
/// check; none contains plaintext or ciphertext.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing on standard input.
    #[error("standard input is empty: pipe the data to {op}")]
    EmptyInput {
        /// `encrypt` or `decrypt`.
        op: &'static str,
    },
    /// Standard input is larger than Cloud KMS accepts.
    #[error("standard input is larger than the {max} bytes Cloud KMS accepts for {op}")]
    InputTooLarge {
        /// `encrypt` or `decrypt`.
        op: &'static str,
        /// The limit.
        max: usize,
    },
    /// The ciphertext given to decrypt is not base64.
    #[error(
        "the ciphertext on standard input is not base64: expected the output of amhash-kms encrypt or of `gcloud kms encrypt ... | base64`"
    )]
    CiphertextEncoding,
    /// The endpoint is not an http(s) URL, or is plain http to a remote host while credentials
    /// would be sent.
    #[error("invalid --kms-endpoint '{endpoint}': {why}")]
    Endpoint {
        /// The rejected endpoint.
        endpoint: String,
        /// What is wrong.
        why: &'static str,
    },
    /// The async runtime could not be created.
    #[error("cannot start the I/O runtime for Cloud KMS: {source}")]
    Runtime {
        /// The underlying error.
        source: io::Error,
    },
    /// The client could not be built (credentials file unreadable, bad endpoint, ...).
    #[error(
        "cannot set up the Cloud KMS client for {endpoint}: {detail}; check --kms-endpoint and the Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS or `gcloud auth application-default login`)"
    )]
    Setup {
        /// The endpoint in use.
        endpoint: String,
        /// The client's message.
        detail: String,
    },
    /// No usable credentials could be obtained for a request.
    #[error(
        "cannot get credentials for Cloud KMS {method} on {key}: {detail}; set up Application Default Credentials (`gcloud auth application-default login`, or GOOGLE_APPLICATION_CREDENTIALS=/path/to/key.json), or use --kms-anonymous for an emulator"
    )]
    Credentials {
        /// The method.
        method: &'static str,
        /// The key or version name.
        key: String,
        /// The credentials library's message.
        detail: String,
    },
    /// KMS answered with a permanent error status.
    #[error("Cloud KMS {method} on {key} failed with {status}: {message}; {hint}")]
    Rejected {
        /// The method.
        method: &'static str,
        /// The key or version name.
        key: String,
        /// The status name (`PERMISSION_DENIED`) or `HTTP nnn`.
        status: String,
        /// The service's message, on one line.
        message: String,
        /// What to check.
        hint: String,
    },
    /// Transient failures (`UNAVAILABLE`, resets, ...) persisted through every attempt.
    #[error(
        "Cloud KMS {method} on {key} kept failing at {endpoint} after {attempts} attempts, last with {detail}; try again later"
    )]
    Unavailable {
        /// The method.
        method: &'static str,
        /// The key or version name.
        key: String,
        /// The endpoint in use.
        endpoint: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        detail: String,
    },
    /// The endpoint could not be connected to.
    #[error(
        "cannot connect to Cloud KMS at {endpoint} for {method} on {key} ({detail}); check --kms-endpoint, DNS and the network"
    )]
    Unreachable {
        /// The method.
        method: &'static str,
        /// The key or version name.
        key: String,
        /// The endpoint in use.
        endpoint: String,
        /// The connection error.
        detail: String,
    },
    /// The whole operation took longer than `--kms-timeout`.
    #[error(
        "Cloud KMS {op} with {key} did not finish within the {secs} s timeout (endpoint {endpoint}); check the network and the endpoint, or raise --kms-timeout{adc}"
    )]
    Timeout {
        /// `encrypt` or `decrypt`.
        op: &'static str,
        /// The key or version name.
        key: String,
        /// The endpoint in use.
        endpoint: String,
        /// The timeout.
        secs: u64,
        /// A hint about ADC falling back to the metadata server, when credentials are in use.
        adc: &'static str,
    },
    /// A checksum or name check failed on every attempt.
    #[error(
        "Cloud KMS {method} on {key}: {what} (on all {attempts} attempts), so the response was discarded; try again, and check any proxy between here and Cloud KMS"
    )]
    Integrity {
        /// The method.
        method: &'static str,
        /// The key or version name.
        key: String,
        /// Which check failed.
        what: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The key version is not an RSA-OAEP decryption key.
    #[error(
        "{key} has algorithm {algorithm}, which cannot encrypt; use a symmetric ENCRYPT_DECRYPT key or a version of an RSA_DECRYPT_OAEP_* ASYMMETRIC_DECRYPT key"
    )]
    UnsupportedAlgorithm {
        /// The version name.
        key: String,
        /// The algorithm KMS reported.
        algorithm: String,
    },
    /// The PEM KMS returned is not an RSA public key.
    #[error("the public key of {key} is not an RSA public key in PEM: {detail}")]
    BadPublicKey {
        /// The version name.
        key: String,
        /// The parser's message.
        detail: String,
    },
    /// The plaintext does not fit in one RSA-OAEP block for this key.
    #[error(
        "the plaintext is {len} bytes but {key} ({algorithm}) can encrypt at most {max}; use a larger key, SHA-256 instead of SHA-512, or a symmetric key"
    )]
    PlaintextTooLong {
        /// The version name.
        key: String,
        /// The algorithm.
        algorithm: String,
        /// The plaintext length.
        len: usize,
        /// The most this key can take.
        max: usize,
    },
    /// RSA-OAEP encryption failed for another reason.
    #[error("RSA-OAEP encryption with the public key of {key} failed: {detail}")]
    Oaep {
        /// The version name.
        key: String,
        /// The rsa crate's message.
        detail: String,
    },
}

crate::error::fault_is! {
    /// Bad input or options are the input's fault (the helper exits 2); everything else is
    /// a Cloud KMS or network failure (exit 3).
    ClientError: Input if EmptyInput | InputTooLarge | CiphertextEncoding | Endpoint,
    else Operational
}

/// The status name of a failed call: `PERMISSION_DENIED`, or `HTTP 418`, or the error kind.
pub(super) fn status_name(e: &GaxError) -> String {
    if let Some(s) = e.status() {
        return s.code.name().to_owned();
    }
    if let Some(code) = e.http_status_code() {
        return format!("HTTP {code}");
    }
    "an invalid response".to_owned()
}

/// What to check for a permanent status.
pub fn hint(rpc: Rpc, status: &str) -> String {
    match status {
        "PERMISSION_DENIED" | "HTTP 403" => format!(
            "check the IAM permission {} (role roles/cloudkms.cryptoKey{}) on this key for the credentials in use; Cloud KMS also answers PERMISSION_DENIED when the key does not exist",
            rpc.permission(),
            match rpc {
                Rpc::Encrypt => "Encrypter",
                Rpc::Decrypt | Rpc::AsymmetricDecrypt => "Decrypter",
                Rpc::GetPublicKey => "Encrypter or roles/cloudkms.publicKeyViewer",
            }
        ),
        "NOT_FOUND" | "HTTP 404" => {
            "check the resource name (project, key ring, key, version) and its location".to_owned()
        }
        "FAILED_PRECONDITION" => {
            "check that the key version is enabled and that the key's purpose is ENCRYPT_DECRYPT or ASYMMETRIC_DECRYPT".to_owned()
        }
        "INVALID_ARGUMENT" if matches!(rpc, Rpc::Decrypt | Rpc::AsymmetricDecrypt) => {
            "check that the ciphertext is complete and was made with this key".to_owned()
        }
        "INVALID_ARGUMENT" => "check the key name and the input".to_owned(),
        "RESOURCE_EXHAUSTED" | "HTTP 429" => {
            "a Cloud KMS quota is exhausted; wait and try again, or raise the quota".to_owned()
        }
        _ => "check the Cloud KMS documentation for this status".to_owned(),
    }
}

/// Longest foreign message (service, client library) quoted in an error.
const MAX_QUOTED: usize = 300;

/// One line, no control characters, bounded: service and library messages go into our
/// one-line errors.
pub(super) fn one_line(s: &str) -> String {
    let flat: String = s
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    if flat.chars().count() <= MAX_QUOTED {
        return flat;
    }
    let mut cut: String = flat.chars().take(MAX_QUOTED).collect();
    cut.push_str("...");
    cut
}

/// The error and its sources on one line (the client's top-level message alone is often
/// just "cannot connect to endpoint").
pub(super) use crate::error::chain as error_chain;

pub(super) fn transient_detail(e: &GaxError) -> String {
    match e.status() {
        Some(s) => one_line(&format!(
            "{}: {}",
            s.code.name(),
            s.message.trim_end_matches('.')
        )),
        None => one_line(&error_chain(e)),
    }
}
