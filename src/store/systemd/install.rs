//! Installing, inspecting and reading back the systemd target (the order of writes is in
//! the parent module's doc).

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, Stat};
use zeroize::Zeroizing;

use super::creds::{KeyChoice, Tool};
use super::dirs::{TreeDir, open_tree};
use super::{
    CREDSTORE, CREDSTORE_ENCRYPTED, Reference, Unit, drop_in_dir, drop_in_name, env, find_unit,
    is_ours, new_reference, parse_drop_in, render_drop_in,
};
use crate::store::atomic::{WriteOptions, Writer};
use crate::store::{
    Action, DirHandle, Owner, ReadValue, Result, SecretId, StoreError, check_shell_value, ct_eq,
    perm_bits, running_as_root,
};

/// How the value reaches the service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// An encrypted credential and `LoadCredentialEncrypted=`.
    Credential,
    /// A root-only file and `EnvironmentFile=` (the variable `PASSWORD_<USER>`).
    EnvFile,
}

impl Mode {
    /// For reports and `--json`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Mode::Credential => "credential",
            Mode::EnvFile => "env-file",
        }
    }

    fn dir(self) -> &'static str {
        match self {
            Mode::Credential => CREDSTORE_ENCRYPTED,
            Mode::EnvFile => CREDSTORE,
        }
    }

    fn of(reference: &Reference) -> Mode {
        match reference {
            Reference::Credential(_) => Mode::Credential,
            Reference::EnvFile(_) => Mode::EnvFile,
        }
    }
}

/// Which mode to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ModeChoice {
    /// A credential where `systemd-creds` (250 or later) is usable, else the fallback.
    #[default]
    Auto,
    /// A credential, or fail.
    Credential,
    /// The `EnvironmentFile=` fallback.
    EnvFile,
}

/// Options of [`install`].
#[derive(Clone, Debug)]
pub struct SystemdOptions {
    /// The root of the file system systemd reads (`/`, or an image being built).
    pub root: PathBuf,
    /// Which mode.
    pub choice: ModeChoice,
    /// Check and say what would change; write nothing.
    pub dry_run: bool,
    /// The atomic writer (tests inject faults through it).
    pub writer: Writer,
}

/// What [`install`] did, or would do.
#[derive(Clone, Debug)]
pub struct SystemdChange {
    /// The mode used.
    pub mode: Mode,
    /// The keys of the credential (credential mode).
    pub key: Option<KeyChoice>,
    /// Why `auto` fell back to the environment file.
    pub fallback: Option<String>,
    /// Created, replaced or unchanged (the pair as a whole).
    pub action: Action,
    /// The secret file (under the root).
    pub secret_path: PathBuf,
    /// The secret file as systemd names it (in the drop-in).
    pub host_secret_path: PathBuf,
    /// The drop-in (under the root).
    pub drop_in_path: PathBuf,
    /// Old secret files removed after the drop-in moved on.
    pub removed: Vec<PathBuf>,
    /// Old secret files that could not be removed, and why.
    pub leftover: Vec<(PathBuf, String)>,
    /// Directories created (or, in a dry run, that would be).
    pub created_dirs: Vec<PathBuf>,
    /// The unit's file, if one was found under the root.
    pub unit_file: Option<PathBuf>,
}

/// Writes the value for `unit` (see the parent module's doc for files and order).
///
/// # Errors
/// [`StoreError::InvalidValue`], [`StoreError::EnvVarNotExportable`] (fallback with a `-` in
/// the user name), [`StoreError::CredsUnavailable`] (credential mode forced),
/// [`StoreError::CredsFailed`], the tree's refusals ([`Refusal::NotRootOwned`],
/// [`Refusal::DirWritable`], [`Refusal::Symlink`], [`StoreError::DirMissing`] for
/// `ROOT/etc`), [`StoreError::Io`], [`StoreError::LockTimeout`].
pub fn install(
    unit: &Unit,
    id: &SecretId,
    value: &str,
    opts: &SystemdOptions,
) -> Result<SystemdChange> {
    check_shell_value(value)?;
    let (mode, tool, fallback) = choose_mode(opts.choice, Tool::find)?;
    let var = match mode {
        Mode::EnvFile => {
            env::check_value(value)?;
            Some(id.shell_env_var()?)
        }
        Mode::Credential => None,
    };
    let mut created_dirs = Vec::new();
    let dry_run = opts.dry_run;
    if !dry_run {
        // Both trees are checked before either is created in: a refusal creates nothing.
        for rel in [drop_in_dir(unit).as_str(), mode.dir()] {
            open_tree(&opts.root, rel, Some(0o700), true, &mut Vec::new())?;
        }
    }
    let drop_dir = open_tree(
        &opts.root,
        &drop_in_dir(unit),
        Some(0o755),
        dry_run,
        &mut created_dirs,
    )?;
    let secret_dir = open_tree(
        &opts.root,
        mode.dir(),
        Some(0o700),
        dry_run,
        &mut created_dirs,
    )?;
    if dry_run {
        for tree in [&drop_dir, &secret_dir] {
            if let TreeDir::Missing(p) = tree {
                created_dirs.push(p.clone());
            }
        }
    }
    let key = tool.as_ref().map(Tool::strongest_key);
    // Made in a dry run too: the check before anything is written proves systemd-creds works.
    let bytes: Zeroizing<Vec<u8>> = match (&tool, key, &var) {
        (Some(tool), Some(key), _) => {
            Zeroizing::new(tool.encrypt(&id.secret_id(), key, value.as_bytes())?)
        }
        (_, _, Some(var)) => Zeroizing::new(env::line(var, value)?.as_bytes().to_vec()),
        _ => {
            return Err(StoreError::InvalidValue {
                reason: "has no target mode",
            });
        }
    };

    let drop_name = OsString::from(drop_in_name(id));
    let mut old_drop_in = None;
    // The lock is taken on the secret's directory only (0700 root): `UNIT.d` is 0755, so
    // any account could hold a lock there and stall every install.
    if let TreeDir::Open(dir) = &secret_dir {
        opts.writer.lock(dir, dry_run)?;
    }
    if let TreeDir::Open(dir) = &drop_dir {
        old_drop_in = dir.read_regular(&drop_name)?;
    }
    let old_ref = old_drop_in
        .as_ref()
        .and_then(|(content, _)| parse_drop_in(content, unit, id));
    let unchanged = match (&old_ref, &secret_dir, &old_drop_in) {
        (Some(r), TreeDir::Open(dir), Some((content, st)))
            if Mode::of(r) == mode
                && root_file(st, 0o644)
                && content.as_slice() == render_drop_in(unit, id, r).as_bytes() =>
        {
            holds_value(dir, r, id, value, tool.as_ref(), var.as_deref())?
        }
        _ => false,
    };
    let action = match (&old_drop_in, unchanged) {
        (_, true) => Action::Unchanged,
        (None, false) => Action::Created,
        (Some(_), false) => Action::Replaced,
    };
    let reference = match (&old_ref, unchanged) {
        (Some(r), true) => r.clone(),
        _ => new_reference(unit, id, mode == Mode::Credential)?,
    };
    let mut change = SystemdChange {
        mode,
        key,
        fallback,
        action,
        secret_path: opts.root.join(mode.dir()).join(reference.name()),
        host_secret_path: reference.host_path(),
        drop_in_path: opts.root.join(drop_in_dir(unit)).join(&drop_name),
        removed: Vec::new(),
        leftover: Vec::new(),
        created_dirs,
        unit_file: find_unit(&opts.root, unit),
    };
    if dry_run {
        return Ok(change);
    }
    let (TreeDir::Open(sdir), TreeDir::Open(ddir)) = (&secret_dir, &drop_dir) else {
        return Err(StoreError::io(
            "open directory",
            &opts.root,
            std::io::Error::from(std::io::ErrorKind::NotFound),
        ));
    };
    if !unchanged {
        let owner = running_as_root().then_some(Owner { uid: 0, gid: 0 });
        let new_name = OsStr::new(reference.name());
        opts.writer
            .write_locked(sdir, new_name, &bytes, &WriteOptions { mode: 0o600, owner })?;
        let rendered = render_drop_in(unit, id, &reference);
        let dropped = opts.writer.write_locked(
            ddir,
            &drop_name,
            rendered.as_bytes(),
            &WriteOptions { mode: 0o644, owner },
        );
        if let Err(e) = dropped {
            // Unless the drop-in on disk names the new file already (the rename happened and
            // only the directory fsync failed), it still names the old one: take the new
            // file away again. Never leave the drop-in naming a missing file.
            let names_new = ddir
                .read_regular(&drop_name)
                .ok()
                .flatten()
                .and_then(|(content, _)| parse_drop_in(&content, unit, id))
                .is_some_and(|r| r.name() == reference.name());
            if !names_new {
                let _ = rustix::fs::unlinkat(&sdir.file, new_name, AtFlags::empty());
            }
            return Err(e);
        }
    }
    // The drop-in names `reference` now: every other file of this unit and user goes, in
    // both directories (a mode switch leaves the other kind behind).
    clean(sdir, unit, id, reference.name(), &mut change);
    let other = match mode {
        Mode::Credential => CREDSTORE,
        Mode::EnvFile => CREDSTORE_ENCRYPTED,
    };
    match open_tree(&opts.root, other, None, false, &mut Vec::new()) {
        Ok(TreeDir::Open(dir)) => match opts.writer.lock(&dir, false) {
            Ok(()) => clean(&dir, unit, id, reference.name(), &mut change),
            Err(e) => change.leftover.push((dir.path.clone(), e.to_string())),
        },
        Ok(TreeDir::Missing(_)) | Err(StoreError::DirMissing { .. }) => {}
        Err(e) => change.leftover.push((opts.root.join(other), e.to_string())),
    }
    Ok(change)
}

/// A regular file of root's with exactly `mode`.
fn root_file(st: &Stat, mode: u32) -> bool {
    (!running_as_root() || (st.st_uid == 0 && st.st_gid == 0)) && perm_bits(st) == mode
}

/// Whether the referenced file is root's, 0600, and holds exactly `value`.
fn holds_value(
    dir: &DirHandle,
    reference: &Reference,
    id: &SecretId,
    value: &str,
    tool: Option<&Tool>,
    var: Option<&str>,
) -> Result<bool> {
    let Some((content, st)) = dir.read_regular(OsStr::new(reference.name()))? else {
        return Ok(false);
    };
    if !root_file(&st, 0o600) {
        return Ok(false);
    }
    Ok(match (reference, tool, var) {
        (Reference::Credential(_), Some(tool), _) => tool
            .decrypt(&id.secret_id(), &content)
            .is_ok_and(|plain| ct_eq(&plain, value.as_bytes())),
        (Reference::EnvFile(_), _, Some(var)) => {
            env::read(&content, var).is_some_and(|v| ct_eq(&v, value.as_bytes()))
        }
        _ => false,
    })
}

/// Names in `dir` that belong to `unit` and `id`, other than `keep`: old secret files and
/// temp files of a killed run.
fn others(dir: &DirHandle, unit: &Unit, id: &SecretId, keep: &str) -> Result<Vec<OsString>> {
    dir.names_where(|name| {
        let text = name.to_string_lossy();
        // A temp file of the writer: "." + target + ".tmp-" + 16 hex.
        let target = text
            .strip_prefix('.')
            .and_then(|t| t.split_once(".tmp-"))
            .map(|(t, _)| t);
        let ours = is_ours(&text, unit, id) || target.is_some_and(|t| is_ours(t, unit, id));
        ours && text != keep
    })
}

fn clean(dir: &DirHandle, unit: &Unit, id: &SecretId, keep: &str, change: &mut SystemdChange) {
    match others(dir, unit, id, keep) {
        Ok(names) => {
            for name in names {
                let path = dir.child(&name);
                match rustix::fs::unlinkat(&dir.file, &name, AtFlags::empty()) {
                    Ok(()) | Err(rustix::io::Errno::NOENT) => change.removed.push(path),
                    Err(e) => change.leftover.push((path, e.to_string())),
                }
            }
        }
        Err(e) => change.leftover.push((dir.path.clone(), e.to_string())),
    }
}

/// Owner and mode of a file, for doctor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileInfo {
    /// Permission bits.
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
}

impl FileInfo {
    fn of(st: &Stat) -> Self {
        FileInfo {
            mode: perm_bits(st),
            uid: st.st_uid,
            gid: st.st_gid,
        }
    }
}

/// What doctor looks at.
#[derive(Clone, Debug, Default)]
pub struct SystemdFacts {
    /// The drop-in (under the root).
    pub drop_in_path: PathBuf,
    /// Its owner and mode, when it exists.
    pub drop_in: Option<FileInfo>,
    /// The secret file it names, when it is one of amhash's.
    pub reference: Option<Reference>,
    /// The secret file (under the root) and its owner and mode, when it exists.
    pub secret: Option<(PathBuf, FileInfo)>,
    /// The unit's file, if found.
    pub unit_file: Option<PathBuf>,
    /// Other files of this unit and user in the credential directories (left by an
    /// interrupted install).
    pub leftovers: Vec<PathBuf>,
}

/// Looks at the drop-in, the secret file and the unit, without decrypting.
///
/// # Errors
/// The tree's refusals and I/O errors.
pub fn inspect(root: &Path, unit: &Unit, id: &SecretId) -> Result<SystemdFacts> {
    let mut facts = SystemdFacts {
        drop_in_path: root.join(drop_in_dir(unit)).join(drop_in_name(id)),
        unit_file: find_unit(root, unit),
        ..SystemdFacts::default()
    };
    if let TreeDir::Open(dir) = open_tree(root, &drop_in_dir(unit), None, false, &mut Vec::new())?
        && let Some((content, st)) = dir.read_regular(OsStr::new(&drop_in_name(id)))?
    {
        facts.drop_in = Some(FileInfo::of(&st));
        facts.reference = parse_drop_in(&content, unit, id);
    }
    let keep = facts
        .reference
        .as_ref()
        .map(|r| r.name().to_owned())
        .unwrap_or_default();
    for rel in [CREDSTORE_ENCRYPTED, CREDSTORE] {
        let dir = match open_tree(root, rel, None, false, &mut Vec::new()) {
            Ok(TreeDir::Open(dir)) => dir,
            Ok(TreeDir::Missing(_)) | Err(StoreError::DirMissing { .. }) => continue,
            Err(e) => return Err(e),
        };
        if let Some(r) = facts.reference.as_ref().filter(|r| r.dir() == rel)
            && let Some(st) = dir.lstat(OsStr::new(r.name()))?
        {
            facts.secret = Some((dir.child(OsStr::new(r.name())), FileInfo::of(&st)));
        }
        facts
            .leftovers
            .extend(others(&dir, unit, id, &keep)?.iter().map(|n| dir.child(n)));
    }
    Ok(facts)
}

/// A value read back: the value, the mode it was installed in and the file it came from.
pub struct SystemdValue {
    /// The value (decrypted, for a credential).
    pub value: ReadValue,
    /// The mode.
    pub mode: Mode,
    /// The secret file (under the root).
    pub path: PathBuf,
}

/// Reads the value amhash installed for `unit` and `id`: the drop-in, the file it names,
/// decrypted by `systemd-creds` for a credential. `None` when there is no amhash drop-in or
/// no file it names.
///
/// # Errors
/// The tree's refusals, [`StoreError::CredsUnavailable`], [`StoreError::CredsFailed`],
/// [`StoreError::Unreadable`], I/O errors.
pub fn read_value(root: &Path, unit: &Unit, id: &SecretId) -> Result<Option<SystemdValue>> {
    let TreeDir::Open(dir) = open_tree(root, &drop_in_dir(unit), None, false, &mut Vec::new())?
    else {
        return Ok(None);
    };
    let Some((content, _)) = dir.read_regular(OsStr::new(&drop_in_name(id)))? else {
        return Ok(None);
    };
    let Some(reference) = parse_drop_in(&content, unit, id) else {
        return Ok(None);
    };
    let TreeDir::Open(dir) = open_tree(root, reference.dir(), None, false, &mut Vec::new())? else {
        return Ok(None);
    };
    let name = OsStr::new(reference.name());
    let path = dir.child(name);
    let Some((content, _)) = dir.read_regular(name)? else {
        return Ok(None);
    };
    let mode = Mode::of(&reference);
    let bytes = match mode {
        Mode::Credential => Tool::find()?.decrypt(&id.secret_id(), &content)?,
        Mode::EnvFile => {
            let var = id.shell_env_var()?;
            env::read(&content, &var).ok_or_else(|| StoreError::Unreadable {
                path: path.clone(),
                line: 1,
                name: var.clone(),
                reason: "the file does not assign it",
            })?
        }
    };
    let value = ReadValue::new(bytes.to_vec(), &path, 1, &id.secret_id())?;
    Ok(Some(SystemdValue { value, mode, path }))
}

/// The mode to write in, the tool for a credential, and why `auto` fell back (`find` looks
/// for a usable `systemd-creds`).
pub(super) fn choose_mode(
    choice: ModeChoice,
    find: impl FnOnce() -> Result<Tool>,
) -> Result<(Mode, Option<Tool>, Option<String>)> {
    Ok(match choice {
        ModeChoice::Credential => (Mode::Credential, Some(find()?), None),
        ModeChoice::EnvFile => (Mode::EnvFile, None, None),
        ModeChoice::Auto => match find() {
            Ok(tool) => (Mode::Credential, Some(tool), None),
            Err(e) => (Mode::EnvFile, None, Some(e.to_string())),
        },
    })
}
