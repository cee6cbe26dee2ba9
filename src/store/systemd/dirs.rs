//! The directories of the systemd target: a root-owned tree under `ROOT/etc`.
//!
//! `ROOT` is opened by the safe walk (a link on the way is followed only when trusted, see
//! `walk`). From there every component (`etc`, then e.g. `systemd`, `system`, `UNIT.d`) is
//! opened relative to the one before with `O_NOFOLLOW` (a link inside the tree is refused,
//! whoever made it) and must be owned by root (or the user amhash runs as) and not writable
//! by group or others: whoever could write one of them could swap what systemd reads or what
//! amhash writes. A missing component below `etc` is created (`mkdirat`, then `fchmod` to
//! the exact mode whatever the umask) in a parent that passed those checks; `ROOT` and
//! `ROOT/etc` themselves are never created.

use std::fs::File;
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};

use super::super::walk::who;
use super::super::{DirHandle, Refusal, Result, StoreError, perm_bits};

/// Root or the user amhash runs as.
fn trusted(uid: u32) -> bool {
    uid == 0 || uid == rustix::process::geteuid().as_raw()
}

fn check_tree_dir(dir: &DirHandle) -> Result<()> {
    let st = dir.stat()?;
    if !trusted(st.st_uid) {
        return Err(StoreError::Refused {
            path: dir.path.clone(),
            why: Refusal::NotRootOwned {
                owner: who(st.st_uid),
            },
        });
    }
    let mode = perm_bits(&st);
    if mode & 0o022 != 0 {
        return Err(StoreError::Refused {
            path: dir.path.clone(),
            why: Refusal::DirWritable { mode },
        });
    }
    Ok(())
}

/// An opened directory of the tree, or where the tree stops (dry run, or not creating).
pub(crate) enum TreeDir {
    /// Opened and checked.
    Open(DirHandle),
    /// This directory (and everything below it) does not exist yet.
    Missing(PathBuf),
}

/// Opens `ROOT/rel` (`rel` starts with `etc/`), checking every directory on the way from
/// `ROOT` down. With `create` (its mode), a missing directory below `etc` is created, unless
/// `dry_run`; otherwise the first missing one is returned as [`TreeDir::Missing`].
pub(crate) fn open_tree(
    root: &Path,
    rel: &str,
    create: Option<u32>,
    dry_run: bool,
    created: &mut Vec<PathBuf>,
) -> Result<TreeDir> {
    let mut cur = DirHandle::open(root)?;
    check_tree_dir(&cur)?;
    for (i, comp) in rel.split('/').filter(|c| !c.is_empty()).enumerate() {
        let path = cur.path.join(comp);
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = match rustix::fs::openat(&cur.file, comp, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(rustix::io::Errno::NOENT) => {
                let Some(mode) = create.filter(|_| i > 0 && !dry_run) else {
                    if i == 0 {
                        return Err(StoreError::DirMissing { path });
                    }
                    return Ok(TreeDir::Missing(path));
                };
                match rustix::fs::mkdirat(&cur.file, comp, Mode::from_raw_mode(0o700)) {
                    Ok(()) => created.push(path.clone()),
                    Err(rustix::io::Errno::EXIST) => {}
                    Err(e) => return Err(StoreError::io("create directory", &path, e)),
                }
                let fd = rustix::fs::openat(&cur.file, comp, flags, Mode::empty())
                    .map_err(|e| open_error(e, &cur, comp, &path))?;
                // Ours only if it is a new directory: an existing one keeps its mode and is
                // checked like any other.
                if created.last() == Some(&path) {
                    rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode))
                        .map_err(|e| StoreError::io("set mode of directory", &path, e))?;
                }
                fd
            }
            Err(e) => return Err(open_error(e, &cur, comp, &path)),
        };
        cur = DirHandle {
            file: File::from(fd),
            path,
        };
        check_tree_dir(&cur)?;
    }
    Ok(TreeDir::Open(cur))
}

/// Why `comp` in `dir` did not open as a directory: a link (`ELOOP`, or `ENOTDIR` with
/// `O_DIRECTORY`) is named as one.
fn open_error(e: rustix::io::Errno, dir: &DirHandle, comp: &str, path: &Path) -> StoreError {
    let is_link = rustix::fs::statat(&dir.file, comp, rustix::fs::AtFlags::SYMLINK_NOFOLLOW)
        .is_ok_and(|st| rustix::fs::FileType::from_raw_mode(st.st_mode).is_symlink());
    match e {
        rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR if is_link => StoreError::Refused {
            path: path.to_path_buf(),
            why: Refusal::Symlink,
        },
        rustix::io::Errno::NOTDIR => StoreError::NotADirectory {
            path: path.to_path_buf(),
        },
        e => StoreError::io("open directory", path, e),
    }
}
