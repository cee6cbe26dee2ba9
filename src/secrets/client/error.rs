//! What can go wrong fetching a secret, and the one line that says so.
//!
//! A service module reports a [`Failure`]: a [`Class`], the service's status (an HTTP code,
//! an error code such as `ResourceNotFoundException`) and its detail. [`FetchError`] makes
//! the message: the reference, what happened, the status, the detail, and the hint for this
//! service and class (the table below is the only place hints are written). Nothing here
//! ever holds a secret: details come from error responses, which carry none.

use std::fmt;

use crate::error::Fault;
use crate::secrets::{Location, SecretRef};

/// The kinds of failure, each with its own hint and retry rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// The client could not be set up (bad address or CA bundle, no runtime).
    Setup,
    /// No usable credentials, or the service rejected them (HTTP 401).
    Credentials,
    /// The credentials lack the permission (HTTP 403).
    Denied,
    /// No such secret, version or field path (HTTP 404).
    NotFound,
    /// No connection could be made.
    Unreachable,
    /// The service failed or throttled; worth retrying.
    Transient,
    /// The service refused the request for another reason.
    Rejected,
    /// The service answered something this client cannot use.
    BadAnswer,
    /// `#FIELD` could not be taken from the secret.
    Field,
    /// The time limit ran out.
    Timeout,
}

/// One failed call, as the service module saw it.
#[derive(Debug, Clone)]
pub struct Failure {
    /// What kind of failure.
    pub class: Class,
    /// The service's status (an HTTP code, an error code).
    pub status: String,
    /// The service's or the client's explanation.
    pub detail: String,
}

impl Failure {
    /// A failure of `class` with `status` and `detail`.
    pub fn new(class: Class, status: impl fmt::Display, detail: impl fmt::Display) -> Self {
        Failure {
            class,
            status: status.to_string(),
            detail: detail.to_string(),
        }
    }

    /// The class an HTTP status stands for.
    #[must_use]
    pub fn class_of_http(code: u16) -> Class {
        match code {
            401 => Class::Credentials,
            403 => Class::Denied,
            404 => Class::NotFound,
            429 | 500 | 502..=504 => Class::Transient,
            _ => Class::Rejected,
        }
    }
}

/// A fetch that failed: the message and whose fault it is. Every failure of a well-formed
/// reference is operational (exit 3).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct FetchError {
    /// The one-line message.
    pub message: String,
}

impl crate::error::Error for FetchError {
    fn fault(&self) -> Fault {
        Fault::Operational
    }
}

impl FetchError {
    /// The message for `failure` of `reference`.
    #[must_use]
    pub fn new(reference: &SecretRef, failure: Failure) -> Self {
        let what = match failure.class {
            Class::Setup => "cannot set up the client",
            Class::Credentials => "no usable credentials",
            Class::Denied => "permission denied",
            Class::NotFound => "not found",
            Class::Unreachable => "cannot connect",
            Class::Transient => "the service is unavailable",
            Class::Rejected => "the request was refused",
            Class::BadAnswer => "unexpected answer",
            Class::Field => "wrong field",
            Class::Timeout => "timed out",
        };
        let detail: String = failure
            .detail
            .chars()
            .filter(|c| !c.is_control())
            .take(400)
            .collect();
        let hint = hint(reference, failure.class);
        FetchError {
            message: format!(
                "cannot read {reference}: {what} ({}): {detail}{}{hint}",
                failure.status,
                if hint.is_empty() { "" } else { "; " },
            ),
        }
    }
}

/// What to check, for each service and class.
fn hint(reference: &SecretRef, class: Class) -> &'static str {
    let service = match reference.location {
        Location::Vault(_) => &VAULT,
        Location::AwsSm(_) => &AWS,
        Location::GcpSm(_) => &GOOGLE,
        Location::AzureKv(_) => &AZURE,
    };
    match class {
        Class::Credentials => service.credentials,
        Class::Denied => service.denied,
        Class::NotFound => service.not_found,
        Class::Unreachable | Class::Setup => service.reach,
        Class::Rejected => service.rejected,
        Class::Transient => "try again later",
        Class::Timeout => "check the network, or allow more time (--secrets-timeout)",
        Class::Field => "check #FIELD",
        Class::BadAnswer => "",
    }
}

/// One service's hints, by class.
struct Hints {
    credentials: &'static str,
    denied: &'static str,
    not_found: &'static str,
    /// Cannot connect, or cannot set the client up.
    reach: &'static str,
    rejected: &'static str,
}

const VAULT: Hints = Hints {
    credentials: "set VAULT_TOKEN or log in with `vault login` (the token helper file ~/.vault-token), and check VAULT_NAMESPACE",
    denied: "the token's policy needs the read capability on MOUNT/data/PATH (KV v2) or MOUNT/PATH (KV v1)",
    not_found: "check MOUNT/PATH and that the secret has a current version",
    reach: "check VAULT_ADDR and VAULT_CACERT",
    rejected: "",
};

const AWS: Hints = Hints {
    credentials: "set up the AWS default credential chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, SSO, or an instance or task role)",
    denied: "the principal needs secretsmanager:GetSecretValue on the secret (and kms:Decrypt on its KMS key)",
    not_found: "check the secret name or ARN, the version, and the region (AWS_REGION)",
    reach: "check the region (AWS_REGION), AWS_ENDPOINT_URL and the network or proxy",
    rejected: "a secret scheduled for deletion must be restored first (`aws secretsmanager restore-secret`); check ?version= and ?stage=",
};

const GOOGLE: Hints = Hints {
    credentials: "set up Application Default Credentials (`gcloud auth application-default login`, GOOGLE_APPLICATION_CREDENTIALS, or the metadata server)",
    denied: "the principal needs secretmanager.versions.access on the secret (role roles/secretmanager.secretAccessor)",
    not_found: "check the project, the secret id and the version",
    reach: "check the network or proxy",
    rejected: "",
};

const AZURE: Hints = Hints {
    credentials: "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_FEDERATED_TOKEN_FILE), use a managed identity, or `az login`",
    denied: "the principal needs the secrets get permission on the vault (role Key Vault Secrets User, or an access policy with Get)",
    not_found: "check the vault URL, the secret name and the version",
    reach: "check the vault URL and the network or proxy",
    rejected: "",
};
