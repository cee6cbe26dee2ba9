//! Open directories and the files amhash trusts: every path goes through [`super::walk`],
//! every operation after that through the directory's fd.

use std::fs::File;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, Stat};
use zeroize::Zeroizing;

use super::{MAX_FILE_LEN, Refusal, Result, StoreError, walk};

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
            return Err(StoreError::Refused {
                path: self.path.clone(),
                why: Refusal::DirWritable { mode },
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

    /// The names in the directory that `keep` accepts, sorted. Read through the fd: the
    /// listing is of the directory that was opened, wherever its path now leads.
    pub(crate) fn names_where(
        &self,
        keep: impl Fn(&std::ffi::OsStr) -> bool,
    ) -> Result<Vec<std::ffi::OsString>> {
        let list_error = |e| StoreError::io("list directory", &self.path, e);
        let mut found = Vec::new();
        for entry in rustix::fs::Dir::read_from(&self.file).map_err(list_error)? {
            let entry = entry.map_err(list_error)?;
            let name = std::ffi::OsStr::from_bytes(entry.file_name().to_bytes());
            if keep(name) {
                found.push(name.to_os_string());
            }
        }
        found.sort();
        Ok(found)
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
                FileKind::Symlink => Err(StoreError::Refused {
                    path: self.child(name),
                    why: Refusal::Symlink,
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
            Err(rustix::io::Errno::LOOP) => {
                return Err(StoreError::Refused {
                    path,
                    why: Refusal::Symlink,
                });
            }
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
/// Those of [`walk::open_file`], [`StoreError::NotRegularFile`], [`Refusal::NotYours`].
pub fn open_trusted_file(path: &Path) -> Result<File> {
    let file = walk::open_file(path)?;
    check_yours(&file, path)?;
    Ok(file)
}

/// Opens a credential file another program would otherwise read by path (a Vault token, a
/// Google ADC file, a CA bundle): [`open_trusted_file`]'s checks (the safe walk, a regular
/// file, owned by root or the user amhash runs as), and the directory it is in (after any
/// trusted link) owned by root or that user and writable by nobody else, so no other account
/// can put another file (say a hard link to one of root's, or a file swapped in between two
/// reads) under that name. Callers read the file through the returned fd, or hand the SDK
/// `/proc/self/fd/N` of it, never the path again.
///
/// # Errors
/// Those of [`open_trusted_file`], [`Refusal::CredentialDir`].
pub fn open_credential_file(path: &Path) -> Result<File> {
    let (dir, file) = walk::open_file_in(path)?;
    check_yours(&file, path)?;
    // Not sticky_ok: in a sticky directory another account may still add this name.
    match walk::dir_open_to_others(&dir.stat()?, false) {
        Some(reason) => Err(StoreError::Refused {
            path: path.to_path_buf(),
            why: Refusal::CredentialDir {
                dir: dir.path,
                reason,
            },
        }),
        None => Ok(file),
    }
}

/// The file opened at `path` is regular and owned by root or the user amhash runs as.
fn check_yours(file: &File, path: &Path) -> Result<()> {
    let st = rustix::fs::fstat(file).map_err(|e| StoreError::io("stat", path, e))?;
    if FileKind::of(&st) != FileKind::Regular {
        return Err(StoreError::NotRegularFile {
            path: path.to_path_buf(),
            kind: FileKind::describe(&st),
        });
    }
    if st.st_uid != 0 && st.st_uid != rustix::process::geteuid().as_raw() {
        return Err(StoreError::Refused {
            path: path.to_path_buf(),
            why: Refusal::NotYours {
                owner: walk::who(st.st_uid),
            },
        });
    }
    Ok(())
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

/// `parse` applied to the regular file at `path` (not through a link at it); `None` when the
/// file is absent. For the files amhash edits and reads a value back from.
pub(crate) fn read_file_with<T>(
    path: &Path,
    parse: impl FnOnce(&[u8]) -> Result<Option<T>>,
) -> Result<Option<T>> {
    let (dir, name) = split_file_path(path)?;
    match dir.read_regular(&name)? {
        None => Ok(None),
        Some((content, _)) => parse(&content),
    }
}
