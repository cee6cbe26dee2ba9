//! `file:PATH` sources: owner-only regular files of the invoking user (or root), created
//! exclusively with mode 0600.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

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

/// The user name of `uid` in `/etc/passwd`, for messages (printable, at most 32 characters),
/// or `None` when it is not there or unreadable.
pub(super) fn user_name(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    name_in_passwd(&passwd, uid)
}

/// The first `NAME:x:UID:...` line of `passwd` with that uid.
pub(super) fn name_in_passwd(passwd: &str, uid: u32) -> Option<String> {
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

pub(super) fn read(path: &Path) -> Result<Zeroizing<Vec<u8>>, KeySourceError> {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. It has no
    // effect on regular files, the only kind read below.
    let nonblock = i32::try_from(rustix::fs::OFlags::NONBLOCK.bits()).unwrap_or(0);
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(nonblock)
        .open(path)
        .map_err(|e| io_error("open", path, e))?;
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

/// The directory holding `path` (`.` for a bare file name).
fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

pub(super) fn create_new(path: &Path, secret: &[u8]) -> Result<(), KeySourceError> {
    let dir = parent_dir(path);
    if !dir.is_dir() {
        return Err(KeySourceError::NoParentDir {
            path: path.to_owned(),
            dir,
        });
    }
    // create_new = O_CREAT|O_EXCL: fails on any existing entry, including a symlink (which is
    // not followed). Mode 0600 from creation; the umask can only remove bits.
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            if e.kind() == ErrorKind::AlreadyExists {
                KeySourceError::FileExists {
                    path: path.to_owned(),
                }
            } else {
                io_error("create", path, e)
            }
        })?;
    if let Err(err) = write_and_sync(&mut file, secret, path) {
        drop(file);
        // Do not leave a truncated key behind; the write error is what matters.
        let _ = std::fs::remove_file(path);
        return Err(err);
    }
    // Make the new directory entry durable too.
    File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error("sync the directory of", path, e))
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
