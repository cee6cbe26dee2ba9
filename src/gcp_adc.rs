//! Google's Application Default Credentials for the helpers that call Google (`amhash-kms`,
//! and `amhash-secrets` for `gcp-sm:`), found where google-cloud-auth looks (AIP-4110):
//! `GOOGLE_APPLICATION_CREDENTIALS`, else `$HOME/.config/gcloud/application_default_credentials.json`,
//! else the metadata server.
//!
//! google-cloud-auth would read that file by path, following links, whoever owns it. The file
//! chooses whose identity the key is fetched as, where the refresh token or signed assertion
//! is sent (`token_uri`), and for `external_account` which file or command supplies the
//! subject token. So it is opened here with [`crate::store::open_credential_file`] (root's or
//! the caller's regular file, no other account's link on the way, in a directory no other
//! account can write; a `HOME` the AM account owns is refused), read through that fd, and the
//! credentials are built from its JSON by the type's own builder, as google-cloud-auth's ADC
//! builder does. A file missing at the well-known path means the metadata server, as there.

use std::io::Read as _;
use std::path::PathBuf;

use google_cloud_auth::credentials::{
    Credentials, external_account, impersonated, mds, service_account, user_account,
};
use zeroize::Zeroizing;

/// Largest ADC file read (service account keys are about 2.3 KiB).
const MAX_ADC: u64 = 1024 * 1024;

/// Why the credentials could not be had: one line, never a secret.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AdcError {
    /// The ADC file is one another account could have chosen.
    #[error("the Application Default Credentials file {0}")]
    Refused(String),
    /// The file could not be read or used.
    #[error("the Application Default Credentials file {path}: {why}")]
    Unusable {
        /// The path, escaped.
        path: String,
        /// What is wrong.
        why: String,
    },
}

/// The credentials ADC names, from a file checked as the module doc says.
///
/// # Errors
/// [`AdcError`].
pub(crate) fn credentials() -> Result<Credentials, AdcError> {
    let quota = std::env::var("GOOGLE_CLOUD_QUOTA_PROJECT")
        .ok()
        .filter(|q| !q.is_empty());
    let (path, named) = match std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS") {
        Some(p) => (Some(PathBuf::from(p)), true),
        None => (
            std::env::var_os("HOME").map(|h| {
                PathBuf::from(h).join(".config/gcloud/application_default_credentials.json")
            }),
            false,
        ),
    };
    let Some(path) = path else {
        return metadata_server(quota);
    };
    let shown = crate::escape::path(&path);
    let unusable = |why: String| AdcError::Unusable {
        path: shown.clone(),
        why,
    };
    let file = match crate::store::open_credential_file(&path) {
        Ok(f) => f,
        Err(crate::store::StoreError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound && !named =>
        {
            return metadata_server(quota);
        }
        Err(crate::store::StoreError::Io { source, .. }) => {
            return Err(unusable(format!(
                "cannot open it ({source}){}",
                if named {
                    "; GOOGLE_APPLICATION_CREDENTIALS must name a file"
                } else {
                    ""
                }
            )));
        }
        Err(e) => return Err(AdcError::Refused(e.to_string())),
    };
    let mut text = Zeroizing::new(String::new());
    file.take(MAX_ADC + 1)
        .read_to_string(&mut text)
        .map_err(|e| unusable(format!("cannot read it: {e}")))?;
    if u64::try_from(text.len()).unwrap_or(u64::MAX) > MAX_ADC {
        return Err(unusable("it is over 1 MiB".to_owned()));
    }
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|_| unusable("it is not JSON".to_owned()))?;
    let kind = json
        .get("type")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned();
    macro_rules! build {
        ($builder:expr) => {{
            let b = $builder;
            match quota {
                Some(q) => b.with_quota_project_id(q).build(),
                None => b.build(),
            }
        }};
    }
    let built = match kind.as_str() {
        "authorized_user" => build!(user_account::Builder::new(json)),
        "service_account" => build!(service_account::Builder::new(json)),
        "impersonated_service_account" => build!(impersonated::Builder::new(json)),
        "external_account" => build!(external_account::Builder::new(json)),
        other => {
            return Err(unusable(format!(
                "its type {:?} is not one amhash uses (authorized_user, service_account, impersonated_service_account, external_account)",
                crate::escape::text(other)
            )));
        }
    };
    built.map_err(|e| unusable(crate::error::chain(&e)))
}

fn metadata_server(quota: Option<String>) -> Result<Credentials, AdcError> {
    build_mds(quota).map_err(|e| AdcError::Unusable {
        path: "(none: the metadata server)".to_owned(),
        why: crate::error::chain(&e),
    })
}

fn build_mds(quota: Option<String>) -> Result<Credentials, google_cloud_auth::build_errors::Error> {
    let b = mds::Builder::default();
    match quota {
        Some(q) => b.with_quota_project_id(q).build(),
        None => b.build(),
    }
}
