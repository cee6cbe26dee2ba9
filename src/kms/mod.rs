//! Google Cloud KMS: AM's `GOOGLE_KMS_ENCRYPTED` format.
//!
//! AM reads a `GOOGLE_KMS_ENCRYPTED` secret as one line of standard base64 (RFC 4648, with
//! padding) of the Cloud KMS ciphertext of the `{SSHA-512}...` string, and decrypts it with the
//! key named in `org.forgerock.openam.secrets.googlekms.decryptionkey`.
//!
//! # Why two binaries
//!
//! The official client (`google-cloud-kms-v1`) brings tokio, hyper, reqwest and rustls. Linking
//! that into `amhash` would cost start-up time and memory on every local command. So the work
//! is split:
//!
//! * [`name`] and [`remote`] are always compiled and use only std: the `amhash` binary parses
//!   and checks the key name, then runs the helper `amhash-kms` (installed next to it) with
//!   the options as arguments and the data on stdin.
//! * [`client`] (feature `kms`) is the real client, linked only into `amhash-kms`
//!   (`src/bin/amhash-kms.rs`). A current-thread tokio runtime is created there, only when an
//!   operation runs.
//!
//! # The helper's contract
//!
//! ```text
//! amhash-kms encrypt|decrypt --kms-key NAME [--kms-endpoint URL] [--kms-anonymous] [--kms-timeout SECS]
//!   stdin   encrypt: the plaintext bytes      decrypt: the base64 ciphertext (line-wrapped ok)
//!   stdout  encrypt: one line of base64 + \n, then the name AM decrypts with + \n
//!           decrypt: the plaintext bytes, nothing added
//!   stderr  on failure, exactly one line: the error message
//!   exit    0 ok, 2 usage error (bad name, bad input), 3 KMS or network failure
//!
//! amhash-kms --handshake encrypt|decrypt ...   (hidden; what amhash passes)
//!   stdin and stdout are one socket; amhash::helper::READY comes first on stdout, written
//!   only once the process is protected and not traced (else exit 3 without reading);
//!   see crate::helper
//! ```
//!
//! # Against the real service
//!
//! With Application Default Credentials in place (`gcloud auth application-default login`, or
//! `GOOGLE_APPLICATION_CREDENTIALS=/path/sa.json`, or the metadata server on Google Cloud):
//!
//! ```text
//! printf %s '{SSHA-512}...' | amhash-kms encrypt \
//!     --kms-key projects/my_project_ID/locations/global/keyRings/am/cryptoKeys/amadmin > amadmin.enc
//! amhash-kms decrypt --kms-key projects/my_project_ID/locations/global/keyRings/am/cryptoKeys/amadmin < amadmin.enc
//! ```
//!
//! The second command also accepts the output of `gcloud kms encrypt ... | base64`.

pub mod name;
pub mod remote;

#[cfg(feature = "kms")]
pub mod client;

use std::time::Duration;

pub use name::{KeyNameError, KmsKeyName};
pub use remote::{Encrypted, KmsError, decrypt, encrypt};

/// Name of the helper binary, looked up next to the running executable.
pub const HELPER_NAME: &str = "amhash-kms";

/// Default cap on a whole KMS operation (all round trips and retries).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Where and how to reach Cloud KMS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KmsOptions {
    /// The crypto key (symmetric) or crypto key version (asymmetric, or a pinned symmetric
    /// version) to use.
    pub key: KmsKeyName,
    /// Override of the service endpoint (`https://cloudkms.googleapis.com` by default), e.g. a
    /// regional or private endpoint, or an emulator at `http://127.0.0.1:PORT`.
    pub endpoint: Option<String>,
    /// Send no credentials (emulators, tests). Otherwise Application Default Credentials.
    pub anonymous: bool,
    /// Cap on the whole operation, retries included.
    pub timeout: Duration,
}

impl KmsOptions {
    /// Options for `key` with the default endpoint, ADC credentials and the default timeout.
    pub fn new(key: KmsKeyName) -> Self {
        KmsOptions {
            key,
            endpoint: None,
            anonymous: false,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The helper's command-line arguments after the operation name.
    pub fn to_args(&self) -> Vec<String> {
        let mut args = vec!["--kms-key".to_owned(), self.key.to_string()];
        if let Some(e) = &self.endpoint {
            args.push("--kms-endpoint".to_owned());
            args.push(e.clone());
        }
        if self.anonymous {
            args.push("--kms-anonymous".to_owned());
        }
        args.push("--kms-timeout".to_owned());
        // Whole seconds on the command line; round up so a caller never gets less time.
        let secs = self.timeout.as_secs() + u64::from(self.timeout.subsec_nanos() > 0);
        args.push(secs.max(1).to_string());
        args
    }

    /// The endpoint for messages: the override, or the public default.
    pub fn endpoint_for_display(&self) -> &str {
        self.endpoint
            .as_deref()
            .unwrap_or("https://cloudkms.googleapis.com")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_carry_every_option() {
        let key: KmsKeyName = "projects/my-project/locations/global/keyRings/r/cryptoKeys/k"
            .parse()
            .unwrap();
        let mut o = KmsOptions::new(key);
        assert_eq!(
            o.to_args(),
            [
                "--kms-key",
                "projects/my-project/locations/global/keyRings/r/cryptoKeys/k",
                "--kms-timeout",
                "30"
            ]
        );
        o.endpoint = Some("http://127.0.0.1:9".into());
        o.anonymous = true;
        o.timeout = Duration::from_millis(10);
        let args = o.to_args();
        assert_eq!(
            &args[2..],
            [
                "--kms-endpoint",
                "http://127.0.0.1:9",
                "--kms-anonymous",
                "--kms-timeout",
                "1"
            ]
        );
    }
}
