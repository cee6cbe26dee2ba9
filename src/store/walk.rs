//! Opening a directory by path without following a symbolic link that another account could
//! have placed.
//!
//! amhash runs as root on the AM host, where the AM account owns much of AM's tree. If that
//! account can replace `.../secrets/userpasswords` with a symlink to `/etc/cron.d`, a plain
//! `open` would make root write there. So every component of a path is opened one at a time
//! relative to the previous one (`openat` with `O_NOFOLLOW`), and a symlink is followed only
//! when it is **trusted**:
//!
//! - the link is owned by root or by the user amhash runs as, and
//! - the directory holding it is owned by root or that user and nobody else can replace the
//!   link: no write bit for group or others, or the sticky bit (then only the link's owner,
//!   the directory's owner or root may rename or remove it).
//!
//! So a root-made `/opt/am -> /srv/am` keeps working, while a link the AM account made, or
//! one in a directory it can write, is refused with the component and its owner named.
//! Plain directories owned by the AM account are walked through (the store directory is
//! normally the AM account's own): without a link to follow, the walk cannot leave the tree
//! the administrator named.
//!
//! Each directory is checked on the fd that was opened (`fstat`, compared with what `lstat`
//! saw), so a swap between the check and the open is caught, not followed. Relative paths
//! start at the working directory, which the caller chose.

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use rustix::fd::OwnedFd;
use rustix::fs::{AtFlags, FileType, Mode, OFlags, Stat};

use super::{DirHandle, Refusal, Result, StoreError, perm_bits, user_name};

/// How many symbolic links one path may go through (Linux's own limit is 40).
const MAX_LINKS: usize = 40;

/// One step of the walk: a name, or "back to the root" after an absolute link target.
enum Step {
    Root,
    Parent,
    Name(OsString),
}

fn steps_of(path: &Path) -> Vec<Step> {
    path.components()
        .filter_map(|c| match c {
            Component::RootDir => Some(Step::Root),
            Component::ParentDir => Some(Step::Parent),
            Component::Normal(n) => Some(Step::Name(n.to_os_string())),
            Component::CurDir | Component::Prefix(_) => None,
        })
        .collect()
}

/// Who may be trusted not to be hostile: root and the account amhash runs as.
fn trusted(uid: u32) -> bool {
    uid == 0 || uid == rustix::process::geteuid().as_raw()
}

/// `uid N (name)` for messages.
pub(super) fn who(uid: u32) -> String {
    match user_name(uid) {
        Some(name) => format!("uid {uid} ({name})"),
        None => format!("uid {uid}"),
    }
}

/// Why another account could change what the directory `dir` holds, or `None` if none can:
/// it is owned by root or the user amhash runs as, and group and others cannot write it (with
/// `sticky_ok`, the sticky bit is enough: others may add names but not rename or remove
/// ours). The one rule the walk, credential files and programs run by name are judged by.
pub(super) fn dir_open_to_others(dir: &Stat, sticky_ok: bool) -> Option<String> {
    if !trusted(dir.st_uid) {
        return Some(format!("owned by {}", who(dir.st_uid)));
    }
    let mode = perm_bits(dir);
    if mode & 0o022 != 0 && !(sticky_ok && mode & 0o1000 != 0) {
        return Some(format!("that group or others can write (mode {mode:04o})"));
    }
    None
}

/// Why a link in `dir` owned by `link_uid` is not trusted, or `None` if it is.
fn distrust(link_uid: u32, dir: &Stat) -> Option<String> {
    if !trusted(link_uid) {
        return Some(format!("owned by {}", who(link_uid)));
    }
    dir_open_to_others(dir, true).map(|why| format!("in a directory {why}"))
}

fn path_flags() -> OFlags {
    OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC
}

/// Opens the directory `path` for reading (see the module doc).
///
/// # Errors
/// [`StoreError::DirMissing`], [`StoreError::NotADirectory`],
/// [`Refusal::UntrustedSymlink`], [`StoreError::Io`] (`ELOOP` for too many links,
/// `EAGAIN` for a directory swapped while it was being opened).
pub(crate) fn open_dir(path: &Path) -> Result<DirHandle> {
    let shown = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    let io = |op, e| StoreError::io(op, shown, e);
    let start = if shown.is_absolute() { "/" } else { "." };
    let mut cur: OwnedFd = rustix::fs::open(start, path_flags(), Mode::empty())
        .map_err(|e| io("open directory", e))?;
    // The last directory on the way that another account owns: that account can move it
    // anywhere on its file system, so a `..` after it could lead anywhere.
    let mut movable: Option<(PathBuf, u32)> = {
        let st = rustix::fs::fstat(&cur).map_err(|e| io("stat directory", e))?;
        (!trusted(st.st_uid)).then(|| (PathBuf::from(start), st.st_uid))
    };
    // What has been walked so far, for messages: the components as given, links expanded.
    let mut walked = PathBuf::from(start);
    let mut todo: VecDeque<Step> = steps_of(shown).into();
    let mut links = 0usize;
    while let Some(step) = todo.pop_front() {
        let name: OsString = match step {
            Step::Root => {
                cur = rustix::fs::open("/", path_flags(), Mode::empty())
                    .map_err(|e| io("open directory", e))?;
                walked = PathBuf::from("/");
                movable = None;
                continue;
            }
            Step::Parent => {
                if let Some((dir, uid)) = &movable {
                    return Err(StoreError::Refused {
                        path: shown.to_path_buf(),
                        why: Refusal::UntrustedParent {
                            dir: dir.clone(),
                            reason: format!("owned by {}", who(*uid)),
                        },
                    });
                }
                OsString::from("..")
            }
            Step::Name(n) => n,
        };
        let here = walked.join(&name);
        let st = match rustix::fs::statat(&cur, &name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(rustix::io::Errno::NOENT) => {
                return Err(StoreError::DirMissing {
                    path: shown.to_path_buf(),
                });
            }
            Err(e) => return Err(StoreError::io("stat", &here, e)),
        };
        match FileType::from_raw_mode(st.st_mode) {
            FileType::Symlink => {
                let dir_st = rustix::fs::fstat(&cur).map_err(|e| io("stat directory", e))?;
                if let Some(reason) = distrust(st.st_uid, &dir_st) {
                    return Err(StoreError::Refused {
                        path: shown.to_path_buf(),
                        why: Refusal::UntrustedSymlink { link: here, reason },
                    });
                }
                links += 1;
                if links > MAX_LINKS {
                    return Err(io("follow symbolic links", rustix::io::Errno::LOOP));
                }
                let target = rustix::fs::readlinkat(&cur, &name, Vec::new())
                    .map_err(|e| StoreError::io("read symbolic link", &here, e))?;
                let target = PathBuf::from(OsStr::from_bytes(target.as_bytes()));
                for s in steps_of(&target).into_iter().rev() {
                    todo.push_front(s);
                }
            }
            FileType::Directory => {
                let next =
                    rustix::fs::openat(&cur, &name, path_flags() | OFlags::NOFOLLOW, Mode::empty())
                        .map_err(|e| match e {
                            rustix::io::Errno::NOENT => StoreError::DirMissing {
                                path: shown.to_path_buf(),
                            },
                            e => StoreError::io("open directory", &here, e),
                        })?;
                let now = rustix::fs::fstat(&next).map_err(|e| io("stat directory", e))?;
                if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino)
                    || FileType::from_raw_mode(now.st_mode) != FileType::Directory
                {
                    // Swapped between the lstat and the open: someone is racing us.
                    return Err(StoreError::io(
                        "open directory (it was replaced while amhash opened it)",
                        &here,
                        rustix::io::Errno::AGAIN,
                    ));
                }
                if !trusted(now.st_uid) {
                    movable = Some((here.clone(), now.st_uid));
                }
                cur = next;
                walked = if name == ".." {
                    walked
                        .parent()
                        .map_or_else(|| walked.clone(), Path::to_path_buf)
                } else {
                    here
                };
            }
            _ => {
                return Err(StoreError::NotADirectory {
                    path: shown.to_path_buf(),
                });
            }
        }
    }
    // Reopen the directory we arrived at for reading (flock and fsync need a real fd).
    let fd = rustix::fs::openat(
        &cur,
        ".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| io("open directory", e))?;
    Ok(DirHandle {
        file: File::from(fd),
        path: shown.to_path_buf(),
    })
}

/// Opens the file `path` for reading: its directory by [`open_dir`], then the file without
/// following a link, unless the link is trusted as in [`open_dir`] (a Kubernetes secret
/// volume's `..data` links are root's), in which case its target is walked the same way.
/// `O_NONBLOCK`, so a FIFO put in its place cannot hang amhash; the caller checks the kind on
/// the fd it gets.
///
/// # Errors
/// Those of [`open_dir`] for the directories; [`Refusal::UntrustedSymlink`];
/// [`StoreError::Io`] (`NotFound` when the file does not exist).
pub(crate) fn open_file(path: &Path) -> Result<File> {
    open_file_in(path).map(|(_, file)| file)
}

/// [`open_file`], with the directory the file was opened in (after any trusted link to it),
/// for callers that also judge who can change that directory.
///
/// # Errors
/// Those of [`open_file`].
pub(crate) fn open_file_in(path: &Path) -> Result<(DirHandle, File)> {
    let mut target = path.to_path_buf();
    for _ in 0..=MAX_LINKS {
        let Some(name) = target.file_name().map(OsStr::to_os_string) else {
            return Err(StoreError::BadPath {
                path: path.to_path_buf(),
                reason: "it has no file name",
            });
        };
        let parent = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let dir = open_dir(&parent).map_err(|e| match e {
            StoreError::DirMissing { .. } => StoreError::io(
                "open",
                path,
                std::io::Error::from(std::io::ErrorKind::NotFound),
            ),
            e => e,
        })?;
        let here = parent.join(&name);
        let st = match rustix::fs::statat(&dir.file, &name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(e) => return Err(StoreError::io("open", path, e)),
        };
        if FileType::from_raw_mode(st.st_mode) == FileType::Symlink {
            let dir_st = rustix::fs::fstat(&dir.file)
                .map_err(|e| StoreError::io("stat directory", &parent, e))?;
            if let Some(reason) = distrust(st.st_uid, &dir_st) {
                return Err(StoreError::Refused {
                    path: path.to_path_buf(),
                    why: Refusal::UntrustedSymlink { link: here, reason },
                });
            }
            let link = rustix::fs::readlinkat(&dir.file, &name, Vec::new())
                .map_err(|e| StoreError::io("read symbolic link", &here, e))?;
            target = parent.join(OsStr::from_bytes(link.as_bytes()));
            continue;
        }
        return rustix::fs::openat(
            &dir.file,
            &name,
            OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW | OFlags::NONBLOCK,
            Mode::empty(),
        )
        .map(|fd| (dir, File::from(fd)))
        .map_err(|e| match e {
            // Swapped for a link after the check: someone is racing us.
            rustix::io::Errno::LOOP => StoreError::Refused {
                path: here,
                why: Refusal::Symlink,
            },
            e => StoreError::io("open", path, e),
        });
    }
    Err(StoreError::io(
        "follow symbolic links",
        path,
        rustix::io::Errno::LOOP,
    ))
}

/// What a path run as a program, or searched for one, must end in (see [`resolve_closed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// A directory writable by nobody but root and the user amhash runs as, sticky or not:
    /// anyone may add a program to a sticky directory.
    Dir,
    /// A regular file nobody else can write.
    File,
}

/// Where `path` leads, if no account but root and the one amhash runs as can change what it
/// names, now or later: for the search path and the programs of a tool run as root (the Azure
/// CLI, see `secrets::client::azure`), which the shell will look up again by name.
///
/// The path is followed as the kernel follows it, one name at a time from `/`: every
/// directory on the way owned by root or that user and closed to renames by others (no write
/// bit for group or others, or the sticky bit, as `/tmp` has), every link owned by them (so,
/// in such a directory, fixed), and the end as `end` says. `None` for anything else, a
/// relative path, or a missing one. The answer is the path without links.
pub fn resolve_closed(path: &Path, end: Closed) -> Option<PathBuf> {
    if !path.is_absolute() {
        return None;
    }
    let closed = |st: &Stat, last: bool| dir_open_to_others(st, !last).is_none();
    let root = rustix::fs::lstat("/").ok()?;
    let mut rest: VecDeque<Step> = steps_of(path).into();
    if !closed(&root, rest.iter().all(|s| !matches!(s, Step::Name(_)))) {
        return None;
    }
    let mut real = PathBuf::from("/");
    let mut links = 0usize;
    while let Some(step) = rest.pop_front() {
        let name = match step {
            Step::Root => {
                real = PathBuf::from("/");
                continue;
            }
            // `real` holds no link, so its parent is the one the kernel goes to.
            Step::Parent => {
                real.pop();
                continue;
            }
            Step::Name(name) => name,
        };
        let next = real.join(&name);
        let st = rustix::fs::lstat(&next).ok()?;
        let last = !rest.iter().any(|s| matches!(s, Step::Name(_)));
        match FileType::from_raw_mode(st.st_mode) {
            FileType::Symlink => {
                links = links.saturating_add(1);
                if links > MAX_LINKS || !trusted(st.st_uid) {
                    return None;
                }
                let target = std::fs::read_link(&next).ok()?;
                for step in steps_of(&target).into_iter().rev() {
                    rest.push_front(step);
                }
            }
            FileType::Directory if closed(&st, last && end == Closed::Dir) => real = next,
            FileType::RegularFile if last && end == Closed::File && closed(&st, true) => {
                real = next;
            }
            _ => return None,
        }
    }
    // Checked again as the end: a `..` after the last name ends elsewhere.
    let st = rustix::fs::lstat(&real).ok()?;
    let kind = match end {
        Closed::Dir => FileType::Directory,
        Closed::File => FileType::RegularFile,
    };
    (FileType::from_raw_mode(st.st_mode) == kind && closed(&st, true)).then_some(real)
}
