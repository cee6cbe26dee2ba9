//! `gcp-sm:projects/P/secrets/S[/versions/V]` through Google's official
//! `google-cloud-secretmanager-v1` client (REST transport), with Application Default
//! Credentials as the Cloud KMS helper uses them: found where Google's clients look, but read
//! by `crate::gcp_adc` from a file only root (or the caller) could have chosen.
//!
//! One call, `AccessSecretVersion`, which needs `secretmanager.versions.access`. The answer's
//! `payload.dataCrc32c`, when present, is checked against the data, as Google's guide on
//! data integrity asks; a mismatch is an unexpected answer.
//!
//! The endpoint is `https://secretmanager.googleapis.com` unless
//! `CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER` names another (gcloud's own override, for
//! regional or Private Service Connect endpoints): https, or plain http to a loopback
//! address (emulators, tests).

use google_cloud_gax::error::Error as GaxError;
use google_cloud_gax::retry_policy::NeverRetry;
use google_cloud_secretmanager_v1::client::SecretManagerService;
use zeroize::Zeroizing;

use super::{Class, Failure, chain, with_retries};
use crate::secrets::GcpRef;

/// gcloud's endpoint override for Secret Manager.
const ENDPOINT_VAR: &str = "CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER";

pub(super) async fn fetch(r: &GcpRef) -> Result<Zeroizing<Vec<u8>>, Failure> {
    // ADC read by amhash, from a file no other account chose (see `crate::gcp_adc`).
    let credentials = crate::gcp_adc::credentials()
        .map_err(|e| Failure::new(Class::Credentials, "credentials", e))?;
    let mut builder = SecretManagerService::builder()
        .with_retry_policy(NeverRetry)
        .with_credentials(credentials);
    if let Some(endpoint) = endpoint()? {
        builder = builder.with_endpoint(endpoint);
    }
    let client = builder
        .build()
        .await
        .map_err(|e| Failure::new(Class::Setup, "client", chain(&e)))?;
    let name = r.version_name();
    let response = with_retries(|| async {
        client
            .access_secret_version()
            .set_name(name.clone())
            .send()
            .await
            .map_err(|e| classify(&e))
    })
    .await?;
    let Some(payload) = response.payload else {
        return Err(Failure::new(
            Class::BadAnswer,
            "no payload",
            "the answer holds no payload",
        ));
    };
    if let Some(expected) = payload.data_crc32c {
        let actual = i64::from(crc32c::crc32c(&payload.data));
        if actual != expected {
            return Err(Failure::new(
                Class::BadAnswer,
                "CRC32C",
                "the payload does not match its dataCrc32c checksum",
            ));
        }
    }
    Ok(Zeroizing::new(payload.data.to_vec()))
}

/// The endpoint override, checked: https, or http only to a loopback host (an access token
/// must not cross a network unencrypted).
fn endpoint() -> Result<Option<String>, Failure> {
    let Some(raw) = std::env::var(ENDPOINT_VAR).ok().filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let url = raw.trim_end_matches('/');
    let bad = |why: &str| {
        Failure::new(
            Class::Setup,
            ENDPOINT_VAR,
            format!("{}: {why}", crate::escape::text(url)),
        )
    };
    let endpoint = crate::endpoint::parse(url).map_err(bad)?;
    if !endpoint.carries_credentials() {
        return Err(bad("plain http would send the access token unencrypted"));
    }
    Ok(Some(url.to_owned()))
}

/// Sorts a client error into a [`Failure`]: the gRPC status name when the service answered
/// with one, else the HTTP status, else what the transport says.
fn classify(e: &GaxError) -> Failure {
    if let Some(status) = e.status() {
        let name = status.code.name();
        let class = match name {
            "PERMISSION_DENIED" => Class::Denied,
            "NOT_FOUND" => Class::NotFound,
            "UNAUTHENTICATED" => Class::Credentials,
            "UNAVAILABLE" | "DEADLINE_EXCEEDED" | "RESOURCE_EXHAUSTED" | "INTERNAL" => {
                Class::Transient
            }
            _ => Class::Rejected,
        };
        return Failure::new(class, name, &status.message);
    }
    if let Some(code) = e.http_status_code() {
        return Failure::new(
            Failure::class_of_http(code),
            format!("HTTP {code}"),
            chain(e),
        );
    }
    let class = if e.is_connect() {
        Class::Unreachable
    } else if e.is_authentication() {
        Class::Credentials
    } else if e.is_timeout() || e.is_io() {
        Class::Transient
    } else {
        Class::BadAnswer
    };
    let status = match class {
        Class::Credentials => "credentials",
        _ => "no response",
    };
    Failure::new(class, status, chain(e))
}
