//! Install targets for the AM special-user secret: the ONLY place in amhash that writes secret files.
//!
//! AM (7.x) looks up the secret `password.<user>` (the `{SSHA-512}` hash, optionally encrypted) in
//! the special secret store, which it reads from three places (seed 001, "Map the encrypted secret"):
//!
//! | target                         | module       | what AM reads                                        |
//! |--------------------------------|--------------|------------------------------------------------------|
//! | directory `…/userpasswords`    | [`dir`]      | file `DIR/password.<user>`, content = value, no `\n` |
//! | environment of the AM process  | [`env_file`] | `PASSWORD_<USER>` (a line in the user's profile)     |
//! | Java system property           | [`setenv`]   | `-Dpassword.<user>=…` in Tomcat's `CATALINA_OPTS`    |
//! | Kubernetes (mounted as a dir)  | [`k8s`]      | a `Secret` whose key `password.<user>` is the file   |
//!
//! [`Format`] names the AM property that says how the value is encoded; AM has ONE format for all
//! special users.
//!
//! Every file is written by [`atomic`]: temp file in the same directory, mode 0600 from creation,
//! `fsync`, rename over the target, `fsync` of the directory; a symlink at the target is refused,
//! and an advisory lock (`flock` on the directory fd) serialises concurrent amhash processes
//! writing in the same directory.
//!
//! # Errors and exit codes
//! [`StoreError::class`] tells usage-ish errors ([`ErrorClass::Usage`], exit code 2: bad user name,
//! bad value, refused target, conflicting format, a block edited by hand) from operational ones
//! ([`ErrorClass::Operational`], exit code 3: I/O errors, a file too large to be ours).
//! No message ever contains the secret value.
//!
//! # Ownership
//! AM runs as an unprivileged user that must be able to read what we write. When amhash runs as
//! root, a written file gets (in order of preference) the owner given by the caller
//! ([`Owner::resolve`] parses `USER[:GROUP]` or numeric ids from `/etc/passwd` and `/etc/group`;
//! no NSS/LDAP lookup), else the owner of the file being replaced, else the owner of the
//! directory. Not as root, a replaced file keeps its owner (the `fchown` fails loudly if that is
//! impossible) and a new file belongs to the caller.

pub mod atomic;
pub mod dir;
pub mod env_file;
pub mod k8s;
pub mod setenv;
mod shell;
mod walk;

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rustix::fs::{AtFlags, FileType, Mode, OFlags, Stat};
use secrecy::SecretString;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

pub use atomic::{Fault, WriteOptions, Writer, write_secret};
pub use dir::{
    DirChange, DirFacts, DirOptions, DirValue, FileFacts, inspect_dir, install_dir, read_dir_value,
};

/// AM advanced server property: how special-user secrets are encoded.
pub const PROP_PASSWORDS_FORMAT: &str =
    "org.forgerock.openam.secrets.special.user.passwords.format";
/// AM advanced server property: Google Cloud KMS key used for `GOOGLE_KMS_ENCRYPTED`.
pub const PROP_GOOGLE_KMS_DECRYPTION_KEY: &str =
    "org.forgerock.openam.secrets.googlekms.decryptionkey";
/// AM advanced server property: directory of the special secret store.
pub const PROP_PASSWORDS_DIR: &str = "org.forgerock.openam.secrets.special.user.passwords.dir";
/// AM advanced server property: cache expiry of the special secret, in seconds.
pub const PROP_REFRESH_SECONDS: &str =
    "org.forgerock.openam.secrets.special.user.secret.refresh.seconds";
/// Default of [`PROP_REFRESH_SECONDS`]: AM re-reads the secret at most every 15 minutes.
pub const DEFAULT_REFRESH_SECONDS: u64 = 900;
/// Default special secret store directory, relative to the AM configuration directory.
pub const DEFAULT_DIR_SUFFIX: &str = "security/secrets/userpasswords";

/// Longest user name accepted: keeps `.password.<name>.previous.tmp-<16 hex>` under the 255-byte
/// file name limit of Linux file systems.
pub const MAX_USER_NAME_LEN: usize = 200;

/// Largest file we read back (a secret file, a shell profile, a setenv.sh): anything larger is
/// not one of ours, and reading it whole would be a memory hazard.
pub const MAX_FILE_LEN: u64 = 16 * 1024 * 1024;

/// Whether an error is the user's to fix (exit 2) or an operational failure (exit 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    /// Bad input or a target refused by policy: exit code 2.
    Usage,
    /// The system failed (I/O): exit code 3.
    Operational,
}

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
    /// The format string is none of AM's.
    #[error(
        "invalid password format {given:?}: use PLAIN, ENCRYPTED_PLAIN or GOOGLE_KMS_ENCRYPTED"
    )]
    InvalidFormat {
        /// The string as given.
        given: String,
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
    /// The target directory is writable by group or others, so someone else could swap the secret.
    #[error(
        "{}: directory is writable by group or others (mode {mode:04o}); run `chmod go-w` on it first", crate::escape::path(.path)
    )]
    DirWritable {
        /// The directory.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The target is a symbolic link; amhash never writes through one.
    #[error(
        "{}: is a symbolic link; refusing to write through it: point amhash at the real file or replace the link with a regular file", crate::escape::path(.path)
    )]
    Symlink {
        /// The link.
        path: PathBuf,
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
    /// A path goes through a symbolic link that an account other than root and the user
    /// amhash runs as could have placed (see `walk`).
    #[error(
        "{}: {} is a symbolic link {reason}; amhash follows only links owned by root or by the user it runs as, in directories no other account can write: check where it points and who controls it, then give the real path", crate::escape::path(.path), crate::escape::path(.link)
    )]
    UntrustedSymlink {
        /// The path as given.
        path: PathBuf,
        /// The path up to and including the refused link.
        link: PathBuf,
        /// Who owns it or could replace it.
        reason: String,
    },
    /// A `..` in a path comes after a directory another account owns, which that account
    /// can move anywhere: the rest of the path would be theirs to choose.
    #[error(
        "{}: the '..' after {} could lead anywhere, since that directory is {reason} and that account can move it: give the path without '..'", crate::escape::path(.path), crate::escape::path(.dir)
    )]
    UntrustedParent {
        /// The path as given.
        path: PathBuf,
        /// The directory another account owns.
        dir: PathBuf,
        /// Who owns it.
        reason: String,
    },
    /// A file to edit has more than one name (hard links).
    #[error(
        "{}: has {links} names (hard links): one may be another account's file linked here, whose owner an edit would copy; remove the other links (find them with `find / -samefile`)", crate::escape::path(.path)
    )]
    HardLinked {
        /// The file.
        path: PathBuf,
        /// Its link count.
        links: u64,
    },
    /// A file that decides a secret (a password or a value to install) belongs to another
    /// account, which could have written it.
    #[error(
        "{}: is owned by {owner}, not by root or you: that account chose what it holds; use a file of your own", crate::escape::path(.path)
    )]
    NotYours {
        /// The file.
        path: PathBuf,
        /// `uid N (name)`.
        owner: String,
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

impl StoreError {
    /// Usage (exit 2) or operational (exit 3); see the module documentation.
    #[must_use]
    pub fn class(&self) -> ErrorClass {
        match self {
            StoreError::Io { .. }
            | StoreError::TooLarge { .. }
            | StoreError::LockTimeout { .. } => ErrorClass::Operational,
            _ => ErrorClass::Usage,
        }
    }

    /// Whether this is a refusal by policy: a link, a `..`, an owner, a mode or a hard link
    /// that another account could use (for callers that otherwise treat file errors as
    /// operational, such as reading an input file).
    #[must_use]
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            StoreError::UntrustedSymlink { .. }
                | StoreError::UntrustedParent { .. }
                | StoreError::Symlink { .. }
                | StoreError::NotYours { .. }
                | StoreError::DirWritable { .. }
                | StoreError::HardLinked { .. }
        )
    }

    /// The process exit code for this error: 2 for usage, 3 for operational.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self.class() {
            ErrorClass::Usage => 2,
            ErrorClass::Operational => 3,
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

/// The secret id of one AM special user: `password.<user>`.
///
/// The user name is kept as given (AM's default is `amadmin`, lower case). Names are limited to
/// ASCII letters, digits, `.`, `_`, `-` so that the id is a safe file name, Java property name and
/// Kubernetes data key. A user named `X.previous` would collide with the backup of user `X`
/// (`password.X.previous`); AM has no such user by default.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SecretId {
    user: String,
}

impl SecretId {
    /// AM's built-in administrator.
    pub const DEFAULT_USER: &'static str = "amadmin";

    /// Validates a user name.
    ///
    /// # Errors
    /// [`StoreError::InvalidUserName`] if it is empty, too long or has other characters.
    pub fn new(user: &str) -> Result<Self> {
        let bad = |reason| StoreError::InvalidUserName {
            name: user.to_owned(),
            reason,
        };
        if user.is_empty() {
            return Err(bad("it is empty"));
        }
        if user.len() > MAX_USER_NAME_LEN {
            return Err(bad("it is too long"));
        }
        if !user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return Err(bad(
                "it contains a character other than a letter, digit, '.', '_' or '-'",
            ));
        }
        Ok(SecretId {
            user: user.to_owned(),
        })
    }

    /// The default id, `password.amadmin`.
    #[must_use]
    pub fn amadmin() -> Self {
        SecretId {
            user: Self::DEFAULT_USER.to_owned(),
        }
    }

    /// The user name.
    #[must_use]
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The secret id, which is also the file name in the secret directory: `password.<user>`.
    #[must_use]
    pub fn secret_id(&self) -> String {
        format!("password.{}", self.user)
    }

    /// File name in the secret directory (same as [`SecretId::secret_id`]).
    #[must_use]
    pub fn file_name(&self) -> String {
        self.secret_id()
    }

    /// File name of the backup of the replaced value: `password.<user>.previous`.
    #[must_use]
    pub fn backup_file_name(&self) -> String {
        format!("password.{}.previous", self.user)
    }

    /// Java system property: `password.<user>`.
    #[must_use]
    pub fn java_property(&self) -> String {
        self.secret_id()
    }

    /// The environment variable AM reads: `PASSWORD_` + user upper-cased with `.` mapped to `_`
    /// (`amadmin` → `PASSWORD_AMADMIN`). A `-` stays a `-`: such a variable can be set by
    /// systemd or a container runtime but not by a shell; see [`SecretId::shell_env_var`].
    #[must_use]
    pub fn env_var(&self) -> String {
        let mut v = String::from("PASSWORD_");
        v.extend(self.user.chars().map(|c| {
            if c == '.' {
                '_'
            } else {
                c.to_ascii_uppercase()
            }
        }));
        v
    }

    /// [`SecretId::env_var`] for a shell profile.
    ///
    /// # Errors
    /// [`StoreError::EnvVarNotExportable`] if the user name contains `-`: POSIX shells cannot
    /// `export` such a name, and mapping `-` to `_` would name a variable AM never reads.
    pub fn shell_env_var(&self) -> Result<String> {
        let var = self.env_var();
        if var.contains('-') {
            return Err(StoreError::EnvVarNotExportable {
                var,
                user: self.user.clone(),
            });
        }
        Ok(var)
    }
}

impl Default for SecretId {
    fn default() -> Self {
        Self::amadmin()
    }
}

impl FromStr for SecretId {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self> {
        Self::new(s)
    }
}

impl fmt::Display for SecretId {
    /// Writes the secret id, `password.<user>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "password.{}", self.user)
    }
}

/// How AM decodes the special-user secret ([`PROP_PASSWORDS_FORMAT`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// `PLAIN`: the `{SSHA-512}` string as is.
    Plain,
    /// `ENCRYPTED_PLAIN`: encrypted with the AM encryption password.
    EncryptedPlain,
    /// `GOOGLE_KMS_ENCRYPTED`: base64 of a Google Cloud KMS ciphertext.
    GoogleKmsEncrypted,
}

impl Format {
    /// All formats.
    pub const ALL: [Format; 3] = [
        Format::Plain,
        Format::EncryptedPlain,
        Format::GoogleKmsEncrypted,
    ];

    /// The AM property value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Plain => "PLAIN",
            Format::EncryptedPlain => "ENCRYPTED_PLAIN",
            Format::GoogleKmsEncrypted => "GOOGLE_KMS_ENCRYPTED",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = StoreError;
    /// Case-insensitive.
    fn from_str(s: &str) -> Result<Self> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| StoreError::InvalidFormat {
                given: s.to_owned(),
            })
    }
}

/// A numeric owner for written files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Owner {
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
}

impl Owner {
    /// Resolves `USER`, `USER:GROUP`, `UID`, `UID:GID` (names and numbers may be mixed) with
    /// `/etc/passwd` and `/etc/group`. `USER` alone takes the user's primary group.
    ///
    /// Only the local files are read (no NSS, so LDAP/SSSD users must be given as `UID:GID`).
    ///
    /// # Errors
    /// [`StoreError::Owner`] for an unknown name or a malformed spec, [`StoreError::Io`] if
    /// a database that is needed cannot be read.
    pub fn resolve(spec: &str) -> Result<Owner> {
        let read = |p: &str| {
            std::fs::read_to_string(p)
                .map_err(|e| StoreError::io("read user database", Path::new(p), e))
        };
        let (user, group) = split_owner_spec(spec)?;
        let passwd = if user.parse::<u32>().is_err() || group.is_none() {
            read("/etc/passwd")?
        } else {
            String::new()
        };
        let groups = match group {
            Some(g) if g.parse::<u32>().is_err() => read("/etc/group")?,
            _ => String::new(),
        };
        Self::resolve_with(spec, &passwd, &groups)
    }

    /// [`Owner::resolve`] against the given contents of `/etc/passwd` and `/etc/group`.
    ///
    /// # Errors
    /// [`StoreError::Owner`] for an unknown name or a malformed spec.
    pub fn resolve_with(spec: &str, passwd: &str, group_db: &str) -> Result<Owner> {
        let err = |reason: String| StoreError::Owner {
            spec: spec.to_owned(),
            reason,
        };
        let (user, group) = split_owner_spec(spec)?;
        // passwd: name:x:uid:gid:gecos:home:shell
        let pw_entry = |pred: &dyn Fn(&[&str]) -> bool| -> Option<(u32, u32)> {
            passwd
                .lines()
                .map(|l| l.split(':').collect::<Vec<_>>())
                .find(|f| f.len() >= 4 && pred(f))
                .and_then(|f| {
                    Some((
                        f.get(2)?.parse::<u32>().ok()?,
                        f.get(3)?.parse::<u32>().ok()?,
                    ))
                })
        };
        let (uid, primary_gid) = match user.parse::<u32>() {
            Ok(uid) => (
                uid,
                pw_entry(&|f| f.get(2).is_some_and(|u| u.parse() == Ok(uid))).map(|(_, g)| g),
            ),
            Err(_) => match pw_entry(&|f| f.first() == Some(&user)) {
                Some((uid, gid)) => (uid, Some(gid)),
                None => {
                    return Err(err(format!(
                        "no user {user:?} in /etc/passwd; give a numeric UID:GID"
                    )));
                }
            },
        };
        let gid = match group {
            None => primary_gid.ok_or_else(|| {
                err(format!(
                    "uid {uid} is not in /etc/passwd, so it has no primary group; give UID:GID"
                ))
            })?,
            Some(g) => match g.parse::<u32>() {
                Ok(gid) => gid,
                Err(_) => group_db
                    .lines()
                    .map(|l| l.split(':').collect::<Vec<_>>())
                    .find(|f| f.first() == Some(&g))
                    .and_then(|f| f.get(2)?.parse::<u32>().ok())
                    .ok_or_else(|| {
                        err(format!("no group {g:?} in /etc/group; give a numeric GID"))
                    })?,
            },
        };
        if uid == u32::MAX || gid == u32::MAX {
            return Err(err("id 4294967295 (-1) is not a valid owner".to_owned()));
        }
        Ok(Owner { uid, gid })
    }
}

fn split_owner_spec(spec: &str) -> Result<(&str, Option<&str>)> {
    let err = |reason: &str| StoreError::Owner {
        spec: spec.to_owned(),
        reason: reason.to_owned(),
    };
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    if user.is_empty() {
        return Err(err("the user part is empty; use USER[:GROUP] or UID:GID"));
    }
    if group.is_some_and(|g| g.is_empty() || g.contains(':')) {
        return Err(err(
            "the group part is empty or has a ':'; use USER[:GROUP] or UID:GID",
        ));
    }
    Ok((user, group))
}

/// True when the effective user is root (ownership can be set freely).
pub(crate) fn running_as_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// What an install or edit did (or, in a dry run, would do).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// The file did not exist and was created.
    Created,
    /// The file existed with different content and was replaced.
    Replaced,
    /// The file already held exactly this content; nothing was written.
    Unchanged,
}

/// Options of the file editors ([`env_file::apply`], [`setenv::apply`]).
#[derive(Clone, Debug, Default)]
pub struct EditOptions {
    /// Owner for a file the editor creates, and the account AM reads the file as (see
    /// [`edited_mode`]). An existing file keeps its owner: `--owner` never hands an existing
    /// script to another account.
    pub owner: Option<Owner>,
    /// Compute and report what would change; write nothing.
    pub dry_run: bool,
    /// The atomic writer (use [`Writer::default`]; tests inject faults through it).
    pub writer: Writer,
}

/// What an editor did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EditChange {
    /// The edited file.
    pub path: PathBuf,
    /// Created, replaced or unchanged.
    pub action: Action,
    /// Permission bits of the file after the edit.
    pub mode: u32,
    /// Permission bits before the edit (`None`: the file was created).
    pub mode_before: Option<u32>,
    /// True if every local user can still read the file: amhash did not take the "other" read
    /// bit away because the account AM reads it as would lose access (see [`edited_mode`]).
    /// The caller must warn, with the command that fixes it.
    pub other_readable: bool,
    /// The owner the file has (`None`: created by, and owned by, the caller).
    pub owner: Option<Owner>,
    /// True if an owner was asked for but not applied: the file existed and keeps its owner.
    pub owner_kept: bool,
    /// Extra assignments/blocks for the same user that were removed.
    pub removed_duplicates: usize,
    /// True in a dry run: nothing was written.
    pub dry_run: bool,
    /// Stale temp files of a killed amhash removed before writing.
    pub removed_temps: Vec<PathBuf>,
}

/// Kind of a file system entry, for messages and doctor facts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// Regular file.
    Regular,
    /// Symbolic link (never followed).
    Symlink,
    /// Directory.
    Directory,
    /// Anything else (fifo, socket, device).
    Other,
}

impl FileKind {
    pub(crate) fn of(st: &Stat) -> Self {
        match FileType::from_raw_mode(st.st_mode) {
            FileType::RegularFile => FileKind::Regular,
            FileType::Symlink => FileKind::Symlink,
            FileType::Directory => FileKind::Directory,
            _ => FileKind::Other,
        }
    }

    pub(crate) fn describe(st: &Stat) -> &'static str {
        match FileType::from_raw_mode(st.st_mode) {
            FileType::RegularFile => "regular file",
            FileType::Symlink => "symbolic link",
            FileType::Directory => "directory",
            FileType::Fifo => "fifo",
            FileType::Socket => "socket",
            FileType::CharacterDevice => "character device",
            FileType::BlockDevice => "block device",
            FileType::Unknown => "file of unknown type",
        }
    }
}

pub(crate) fn perm_bits(st: &Stat) -> u32 {
    Mode::from_raw_mode(st.st_mode).bits() & 0o7777
}

/// How often a held directory lock is tried again.
const LOCK_POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// Default of [`LockWait::timeout`]: long enough for any amhash install (a few ms), short
/// enough that a lock held by a hostile or hung process is reported, not waited on forever.
pub const DEFAULT_LOCK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// How long to wait for the directory lock, and whom to tell that amhash is waiting.
#[derive(Clone, Copy, Debug)]
pub struct LockWait {
    /// The longest wait; zero means "fail at once if the lock is held".
    pub timeout: std::time::Duration,
    /// Called once (directory, timeout) when the lock is not free at once, so the binary can
    /// say what it waits for. The library itself prints nothing.
    pub on_wait: Option<fn(&Path, std::time::Duration)>,
}

impl Default for LockWait {
    fn default() -> Self {
        LockWait {
            timeout: DEFAULT_LOCK_TIMEOUT,
            on_wait: None,
        }
    }
}

/// An open directory: all operations inside it go through this fd (`openat`/`renameat`), so a
/// directory renamed under us cannot redirect a write.
pub(crate) struct DirHandle {
    pub(crate) file: File,
    pub(crate) path: PathBuf,
}

impl DirHandle {
    /// Opens `path` as a directory, following only trusted symbolic links on the way (see
    /// [`walk`]: a root-made link to the AM config directory works, one the AM account could
    /// have placed is refused). Never creates it.
    pub(crate) fn open(path: &Path) -> Result<Self> {
        walk::open_dir(path)
    }

    /// [`DirHandle::stat`], refusing a directory group or others can write: whoever can
    /// write it can swap the file we put there (a sticky bit does not change that for a file
    /// they create first).
    pub(crate) fn stat_not_writable_by_others(&self) -> Result<Stat> {
        let st = self.stat()?;
        let mode = perm_bits(&st);
        if mode & 0o022 != 0 {
            return Err(StoreError::DirWritable {
                path: self.path.clone(),
                mode,
            });
        }
        Ok(st)
    }

    pub(crate) fn stat(&self) -> Result<Stat> {
        rustix::fs::fstat(&self.file).map_err(|e| StoreError::io("stat directory", &self.path, e))
    }

    /// Exclusive (or shared) advisory lock on the directory: serialises amhash processes and
    /// threads (each open has its own lock) working in this directory. Released on drop.
    ///
    /// Any account that can open the directory can hold a lock on it, so the wait is bounded:
    /// `lock_wait` at most (polling, so no thread and no signal), then
    /// [`StoreError::LockTimeout`]. `on_wait` is told once, when the lock is not free at once.
    pub(crate) fn lock(&self, shared: bool, wait: &LockWait) -> Result<()> {
        let started = std::time::Instant::now();
        let mut told = false;
        loop {
            let r = if shared {
                self.file.try_lock_shared()
            } else {
                self.file.try_lock()
            };
            match r {
                Ok(()) => return Ok(()),
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(StoreError::io("lock directory", &self.path, e));
                }
                Err(std::fs::TryLockError::WouldBlock) => {}
            }
            let waited = started.elapsed();
            if waited >= wait.timeout {
                return Err(StoreError::LockTimeout {
                    path: self.path.clone(),
                    waited_secs: waited.as_secs(),
                });
            }
            if !told {
                told = true;
                if let Some(notify) = wait.on_wait {
                    notify(&self.path, wait.timeout);
                }
            }
            std::thread::sleep(LOCK_POLL.min(wait.timeout.saturating_sub(waited)));
        }
    }

    pub(crate) fn child(&self, name: &std::ffi::OsStr) -> PathBuf {
        self.path.join(name)
    }

    /// `lstat` of a child: `None` if it does not exist.
    pub(crate) fn lstat(&self, name: &std::ffi::OsStr) -> Result<Option<Stat>> {
        match rustix::fs::statat(&self.file, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => Ok(Some(st)),
            Err(rustix::io::Errno::NOENT) => Ok(None),
            Err(e) => Err(StoreError::io("stat", &self.child(name), e)),
        }
    }

    /// Refuses a child that exists and is not a regular file (symlinks included).
    pub(crate) fn check_regular_or_absent(&self, name: &std::ffi::OsStr) -> Result<Option<Stat>> {
        match self.lstat(name)? {
            None => Ok(None),
            Some(st) => match FileKind::of(&st) {
                FileKind::Regular => Ok(Some(st)),
                FileKind::Symlink => Err(StoreError::Symlink {
                    path: self.child(name),
                }),
                _ => Err(StoreError::NotRegularFile {
                    path: self.child(name),
                    kind: FileKind::describe(&st),
                }),
            },
        }
    }

    /// Reads a regular child without following a symlink. `None` if it does not exist.
    pub(crate) fn read_regular(
        &self,
        name: &std::ffi::OsStr,
    ) -> Result<Option<(Zeroizing<Vec<u8>>, Stat)>> {
        let path = self.child(name);
        if self.check_regular_or_absent(name)?.is_none() {
            return Ok(None);
        }
        // O_NOFOLLOW + O_NONBLOCK: a symlink or fifo swapped in after the check is not followed
        // and does not block us; fstat below re-checks what we actually opened.
        let fd = match rustix::fs::openat(
            &self.file,
            name,
            OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW | OFlags::NONBLOCK,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(rustix::io::Errno::NOENT) => return Ok(None),
            Err(rustix::io::Errno::LOOP) => return Err(StoreError::Symlink { path }),
            Err(e) => return Err(StoreError::io("open", &path, e)),
        };
        let st = rustix::fs::fstat(&fd).map_err(|e| StoreError::io("stat", &path, e))?;
        if FileKind::of(&st) != FileKind::Regular {
            return Err(StoreError::NotRegularFile {
                path,
                kind: FileKind::describe(&st),
            });
        }
        let mut buf = Zeroizing::new(Vec::new());
        File::from(fd)
            .take(MAX_FILE_LEN + 1)
            .read_to_end(&mut buf)
            .map_err(|e| StoreError::io("read", &path, e))?;
        if u64::try_from(buf.len()).unwrap_or(u64::MAX) > MAX_FILE_LEN {
            return Err(StoreError::TooLarge { path });
        }
        Ok(Some((buf, st)))
    }
}

/// Splits a file path into its directory (opened) and its file name.
pub(crate) fn split_file_path(path: &Path) -> Result<(DirHandle, std::ffi::OsString)> {
    let raw = path.as_os_str().as_encoded_bytes();
    // `x/.` and `x/..` name directories, though `Path::file_name` of `x/.` is `x`.
    let dot_end = raw == b"." || raw == b".." || raw.ends_with(b"/.") || raw.ends_with(b"/..");
    let name = match path.file_name() {
        Some(n) if !raw.ends_with(b"/") && !dot_end => n.to_os_string(),
        _ => {
            return Err(StoreError::BadPath {
                path: path.to_path_buf(),
                reason: "it has no file name",
            });
        }
    };
    let parent = path.parent().unwrap_or(Path::new("."));
    Ok((DirHandle::open(parent)?, name))
}

/// Checks that `path` could be written by the atomic writer: its directory opens (without an
/// untrusted link on the way) and the name is a regular file or nothing. For dry runs.
///
/// # Errors
/// Those of [`atomic::write_secret`] before its first write.
pub fn check_writable_file(path: &Path) -> Result<()> {
    let (dir, name) = split_file_path(path)?;
    dir.check_regular_or_absent(&name).map(|_| ())
}

/// Permission bits of the file at `path` (a link is not followed); `None` if it is absent.
///
/// # Errors
/// Those of opening its directory, [`StoreError::Io`].
pub fn file_mode(path: &Path) -> Result<Option<u32>> {
    let (dir, name) = split_file_path(path)?;
    Ok(dir.lstat(&name)?.map(|st| perm_bits(&st)))
}

/// Opens a file whose content decides a secret (a `--password-file`, a `--value-file`): the
/// same safe walk as the targets (a trusted link is followed, no other), a regular file (a
/// FIFO cannot hang us), owned by root or the user amhash runs as, since its owner chose
/// what it holds.
///
/// # Errors
/// Those of [`walk::open_file`], [`StoreError::NotRegularFile`], [`StoreError::NotYours`].
pub fn open_trusted_file(path: &Path) -> Result<File> {
    let file = walk::open_file(path)?;
    let st = rustix::fs::fstat(&file).map_err(|e| StoreError::io("stat", path, e))?;
    if FileKind::of(&st) != FileKind::Regular {
        return Err(StoreError::NotRegularFile {
            path: path.to_path_buf(),
            kind: FileKind::describe(&st),
        });
    }
    if st.st_uid != 0 && st.st_uid != rustix::process::geteuid().as_raw() {
        return Err(StoreError::NotYours {
            path: path.to_path_buf(),
            owner: walk::who(st.st_uid),
        });
    }
    Ok(file)
}

/// Opens a file for reading through the safe walk (see `walk::open_file`), for callers with
/// their own checks on what they opened (key files: owner and mode).
///
/// # Errors
/// Those of `walk::open_file`.
pub fn open_file_safely(path: &Path) -> Result<File> {
    walk::open_file(path)
}

/// Opens the directory of a file amhash creates (`--password-out file:`, `key generate
/// --out`), through the safe walk; the caller creates the file with `O_EXCL|O_NOFOLLOW`.
///
/// # Errors
/// Those of `walk::open_dir`.
pub fn open_parent_safely(path: &Path) -> Result<(File, std::ffi::OsString)> {
    let (dir, name) = split_file_path(path)?;
    Ok((dir.file, name))
}

/// Reads a file that holds a secret (a value to install) with [`open_trusted_file`], up to
/// [`MAX_FILE_LEN`].
///
/// # Errors
/// Those of [`open_trusted_file`], [`StoreError::TooLarge`], [`StoreError::Io`].
pub fn read_secret_file(path: &Path) -> Result<Zeroizing<Vec<u8>>> {
    let mut buf = Zeroizing::new(Vec::new());
    open_trusted_file(path)?
        .take(MAX_FILE_LEN + 1)
        .read_to_end(&mut buf)
        .map_err(|e| StoreError::io("read", path, e))?;
    if u64::try_from(buf.len()).unwrap_or(u64::MAX) > MAX_FILE_LEN {
        return Err(StoreError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    Ok(buf)
}

/// Owner for an edited file: an existing file keeps its own; a new one gets `explicit`, else
/// (as root) the directory's owner, else the caller's.
pub(crate) fn choose_owner(
    explicit: Option<Owner>,
    existing: Option<&Stat>,
    dir: &Stat,
) -> Option<Owner> {
    existing
        .map(|st| Owner {
            uid: st.st_uid,
            gid: st.st_gid,
        })
        .or(explicit)
        .or_else(|| {
            running_as_root().then_some(Owner {
                uid: dir.st_uid,
                gid: dir.st_gid,
            })
        })
}

/// Constant-time equality of secret bytes.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Values for shell targets: non-empty, no control characters (a newline or NUL cannot survive a
/// line-based profile, and no AM encoding produces one).
pub(crate) fn check_shell_value(value: &str) -> Result<()> {
    check_value(value)?;
    if value.chars().any(char::is_control) {
        return Err(StoreError::InvalidValue {
            reason: "contains a control character (newline, tab, NUL...), which a shell profile cannot carry safely",
        });
    }
    Ok(())
}

/// Every target: the value must be non-empty.
pub(crate) fn check_value(value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(StoreError::InvalidValue { reason: "is empty" });
    }
    Ok(())
}

/// A value read back from a target. No `Debug`/`Display`: it is a secret.
pub struct ReadValue {
    value: SecretString,
}

impl ReadValue {
    pub(crate) fn new(bytes: Vec<u8>, path: &Path, line: usize, name: &str) -> Result<Self> {
        let bytes = Zeroizing::new(bytes);
        let s = std::str::from_utf8(&bytes).map_err(|_| StoreError::Unreadable {
            path: path.to_path_buf(),
            line,
            name: name.to_owned(),
            reason: "the value is not UTF-8",
        })?;
        Ok(ReadValue {
            value: SecretString::from(s),
        })
    }

    /// The value.
    #[must_use]
    pub fn value(&self) -> &SecretString {
        &self.value
    }

    /// Constant-time comparison with an expected value.
    #[must_use]
    pub fn matches(&self, expected: &str) -> bool {
        use secrecy::ExposeSecret;
        ct_eq(self.value.expose_secret().as_bytes(), expected.as_bytes())
    }
}

/// Refuses to take over a file with more than one name: the other name may be another
/// account's file that someone linked here, and an edit would copy its owner (and content)
/// into a file that holds the secret.
fn refuse_hard_links(dir: &DirHandle, name: &std::ffi::OsStr, st: Option<&Stat>) -> Result<()> {
    match st {
        Some(st) if st.st_nlink > 1 => Err(StoreError::HardLinked {
            path: dir.child(name),
            links: st.st_nlink,
        }),
        _ => Ok(()),
    }
}

/// Permission bits for an existing file that is edited to hold the secret.
///
/// Nobody but its owner and group ever needs to write it, so the "other" write bit goes. The
/// "other" read (and execute) bits go too, unless that would lock out the account AM reads the
/// file as: `reader` (the `--owner` account) when known, else the file's owner when that is
/// not root. When the reader is unknown, or would lose access, the bits stay and the second
/// value is true: the caller warns with the command to run. Set-id and sticky bits are
/// dropped (a profile or setenv.sh has no use for them).
#[must_use]
pub fn edited_mode(mode: u32, file: Owner, reader: Option<Owner>) -> (u32, bool) {
    let mode = mode & 0o777 & !0o002;
    if mode & 0o007 == 0 {
        return (mode, false);
    }
    let tight = mode & !0o007;
    if mode & 0o004 == 0 {
        // Nobody reads it through "other": nothing to lose by dropping the rest.
        return (tight, false);
    }
    let reader = reader.or((file.uid != 0).then_some(file));
    // As the kernel decides: the owner gets the owner bits only, a group member the group
    // bits only.
    let can_read = |r: Owner| {
        if r.uid == 0 {
            true
        } else if r.uid == file.uid {
            tight & 0o400 != 0
        } else {
            tight & 0o040 != 0 && in_group(r, file.gid)
        }
    };
    match reader {
        Some(r) if can_read(r) => (tight, false),
        _ => (mode, true),
    }
}

/// Whether `who` is in group `gid`: its primary group, or a member in `/etc/group`.
fn in_group(who: Owner, gid: u32) -> bool {
    if who.gid == gid {
        return true;
    }
    let Some(name) = user_name(who.uid) else {
        return false;
    };
    std::fs::read_to_string("/etc/group").is_ok_and(|db| {
        db.lines().any(|l| {
            let f: Vec<&str> = l.split(':').collect();
            f.get(2).and_then(|g| g.parse::<u32>().ok()) == Some(gid)
                && f.get(3)
                    .is_some_and(|members| members.split(',').any(|m| m == name))
        })
    })
}

/// The user name of `uid` in `/etc/passwd`, for messages (printable, at most 32 characters),
/// or `None` when it is not there or unreadable.
#[must_use]
pub fn user_name(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    name_in_passwd(&passwd, uid)
}

/// The first `NAME:x:UID:...` line of `passwd` with that uid.
#[must_use]
pub fn name_in_passwd(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let _password = fields.next()?;
        let line_uid: u32 = fields.next()?.parse().ok()?;
        let printable = !name.is_empty()
            && name.chars().count() <= 32
            && name.chars().all(|c| c.is_ascii_graphic());
        (line_uid == uid && printable).then(|| name.to_owned())
    })
}

/// Shared read-modify-write of a text file under the directory lock, used by the editors.
///
/// The directory gets the same check as the store directory (no write bit for group or
/// others: whoever can write it can swap the file). An existing file keeps its owner and gets
/// [`edited_mode`]; a new file is 0600 and gets `opts.owner` (as root: else the directory's
/// owner).
pub(crate) fn apply_edit(
    path: &Path,
    opts: &EditOptions,
    edit: impl FnOnce(&[u8]) -> Result<(Zeroizing<Vec<u8>>, usize)>,
) -> Result<EditChange> {
    let (dir, name) = split_file_path(path)?;
    let dir_st = dir.stat_not_writable_by_others()?;
    opts.writer.lock(&dir, opts.dry_run)?;
    let current = dir.read_regular(&name)?;
    let (old, old_st) = match &current {
        Some((bytes, st)) => (bytes.as_slice(), Some(st)),
        None => (&[][..], None),
    };
    refuse_hard_links(&dir, &name, old_st)?;
    let (new, removed_duplicates) = edit(old)?;
    let existing_owner = old_st.map(|st| Owner {
        uid: st.st_uid,
        gid: st.st_gid,
    });
    let owner = choose_owner(opts.owner, old_st, &dir_st);
    let (mode, other_readable) = match (old_st, existing_owner) {
        (Some(st), Some(file)) => edited_mode(perm_bits(st), file, opts.owner),
        _ => (0o600, false),
    };
    let mode_before = old_st.map(|st| perm_bits(st) & 0o7777);
    let action = match old_st {
        None => Action::Created,
        Some(_) if ct_eq(old, &new) => Action::Unchanged,
        Some(_) => Action::Replaced,
    };
    let mut change = EditChange {
        path: path.to_path_buf(),
        action,
        mode,
        mode_before,
        other_readable,
        owner,
        owner_kept: opts.owner.is_some() && existing_owner.is_some_and(|o| Some(o) != opts.owner),
        removed_duplicates,
        dry_run: opts.dry_run,
        removed_temps: Vec::new(),
    };
    if opts.dry_run {
        return Ok(change);
    }
    // As for the directory target: under the exclusive lock, temps of ours are a dead
    // process's; clear them even when the content is unchanged.
    change.removed_temps = atomic::clean_stale_temps_locked(&dir, &[name.as_os_str()])?;
    // An unchanged file is rewritten only to narrow its mode (never to widen or re-own it).
    if action == Action::Unchanged && mode_before == Some(mode) {
        return Ok(change);
    }
    opts.writer
        .write_locked(&dir, &name, &new, &WriteOptions { mode, owner })?;
    Ok(change)
}

#[cfg(test)]
mod tests;
