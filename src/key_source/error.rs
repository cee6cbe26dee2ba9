//! What can go wrong with a key source. Every message names the source (never the secret)
//! and says what to do.

use std::fmt;
use std::path::PathBuf;

use super::KeyringBackend;
use crate::error::Fault;

/// What is wrong with a `SOURCE` string.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseProblem {
    /// There is no `scheme:` prefix.
    NoScheme,
    /// The scheme is not `file`, `env` or `keyring`. Holds the scheme only when it looks like
    /// one (short, lower-case ASCII), so that a key pasted by mistake is never echoed.
    UnknownScheme(Option<String>),
    /// `file:` without a path.
    EmptyPath,
    /// `env:` without a variable name.
    EmptyVar,
    /// The variable name contains `=`.
    VarHasEquals,
    /// `keyring:` without a `/` between SERVICE and ACCOUNT.
    NoAccountSeparator,
    /// `keyring:/ACCOUNT`.
    EmptyService,
    /// `keyring:SERVICE/`.
    EmptyAccount,
    /// The string contains a NUL character.
    Nul,
}

impl fmt::Display for ParseProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoScheme => f.write_str("no scheme (the value itself is not shown)"),
            Self::UnknownScheme(Some(s)) => write!(f, "unknown scheme \"{s}:\""),
            Self::UnknownScheme(None) => f.write_str("unknown scheme (the value is not shown)"),
            Self::EmptyPath => f.write_str("file: needs a path"),
            Self::EmptyVar => f.write_str("env: needs a variable name"),
            Self::VarHasEquals => f.write_str("an environment variable name cannot contain '='"),
            Self::NoAccountSeparator => {
                f.write_str("keyring: needs SERVICE/ACCOUNT (no '/' found)")
            }
            Self::EmptyService => f.write_str("keyring: SERVICE is empty"),
            Self::EmptyAccount => f.write_str("keyring: ACCOUNT is empty"),
            Self::Nul => f.write_str("it contains a NUL character"),
        }
    }
}

/// What went wrong in a keyring operation (the context is in [`KeySourceError::Keyring`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyringProblem {
    /// No entry exists for SERVICE/ACCOUNT.
    NoEntry,
    /// `create_new` found an existing entry.
    AlreadyExists,
    /// The entry exists but holds nothing once a trailing line break is removed.
    Empty,
    /// The Secret Service was requested but `DBUS_SESSION_BUS_ADDRESS` is not set.
    NoSessionBus,
    /// No Secret Service answered on the session bus (detail from D-Bus).
    ServiceUnavailable(String),
    /// The Secret Service collection is locked, or missing, and no unlock or create prompt
    /// could be completed (detail from the service).
    Locked(String),
    /// Several Secret Service items match SERVICE/ACCOUNT.
    Ambiguous(usize),
    /// The kernel refused access to the user keyring or the key.
    AccessDenied,
    /// The keyutils system calls are unavailable (blocked by seccomp or not built in).
    KeyutilsUnavailable,
    /// The user's kernel key quota is exhausted.
    QuotaExceeded,
    /// The kernel rejected the description or the payload (too long: a `user` key holds at
    /// most 32767 bytes, a description at most 4095).
    Rejected,
    /// Any other failure of the keyring (detail from the keyring; never secret bytes).
    Failure(String),
}

/// Errors of key sources. [`KeySourceError::is_usage`] tells a malformed request (exit 2)
/// from an operational failure (exit 3).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeySourceError {
    /// The `SOURCE` string is not one of the three forms (usage error).
    #[error(
        "invalid key source: {problem}; expected file:PATH, env:VAR, keyring:SERVICE/ACCOUNT, vault:, aws-sm:, gcp-sm: or azure-kv:"
    )]
    Parse {
        /// What is wrong.
        problem: ParseProblem,
    },
    /// A secrets-manager reference is malformed (usage error).
    #[error(transparent)]
    Reference(crate::secrets::ReferenceError),
    /// A secrets manager could not give the secret (the message names the reference, the
    /// status and what to check).
    #[error(transparent)]
    Manager(crate::secrets::SecretsError),
    /// A write or delete of a secrets-manager reference (usage error): amhash only reads them.
    #[error(
        "cannot store into {reference}: amhash only reads secrets managers; put the key there with the manager's own tools"
    )]
    ReadOnly {
        /// The reference.
        reference: String,
    },
    /// The keyring backend name is unknown (usage error).
    #[error("unknown keyring backend \"{name}\"; expected auto, secret-service or keyutils")]
    UnknownBackend {
        /// The name given (at most 32 characters are kept).
        name: String,
    },
    /// A write to `env:` was requested (usage error).
    #[error(
        "cannot store a key in env:{var}: a process cannot set its parent's environment; \
         use file:PATH or keyring:SERVICE/ACCOUNT, or export the variable yourself"
    )]
    EnvNotWritable {
        /// The variable name.
        var: String,
    },
    /// The secret to write is empty or ends with a line break (usage error).
    #[error("refusing to store into {reference}: the key {reason}")]
    UnstorableSecret {
        /// The key source reference.
        reference: String,
        /// Why ("is empty", "ends with a line break ...").
        reason: &'static str,
    },
    /// The environment variable is not set.
    #[error(
        "environment variable {var} (from env:{var}) is not set; export it or use another key source"
    )]
    EnvNotSet {
        /// The variable name.
        var: String,
    },
    /// The environment variable is not valid UTF-8.
    #[error("environment variable {var} (from env:{var}) is not valid UTF-8")]
    EnvNotUnicode {
        /// The variable name.
        var: String,
    },
    /// The source holds nothing once one trailing line break is removed.
    #[error("key source {reference} is empty; put the key there first")]
    Empty {
        /// The key source reference.
        reference: String,
    },
    /// The key file does not exist.
    #[error("key file {} does not exist", crate::escape::path(path))]
    FileNotFound {
        /// The path.
        path: PathBuf,
    },
    /// The key file gives group or others some permission.
    #[error(
        "key file {} has mode {mode:04o}, which gives group or others access; \
         run `chmod 600 {}` (and consider the key exposed)",
        crate::escape::path(path),
        crate::escape::path(path)
    )]
    FileMode {
        /// The path.
        path: PathBuf,
        /// The permission bits (`mode & 0o7777`).
        mode: u32,
    },
    /// The key file belongs to a user other than the invoking one (effective uid) and root.
    #[error(
        "key file {} is owned by uid {uid}{}, not by {}: that user knows the key or can \
         replace it; use a key file of your own (and consider this key exposed)",
        crate::escape::path(path),
        name.as_deref().map(|n| format!(" ({n})")).unwrap_or_default(),
        if *euid == 0 { "root".to_owned() } else { format!("you (uid {euid}) or root") }
    )]
    FileOwner {
        /// The path.
        path: PathBuf,
        /// The owner's uid.
        uid: u32,
        /// The owner's name in `/etc/passwd`, when known.
        name: Option<String>,
        /// The effective uid of this process.
        euid: u32,
    },
    /// The key source path is not a regular file.
    #[error(
        "key file {} is not a regular file (it is a {kind})",
        crate::escape::path(path)
    )]
    NotRegularFile {
        /// The path.
        path: PathBuf,
        /// "directory", "FIFO", "socket", "character device" or "block device".
        kind: &'static str,
    },
    /// The key file is too large to be a key.
    #[error(
        "key file {} is larger than {max} bytes, so it does not hold a key",
        crate::escape::path(path)
    )]
    FileTooLarge {
        /// The path.
        path: PathBuf,
        /// The limit in bytes.
        max: usize,
    },
    /// `create_new` found an existing file (or symlink) at the path.
    #[error(
        "key file {} already exists; refusing to overwrite it (move it away or choose another path)",
        crate::escape::path(path)
    )]
    FileExists {
        /// The path.
        path: PathBuf,
    },
    /// The path to a key file goes through a link, or a `..`, that another account could
    /// have placed or moved (see `store::walk`): refused, as for every file amhash trusts.
    #[error("key file {}", .message)]
    UnsafePath {
        /// The store's message, which names the path and the link or directory.
        message: String,
    },
    /// The directory that should hold a new key file does not exist.
    #[error(
        "cannot create key file {}: directory {} does not exist",
        crate::escape::path(path),
        crate::escape::path(dir)
    )]
    NoParentDir {
        /// The path of the key file.
        path: PathBuf,
        /// The missing directory.
        dir: PathBuf,
    },
    /// An I/O operation on a key file failed.
    #[error("cannot {action} key file {}: {error}", crate::escape::path(path))]
    FileIo {
        /// What was attempted ("open", "read", "write", "sync", ...).
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The OS error.
        error: std::io::Error,
    },
    /// A keyring operation failed.
    #[error("{}", keyring_message(*.backend, .service, .account, .problem))]
    Keyring {
        /// The backend that failed (never `Auto`: the one actually used).
        backend: KeyringBackend,
        /// The SERVICE of the reference.
        service: String,
        /// The ACCOUNT of the reference.
        account: String,
        /// What failed.
        problem: KeyringProblem,
    },
}

impl crate::error::Error for KeySourceError {
    /// Input when the reference itself is malformed, or a policy refuses the key file (its
    /// mode or owner: the user must fix the file); operational for everything else (missing
    /// file, locked keyring ...).
    fn fault(&self) -> Fault {
        match self {
            Self::Parse { .. }
            | Self::UnknownBackend { .. }
            | Self::EnvNotWritable { .. }
            | Self::UnstorableSecret { .. }
            | Self::FileMode { .. }
            | Self::FileOwner { .. }
            | Self::UnsafePath { .. }
            | Self::Reference(_)
            | Self::ReadOnly { .. } => Fault::Input,
            Self::Manager(e) => crate::error::Error::fault(e),
            _ => Fault::Operational,
        }
    }
}

fn keyring_message(
    backend: KeyringBackend,
    service: &str,
    account: &str,
    problem: &KeyringProblem,
) -> String {
    let reference = format!("keyring:{service}/{account}");
    let what = match backend {
        KeyringBackend::SecretService => "Secret Service",
        KeyringBackend::Keyutils => "kernel keyutils (user keyring @u)",
        KeyringBackend::Auto => "keyring",
    };
    let flag = match backend {
        KeyringBackend::SecretService => "secret-service",
        KeyringBackend::Keyutils | KeyringBackend::Auto => "keyutils",
    };
    let detail = match problem {
        KeyringProblem::NoEntry => format!(
            "no entry; store one with `amhash key store {reference}` \
             (the secret-service and keyutils backends are separate stores: check --keyring-backend)"
        ),
        KeyringProblem::AlreadyExists => format!(
            "an entry already exists; refusing to replace it \
             (use `amhash key store {reference}` to replace it on purpose, or choose another ACCOUNT)"
        ),
        KeyringProblem::Empty => {
            format!("the entry is empty; store a key with `amhash key store {reference}`")
        }
        KeyringProblem::NoSessionBus => "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set); \
             run inside a desktop session or under `dbus-run-session`, or use --keyring-backend keyutils"
            .to_owned(),
        KeyringProblem::ServiceUnavailable(d) => format!(
            "no Secret Service answers on the session bus ({d}); \
             start a keyring daemon (e.g. gnome-keyring-daemon) or use --keyring-backend keyutils"
        ),
        KeyringProblem::Locked(d) => format!(
            "the keyring is locked or has no default collection, and no unlock prompt could be shown ({d}); \
             unlock it first, e.g. `gnome-keyring-daemon --unlock --components=secrets < passfile`"
        ),
        KeyringProblem::Ambiguous(n) => format!(
            "{n} items match; remove the duplicates (e.g. `secret-tool clear service {service} username {account}`) \
             and store the key again"
        ),
        KeyringProblem::AccessDenied => "the kernel denied access to the user keyring or the key \
             (a key stored by another user or with changed permissions?); check with `keyctl show @u`, \
             or use --keyring-backend secret-service or a file: source"
            .to_owned(),
        KeyringProblem::KeyutilsUnavailable => "the kernel keyring system calls are unavailable \
             (blocked by a container seccomp profile, or a kernel without CONFIG_KEYS); \
             use --keyring-backend secret-service or a file: source"
            .to_owned(),
        KeyringProblem::QuotaExceeded => "the user's kernel key quota is exhausted \
             (see /proc/sys/kernel/keys/maxkeys and maxbytes); remove unused keys with `keyctl purge`"
            .to_owned(),
        KeyringProblem::Rejected => "the kernel rejected the entry (a key holds at most 32767 bytes, \
             SERVICE/ACCOUNT at most about 4000); use shorter names or a smaller key"
            .to_owned(),
        KeyringProblem::Failure(d) => format!("{d} (backend {flag})"),
    };
    format!("{what}, {reference}: {detail}")
}

pub(super) fn keyring_error(
    backend: KeyringBackend,
    service: &str,
    account: &str,
    problem: KeyringProblem,
) -> KeySourceError {
    KeySourceError::Keyring {
        backend,
        service: service.to_owned(),
        account: account.to_owned(),
        problem,
    }
}
