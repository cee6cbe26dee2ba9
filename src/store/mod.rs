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
//! | systemd service                | [`systemd`]  | `/run/credentials/UNIT/password.<user>` (an encrypted credential) or `PASSWORD_<USER>` (`EnvironmentFile=`) |
//! | Docker / Podman `--env-file`   | [`docker_env`] | `PASSWORD_<USER>` (a `VAR=VALUE` line)             |
//! | Compose / Swarm file secret    | [`compose`]  | `/run/secrets/password.<user>` (the file `dir` wrote) |
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
//! Every [`StoreError`] says whose fault it is ([`crate::error::Error::fault`]): the input's for
//! a bad user name, a bad value, a refused target, a conflicting format or a block edited by
//! hand; operational for I/O errors, a file too large to be ours and a lock held too long.
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
pub mod compose;
pub mod dir;
pub mod docker_env;
pub mod env_file;
pub mod k8s;
pub mod setenv;
mod shell;
pub mod systemd;
mod walk;
pub use walk::{Closed, resolve_closed};

mod edit;
mod error;
mod handle;
mod id;
mod owner;

pub use edit::{Action, EditChange, EditOptions, ReadValue, edited_mode};
pub(crate) use edit::{append_line, apply_edit, check_shell_value, check_value, ct_eq};
pub use error::{Refusal, Result, StoreError};
pub use handle::{
    DEFAULT_LOCK_TIMEOUT, FileKind, LockWait, check_writable_file, file_mode, open_credential_file,
    open_file_safely, open_parent_safely, open_trusted_file, read_secret_file,
};
pub(crate) use handle::{DirHandle, perm_bits, read_file_with, split_file_path};
pub use id::SecretId;
pub(crate) use id::check_name;
pub(crate) use owner::running_as_root;
pub use owner::{Owner, name_in_passwd, user_name};

pub use atomic::{Fault, WriteOptions, Writer, write_secret};
pub use dir::{
    DirChange, DirFacts, DirOptions, DirValue, FileFacts, inspect_dir, install_dir, read_dir_value,
};

/// Longest user name accepted: keeps `.password.<name>.previous.tmp-<16 hex>` under the 255-byte
/// file name limit of Linux file systems.
pub const MAX_USER_NAME_LEN: usize = 200;

/// Largest file we read back (a secret file, a shell profile, a setenv.sh): anything larger is
/// not one of ours, and reading it whole would be a memory hazard.
pub const MAX_FILE_LEN: u64 = 16 * 1024 * 1024;

#[cfg(test)]
mod tests;
