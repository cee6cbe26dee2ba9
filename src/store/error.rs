//! The store's errors: one line each, naming the path and what to do, never the secret.

use std::io;
use std::path::{Path, PathBuf};

use super::{MAX_FILE_LEN, MAX_USER_NAME_LEN};
use crate::am::{Format, PROP_PASSWORDS_FORMAT};

/// Errors of the `store` module. Messages are one line, name the path, say what to do and never
/// contain the secret value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The user name cannot form a secret id.
    #[error(
        "invalid user name {name:?}: {reason}; use 1 to {MAX_USER_NAME_LEN} letters, digits, '.', '_' or '-' (for example amadmin)"
    )]
    InvalidUserName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The user name contains '-', which a POSIX shell cannot put in a variable name.
    #[error(
        "environment variable {var} cannot be set from a shell profile ('-' is not allowed in shell variable names); install user {user} with the directory or setenv.sh target instead"
    )]
    EnvVarNotExportable {
        /// The variable AM would read.
        var: String,
        /// The user name.
        user: String,
    },
    /// The value to install is unusable for this target.
    #[error("the value to install {reason}; nothing was written")]
    InvalidValue {
        /// What is wrong (never the value itself).
        reason: &'static str,
    },
    /// An owner specification could not be resolved.
    #[error("cannot resolve owner {spec:?}: {reason}")]
    Owner {
        /// The `USER[:GROUP]` specification as given.
        spec: String,
        /// What went wrong.
        reason: String,
    },
    /// The path has no usable file name component.
    #[error("{}: not a usable file path ({reason}); give the path of a file", crate::escape::path(.path))]
    BadPath {
        /// The path.
        path: PathBuf,
        /// What is wrong.
        reason: &'static str,
    },
    /// The target directory does not exist (amhash never creates it).
    #[error(
        "{}: directory does not exist; create it (owned by the user AM runs as, mode 0700) or fix the path", crate::escape::path(.path)
    )]
    DirMissing {
        /// The directory.
        path: PathBuf,
    },
    /// The target directory path is not a directory.
    #[error("{}: is not a directory; give the directory AM reads secrets from", crate::escape::path(.path))]
    NotADirectory {
        /// The path.
        path: PathBuf,
    },

    /// A path another account could use against amhash, refused by policy.
    #[error("{}: {why}", crate::escape::path(.path))]
    Refused {
        /// The path as given (or the directory or file in it that is refused).
        path: PathBuf,
        /// Why.
        why: Refusal,
    },
    /// The target exists but is not a regular file.
    #[error("{}: is a {kind}, not a regular file; remove it or choose another target", crate::escape::path(.path))]
    NotRegularFile {
        /// The path.
        path: PathBuf,
        /// What it is (directory, fifo, ...).
        kind: &'static str,
    },
    /// Another user's setenv.sh block uses a different format; AM has one format for all users.
    #[error(
        "{}: user {other_user} is installed with format {other_format} but this install uses {format}; AM has one format for all special users: install with {other_format} or re-install {other_user} with {format} first", crate::escape::path(.path)
    )]
    FormatConflict {
        /// The setenv.sh file.
        path: PathBuf,
        /// The other user.
        other_user: String,
        /// The other user's format.
        other_format: Format,
        /// The format of this install.
        format: Format,
    },
    /// setenv.sh sets the format property outside amhash blocks, to a different format.
    #[error(
        "{}:{line}: the file already sets {PROP_PASSWORDS_FORMAT}={other_format} outside amhash blocks but this install uses {format}; remove that setting or install with {other_format}", crate::escape::path(.path)
    )]
    FormatConflictOutside {
        /// The setenv.sh file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The format set there.
        other_format: Format,
        /// The format of this install.
        format: Format,
    },
    /// An amhash-managed block (or an assignment we would replace) is malformed.
    #[error("{}:{line}: {reason}; fix the file by hand, then run amhash again", crate::escape::path(.path))]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// The current value could not be read back from a file.
    #[error("{}:{line}: cannot read the value of {name}: {reason}", crate::escape::path(.path))]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The variable or property.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// A Kubernetes object name or namespace is invalid.
    #[error("invalid Kubernetes {field} {value:?}: {reason}")]
    InvalidK8sName {
        /// `name` or `namespace`.
        field: &'static str,
        /// The string as given.
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// Another process holds the directory lock for longer than the caller wanted to wait.
    #[error(
        "{}: another process holds the lock on this directory (waited {waited_secs} s); it may be another amhash or any account that can open the directory: find it with `fuser -v {}`, or wait longer with --lock-timeout SECONDS", crate::escape::path(.path), crate::escape::path(.path)
    )]
    LockTimeout {
        /// The directory.
        path: PathBuf,
        /// How long amhash waited, in whole seconds.
        waited_secs: u64,
    },
    /// A systemd unit name amhash does not accept.
    #[error("invalid systemd unit {name:?}: {reason}; give a service unit such as tomcat9.service")]
    InvalidUnitName {
        /// The name as given (escaped when shown by the binary).
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `systemd-creds` cannot be used (missing, too old, or failing to report its version).
    #[error(
        "systemd-creds cannot be used: {reason}; use --systemd-mode env-file (an EnvironmentFile= readable by root only)"
    )]
    CredsUnavailable {
        /// Why.
        reason: String,
    },
    /// `systemd-creds` failed.
    #[error("systemd-creds {op} failed: {message}")]
    CredsFailed {
        /// encrypt, decrypt.
        op: &'static str,
        /// Its one-line message (never a secret: the secret only went to its stdin).
        message: String,
    },
    /// A file is larger than [`MAX_FILE_LEN`].
    #[error("{}: file is larger than {MAX_FILE_LEN} bytes, which is not a file amhash manages; check the path", crate::escape::path(.path))]
    TooLarge {
        /// The file.
        path: PathBuf,
    },
    /// An I/O operation failed.
    #[error("{}: cannot {op}: {source}", crate::escape::path(.path))]
    Io {
        /// What we were doing ("open directory", "rename", ...).
        op: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

/// A refusal by policy: a link, a `..`, an owner, a mode or a hard link that another account
/// could use to choose what amhash reads or where it writes. Always the input's fault: the
/// administrator must fix the file or give another path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The target directory is writable by group or others, so someone else could swap the secret.
    #[error(
        "directory is writable by group or others (mode {mode:04o}); run `chmod go-w` on it first"
    )]
    DirWritable {
        /// Its permission bits.
        mode: u32,
    },
    /// The target is a symbolic link; amhash never writes through one.
    #[error(
        "is a symbolic link; refusing to write through it: point amhash at the real file or replace the link with a regular file"
    )]
    Symlink,
    /// A path goes through a symbolic link that an account other than root and the user
    /// amhash runs as could have placed (see `walk`).
    #[error(
        "{} is a symbolic link {reason}; amhash follows only links owned by root or by the user it runs as, in directories no other account can write: check where it points and who controls it, then give the real path", crate::escape::path(.link)
    )]
    UntrustedSymlink {
        /// The path up to and including the refused link.
        link: PathBuf,
        /// Who owns it or could replace it.
        reason: String,
    },
    /// A `..` in a path comes after a directory another account owns, which that account
    /// can move anywhere: the rest of the path would be theirs to choose.
    #[error(
        "the '..' after {} could lead anywhere, since that directory is {reason} and that account can move it: give the path without '..'", crate::escape::path(.dir)
    )]
    UntrustedParent {
        /// The directory another account owns.
        dir: PathBuf,
        /// Who owns it.
        reason: String,
    },
    /// A file to edit has more than one name (hard links).
    #[error(
        "has {links} names (hard links): one may be another account's file linked here, whose owner an edit would copy; remove the other links (find them with `find / -samefile`)"
    )]
    HardLinked {
        /// Its link count.
        links: u64,
    },
    /// A file that decides a secret (a password or a value to install) belongs to another
    /// account, which could have written it.
    #[error(
        "is owned by {owner}, not by root or you: that account chose what it holds; use a file of your own"
    )]
    NotYours {
        /// `uid N (name)`.
        owner: String,
    },
    /// A credential file (a token, an ADC file, a CA bundle) lies in a directory another
    /// account owns or can write: that account could put a file of root's (or of its own
    /// choosing) under that name at any moment.
    #[error(
        "is in {}, a directory {reason}: that account could put another file under this name; keep credential files in a directory only root (or you) can write", crate::escape::path(.dir)
    )]
    CredentialDir {
        /// The directory holding the file.
        dir: PathBuf,
        /// Who owns it or can write it.
        reason: String,
    },
    /// A directory amhash would write a systemd file in, or create one in, belongs to an
    /// account other than root (or the user amhash runs as).
    #[error(
        "directory is owned by {owner}, not root: systemd's configuration and credentials must be a root-owned tree; fix its owner (chown root:root) first"
    )]
    NotRootOwned {
        /// `uid N (name)`.
        owner: String,
    },
}

crate::error::fault_is! {
    /// Bad input or a target refused by policy is the input's fault; I/O, a file too large
    /// to be ours and a lock held too long are operational.
    StoreError: Operational if Io | TooLarge | LockTimeout | CredsUnavailable | CredsFailed,
    else Input
}

impl StoreError {
    /// Whether this is a refusal by policy: a link, a `..`, an owner, a mode or a hard link
    /// that another account could use (for callers that otherwise treat file errors as
    /// operational, such as reading an input file).
    #[must_use]
    pub fn is_refusal(&self) -> bool {
        self.refusal().is_some()
    }

    /// Why this path was refused, if this is a refusal by policy.
    #[must_use]
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            StoreError::Refused { why, .. } => Some(why),
            _ => None,
        }
    }

    pub(crate) fn io(op: &'static str, path: &Path, source: impl Into<io::Error>) -> Self {
        StoreError::Io {
            op,
            path: path.to_path_buf(),
            source: source.into(),
        }
    }
}

/// Result alias of this module.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
