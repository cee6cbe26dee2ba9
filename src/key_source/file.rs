//! `file:PATH` sources: owner-only regular files of the invoking user (or root), created
//! exclusively with mode 0600.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;

use zeroize::Zeroizing;

use super::KeySourceError;

/// The largest key file read, in bytes. Keys and passwords are far smaller; the limit keeps
/// a wrong path (a log, an image) from being slurped into memory as a "key".
pub const KEY_FILE_MAX_LEN: usize = 64 * 1024;

/// Checks the permission bits of a key file: group and others must have no bit at all
/// (`mode & 0o077 == 0`), as ssh requires of private keys. Only the low 12 bits are looked at.
///
/// # Errors
/// `Err(mode & 0o7777)` when group or others have a bit; the caller adds the path.
pub fn check_key_file_mode(mode: u32) -> Result<(), u32> {
    if mode & 0o077 == 0 {
        Ok(())
    } else {
        Err(mode & 0o7777)
    }
}

/// Checks the owner of a key file, as ssh's StrictModes does: the invoking user (effective
/// uid `euid`) or root. A file of anyone else's holds a key that user knows, or can change
/// between two runs.
///
/// # Errors
/// `Err(owner)` for any other owner; the caller adds the path.
pub fn check_key_file_owner(owner: u32, euid: u32) -> Result<(), u32> {
    if owner == euid || owner == 0 {
        Ok(())
    } else {
        Err(owner)
    }
}

// Names for messages come from the one `/etc/passwd` reader, the store's.
#[cfg(test)]
pub(super) use crate::store::name_in_passwd;
pub(super) use crate::store::user_name;

fn io_error(action: &'static str, path: &Path, error: std::io::Error) -> KeySourceError {
    if error.kind() == ErrorKind::NotFound && action == "open" {
        return KeySourceError::FileNotFound {
            path: path.to_owned(),
        };
    }
    KeySourceError::FileIo {
        action,
        path: path.to_owned(),
        error,
    }
}

/// A store error from the safe walk, as a key source error.
fn walk_error(action: &'static str, path: &Path, e: crate::store::StoreError) -> KeySourceError {
    use crate::store::{Refusal, StoreError};
    match e {
        StoreError::Refused {
            why: Refusal::UntrustedSymlink { .. },
            ..
        }
        | StoreError::Refused {
            why: Refusal::UntrustedParent { .. },
            ..
        }
        | StoreError::Refused {
            why: Refusal::Symlink,
            ..
        } => KeySourceError::UnsafePath {
            message: e.to_string(),
        },
        StoreError::DirMissing { path: dir } if action == "create" => KeySourceError::NoParentDir {
            path: path.to_owned(),
            dir,
        },
        StoreError::DirMissing { .. } => KeySourceError::FileNotFound {
            path: path.to_owned(),
        },
        StoreError::Io { source, .. } => io_error(action, path, source),
        e => KeySourceError::FileIo {
            action,
            path: path.to_owned(),
            error: std::io::Error::other(e.to_string()),
        },
    }
}

pub(super) fn read(path: &Path) -> Result<Zeroizing<Vec<u8>>, KeySourceError> {
    // Every directory walked without following a link another account could have placed,
    // and the file itself too (a trusted link, such as a Kubernetes secret volume's, is
    // followed); O_NONBLOCK, so a FIFO cannot make us wait for a writer.
    let mut file = crate::store::open_file_safely(path).map_err(|e| walk_error("open", path, e))?;
    // fstat on the opened file, so the checks apply to what is read (no stat/open race).
    let meta = file.metadata().map_err(|e| io_error("stat", path, e))?;
    let kind = meta.file_type();
    if !kind.is_file() {
        let kind = if kind.is_dir() {
            "directory"
        } else if kind.is_fifo() {
            "FIFO"
        } else if kind.is_socket() {
            "socket"
        } else if kind.is_char_device() {
            "character device"
        } else {
            "block device"
        };
        return Err(KeySourceError::NotRegularFile {
            path: path.to_owned(),
            kind,
        });
    }
    // The owner of what was opened (a symlink is followed, as by ssh: the checks are on the
    // file it points to).
    let euid = rustix::process::geteuid().as_raw();
    check_key_file_owner(meta.uid(), euid).map_err(|uid| KeySourceError::FileOwner {
        path: path.to_owned(),
        uid,
        name: user_name(uid),
        euid,
    })?;
    check_key_file_mode(meta.permissions().mode()).map_err(|mode| KeySourceError::FileMode {
        path: path.to_owned(),
        mode,
    })?;
    // Fixed-size zeroized buffer, so the secret is never copied by a reallocation.
    let mut buf = Zeroizing::new(vec![0u8; KEY_FILE_MAX_LEN + 1]);
    let mut len = 0usize;
    while let Some(rest) = buf.get_mut(len..) {
        if rest.is_empty() {
            break;
        }
        match file.read(rest) {
            Ok(0) => break,
            Ok(n) => len = len.saturating_add(n),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error("read", path, e)),
        }
    }
    if len > KEY_FILE_MAX_LEN {
        return Err(KeySourceError::FileTooLarge {
            path: path.to_owned(),
            max: KEY_FILE_MAX_LEN,
        });
    }
    buf.truncate(len);
    Ok(buf)
}

pub(super) fn create_new(path: &Path, secret: &[u8]) -> Result<(), KeySourceError> {
    // The directory through the safe walk (a root amhash never creates a file behind a link
    // another account placed), then the file relative to it: O_CREAT|O_EXCL|O_NOFOLLOW fails
    // on any existing entry, a symlink included. Mode 0600 from creation; the umask can only
    // remove bits.
    let (dir, name) =
        crate::store::open_parent_safely(path).map_err(|e| walk_error("create", path, e))?;
    let fd = rustix::fs::openat(
        &dir,
        &name,
        rustix::fs::OFlags::WRONLY
            | rustix::fs::OFlags::CREATE
            | rustix::fs::OFlags::EXCL
            | rustix::fs::OFlags::NOFOLLOW
            | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::from_raw_mode(0o600),
    )
    .map_err(|e| {
        if e == rustix::io::Errno::EXIST {
            KeySourceError::FileExists {
                path: path.to_owned(),
            }
        } else {
            io_error("create", path, e.into())
        }
    })?;
    let mut file = File::from(fd);
    if let Err(err) = write_and_sync(&mut file, secret, path) {
        drop(file);
        // Do not leave a truncated key behind; the write error is what matters.
        let _ = rustix::fs::unlinkat(&dir, &name, rustix::fs::AtFlags::empty());
        return Err(err);
    }
    // Make the new directory entry durable too.
    rustix::fs::fsync(&dir).map_err(|e| io_error("sync the directory of", path, e.into()))
}

fn write_and_sync(file: &mut File, secret: &[u8], path: &Path) -> Result<(), KeySourceError> {
    file.write_all(secret)
        .and_then(|()| file.write_all(b"\n"))
        .map_err(|e| io_error("write", path, e))?;
    file.sync_all().map_err(|e| io_error("sync", path, e))
}

pub(super) fn delete(path: &Path) -> Result<(), KeySourceError> {
    std::fs::remove_file(path).map_err(|e| {
        if e.kind() == ErrorKind::NotFound {
            KeySourceError::FileNotFound {
                path: path.to_owned(),
            }
        } else {
            io_error("remove", path, e)
        }
    })
}
