//! The secrets-manager clients proper (feature `secrets`, linked only into `amhash-secrets`).
//!
//! One module a service, each a thin layer over that service's official or best-kept client:
//!
//! | scheme | crate | credentials |
//! |--------|-------|-------------|
//! | `vault:` | `vaultrs` | `VAULT_TOKEN`, else the token helper file `~/.vault-token`; `VAULT_ADDR`, `VAULT_NAMESPACE`, `VAULT_CACERT` |
//! | `aws-sm:` | `aws-sdk-secretsmanager` + `aws-config` | the SDK's default chain (environment, profiles, SSO, web identity, ECS and EC2 roles); region from the ARN, else the chain |
//! | `gcp-sm:` | `google-cloud-secretmanager-v1` | Application Default Credentials |
//! | `azure-kv:` | `azure_security_keyvault_secrets` + `azure_identity` | see [`azure`] |
//!
//! Each service module does one attempt of its call and sorts a failure into a [`Class`];
//! [`with_retries`] retries the classes worth it, and [`fetch`] caps the whole operation
//! (client set-up and credentials included) with the timeout, on a current-thread runtime
//! made for this one call.
//!
//! | class | attempts, backoff |
//! |-------|-------------------|
//! | transient (HTTP 429, 500, 502-504, throttling, a connection cut mid-request) | 5, 200 ms doubling |
//! | unreachable (refused, DNS, TLS handshake) | 3, 100 then 200 ms |
//! | anything else | 1 |

mod aws;
mod azure;
mod error;
mod gcp;
mod vault;

use std::future::Future;
use std::time::Duration;

use zeroize::Zeroizing;

pub use error::{Class, Failure, FetchError};

use super::{Location, MAX_SECRET, SecretRef, select_field};

/// Attempts for [`Class::Transient`] and [`Class::Unreachable`].
const TRANSIENT_ATTEMPTS: u32 = 5;
const UNREACHABLE_ATTEMPTS: u32 = 3;

/// Fetches the secret `reference` names, with its `#FIELD` selected, within `timeout`.
///
/// # Errors
/// [`FetchError`]: every message names the reference, the status and what to check.
pub fn fetch(reference: &SecretRef, timeout: Duration) -> Result<Zeroizing<Vec<u8>>, FetchError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| FetchError::new(reference, Failure::new(Class::Setup, "runtime", e)))?;
    let result = rt.block_on(async {
        let call = async {
            match &reference.location {
                // The parser requires #FIELD for Vault; a reference built otherwise must not
                // return the whole KV map as the key.
                Location::Vault(_) if reference.field.is_none() => Err(Failure::new(
                    Class::Field,
                    "field",
                    "a Vault KV secret is a map of fields: name one with #FIELD",
                )),
                Location::Vault(r) => vault::fetch(r).await,
                Location::AwsSm(r) => aws::fetch(r).await,
                Location::GcpSm(r) => gcp::fetch(r).await,
                Location::AzureKv(r) => azure::fetch(r).await,
            }
        };
        match tokio::time::timeout(timeout, call).await {
            Ok(r) => r,
            Err(_) => Err(Failure::new(
                Class::Timeout,
                "timeout",
                format!("no answer within {} s", timeout.as_secs()),
            )),
        }
    });
    // Do not wait for a timed-out request (or a DNS lookup on the blocking pool).
    rt.shutdown_background();
    let raw = result.map_err(|f| FetchError::new(reference, f))?;
    let value = match &reference.field {
        Some(field) => select_field(&raw, field)
            .map_err(|e| FetchError::new(reference, Failure::new(Class::Field, "field", e)))?,
        None => raw,
    };
    if value.len() > MAX_SECRET {
        return Err(FetchError::new(
            reference,
            Failure::new(
                Class::BadAnswer,
                "too large",
                format!(
                    "the secret is over {} KiB, which is no key",
                    MAX_SECRET / 1024
                ),
            ),
        ));
    }
    Ok(value)
}

/// Runs `attempt` until it succeeds, fails for good, or runs out of attempts for its class.
pub(crate) async fn with_retries<T, F, Fut>(mut attempt: F) -> Result<T, Failure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let mut tries = 0u32;
    loop {
        tries = tries.saturating_add(1);
        let failure = match attempt().await {
            Ok(v) => return Ok(v),
            Err(f) => f,
        };
        let (limit, first) = match failure.class {
            Class::Transient => (TRANSIENT_ATTEMPTS, 200),
            Class::Unreachable => (UNREACHABLE_ATTEMPTS, 100),
            _ => return Err(failure),
        };
        if tries >= limit {
            return Err(failure);
        }
        let backoff = first * 2u64.pow(tries.saturating_sub(1));
        tokio::time::sleep(Duration::from_millis(backoff)).await;
    }
}

/// An error and its causes on one line (see [`crate::error::chain`]).
pub(crate) use crate::error::chain;

/// Opens a credential file (a token, an ADC file, a CA bundle, a federated token) that the
/// caller then reads through the fd, or hands to an SDK as [`fd_path`]: refused unless
/// [`crate::store::open_credential_file`] trusts it (root's or the caller's regular file, not
/// behind another account's link, in a directory no other account can write). `what` names
/// the setting for the message, `class` the failure a refusal is; a missing file is
/// `Ok(None)`.
pub(crate) fn open_credential(
    path: &std::path::Path,
    what: &str,
    class: Class,
) -> Result<Option<std::fs::File>, Failure> {
    match crate::store::open_credential_file(path) {
        Ok(f) => Ok(Some(f)),
        Err(crate::store::StoreError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            Ok(None)
        }
        Err(e) => Err(Failure::new(class, "refused", format!("{what} {e}"))),
    }
}

/// `/proc/self/fd/N` of an open file: an SDK that insists on a path reads exactly the file
/// that [`open_credential`] checked, whatever is at its name by then.
pub(crate) fn fd_path(file: &std::fs::File) -> String {
    use std::os::fd::AsRawFd as _;
    format!("/proc/self/fd/{}", file.as_raw_fd())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::VaultRef;

    #[test]
    fn a_vault_reference_without_a_field_is_refused_before_any_request() {
        // Only code can build one (the parser requires #FIELD); it must not yield the whole
        // KV map. No VAULT_ADDR is needed: nothing is sent.
        let reference = SecretRef {
            location: Location::Vault(VaultRef {
                path: "secret/am".into(),
            }),
            field: None,
        };
        let e = fetch(&reference, Duration::from_secs(1)).unwrap_err();
        assert!(e.message.contains("name one with #FIELD"), "{e}");
    }
}
