//! Where key material lives: `file:PATH`, `env:VAR` or `keyring:SERVICE/ACCOUNT`.
//!
//! A key source is a *reference* to secret bytes, never the secret itself: the AM
//! encryption password (text) or a 256-bit local key (64 hex characters). This module
//! only fetches and stores the bytes; the caller interprets them.
//!
//! # Reference syntax
//!
//! | form | meaning |
//! |------|---------|
//! | `file:PATH` | a regular file, mode 0600 or stricter (group and others get no bits at all) |
//! | `env:VAR` | an environment variable of this process (name without `=`) |
//! | `keyring:SERVICE/ACCOUNT` | an OS keyring entry; the first `/` splits, so SERVICE is non-empty and has no `/`, ACCOUNT is non-empty and may contain `/` |
//!
//! Nothing else parses (no NUL anywhere, lower-case scheme). [`KeySource`]'s `Display`
//! writes the canonical reference back, so `parse(display(x)) == x`.
//!
//! # Reading
//!
//! Every source returns the bytes with **one** trailing line break removed (`"\n"` or
//! `"\r\n"`; `"k\n\n"` reads as `"k\n"`), because files written by editors and values put
//! into keyrings with `echo | keyctl padd` or `secret-tool store` usually carry one. An empty
//! result is an error. Secrets are copied only into zeroizing buffers and returned as a
//! [`SecretSlice`].
//!
//! - `file:` refuses a file owned by anyone but the invoking user (effective uid) or root, as
//!   ssh's StrictModes does (as root, a key file of another user is a key that user knows),
//!   naming the owner; it refuses a file whose mode gives group or others any bit
//!   (`mode & 0o077 != 0`), as ssh does for private keys, and says to run `chmod 600 PATH`
//!   (both are checked on the opened file, and are input errors, exit 2); it refuses anything but
//!   a regular file (opened non-blocking, so a FIFO cannot hang the read) and files over
//!   64 KiB. Symlinks are followed, like ssh; the checks apply to the file they point to.
//! - `env:` requires a set, non-empty, UTF-8 variable. **Environment variables are
//!   readable by every process of the same user** (`/proc/PID/environ`) and are inherited by
//!   child processes; prefer a file or a keyring on shared machines.
//! - `keyring:` reads the OS keyring selected by [`KeyringBackend`] (see below).
//!
//! # Writing
//!
//! [`KeySource::create_new`] (for `amhash key generate --out SOURCE`) never replaces
//! anything; [`KeySource::store`] (for `amhash key store SOURCE`) replaces a keyring entry.
//! A secret to write must be non-empty and must not end with a line break (it would not read
//! back identically).
//!
//! - `file:` is created with `O_CREAT|O_EXCL` (so an existing file *or symlink* is never
//!   followed or overwritten) and mode 0600 from creation, written as the secret plus one
//!   `"\n"`, `fsync`ed, then the directory is `fsync`ed. A partial file left by a failed
//!   write is removed. `store` behaves like `create_new` for files.
//! - `env:` cannot be written: a process cannot set its parent's environment.
//! - `keyring:` `create_new` refuses when an entry exists (check then write: the keyrings
//!   have no exclusive create, so two concurrent writers can still race).
//!
//! # Keyring backends
//!
//! [`KeyringBackend::Auto`] picks the Secret Service when a session bus is present
//! (`DBUS_SESSION_BUS_ADDRESS` is set and non-empty, and a Secret Service answers on it),
//! and the kernel keyutils store otherwise. The two are separate stores: an entry written
//! to one is not visible in the other.
//!
//! **Secret Service** (GNOME Keyring, KeePassXC, KWallet ...), through
//! `dbus-secret-service-keyring-store`: the item has the attributes `service=SERVICE`,
//! `username=ACCOUNT` (the convention of keyring-rs and Python `keyring`, so
//! `secret-tool lookup service SERVICE username ACCOUNT` finds it) and is created in the
//! default collection. It needs a session bus and an unlocked collection. On a headless
//! machine: `dbus-run-session -- sh -c 'gnome-keyring-daemon --unlock --components=secrets
//! < passfile; amhash ...'` (the daemon reads the keyring password on stdin). Entries live
//! in the keyring file on disk (`~/.local/share/keyrings/`) and survive reboots.
//!
//! **Kernel keyutils**, through `linux-keyutils`: a key of type `user`, described
//! `amhash:SERVICE/ACCOUNT`, linked into the caller's **user keyring** (`@u`, inspect with
//! `keyctl show @u`, remove with `keyctl purge user amhash:SERVICE/ACCOUNT`). The kernel
//! gives it its default permissions (measured `0x3f010000`: the possessor may do
//! everything, other holders of the UID may only see that it exists).
//!
//! Why `@u` and not what `linux-keyutils-keyring-store` does: that store adds the key to the
//! *session* keyring and links it into the *persistent* keyring. Measured on the Debian
//! build machines (kernel 6.x, running as root):
//! - outside a fresh session, its `set` fails with `AccessDenied` (linking into the
//!   persistent keyring is refused there) although the key lands in the shared session
//!   keyring, where another process later removed it;
//! - under `keyctl session -` it works, and a second fresh session reads the key back
//!   through the persistent keyring, but that keyring expires after
//!   `/proc/sys/kernel/keys/persistent_keyring_expiry` seconds without use (259200 = 3 days
//!   here), taking the key with it, and if the kernel lacks persistent keyrings the key
//!   silently lives only as long as the (possibly throw-away) session.
//!
//! The user keyring worked in every case measured: stored outside any new session, read in
//! a fresh `keyctl session -`; stored in one fresh session, read in another and outside. On
//! Linux 5.3 and later the user keyring is pinned by the user namespace's keyring register
//! (`.user_reg` in `/proc/keys`), so the key stays **until reboot** (or until the container's
//! user namespace ends); older kernels keep it while any process of that UID runs (always
//! true for root). **Keyutils keys never survive a reboot**: re-store them at boot or use
//! the Secret Service or a file. amhash never joins or creates a session keyring.
//!
//! Reading needs *possession* of the key, because other holders of the UID only get "view":
//! amhash links `@u` into its own *process* keyring (created on demand, private to this
//! process, gone when it exits), which makes keys under `@u` possessed by this process
//! whatever session it runs in. Any process of the same UID can do the same, so the trust
//! boundary is the UID, as for a 0600 file. Container runtimes often block the keyutils
//! system calls (Docker's default seccomp profile does); amhash then reports the kernel
//! keyring as unavailable.
//!
//! Every keyring error names the backend and `SERVICE/ACCOUNT`, says what failed (no entry,
//! locked, no session bus ...) and what to do.

mod error;
mod file;
mod keyring;

use std::ffi::OsString;
use std::fmt;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use secrecy::SecretSlice;

use crate::secrets::{self, SecretRef};

use zeroize::Zeroizing;

use error::keyring_error;
pub use error::{KeySourceError, KeyringProblem, ParseProblem};
pub use file::{KEY_FILE_MAX_LEN, check_key_file_mode, check_key_file_owner};

/// A reference to key material: where the secret lives, never the secret itself.
///
/// Build it with [`str::parse`] from a `SOURCE` string; `Display` writes the reference back.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeySource {
    /// `file:PATH`: a regular file readable by its owner only.
    File(PathBuf),
    /// `env:VAR`: an environment variable of the current process.
    Env(String),
    /// `keyring:SERVICE/ACCOUNT`: an entry in an OS keyring.
    Keyring {
        /// The service name (non-empty, no `/`).
        service: String,
        /// The account name (non-empty).
        account: String,
    },
    /// `vault:`, `aws-sm:`, `gcp-sm:`, `azure-kv:`: a secret in a secrets manager, read
    /// through the `amhash-secrets` helper (see [`crate::secrets`]) within the time given
    /// ([`secrets::DEFAULT_TIMEOUT`] when parsed; see [`KeySource::with_fetch_timeout`]).
    /// Read-only.
    Manager(SecretRef, Duration),
}

/// Which OS keyring a `keyring:` source uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum KeyringBackend {
    /// The Secret Service when a session bus is present and a Secret Service answers on it,
    /// the kernel keyutils user keyring otherwise.
    #[default]
    Auto,
    /// The freedesktop Secret Service over the D-Bus session bus (GNOME Keyring, KWallet ...).
    SecretService,
    /// The Linux kernel key retention service, in the caller's user keyring `@u`.
    Keyutils,
}

impl FromStr for KeySource {
    type Err = KeySourceError;

    /// Parses `file:PATH`, `env:VAR` or `keyring:SERVICE/ACCOUNT`.
    ///
    /// # Errors
    /// [`KeySourceError::Parse`] for anything else.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.contains('\0') {
            return Err(KeySourceError::Parse {
                problem: ParseProblem::Nul,
            });
        }
        let Some((scheme, rest)) = s.split_once(':') else {
            return Err(KeySourceError::Parse {
                problem: ParseProblem::NoScheme,
            });
        };
        if let Some(reference) = SecretRef::parse(scheme, rest) {
            return reference
                .map(|r| Self::Manager(r, secrets::DEFAULT_TIMEOUT))
                .map_err(KeySourceError::Reference);
        }
        let source = match scheme {
            "file" => Self::File(PathBuf::from(rest)),
            "env" => Self::Env(rest.to_owned()),
            "keyring" => {
                let Some((service, account)) = rest.split_once('/') else {
                    return Err(KeySourceError::Parse {
                        problem: ParseProblem::NoAccountSeparator,
                    });
                };
                Self::Keyring {
                    service: service.to_owned(),
                    account: account.to_owned(),
                }
            }
            other => {
                return Err(KeySourceError::Parse {
                    problem: ParseProblem::UnknownScheme(printable_scheme(other)),
                });
            }
        };
        source.validate()?;
        Ok(source)
    }
}

/// The scheme, if it is safe to echo: a short lower-case word, not a pasted secret.
fn printable_scheme(scheme: &str) -> Option<String> {
    let plausible = !scheme.is_empty()
        && scheme.len() <= 12
        && scheme
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'-' || b == b'_');
    plausible.then(|| scheme.to_owned())
}

impl fmt::Display for KeySource {
    /// The reference in canonical form (never any secret).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(p) => write!(f, "file:{}", p.display()),
            Self::Env(v) => write!(f, "env:{v}"),
            Self::Keyring { service, account } => write!(f, "keyring:{service}/{account}"),
            Self::Manager(r, _) => write!(f, "{r}"),
        }
    }
}

impl FromStr for KeyringBackend {
    type Err = KeySourceError;

    /// Parses `auto`, `secret-service` or `keyutils`, ignoring ASCII case.
    ///
    /// # Errors
    /// [`KeySourceError::UnknownBackend`] for anything else.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "secret-service" => Ok(Self::SecretService),
            "keyutils" => Ok(Self::Keyutils),
            _ => Err(KeySourceError::UnknownBackend {
                name: s.chars().take(32).collect(),
            }),
        }
    }
}

impl fmt::Display for KeyringBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Auto => "auto",
            Self::SecretService => "secret-service",
            Self::Keyutils => "keyutils",
        })
    }
}

impl KeyringBackend {
    /// The backend [`Auto`](Self::Auto) stands for on this machine right now (the others
    /// return themselves). For messages such as "stored in keyutils"; it connects to the
    /// Secret Service to find out, so call it once.
    #[must_use]
    pub fn resolve(self) -> Self {
        match self {
            Self::Auto => keyring::detect(),
            other => other,
        }
    }
}

impl KeySource {
    /// Reads the key material, with one trailing line break removed.
    ///
    /// `backend` matters only for `keyring:` sources.
    ///
    /// # Errors
    /// Missing, unreadable, empty, badly protected or non-regular files; unset, non-UTF-8 or
    /// empty variables; keyring failures (no entry, locked, no session bus ...).
    pub fn read(&self, backend: KeyringBackend) -> Result<SecretSlice<u8>, KeySourceError> {
        self.validate()?;
        let (raw, used) = match self {
            Self::File(path) => (file::read(path)?, None),
            Self::Env(var) => (env_bytes(var, std::env::var_os(var))?, None),
            Self::Keyring { service, account } => {
                let (used, raw) =
                    keyring::read(backend, service, account).map_err(|(backend, problem)| {
                        keyring_error(backend, service, account, problem)
                    })?;
                (raw, Some(used))
            }
            Self::Manager(r, timeout) => (
                secrets::fetch(r, *timeout, None).map_err(KeySourceError::Manager)?,
                None,
            ),
        };
        let key = strip_one_line_break(&raw);
        if key.is_empty() {
            return Err(match (self, used) {
                (Self::Keyring { service, account }, Some(used)) => {
                    keyring_error(used, service, account, KeyringProblem::Empty)
                }
                _ => KeySourceError::Empty {
                    reference: self.to_string(),
                },
            });
        }
        Ok(secret_copy(key))
    }

    /// Writes a new secret, refusing to replace an existing file or keyring entry.
    /// Used by `amhash key generate --out SOURCE`.
    ///
    /// # Errors
    /// [`KeySourceError::FileExists`], keyring [`KeyringProblem::AlreadyExists`],
    /// [`KeySourceError::EnvNotWritable`], [`KeySourceError::UnstorableSecret`], I/O and
    /// keyring failures.
    pub fn create_new(&self, secret: &[u8], backend: KeyringBackend) -> Result<(), KeySourceError> {
        self.write(secret, backend, false)
    }

    /// Writes a secret, replacing an existing keyring entry. For files it is
    /// [`create_new`](Self::create_new): an existing key file is never overwritten.
    /// Used by `amhash key store SOURCE`.
    ///
    /// # Errors
    /// As [`create_new`](Self::create_new), except that an existing keyring entry is replaced.
    pub fn store(&self, secret: &[u8], backend: KeyringBackend) -> Result<(), KeySourceError> {
        self.write(secret, backend, true)
    }

    /// [`create_new`](Self::create_new), or with `replace_entry` [`store`](Self::store).
    fn write(
        &self,
        secret: &[u8],
        backend: KeyringBackend,
        replace_entry: bool,
    ) -> Result<(), KeySourceError> {
        self.check_storable(secret)?;
        match self {
            Self::File(path) => file::create_new(path, secret),
            Self::Env(var) => Err(KeySourceError::EnvNotWritable { var: var.clone() }),
            Self::Manager(r, _) => Err(KeySourceError::ReadOnly {
                reference: r.to_string(),
            }),
            Self::Keyring { service, account } => {
                keyring::write(backend, service, account, secret, replace_entry)
                    .map_err(|(backend, problem)| keyring_error(backend, service, account, problem))
            }
        }
    }

    /// Deletes a keyring entry or a key file (plain unlink: no attempt to overwrite the
    /// disk blocks).
    ///
    /// # Errors
    /// Keyring [`KeyringProblem::NoEntry`], [`KeySourceError::FileNotFound`],
    /// [`KeySourceError::EnvNotWritable`], I/O and keyring failures.
    pub fn delete(&self, backend: KeyringBackend) -> Result<(), KeySourceError> {
        self.validate()?;
        match self {
            Self::File(path) => file::delete(path),
            Self::Env(var) => Err(KeySourceError::EnvNotWritable { var: var.clone() }),
            Self::Manager(r, _) => Err(KeySourceError::ReadOnly {
                reference: r.to_string(),
            }),
            Self::Keyring { service, account } => keyring::delete(backend, service, account)
                .map_err(|(backend, problem)| keyring_error(backend, service, account, problem)),
        }
    }

    /// The source with `timeout` as the cap on a secrets manager's fetch (`--secrets-timeout`);
    /// other sources are returned as they are.
    #[must_use]
    pub fn with_fetch_timeout(self, timeout: Duration) -> Self {
        match self {
            Self::Manager(r, _) => Self::Manager(r, timeout),
            other => other,
        }
    }

    /// The path of a `file:` source.
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        match self {
            Self::File(p) => Some(p),
            _ => None,
        }
    }

    /// Checks the invariants the parser enforces, for values built by hand.
    fn validate(&self) -> Result<(), KeySourceError> {
        let problem = match self {
            Self::File(p) if p.as_os_str().is_empty() => Some(ParseProblem::EmptyPath),
            Self::File(p) if p.as_os_str().as_encoded_bytes().contains(&0) => {
                Some(ParseProblem::Nul)
            }
            Self::File(_) => None,
            Self::Env(v) if v.is_empty() => Some(ParseProblem::EmptyVar),
            Self::Env(v) if v.contains('\0') => Some(ParseProblem::Nul),
            Self::Env(v) if v.contains('=') => Some(ParseProblem::VarHasEquals),
            Self::Env(_) => None,
            Self::Manager(..) => None,
            Self::Keyring { service, account } => {
                if service.contains('\0') || account.contains('\0') {
                    Some(ParseProblem::Nul)
                } else if service.is_empty() {
                    Some(ParseProblem::EmptyService)
                } else if service.contains('/') {
                    // The first '/' splits: a SERVICE with '/' cannot be written down.
                    Some(ParseProblem::NoAccountSeparator)
                } else if account.is_empty() {
                    Some(ParseProblem::EmptyAccount)
                } else {
                    None
                }
            }
        };
        problem.map_or(Ok(()), |problem| Err(KeySourceError::Parse { problem }))
    }

    fn check_storable(&self, secret: &[u8]) -> Result<(), KeySourceError> {
        self.validate()?;
        let reason = if secret.is_empty() {
            "is empty"
        } else if secret.ends_with(b"\n") {
            "ends with a line break, which readers strip (remove it first)"
        } else {
            return Ok(());
        };
        Err(KeySourceError::UnstorableSecret {
            reference: self.to_string(),
            reason,
        })
    }
}

/// The value of `env:VAR` given what the environment holds (split out so tests need not
/// modify the process environment).
fn env_bytes(var: &str, value: Option<OsString>) -> Result<Zeroizing<Vec<u8>>, KeySourceError> {
    let Some(value) = value else {
        return Err(KeySourceError::EnvNotSet {
            var: var.to_owned(),
        });
    };
    let bytes = Zeroizing::new(value.into_vec());
    if std::str::from_utf8(&bytes).is_err() {
        return Err(KeySourceError::EnvNotUnicode {
            var: var.to_owned(),
        });
    }
    Ok(bytes)
}

/// Removes one trailing `"\n"` or `"\r\n"`.
fn strip_one_line_break(bytes: &[u8]) -> &[u8] {
    bytes
        .strip_suffix(b"\r\n")
        .or_else(|| bytes.strip_suffix(b"\n"))
        .unwrap_or(bytes)
}

/// Copies into an exactly sized box, so no reallocation leaves an unzeroized copy behind.
fn secret_copy(bytes: &[u8]) -> SecretSlice<u8> {
    let mut boxed = vec![0u8; bytes.len()].into_boxed_slice();
    boxed.copy_from_slice(bytes);
    SecretSlice::new(boxed)
}

#[cfg(test)]
mod tests;
