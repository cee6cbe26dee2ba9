//! Directory target: the file `DIR/password.<user>` of AM's special secret store.
//!
//! File layout: the value's UTF-8 bytes, nothing else (no trailing newline; AM's doc writes it
//! with `echo -n`). Mode 0600. The replaced value is kept in `DIR/password.<user>.previous`
//! (mode 0600, owner of the replaced file), written BEFORE the new value with the same atomic
//! writer, so after a crash at any point `password.<user>` holds the complete old or the
//! complete new value and `.previous` is either absent/older or the complete old value.
//!
//! The `.previous` file is 0600 even if the replaced file had wider permissions: a backup of a
//! secret never needs to be readable by more people than the secret.
//!
//! Refused (nothing is written, every file stays byte for byte): `DIR` missing (never created),
//! not a directory, writable by group or others; the target or its `.previous` a symlink (neither
//! the link nor what it points to is touched) or not a regular file.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, Stat};

use super::atomic::{self, WriteOptions, Writer};
use super::{
    Action, DirHandle, FileKind, Owner, ReadValue, Result, SecretId, StoreError, check_value,
    ct_eq, perm_bits, running_as_root,
};

/// Options of [`install_dir`].
#[derive(Clone, Debug)]
pub struct DirOptions {
    /// Owner for the secret file (see the module doc of `store` for the default).
    pub owner: Option<Owner>,
    /// Keep the replaced value as `password.<user>.previous` (default true).
    pub backup: bool,
    /// Compute and report; write nothing.
    pub dry_run: bool,
    /// The atomic writer (tests inject faults through it).
    pub writer: Writer,
}

impl Default for DirOptions {
    fn default() -> Self {
        DirOptions {
            owner: None,
            backup: true,
            dry_run: false,
            writer: Writer::default(),
        }
    }
}

/// What [`install_dir`] did (or would do, in a dry run).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirChange {
    /// `DIR/password.<user>`.
    pub path: PathBuf,
    /// Created, replaced, or unchanged (same value: nothing written).
    pub action: Action,
    /// The `.previous` file written (or to be written).
    pub backup: Option<PathBuf>,
    /// Owner given to the file (`None`: left to the caller's identity).
    pub owner: Option<Owner>,
    /// True if the value was unchanged but the file was rewritten to give it the owner asked
    /// for (`--owner` applies to an unchanged value too).
    pub owner_changed: bool,
    /// Mode of the file (always 0600, whatever it was: an unchanged value in a wider file is
    /// rewritten).
    pub mode: u32,
    /// Mode of the file before (`None`: it did not exist).
    pub mode_before: Option<u32>,
    /// True in a dry run.
    pub dry_run: bool,
    /// Stale temp files of a killed amhash that were removed.
    pub removed_temps: Vec<PathBuf>,
}

/// Installs `value` as `DIR/password.<user>`; see the module doc.
///
/// # Errors
/// [`StoreError::InvalidValue`] (empty value), [`StoreError::DirMissing`],
/// [`StoreError::NotADirectory`], [`Refusal::DirWritable`], [`Refusal::Symlink`],
/// [`StoreError::NotRegularFile`], [`StoreError::Io`].
pub fn install_dir(dir: &Path, id: &SecretId, value: &str, opts: &DirOptions) -> Result<DirChange> {
    check_value(value)?;
    let d = DirHandle::open(dir)?;
    let dir_st = d.stat_not_writable_by_others()?;
    opts.writer.lock(&d, opts.dry_run)?;
    let name = OsString::from(id.file_name());
    let backup_name = OsString::from(id.backup_file_name());
    let current = d.read_regular(&name)?;
    let do_backup = opts.backup && current.is_some();
    if do_backup {
        d.check_regular_or_absent(&backup_name)?;
    }
    // The new file replaces the old one by rename, so it is a file amhash creates: the owner
    // asked for applies; else it keeps the replaced file's owner; else (as root) the
    // directory's, so that AM, which owns the directory, can read it.
    // A file with more than one name may be another account's file linked here: its owner
    // is not copied (the rename leaves that file itself alone).
    let existing_owner = current
        .as_ref()
        .filter(|(_, st)| st.st_nlink == 1)
        .map(|(_, st)| Owner {
            uid: st.st_uid,
            gid: st.st_gid,
        });
    let mode_before = current.as_ref().map(|(_, st)| perm_bits(st));
    let owner = opts.owner.or(existing_owner).or_else(|| {
        running_as_root().then_some(Owner {
            uid: dir_st.st_uid,
            gid: dir_st.st_gid,
        })
    });
    let action = match &current {
        None => Action::Created,
        Some((old, _)) if ct_eq(old, value.as_bytes()) => Action::Unchanged,
        Some(_) => Action::Replaced,
    };
    let owner_changed =
        action == Action::Unchanged && opts.owner.is_some() && opts.owner != existing_owner;
    // An unchanged value in a file others can read (an earlier `echo -n >`) is rewritten
    // 0600 all the same.
    let mode_changed = action == Action::Unchanged && mode_before.is_some_and(|m| m != 0o600);
    let mut change = DirChange {
        path: d.child(&name),
        action,
        backup: (do_backup && action != Action::Unchanged).then(|| d.child(&backup_name)),
        owner,
        owner_changed,
        mode: 0o600,
        mode_before,
        dry_run: opts.dry_run,
        removed_temps: Vec::new(),
    };
    if opts.dry_run {
        return Ok(change);
    }
    // Under the exclusive lock, any temp file of ours belongs to a dead process: remove them
    // even when the value is unchanged, so rerunning an install after a crash always leaves
    // a clean directory.
    change.removed_temps =
        atomic::clean_stale_temps_locked(&d, &[name.as_os_str(), backup_name.as_os_str()])?;
    if action == Action::Unchanged && !owner_changed && !mode_changed {
        return Ok(change);
    }
    // Same value, new owner: a fresh file by the same atomic path (never a chown of the
    // existing inode, which a hard link could make someone else's file); no backup needed.
    if let (true, Action::Replaced, Some((old, _))) = (do_backup, action, &current) {
        let old_owner = existing_owner.or(owner);
        opts.writer.write_locked(
            &d,
            &backup_name,
            old,
            &WriteOptions {
                mode: 0o600,
                owner: old_owner,
            },
        )?;
    }
    opts.writer.write_locked(
        &d,
        &name,
        value.as_bytes(),
        &WriteOptions { mode: 0o600, owner },
    )?;
    Ok(change)
}

/// The value read back from `DIR/password.<user>`. No `Debug`: it is a secret.
pub struct DirValue {
    value: ReadValue,
    trailing_newline: bool,
}

impl DirValue {
    /// The value, without the one trailing newline that is tolerated.
    #[must_use]
    pub fn value(&self) -> &ReadValue {
        &self.value
    }

    /// True if the file ended with a newline (AM may take it as part of the value: doctor should
    /// say so and `amhash install` rewrites the file without it).
    #[must_use]
    pub fn trailing_newline(&self) -> bool {
        self.trailing_newline
    }

    /// Constant-time comparison of the value (newline stripped) with `expected`.
    #[must_use]
    pub fn matches(&self, expected: &str) -> bool {
        self.value.matches(expected)
    }
}

/// Reads `DIR/password.<user>`; `None` if it does not exist. A symlink is refused, not followed.
///
/// # Errors
/// [`StoreError::DirMissing`], [`StoreError::NotADirectory`], [`Refusal::Symlink`],
/// [`StoreError::NotRegularFile`], [`StoreError::Unreadable`] (not UTF-8), [`StoreError::Io`],
/// [`StoreError::TooLarge`].
pub fn read_dir_value(dir: &Path, id: &SecretId) -> Result<Option<DirValue>> {
    let d = DirHandle::open(dir)?;
    let name = OsString::from(id.file_name());
    let Some((bytes, _)) = d.read_regular(&name)? else {
        return Ok(None);
    };
    let (body, trailing_newline) = match bytes.strip_suffix(b"\n") {
        Some(b) => (b, true),
        None => (&bytes[..], false),
    };
    let value = ReadValue::new(body.to_vec(), &d.child(&name), 1, &id.secret_id())?;
    Ok(Some(DirValue {
        value,
        trailing_newline,
    }))
}

/// Facts about one file system entry (never following a symlink, except for the directory).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileFacts {
    /// The path.
    pub path: PathBuf,
    /// What it is.
    pub kind: FileKind,
    /// Permission bits.
    pub mode: u32,
    /// Owner uid.
    pub uid: u32,
    /// Owner gid.
    pub gid: u32,
    /// Size in bytes.
    pub len: u64,
}

impl FileFacts {
    fn new(path: PathBuf, st: &Stat) -> Self {
        FileFacts {
            path,
            kind: FileKind::of(st),
            mode: perm_bits(st),
            uid: st.st_uid,
            gid: st.st_gid,
            len: u64::try_from(st.st_size).unwrap_or(0),
        }
    }
}

/// What `amhash doctor` needs to know about a secret directory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DirFacts {
    /// The directory (symlinks to it followed); `None` if it does not exist.
    pub dir: Option<FileFacts>,
    /// True if the directory path itself is a symlink (allowed, but worth showing).
    pub dir_is_symlink: bool,
    /// `password.<user>`, not followed if a symlink; `None` if absent.
    pub file: Option<FileFacts>,
    /// `password.<user>.previous`; `None` if absent.
    pub previous: Option<FileFacts>,
    /// Temp files of ours left by a killed process.
    pub stale_temps: Vec<PathBuf>,
}

impl DirFacts {
    /// The directory is writable by group or others (install would refuse).
    #[must_use]
    pub fn dir_writable_by_others(&self) -> bool {
        self.dir.as_ref().is_some_and(|d| d.mode & 0o022 != 0)
    }

    /// The secret file is readable or writable by group or others.
    #[must_use]
    pub fn file_too_open(&self) -> bool {
        self.file.as_ref().is_some_and(|f| f.mode & 0o077 != 0)
    }
}

/// Collects [`DirFacts`] without changing anything. A missing or non-directory `dir` is a fact,
/// not an error.
///
/// # Errors
/// [`StoreError::Io`] for failures other than "does not exist"/"not a directory".
pub fn inspect_dir(dir: &Path, id: &SecretId) -> Result<DirFacts> {
    let mut facts = DirFacts {
        dir: None,
        dir_is_symlink: false,
        file: None,
        previous: None,
        stale_temps: Vec::new(),
    };
    match rustix::fs::statat(rustix::fs::CWD, dir, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => facts.dir_is_symlink = FileKind::of(&st) == FileKind::Symlink,
        Err(rustix::io::Errno::NOENT) => return Ok(facts),
        Err(e) => return Err(StoreError::io("stat", dir, e)),
    }
    let d = match DirHandle::open(dir) {
        Ok(d) => d,
        Err(StoreError::DirMissing { .. }) => return Ok(facts), // dangling symlink
        Err(StoreError::NotADirectory { .. }) => {
            if let Ok(st) = rustix::fs::stat(dir) {
                facts.dir = Some(FileFacts::new(dir.to_path_buf(), &st));
            }
            return Ok(facts);
        }
        Err(e) => return Err(e),
    };
    facts.dir = Some(FileFacts::new(d.path.clone(), &d.stat()?));
    let name = OsString::from(id.file_name());
    let backup = OsString::from(id.backup_file_name());
    facts.file = d
        .lstat(&name)?
        .map(|st| FileFacts::new(d.child(&name), &st));
    facts.previous = d
        .lstat(&backup)?
        .map(|st| FileFacts::new(d.child(&backup), &st));
    facts.stale_temps = atomic::list_temps(&d, &[OsStr::new(&name), OsStr::new(&backup)])?
        .into_iter()
        .map(|n| d.child(&n))
        .collect();
    Ok(facts)
}
