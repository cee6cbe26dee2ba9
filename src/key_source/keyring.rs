//! `keyring:SERVICE/ACCOUNT` sources: the Secret Service and the kernel user keyring.
//!
//! The choices (which keyring, why `@u`, lifetimes) are explained in the parent module's
//! documentation. Every function returns the backend actually used alongside any error, so
//! the caller can name it.

use std::sync::Arc;

use keyring_core::Entry;
use keyring_core::api::CredentialStoreApi;
use linux_keyutils::{Key, KeyError, KeyRing, KeyRingIdentifier};
use zeroize::{Zeroize, Zeroizing};

use super::{KeyringBackend, KeyringProblem};

type Failed = (KeyringBackend, KeyringProblem);

/// An opened keyring.
enum Opened {
    SecretService(Arc<dbus_secret_service_keyring_store::Store>),
    Keyutils(UserKeyring),
}

/// True when a session bus address is set (the Secret Service is only looked for then).
fn session_bus_present() -> bool {
    std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some_and(|v| !v.is_empty())
}

pub(super) fn detect() -> KeyringBackend {
    if session_bus_present() && dbus_secret_service_keyring_store::Store::new().is_ok() {
        KeyringBackend::SecretService
    } else {
        KeyringBackend::Keyutils
    }
}

fn open(backend: KeyringBackend) -> Result<Opened, Failed> {
    let secret_service = || {
        dbus_secret_service_keyring_store::Store::new()
            .map(Opened::SecretService)
            .map_err(|e| {
                (
                    KeyringBackend::SecretService,
                    KeyringProblem::ServiceUnavailable(e.to_string()),
                )
            })
    };
    match backend {
        KeyringBackend::Auto if session_bus_present() => {
            secret_service().or_else(|_| open_keyutils())
        }
        KeyringBackend::Auto | KeyringBackend::Keyutils => open_keyutils(),
        KeyringBackend::SecretService if !session_bus_present() => {
            Err((KeyringBackend::SecretService, KeyringProblem::NoSessionBus))
        }
        KeyringBackend::SecretService => secret_service(),
    }
}

fn open_keyutils() -> Result<Opened, Failed> {
    UserKeyring::open()
        .map(Opened::Keyutils)
        .map_err(|e| (KeyringBackend::Keyutils, keyutils_problem(e)))
}

impl Opened {
    fn backend(&self) -> KeyringBackend {
        match self {
            Self::SecretService(_) => KeyringBackend::SecretService,
            Self::Keyutils(_) => KeyringBackend::Keyutils,
        }
    }

    fn get(&self, service: &str, account: &str) -> Result<Zeroizing<Vec<u8>>, KeyringProblem> {
        match self {
            Self::SecretService(store) => {
                let entry = ss_entry(store, service, account)?;
                entry.get_secret().map(Zeroizing::new).map_err(ss_problem)
            }
            Self::Keyutils(ring) => ring
                .get(&keyutils_description(service, account))
                .map_err(keyutils_problem),
        }
    }

    fn exists(&self, service: &str, account: &str) -> Result<bool, KeyringProblem> {
        match self {
            Self::SecretService(store) => {
                let entry = ss_entry(store, service, account)?;
                match entry.get_credential() {
                    Ok(_) | Err(keyring_core::Error::Ambiguous(_)) => Ok(true),
                    Err(keyring_core::Error::NoEntry) => Ok(false),
                    Err(e) => Err(ss_problem(e)),
                }
            }
            Self::Keyutils(ring) => match ring.find(&keyutils_description(service, account)) {
                Ok(_) => Ok(true),
                Err(e) if is_missing(e) => Ok(false),
                Err(e) => Err(keyutils_problem(e)),
            },
        }
    }

    fn set(&self, service: &str, account: &str, secret: &[u8]) -> Result<(), KeyringProblem> {
        match self {
            Self::SecretService(store) => ss_entry(store, service, account)?
                .set_secret(secret)
                .map_err(ss_problem),
            Self::Keyutils(ring) => ring
                .user
                .add_key(&keyutils_description(service, account), secret)
                .map(|_| ())
                .map_err(keyutils_problem),
        }
    }

    fn delete(&self, service: &str, account: &str) -> Result<(), KeyringProblem> {
        match self {
            Self::SecretService(store) => ss_entry(store, service, account)?
                .delete_credential()
                .map_err(ss_problem),
            Self::Keyutils(ring) => ring
                .find(&keyutils_description(service, account))
                // Invalidate, not unlink: the key disappears from every keyring it is in.
                .and_then(|key| key.invalidate())
                .map_err(keyutils_problem),
        }
    }
}

pub(super) fn read(
    backend: KeyringBackend,
    service: &str,
    account: &str,
) -> Result<(KeyringBackend, Zeroizing<Vec<u8>>), Failed> {
    let opened = open(backend)?;
    let used = opened.backend();
    opened
        .get(service, account)
        .map(|s| (used, s))
        .map_err(|p| (used, p))
}

/// Writes an entry; without `replace`, refuses when one exists (neither keyring has an
/// exclusive create: check, then write).
pub(super) fn write(
    backend: KeyringBackend,
    service: &str,
    account: &str,
    secret: &[u8],
    replace: bool,
) -> Result<(), Failed> {
    let opened = open(backend)?;
    let used = opened.backend();
    if !replace && opened.exists(service, account).map_err(|p| (used, p))? {
        return Err((used, KeyringProblem::AlreadyExists));
    }
    opened.set(service, account, secret).map_err(|p| (used, p))
}

pub(super) fn delete(backend: KeyringBackend, service: &str, account: &str) -> Result<(), Failed> {
    let opened = open(backend)?;
    let used = opened.backend();
    opened.delete(service, account).map_err(|p| (used, p))
}

// ---------------------------------------------------------------------------------------
// Secret Service

fn ss_entry(
    store: &dbus_secret_service_keyring_store::Store,
    service: &str,
    account: &str,
) -> Result<Entry, KeyringProblem> {
    // Built from the store directly, not through keyring_core's process-wide default store.
    store.build(service, account, None).map_err(ss_problem)
}

fn ss_problem(err: keyring_core::Error) -> KeyringProblem {
    use keyring_core::Error as E;
    match err {
        E::NoEntry => KeyringProblem::NoEntry,
        E::NoStorageAccess(e) => KeyringProblem::Locked(e.to_string()),
        E::Ambiguous(entries) => KeyringProblem::Ambiguous(entries.len()),
        // These two carry the secret's bytes: wipe them, never format them.
        E::BadEncoding(mut bytes) => {
            bytes.zeroize();
            KeyringProblem::Failure("the stored secret is not in the expected encoding".to_owned())
        }
        E::BadDataFormat(mut bytes, _) => {
            bytes.zeroize();
            KeyringProblem::Failure("the stored secret is malformed".to_owned())
        }
        E::PlatformFailure(e) => KeyringProblem::Failure(format!("Secret Service failure: {e}")),
        other => KeyringProblem::Failure(other.to_string()),
    }
}

// ---------------------------------------------------------------------------------------
// Kernel keyutils

/// The description of the `user` key holding SERVICE/ACCOUNT.
pub(super) fn keyutils_description(service: &str, account: &str) -> String {
    format!("amhash:{service}/{account}")
}

/// The caller's user keyring `@u`, linked into this process's own keyring so that keys
/// under it are *possessed* (readable with the possessor permissions) whatever session
/// keyring the process has.
struct UserKeyring {
    user: KeyRing,
}

impl UserKeyring {
    fn open() -> Result<Self, KeyError> {
        let user = KeyRing::from_special_id(KeyRingIdentifier::User, true)?;
        // The process keyring is private to this process and dies with it; linking @u into
        // it changes nothing outside the process (unlike joining a session keyring).
        let process = KeyRing::from_special_id(KeyRingIdentifier::Process, true)?;
        process.link_keyring_id(KeyRingIdentifier::User)?;
        Ok(Self { user })
    }

    fn find(&self, description: &str) -> Result<Key, KeyError> {
        self.user.search(description)
    }

    fn get(&self, description: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let key = self.find(description)?;
        // read_to_vec allocates once (64 KiB, more than a user key holds); Zeroizing wipes
        // the whole capacity on drop.
        key.read_to_vec().map(Zeroizing::new)
    }
}

/// The errors the kernel uses for "no such key" (racing with invalidation gives the others).
fn is_missing(err: KeyError) -> bool {
    matches!(
        err,
        KeyError::KeyDoesNotExist | KeyError::KeyRevoked | KeyError::KeyExpired
    )
}

fn keyutils_problem(err: KeyError) -> KeyringProblem {
    match err {
        e if is_missing(e) => KeyringProblem::NoEntry,
        KeyError::AccessDenied | KeyError::PermissionDenied => KeyringProblem::AccessDenied,
        // ENOSYS (38): the syscalls are filtered out or not built in.
        KeyError::OperationNotSupported | KeyError::Unknown(38) => {
            KeyringProblem::KeyutilsUnavailable
        }
        KeyError::QuotaExceeded => KeyringProblem::QuotaExceeded,
        KeyError::InvalidArguments | KeyError::InvalidDescription => KeyringProblem::Rejected,
        other => KeyringProblem::Failure(format!("kernel keyutils error {other:?}")),
    }
}
