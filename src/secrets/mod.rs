//! Keys held by secrets managers: HashiCorp Vault, AWS Secrets Manager, Google Secret
//! Manager and Azure Key Vault, read-only.
//!
//! # Reference syntax
//!
//! | form | what is read |
//! |------|--------------|
//! | `vault:MOUNT/PATH#FIELD` | field FIELD of the KV secret PATH under the mount MOUNT (KV v2, or v1 when the mount says so) |
//! | `aws-sm:SECRET_ID[?stage=STAGE\|?version=ID][#FIELD]` | the secret's `SecretString` (or `SecretBinary`); SECRET_ID is a name or an ARN; default stage `AWSCURRENT` |
//! | `gcp-sm:projects/P/secrets/S[/versions/V][#FIELD]` | the version's payload; default version `latest` |
//! | `azure-kv:https://VAULT.vault.azure.net/secrets/NAME[/VERSION][#FIELD]` | the secret's value; default the current version |
//!
//! `#FIELD` selects a top-level string field of a secret that holds a JSON object (a Vault KV
//! secret always does, so Vault needs it). Without it the secret is used as is, and, as for
//! every key source, one trailing line break is dropped. Nothing in a reference is secret:
//! references go on the helper's command line and into messages.
//!
//! # Why a helper binary
//!
//! The four clients bring tokio, hyper, rustls and four SDKs. As for Cloud KMS (see
//! [`crate::kms`]), only the helper `amhash-secrets` links them (feature `secrets`); this
//! module and [`remote`] use std only, so `amhash` itself stays small and its local commands
//! start no thread and open no socket. The helper's contract:
//!
//! ```text
//! amhash-secrets [--handshake] fetch --timeout SECS REFERENCE
//!   stdin   nothing (amhash closes it at once)
//!   stdout  the secret (the selected field), nothing added
//!   stderr  on failure, exactly one line naming the reference, the status and what to check
//!   exit    0 ok, 2 malformed reference, 3 any failure to fetch (the value is never shown)
//! ```
//!
//! The helper inherits amhash's environment: each client finds its credentials there
//! (`VAULT_TOKEN`, `AWS_*`, `GOOGLE_APPLICATION_CREDENTIALS`, `AZURE_*`), as its own CLI does.
//! The secret comes back over the handshake socket of [`crate::helper`], never through a
//! pipe or a file.

pub mod field;
pub mod reference;
pub mod remote;

#[cfg(feature = "secrets")]
pub mod client;

use std::time::Duration;

pub use field::{FieldError, select_field};
pub use reference::{AwsRef, AzureRef, GcpRef, Location, ReferenceError, SecretRef, VaultRef};
pub use remote::{SecretsError, fetch};

/// Name of the helper binary, looked up next to the running executable.
pub const HELPER_NAME: &str = "amhash-secrets";

/// Default cap on one fetch, retries included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Largest secret accepted, in bytes (the services' own limits: 64 KiB for AWS, Google and
/// Azure; Vault has none of its own, and a key is far smaller).
pub const MAX_SECRET: usize = 64 * 1024;
