//! Helpers the library's unit tests share with the integration tests: `src/lib.rs` includes
//! this file (under `cfg(test)`) as `crate::test_support`, so one copy serves both crates. It
//! may use only what both have: std, base64, serde_norway.

// Each crate uses a part of it.
#![allow(dead_code)]

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use base64::Engine as _;

/// The names in `dir`, sorted (the directory must exist).
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// [`names`], and none where `dir` does not exist (yet).
pub fn names_if_any(dir: &Path) -> Vec<String> {
    if dir.exists() { names(dir) } else { Vec::new() }
}

/// Writes `content` to `path` as an executable (mode 0755) from a child process, never from
/// this one. Tests run on many threads: a file this process had open for writing can still be
/// open in a child another thread forked at that moment (until that child's exec closes it),
/// and running the file then fails with ETXTBSY, "Text file busy".
pub fn write_executable(path: &Path, content: impl AsRef<[u8]>) {
    use std::io::Write as _;
    let mut child = std::process::Command::new("/bin/sh")
        .args(["-c", "cat >\"$1\" && chmod 755 \"$1\"", "sh"])
        .arg(path)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(content.as_ref()).unwrap();
    drop(stdin);
    assert!(child.wait().unwrap().success(), "{}", path.display());
}

/// Copies the program `from` to `to` (mode 0755) from a child process (see
/// [`write_executable`]).
pub fn copy_executable(from: &Path, to: &Path) {
    let status = std::process::Command::new("cp")
        .arg("--")
        .args([from, to])
        .status()
        .unwrap();
    assert!(status.success(), "cp {} {}", from.display(), to.display());
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A new directory `p` with permission bits `mode`.
pub fn mkdir(p: &Path, mode: u32) {
    std::fs::create_dir(p).unwrap();
    set_mode(p, mode);
}

pub fn set_mode(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Permission bits (symlinks not followed).
pub fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().mode() & 0o7777
}

/// (permission bits, uid, gid), symlinks not followed.
pub fn mode_owner(p: &Path) -> (u32, u32, u32) {
    let m = std::fs::symlink_metadata(p).unwrap();
    (m.mode() & 0o7777, m.uid(), m.gid())
}

/// (uid, gid), symlinks not followed.
pub fn owner(p: &Path) -> (u32, u32) {
    let m = std::fs::symlink_metadata(p).unwrap();
    (m.uid(), m.gid())
}

pub fn chown(p: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(p, Some(uid), Some(gid)).unwrap();
}

/// Text that must be YAML (a Kubernetes Secret manifest), parsed.
pub fn yaml(text: &str) -> serde_norway::Value {
    serde_norway::from_str(text).unwrap_or_else(|e| panic!("not YAML ({e}): {text}"))
}

/// The `data` entry `key` of a Kubernetes Secret, decoded.
pub fn secret_data(doc: &serde_norway::Value, key: &str) -> Vec<u8> {
    let b64 = doc["data"][key].as_str().unwrap();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap()
}

/// The state letter of process `pid` (`R`, `S`, `Z` for a zombie...), from
/// `/proc/PID/stat`; `None` once it is gone (ended and reaped).
pub fn process_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "PID (COMM) STATE ...": COMM may hold blanks and parentheses, the last ')' ends it.
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// The pid a test's stand-in wrote (`echo $$ >FILE`) into `file`.
pub fn pid_in(file: &Path) -> u32 {
    let text = std::fs::read_to_string(file)
        .unwrap_or_else(|e| panic!("{}: no pid written: {e}", file.display()));
    text.trim()
        .parse()
        .unwrap_or_else(|e| panic!("{}: {text:?}: {e}", file.display()))
}
