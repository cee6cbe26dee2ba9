//! The `amhash` side: run `amhash-secrets` and take the secret from it (std only).

use std::path::{Path, PathBuf};
use std::time::Duration;

use zeroize::Zeroizing;

use super::{HELPER_NAME, MAX_SECRET, SecretRef};
use crate::error::{EXIT_SUCCESS, Fault};
use crate::helper::{self, Env, ExchangeError, LocateError};

/// Why a secret could not be fetched, as seen from `amhash`.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// `amhash-secrets` is not next to the running executable (or its path is unknown).
    #[error(
        "cannot read {reference}: amhash was built without secrets-manager support or amhash-secrets is not installed next to it ({detail})"
    )]
    HelperMissing {
        /// The reference.
        reference: String,
        /// Where it was looked for, or why it could not be.
        detail: String,
    },
    /// The helper could not be run, or ended outside its contract.
    #[error("cannot read {reference}: {} {detail}", crate::escape::path(path))]
    Helper {
        /// The reference.
        reference: String,
        /// The helper's path.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// The helper's own report (it names the reference, the status and what to check).
    #[error("{message}")]
    Fetch {
        /// Exit 2 (a malformed reference): input; exit 3: operational.
        fault: Fault,
        /// The helper's one line.
        message: String,
    },
}

impl crate::error::Error for SecretsError {
    fn fault(&self) -> Fault {
        match self {
            SecretsError::Fetch { fault, .. } => *fault,
            _ => Fault::Operational,
        }
    }
}

/// Fetches the secret `reference` names through the helper next to the running executable
/// (`helper` overrides where it is, for tests and packagers), within `timeout`.
///
/// # Errors
/// [`SecretsError`]; an empty secret is returned as empty (the key source reports it).
pub fn fetch(
    reference: &SecretRef,
    timeout: Duration,
    helper: Option<&Path>,
) -> Result<Zeroizing<Vec<u8>>, SecretsError> {
    let shown = reference.to_string();
    let path = match helper {
        Some(p) => helper::existing(p.to_owned()),
        None => helper::locate(HELPER_NAME),
    }
    .map_err(|e| SecretsError::HelperMissing {
        reference: shown.clone(),
        detail: match e {
            LocateError::CurrentExe(e) => format!("the running executable's path is unknown: {e}"),
            LocateError::Missing(p) => format!("looked for {}", crate::escape::path(&p)),
        },
    })?;
    let failed = |detail: String| SecretsError::Helper {
        reference: shown.clone(),
        path: path.clone(),
        detail,
    };
    // Whole seconds, rounded up so the helper never gets less time than asked.
    let secs = (timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0)).max(1);
    let args = [
        "fetch".to_owned(),
        "--timeout".to_owned(),
        secs.to_string(),
        shown.clone(),
    ];
    // The helper bounds its fetch by `timeout`; amhash bounds the helper.
    let limit = timeout.saturating_add(helper::NETWORK_GRACE);
    // The clients look for their credentials in the environment, as their own CLIs do.
    let reply = helper::exchange(&path, HELPER_NAME, Env::Inherit, args, &[], MAX_SECRET, limit)
        .map_err(|e| match e {
            ExchangeError::Spawn(e) => failed(format!("could not be started: {e}")),
            ExchangeError::Pipe(e) => failed(format!("could not be talked to: {e}")),
            ExchangeError::NotReady(what) => failed(format!("failed: {what}")),
            ExchangeError::TimedOut { after } => failed(format!(
                "{} (--secrets-timeout plus {} s): it hung outside its calls to the secrets manager, which that timeout bounds; check this host (a stuck file system or network) and that it is the amhash-secrets installed with amhash, or raise --secrets-timeout",
                ExchangeError::timed_out_phrase(after),
                helper::NETWORK_GRACE.as_secs()
            )),
        })?;
    let code = reply.status.code();
    if code == Some(EXIT_SUCCESS.into()) {
        if reply.stdout.len() > MAX_SECRET {
            return Err(failed(format!(
                "answered more than {} KiB, which is no key",
                MAX_SECRET / 1024
            )));
        }
        return Ok(reply.stdout);
    }
    match code.and_then(Fault::from_exit_code) {
        Some(fault) if !reply.message.is_empty() => Err(SecretsError::Fetch {
            fault,
            message: reply.message,
        }),
        _ => Err(failed(format!(
            "failed unexpectedly ({}){}",
            reply.status,
            if reply.message.is_empty() {
                String::new()
            } else {
                format!(": {}", reply.message)
            }
        ))),
    }
}
