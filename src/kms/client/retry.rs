//! Which failed attempts are retried, and how often (the table in the module documentation).

use google_cloud_gax::error::Error as GaxError;

use super::ClientError;

pub(super) const TRANSIENT_ATTEMPTS: u32 = 5;
pub(super) const UNREACHABLE_ATTEMPTS: u32 = 3;
pub(super) const INTEGRITY_ATTEMPTS: u32 = 3;

/// How a failed attempt is handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// Fail at once.
    Permanent,
    /// Retry with backoff.
    Transient,
    /// Could not connect: retry briefly.
    Unreachable,
    /// Credentials could not be obtained.
    Credentials,
}

/// Retryify a gRPC status name (as in `PERMISSION_DENIED`).
pub fn classify_status(name: &str) -> Retry {
    match name {
        "UNAVAILABLE" | "DEADLINE_EXCEEDED" => Retry::Transient,
        "UNAUTHENTICATED" => Retry::Credentials,
        _ => Retry::Permanent,
    }
}

/// Retryify an HTTP status that came without a parsable Google error body.
pub fn classify_http(code: u16) -> Retry {
    match code {
        502..=504 => Retry::Transient,
        401 => Retry::Credentials,
        _ => Retry::Permanent,
    }
}

/// Retryify an error from the client library.
pub fn classify(e: &GaxError) -> Retry {
    if let Some(status) = e.status() {
        return classify_status(status.code.name());
    }
    if let Some(code) = e.http_status_code() {
        return classify_http(code);
    }
    if e.is_connect() {
        return Retry::Unreachable;
    }
    if e.is_authentication() {
        return Retry::Credentials;
    }
    if e.is_timeout() || e.is_io() {
        return Retry::Transient;
    }
    Retry::Permanent
}

pub(super) fn is_failed_precondition(e: &GaxError) -> bool {
    e.status()
        .is_some_and(|s| s.code.name() == "FAILED_PRECONDITION")
}

/// Result of one attempt.
pub(super) enum AttemptError {
    /// The call failed.
    Rpc(GaxError),
    /// The call answered, but a check failed.
    Integrity(String),
}

impl From<GaxError> for AttemptError {
    fn from(e: GaxError) -> Self {
        AttemptError::Rpc(e)
    }
}

/// Result of a call with retries: either a final error, or a permanent one the caller may
/// want to look at (FAILED_PRECONDITION for the version-of-symmetric fallbacks).
pub(super) enum CallError {
    Final(ClientError),
    Permanent(GaxError),
}
