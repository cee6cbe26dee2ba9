//! What the editors (profile, setenv.sh) share: the read-modify-write under the directory
//! lock, the owner and mode an edited file gets, and the checks on the value.

use std::path::{Path, PathBuf};

use rustix::fs::Stat;
use secrecy::SecretString;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::atomic::{self, WriteOptions, Writer};
use super::owner::in_group;
use super::{
    DirHandle, Owner, Refusal, Result, StoreError, perm_bits, running_as_root, split_file_path,
};

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
        Some(st) if st.st_nlink > 1 => Err(StoreError::Refused {
            path: dir.child(name),
            why: Refusal::HardLinked { links: st.st_nlink },
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

/// Appends `text` to a file's content on a line of its own: after a line break if the file
/// does not end with one.
pub(crate) fn append_line(content: &mut Vec<u8>, text: &[u8]) {
    if content.last().is_some_and(|&b| b != b'\n') {
        content.push(b'\n');
    }
    content.extend_from_slice(text);
}
