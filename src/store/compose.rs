//! The `docker compose` snippet that mounts `password.<user>` as a file secret.
//!
//! Compose (and Swarm) mount each secret read-only at `/run/secrets/<name>` inside the
//! container; AM reads that directory as its store
//! (`org.forgerock.openam.secrets.special.user.passwords.dir=/run/secrets`). The snippet,
//! with the path of the file `install --dir` wrote as a JSON string (which is a YAML
//! double-quoted scalar):
//!
//! ```text
//! services:
//!   am:                                  # your AM service
//!     secrets:
//!       - password.<user>
//! secrets:
//!   password.<user>:
//!     file: "/path/to/dir/password.<user>"
//! ```

use std::path::Path;

use super::{Result, SecretId, StoreError};

/// Where Compose and Swarm mount secrets in a container.
pub const RUN_SECRETS: &str = "/run/secrets";

/// The snippet for the secret file at `file` (made absolute by the caller).
///
/// # Errors
/// [`StoreError::BadPath`] for a path that is not UTF-8 (a compose file is UTF-8 text).
pub fn snippet(id: &SecretId, file: &Path) -> Result<String> {
    let Some(text) = file.to_str() else {
        return Err(StoreError::BadPath {
            path: file.to_path_buf(),
            reason: "it is not UTF-8, which a compose file cannot name",
        });
    };
    let name = id.secret_id();
    let quoted = serde_json::Value::from(text).to_string();
    Ok(format!(
        "services:\n  am:                                  # your AM service\n    secrets:\n      - {name}\nsecrets:\n  {name}:\n    file: {quoted}\n"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_is_yaml_naming_the_file() {
        let s = snippet(
            &SecretId::amadmin(),
            Path::new("/srv/a \"b\"/password.amadmin"),
        )
        .unwrap();
        let doc: serde_norway::Value = serde_norway::from_str(&s).unwrap();
        assert_eq!(
            doc["secrets"]["password.amadmin"]["file"].as_str(),
            Some("/srv/a \"b\"/password.amadmin")
        );
        assert_eq!(
            doc["services"]["am"]["secrets"][0].as_str(),
            Some("password.amadmin")
        );
    }
}
