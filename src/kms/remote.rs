//! The `amhash` side of Cloud KMS: run the `amhash-kms` helper and map its answer.
//!
//! This module uses std only, so the main binary carries no HTTP or async stack. The helper
//! is looked up in the directory of [`std::env::current_exe`] (that is how both are
//! installed); [`Helper::at`] takes an explicit path for tests and packagers.
//!
//! Exit status mapping (see the contract in [`crate::kms`]):
//!
//! | helper exit | result |
//! |-------------|--------|
//! | 0 | `Ok(stdout)` |
//! | 2 | [`KmsError::Usage`] with the helper's stderr line |
//! | 3 | [`KmsError::Kms`] with the helper's stderr line |
//! | other, or killed by a signal | [`KmsError::HelperFailed`] |
//!
//! Locating the helper and the exchange itself are [`crate::helper`]'s, which reads the
//! decrypted plaintext straight into a [`Zeroizing`] buffer sized up front so it is never
//! reallocated (a reallocation would leave an unzeroed copy behind).

use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use base64::Engine as _;
use zeroize::Zeroizing;

use super::{HELPER_NAME, KmsKeyName, KmsOptions};
use crate::error::{EXIT_SUCCESS, Fault};
use crate::helper::{self, Env, ExchangeError, LocateError};

/// Largest output accepted from the helper. Cloud KMS plaintexts are at most 64 KiB and
/// ciphertexts a little more; base64 adds a third.
const MAX_OUTPUT: usize = 128 * 1024;

/// Failures of a KMS operation as seen from `amhash`.
#[derive(Debug, thiserror::Error)]
pub enum KmsError {
    /// `amhash-kms` is not next to the running executable.
    #[error(
        "amhash was built without KMS support or amhash-kms is not installed next to it (looked for {})",
        crate::escape::path(path)
    )]
    HelperMissing {
        /// Where the helper was expected.
        path: PathBuf,
    },
    /// The running executable's own path is unknown, so the helper cannot be located.
    #[error("cannot locate amhash-kms: the path of the running executable is unknown: {source}")]
    CurrentExe {
        /// The underlying error.
        source: io::Error,
    },
    /// The helper exists but could not be started.
    #[error("cannot run {}: {source}", crate::escape::path(path))]
    Spawn {
        /// The helper's path.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Writing the input to, or reading the output from, the helper failed.
    #[error("cannot exchange data with {}: {source}", crate::escape::path(path))]
    Pipe {
        /// The helper's path.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The helper rejected the request before contacting KMS (exit 2): a malformed key name,
    /// bad options or malformed input. The message is the helper's.
    #[error("{message}")]
    Usage {
        /// The helper's one-line message.
        message: String,
    },
    /// KMS refused or failed the operation, or could not be reached (exit 3). The message is
    /// the helper's and names the key, the KMS status and what to check.
    #[error("{message}")]
    Kms {
        /// The helper's one-line message.
        message: String,
    },
    /// The helper ended in a way its contract does not allow (another exit status, a signal).
    #[error(
        "{} failed unexpectedly ({status}){}",
        crate::escape::path(path),
        fmt_detail(message)
    )]
    HelperFailed {
        /// The helper's path.
        path: PathBuf,
        /// How it ended.
        status: String,
        /// Its stderr, if any.
        message: String,
    },
    /// The helper did not finish within `--kms-timeout` plus [`helper::NETWORK_GRACE`] after it
    /// said it was ready, and was killed.
    #[error(
        "{} {} (--kms-timeout plus {} s): it hung outside its calls to Cloud KMS, which that timeout bounds; check this host (a stuck file system or network) and that it is the amhash-kms installed with amhash, or raise --kms-timeout",
        crate::escape::path(path),
        ExchangeError::timed_out_phrase(*after),
        helper::NETWORK_GRACE.as_secs()
    )]
    TimedOut {
        /// The helper's path.
        path: PathBuf,
        /// The limit it was given.
        after: Duration,
    },
    /// The helper succeeded but its output is not what the contract says (encrypt: one line of
    /// base64; either: at most 128 KiB).
    #[error("{} produced unexpected output: {what}", crate::escape::path(path))]
    BadOutput {
        /// The helper's path.
        path: PathBuf,
        /// What is wrong with it.
        what: &'static str,
    },
}

fn fmt_detail(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

crate::error::fault_is! {
    /// Only what the helper itself called a usage error is the input's fault.
    KmsError: Input if Usage, else Operational
}

/// A located `amhash-kms` executable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Helper {
    path: PathBuf,
}

impl Helper {
    /// The helper next to the running executable.
    ///
    /// # Errors
    /// [`KmsError::CurrentExe`] if the executable's path is unknown, [`KmsError::HelperMissing`]
    /// if no `amhash-kms` file is there.
    pub fn locate() -> Result<Helper, KmsError> {
        helper::locate(HELPER_NAME)
            .map(|path| Helper { path })
            .map_err(locate_error)
    }

    /// The helper at an explicit path.
    ///
    /// # Errors
    /// [`KmsError::HelperMissing`] if no file is there.
    pub fn at(path: impl Into<PathBuf>) -> Result<Helper, KmsError> {
        helper::existing(path.into())
            .map(|path| Helper { path })
            .map_err(locate_error)
    }

    /// The helper's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Encrypt `plaintext` with Cloud KMS: the ciphertext as one line of standard base64
    /// (without the newline), and the name AM must decrypt it with, as KMS decided it (see
    /// [`Encrypted::decrypt_with`]).
    ///
    /// # Errors
    /// See [`KmsError`].
    pub fn encrypt(&self, opts: &KmsOptions, plaintext: &[u8]) -> Result<Encrypted, KmsError> {
        let out = self.run("encrypt", opts, plaintext)?;
        let bad = |what| KmsError::BadOutput {
            path: self.path.clone(),
            what,
        };
        let text = std::str::from_utf8(&out).map_err(|_| bad("not text"))?;
        let mut lines = text.split_terminator('\n');
        let (Some(line), Some(name), None) = (lines.next(), lines.next(), lines.next()) else {
            return Err(bad("expected a line of base64 and a key name"));
        };
        if line.is_empty() || line.contains('\r') {
            return Err(bad("expected exactly one line of base64"));
        }
        base64::engine::general_purpose::STANDARD
            .decode(line)
            .map_err(|_| bad("not standard base64"))?;
        // Only the key asked for, or (for a version) its CryptoKey: nothing else may end up
        // in AM's configuration.
        let decrypt_with: KmsKeyName = name.parse().map_err(|_| bad("not a key name"))?;
        if decrypt_with != opts.key && decrypt_with != opts.key.key() {
            return Err(bad("names another key than the one asked for"));
        }
        Ok(Encrypted {
            value: line.to_owned(),
            decrypt_with,
        })
    }

    /// Decrypt a base64 Cloud KMS ciphertext (one line, or line-wrapped as `base64` writes it).
    ///
    /// # Errors
    /// See [`KmsError`].
    pub fn decrypt(
        &self,
        opts: &KmsOptions,
        ciphertext_b64: &str,
    ) -> Result<Zeroizing<Vec<u8>>, KmsError> {
        self.run("decrypt", opts, ciphertext_b64.as_bytes())
    }

    fn run(
        &self,
        op: &str,
        opts: &KmsOptions,
        input: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, KmsError> {
        let args = std::iter::once(op.to_owned()).chain(opts.to_args());
        // The helper bounds its KMS calls by opts.timeout; amhash bounds the helper.
        let limit = opts.timeout.saturating_add(helper::NETWORK_GRACE);
        // The helper needs the environment: Application Default Credentials, proxies.
        let reply = helper::exchange(
            &self.path,
            HELPER_NAME,
            Env::Inherit,
            args,
            input,
            MAX_OUTPUT,
            limit,
        )
        .map_err(|e| match e {
            ExchangeError::Spawn(source) => KmsError::Spawn {
                path: self.path.clone(),
                source,
            },
            ExchangeError::Pipe(source) => KmsError::Pipe {
                path: self.path.clone(),
                source,
            },
            ExchangeError::NotReady(what) => KmsError::HelperFailed {
                path: self.path.clone(),
                status: "no ready signal".to_owned(),
                message: what,
            },
            ExchangeError::TimedOut { after } => KmsError::TimedOut {
                path: self.path.clone(),
                after,
            },
        })?;
        map_status(&self.path, reply.status, reply.message, reply.stdout)
    }
}

fn locate_error(e: LocateError) -> KmsError {
    match e {
        LocateError::CurrentExe(source) => KmsError::CurrentExe { source },
        LocateError::Missing(path) => KmsError::HelperMissing { path },
    }
}

/// Map the helper's exit status (and its stderr line) to the result.
fn map_status(
    path: &Path,
    status: ExitStatus,
    message: String,
    out: Zeroizing<Vec<u8>>,
) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    let code = status.code();
    if code == Some(EXIT_SUCCESS.into()) {
        if out.len() > MAX_OUTPUT {
            return Err(KmsError::BadOutput {
                path: path.to_owned(),
                what: "more than 128 KiB",
            });
        }
        return Ok(out);
    }
    match code.and_then(Fault::from_exit_code) {
        Some(Fault::Input) => Err(KmsError::Usage {
            message: or_default(message, "amhash-kms rejected the request"),
        }),
        Some(Fault::Operational) => Err(KmsError::Kms {
            message: or_default(message, "amhash-kms reported a KMS failure"),
        }),
        None => Err(KmsError::HelperFailed {
            path: path.to_owned(),
            status: status.to_string(),
            message,
        }),
    }
}

fn or_default(message: String, default: &str) -> String {
    if message.is_empty() {
        default.to_owned()
    } else {
        message
    }
}

/// Encrypt with the helper next to the running executable. See [`Helper::encrypt`].
///
/// # Errors
/// See [`KmsError`].
pub fn encrypt(opts: &KmsOptions, plaintext: &[u8]) -> Result<Encrypted, KmsError> {
    Helper::locate()?.encrypt(opts, plaintext)
}

/// A value Cloud KMS encrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encrypted {
    /// The ciphertext, one line of standard base64.
    pub value: String,
    /// What AM must decrypt it with (`org.forgerock.openam.secrets.googlekms.decryptionkey`):
    /// Cloud KMS `Decrypt` takes only a CryptoKey, so for a symmetric key this is the key
    /// even when a version was given; `AsymmetricDecrypt` takes the version.
    pub decrypt_with: KmsKeyName,
}

/// Decrypt with the helper next to the running executable. See [`Helper::decrypt`].
///
/// # Errors
/// See [`KmsError`].
pub fn decrypt(opts: &KmsOptions, ciphertext_b64: &str) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    Helper::locate()?.decrypt(opts, ciphertext_b64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error as _;
    use std::os::unix::process::ExitStatusExt;

    fn status(code: i32) -> ExitStatus {
        ExitStatus::from_raw(code << 8)
    }

    #[test]
    fn exit_status_table() {
        let p = Path::new("/x/amhash-kms");
        let out = || Zeroizing::new(b"data".to_vec());
        assert_eq!(
            *map_status(p, status(0), String::new(), out()).unwrap(),
            b"data"
        );
        let e = map_status(p, status(2), "bad key".into(), out()).unwrap_err();
        assert_eq!(e.fault(), Fault::Input);
        assert_eq!(e.to_string(), "bad key");
        let e = map_status(p, status(3), "denied".into(), out()).unwrap_err();
        assert!(matches!(e, KmsError::Kms { .. }));
        assert_eq!(e.fault(), Fault::Operational);
        assert_eq!(e.to_string(), "denied");
        let e = map_status(p, status(3), String::new(), out()).unwrap_err();
        assert_eq!(e.to_string(), "amhash-kms reported a KMS failure");
        let e = map_status(p, status(101), "panicked".into(), out()).unwrap_err();
        assert!(matches!(e, KmsError::HelperFailed { .. }), "{e}");
        assert!(e.to_string().contains("panicked"), "{e}");
        let e = map_status(p, ExitStatus::from_raw(9), String::new(), out()).unwrap_err();
        assert!(e.to_string().contains("signal"), "{e}");
        let big = Zeroizing::new(vec![0u8; MAX_OUTPUT + 1]);
        let e = map_status(p, status(0), String::new(), big).unwrap_err();
        assert!(matches!(e, KmsError::BadOutput { .. }), "{e}");
    }

    #[test]
    fn missing_helper_says_so() {
        let e = Helper::at("/nonexistent/amhash-kms").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with(
                "amhash was built without KMS support or amhash-kms is not installed next to it"
            ),
            "{msg}"
        );
        assert!(msg.contains("/nonexistent/amhash-kms"), "{msg}");
    }
}
