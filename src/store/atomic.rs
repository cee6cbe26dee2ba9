//! Atomic, private file writes (cargo's `write_atomic`, plus what credentials need).
//!
//! Writing `DIR/NAME`:
//! 1. open `DIR` once; every later step is relative to that fd (`openat`, `renameat`), and an
//!    advisory `flock` on it is held for the whole write;
//! 2. refuse if `NAME` exists and is not a regular file (a symlink is never followed or replaced);
//! 3. create the temp file `DIR/.NAME.tmp-<16 hex random>` with `O_CREAT|O_EXCL|O_NOFOLLOW` and
//!    mode 0600 from creation. The leading dot and the suffix mean AM, which reads exactly
//!    `password.<user>`, never takes it for a secret;
//! 4. write all bytes, `fchown` if an owner is asked, `fchmod` to the final mode (never wider
//!    than asked, whatever the umask), `fsync` the file;
//! 5. `renameat` over `NAME` (atomic: readers see the complete old or the complete new file),
//!    then `fsync` the directory so the rename survives a crash.
//!
//! On any failure before the rename, the temp file is removed and `NAME` is untouched. A failure
//! of the final directory `fsync` is reported although the new content is in place.
//!
//! A temp file can only be left behind by a killed process. Because every write of ours happens
//! under the directory lock, a temp file of ours seen while holding that lock belongs to a dead
//! process: [`clean_stale_temps`] removes them (no age heuristic needed).
//!
//! # Fault injection
//! [`Writer::failing_for_tests`] builds a writer that fails at a chosen point ([`Fault`]). It is
//! compiled in normal builds so integration tests can use it, but nothing in amhash constructs
//! it outside tests.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, Gid, Mode, OFlags, Uid};

use super::{DirHandle, LockWait, Owner, Result, StoreError, split_file_path};

/// How to write a secret file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteOptions {
    /// Final permission bits (default 0600). The file is 0600 from creation and is only
    /// `fchmod`ed to this after its content is written.
    pub mode: u32,
    /// `fchown` the file to this owner before it becomes visible.
    pub owner: Option<Owner>,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            mode: 0o600,
            owner: None,
        }
    }
}

/// Where an injected failure happens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The write fails after this many bytes of content reached the temp file.
    AfterBytes(usize),
    /// Everything succeeds (content written and synced) but the rename.
    BeforeRename,
    /// The rename succeeds, then the directory fsync fails: the new content is in place
    /// and the write still reports an error.
    AfterRename,
}

/// The atomic writer. [`Writer::default`] is the real thing; tests inject failures with
/// [`Writer::failing_for_tests`].
#[derive(Clone, Debug, Default)]
pub struct Writer {
    fault: Option<(Fault, Option<OsString>)>,
    lock_wait: LockWait,
}

impl Writer {
    /// The normal writer.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// TEST ONLY: a writer that fails at `fault` when writing a file named `only_file` (any file
    /// if `None`), with an `io::Error` saying "injected fault". Lets tests prove that a failed
    /// write leaves the target untouched and no temp file behind, including as root (where a
    /// read-only directory cannot simulate a failure).
    #[must_use]
    pub fn failing_for_tests(fault: Fault, only_file: Option<&str>) -> Self {
        Writer {
            fault: Some((fault, only_file.map(OsString::from))),
            lock_wait: LockWait::default(),
        }
    }

    /// This writer with another bound on the wait for the directory lock.
    #[must_use]
    pub fn with_lock_wait(mut self, lock_wait: LockWait) -> Self {
        self.lock_wait = lock_wait;
        self
    }

    /// Takes `dir`'s advisory lock (shared for a dry run), waiting as this writer says.
    pub(crate) fn lock(&self, dir: &DirHandle, shared: bool) -> Result<()> {
        dir.lock(shared, &self.lock_wait)
    }

    /// Writes `bytes` to `path` atomically (see the module doc), taking the directory lock.
    ///
    /// # Errors
    /// [`StoreError::DirMissing`]/[`StoreError::NotADirectory`] for the parent,
    /// [`Refusal::Symlink`]/[`StoreError::NotRegularFile`] for the target, [`StoreError::Io`].
    pub fn write_secret(&self, path: &Path, bytes: &[u8], opts: &WriteOptions) -> Result<()> {
        let (dir, name) = split_file_path(path)?;
        self.lock(&dir, false)?;
        self.write_locked(&dir, &name, bytes, opts)
    }

    fn fault_for(&self, name: &OsStr) -> Option<&Fault> {
        match &self.fault {
            Some((f, None)) => Some(f),
            Some((f, Some(only))) if only == name => Some(f),
            _ => None,
        }
    }

    /// The write itself; the caller holds `dir`'s lock.
    pub(crate) fn write_locked(
        &self,
        dir: &DirHandle,
        name: &OsStr,
        bytes: &[u8],
        opts: &WriteOptions,
    ) -> Result<()> {
        let target = dir.child(name);
        dir.check_regular_or_absent(name)?;
        let fault = self.fault_for(name);

        let (tmp_name, fd) = create_temp(dir, name)?;
        let guard = TempGuard {
            dir,
            name: &tmp_name,
            armed: true,
        };
        let tmp_path = dir.child(&tmp_name);
        let mut file = File::from(fd);

        let written = match fault {
            Some(Fault::AfterBytes(n)) => {
                let n = (*n).min(bytes.len());
                file.write_all(bytes.get(..n).unwrap_or_default())
                    .and_then(|()| Err(io::Error::other("injected fault (test)")))
            }
            _ => file.write_all(bytes),
        };
        written.map_err(|e| StoreError::io("write temp file", &tmp_path, e))?;
        if let Some(o) = opts.owner {
            rustix::fs::fchown(
                &file,
                Some(Uid::from_raw_unchecked(o.uid)),
                Some(Gid::from_raw_unchecked(o.gid)),
            )
            .map_err(|e| StoreError::io("set owner of temp file", &tmp_path, e))?;
        }
        // After fchown (which may clear set-id bits) so the final mode is exactly what we ask.
        rustix::fs::fchmod(&file, Mode::from_raw_mode(opts.mode & 0o777))
            .map_err(|e| StoreError::io("set mode of temp file", &tmp_path, e))?;
        file.sync_all()
            .map_err(|e| StoreError::io("sync temp file", &tmp_path, e))?;
        drop(file);
        if fault == Some(&Fault::BeforeRename) {
            return Err(StoreError::io(
                "rename temp file",
                &target,
                io::Error::other("injected fault (test)"),
            ));
        }
        rustix::fs::renameat(&dir.file, &tmp_name, &dir.file, name)
            .map_err(|e| StoreError::io("rename temp file over", &target, e))?;
        let mut guard = guard;
        guard.armed = false;
        if fault == Some(&Fault::AfterRename) {
            return Err(StoreError::io(
                "sync directory",
                &dir.path,
                io::Error::other("injected fault (test)"),
            ));
        }
        rustix::fs::fsync(&dir.file).map_err(|e| StoreError::io("sync directory", &dir.path, e))?;
        Ok(())
    }
}

/// [`Writer::write_secret`] with the normal writer.
///
/// # Errors
/// See [`Writer::write_secret`].
pub fn write_secret(path: &Path, bytes: &[u8], opts: &WriteOptions) -> Result<()> {
    Writer::new().write_secret(path, bytes, opts)
}

/// The prefix of our temp files for target `name`: `.NAME.tmp-`.
#[must_use]
pub fn temp_prefix(name: &OsStr) -> OsString {
    let mut s = OsString::from(".");
    s.push(name);
    s.push(".tmp-");
    s
}

fn create_temp(dir: &DirHandle, name: &OsStr) -> Result<(OsString, rustix::fd::OwnedFd)> {
    let mut last = None;
    for _ in 0..8 {
        let mut rnd = [0u8; 8];
        getrandom::getrandom(&mut rnd).map_err(|e| {
            StoreError::io(
                "get random bytes for temp file",
                &dir.path,
                io::Error::other(e),
            )
        })?;
        let mut tmp = temp_prefix(name);
        tmp.push(hex::encode(rnd));
        match rustix::fs::openat(
            &dir.file,
            &tmp,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        ) {
            Ok(fd) => return Ok((tmp, fd)),
            Err(rustix::io::Errno::EXIST) => last = Some(rustix::io::Errno::EXIST),
            Err(e) => return Err(StoreError::io("create temp file in", &dir.path, e)),
        }
    }
    Err(StoreError::io(
        "create temp file in",
        &dir.path,
        last.unwrap_or(rustix::io::Errno::EXIST),
    ))
}

/// Removes the temp file unless disarmed (after a successful rename).
struct TempGuard<'a> {
    dir: &'a DirHandle,
    name: &'a OsStr,
    armed: bool,
}

impl Drop for TempGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            // Best effort: the error that got us here is the one worth reporting.
            let _ = rustix::fs::unlinkat(&self.dir.file, self.name, AtFlags::empty());
        }
    }
}

/// Removes temp files of ours (`.NAME.tmp-*` for each of `names`) left in `dir` by a killed
/// process. Takes the directory lock, so a live amhash is never disturbed. Returns the removed
/// paths.
///
/// # Errors
/// [`StoreError::DirMissing`], [`StoreError::NotADirectory`], [`StoreError::Io`].
pub fn clean_stale_temps(dir: &Path, names: &[&OsStr]) -> Result<Vec<PathBuf>> {
    let dir = DirHandle::open(dir)?;
    dir.lock(false, &LockWait::default())?;
    clean_stale_temps_locked(&dir, names)
}

/// Lists our temp files in `dir` (no lock, no removal), for doctor.
pub(crate) fn list_temps(dir: &DirHandle, names: &[&OsStr]) -> Result<Vec<OsString>> {
    let prefixes: Vec<OsString> = names.iter().map(|n| temp_prefix(n)).collect();
    dir.names_where(|name| {
        prefixes
            .iter()
            .any(|p| name.as_encoded_bytes().starts_with(p.as_encoded_bytes()))
    })
}

/// [`clean_stale_temps`] for a caller that already holds the lock.
pub(crate) fn clean_stale_temps_locked(dir: &DirHandle, names: &[&OsStr]) -> Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    for tmp in list_temps(dir, names)? {
        let path = dir.child(&tmp);
        match rustix::fs::unlinkat(&dir.file, &tmp, AtFlags::empty()) {
            Ok(()) | Err(rustix::io::Errno::NOENT) => removed.push(path),
            Err(e) => return Err(StoreError::io("remove stale temp file", &path, e)),
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error as _;
    use crate::store::Refusal;
    use crate::test_support::names;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    #[test]
    fn writes_exact_bytes_mode_0600() {
        let td = tempfile::tempdir().unwrap();
        let p = td.path().join("password.amadmin");
        write_secret(&p, b"abc", &WriteOptions::default()).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"abc");
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o7777,
            0o600
        );
        assert_eq!(names(td.path()), vec!["password.amadmin"]);
        write_secret(
            &p,
            b"longer value",
            &WriteOptions {
                mode: 0o640,
                owner: None,
            },
        )
        .unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"longer value");
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o7777,
            0o640
        );
    }

    #[test]
    fn sets_owner() {
        // As root (CI) any owner can be set; otherwise only our own ids.
        let (uid, gid) = if crate::store::running_as_root() {
            (1234, 4321)
        } else {
            (
                rustix::process::geteuid().as_raw(),
                rustix::process::getegid().as_raw(),
            )
        };
        let td = tempfile::tempdir().unwrap();
        let p = td.path().join("f");
        write_secret(
            &p,
            b"x",
            &WriteOptions {
                mode: 0o600,
                owner: Some(Owner { uid, gid }),
            },
        )
        .unwrap();
        let md = std::fs::metadata(&p).unwrap();
        assert_eq!((md.uid(), md.gid()), (uid, gid));
    }

    #[test]
    fn refuses_symlink_and_non_regular_targets() {
        let td = tempfile::tempdir().unwrap();
        let real = td.path().join("real");
        std::fs::write(&real, b"keep").unwrap();
        let link = td.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let e = write_secret(&link, b"new", &WriteOptions::default()).unwrap_err();
        assert!(matches!(e.refusal(), Some(Refusal::Symlink)), "{e}");
        assert_eq!(std::fs::read(&real).unwrap(), b"keep");
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        std::fs::create_dir(td.path().join("d")).unwrap();
        let e = write_secret(&td.path().join("d"), b"new", &WriteOptions::default()).unwrap_err();
        assert!(
            matches!(
                e,
                StoreError::NotRegularFile {
                    kind: "directory",
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(names(td.path()), vec!["d", "link", "real"]);
    }

    #[test]
    fn bad_paths() {
        let td = tempfile::tempdir().unwrap();
        for p in [td.path().join("missing/f"), td.path().join("x/")] {
            let e = write_secret(&p, b"v", &WriteOptions::default()).unwrap_err();
            assert!(
                matches!(
                    e,
                    StoreError::DirMissing { .. } | StoreError::BadPath { .. }
                ),
                "{e}"
            );
        }
        std::fs::write(td.path().join("file"), b"").unwrap();
        let e =
            write_secret(&td.path().join("file/f"), b"v", &WriteOptions::default()).unwrap_err();
        assert!(matches!(e, StoreError::NotADirectory { .. }), "{e}");
    }

    #[test]
    fn fault_injection_leaves_target_and_no_temp() {
        let value = vec![b'v'; 10_000];
        for fault in [
            Fault::AfterBytes(0),
            Fault::AfterBytes(1),
            Fault::AfterBytes(4096),
            Fault::AfterBytes(9_999),
            Fault::AfterBytes(10_000),
            Fault::BeforeRename,
        ] {
            for existing in [None, Some(&b"old content"[..])] {
                let td = tempfile::tempdir().unwrap();
                let p = td.path().join("password.amadmin");
                if let Some(old) = existing {
                    std::fs::write(&p, old).unwrap();
                }
                let before = names(td.path());
                let w = Writer::failing_for_tests(fault.clone(), None);
                let e = w
                    .write_secret(&p, &value, &WriteOptions::default())
                    .unwrap_err();
                assert!(e.to_string().contains("injected fault"), "{e}");
                assert_eq!(e.fault(), crate::error::Fault::Operational);
                assert_eq!(names(td.path()), before, "{fault:?}");
                match existing {
                    Some(old) => assert_eq!(std::fs::read(&p).unwrap(), old),
                    None => assert!(!p.exists()),
                }
            }
        }
    }

    #[test]
    fn fault_only_for_named_file() {
        let td = tempfile::tempdir().unwrap();
        let w = Writer::failing_for_tests(Fault::BeforeRename, Some("b"));
        w.write_secret(&td.path().join("a"), b"1", &WriteOptions::default())
            .unwrap();
        assert!(
            w.write_secret(&td.path().join("b"), b"1", &WriteOptions::default())
                .is_err()
        );
        assert_eq!(names(td.path()), vec!["a"]);
    }

    #[test]
    fn stale_temps_are_cleaned() {
        let td = tempfile::tempdir().unwrap();
        for n in [
            ".password.amadmin.tmp-0011223344556677",
            ".password.amadmin.tmp-x",
            ".password.bob.tmp-1",
        ] {
            std::fs::write(td.path().join(n), b"partial").unwrap();
        }
        std::fs::write(td.path().join("password.amadmin"), b"v").unwrap();
        std::fs::write(td.path().join(".password.amadmin"), b"unrelated").unwrap();
        let removed = clean_stale_temps(td.path(), &[OsStr::new("password.amadmin")]).unwrap();
        assert_eq!(removed.len(), 2);
        assert_eq!(
            names(td.path()),
            vec![
                ".password.amadmin",
                ".password.bob.tmp-1",
                "password.amadmin"
            ]
        );
    }

    #[test]
    fn temp_name_is_hidden_and_suffixed() {
        assert_eq!(
            temp_prefix(OsStr::new("password.amadmin")),
            ".password.amadmin.tmp-"
        );
    }
}
