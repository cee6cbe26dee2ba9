//! Helpers for the `install` and `doctor` tests: running the real binary, a password file,
//! snapshots of directory trees (kind, mode, owner, bytes), modes and owners.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

/// A strong password: 22 characters from the URL-safe alphabet (what `--random` makes).
pub const PW: &str = "q7Zr-Lx2_Vt9NbKw3HcYp4";
/// Another strong password, for rotations.
pub const PW2: &str = "Gm5_kT8vQz-R2yWn6JdXs0";
/// The AM encryption password used with `--encrypt am`.
pub const AM_KEY: &str = "Am-Encryption-Pwd_4711";
/// A second (wrong) AM encryption password.
pub const AM_KEY_WRONG: &str = "Not-The-Right-Key_0815";
/// Fixed salts so that values are reproducible.
pub const SALT: &str = "000102030405060708090a0b0c0d0e0f10111213";
pub const SALT2: &str = "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3";

/// The uid/gid the ownership tests give files (no such user needs to exist).
pub const OTHER_UID: u32 = 1234;
pub const OTHER_GID: u32 = 1234;

pub fn amhash() -> Command {
    let mut cmd = Command::cargo_bin("amhash").unwrap();
    cmd.env_remove("NO_COLOR");
    cmd
}

/// Runs amhash with `args` and `stdin`.
pub fn run(args: &[&str], stdin: &[u8]) -> Output {
    amhash()
        .args(args)
        .write_stdin(stdin.to_vec())
        .output()
        .unwrap()
}

/// Runs the executable at `exe` (a copy of amhash, or a helper) with `args`, `env` added to
/// the environment, and `stdin`.
pub fn run_at(exe: &Path, args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Output {
    use std::io::Write as _;
    use std::process::Stdio;
    let mut cmd = std::process::Command::new(exe);
    cmd.env_remove("NO_COLOR")
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = super::spawn(&mut cmd);
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        // The program may exit before it reads stdin.
        let _ = input.write_all(&stdin);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// Exit 0, and stderr holds no password.
#[track_caller]
pub fn assert_ok(out: &Output) {
    assert_eq!(out.status.code(), Some(0), "{}", describe(out));
    assert_no_secret(out);
}

/// Exit `code`, stdout empty, stderr exactly one `amhash: error: ` line without a secret.
/// Returns that line.
#[track_caller]
pub fn assert_error(out: &Output, code: i32) -> String {
    assert_eq!(out.status.code(), Some(code), "{}", describe(out));
    assert!(out.stdout.is_empty(), "stdout not empty: {}", describe(out));
    let err = stderr(out);
    assert!(
        err.ends_with('\n') && err.matches('\n').count() == 1,
        "stderr is not one line: {err:?}"
    );
    assert!(err.starts_with("amhash: error: "), "{err:?}");
    assert_no_secret(out);
    err
}

#[track_caller]
pub fn assert_no_secret(out: &Output) {
    for secret in [PW, PW2, AM_KEY, AM_KEY_WRONG] {
        assert!(
            !stderr(out).contains(secret) && !stdout(out).contains(secret),
            "output contains a secret: {}",
            describe(out)
        );
    }
}

pub fn describe(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        stdout(out),
        stderr(out)
    )
}

/// The process runs as root: ownership tests need it (CI runs as root).
#[track_caller]
pub fn require_root() {
    assert!(
        rustix::process::geteuid().is_root(),
        "this test checks file owners and must run as root (as CI does)"
    );
}

/// A scratch area with a password file.
pub struct Fixture {
    pub tmp: tempfile::TempDir,
}

impl Fixture {
    pub fn new() -> Self {
        let tmp = tempfile::Builder::new()
            .prefix("amhash-install-")
            .tempdir()
            .unwrap();
        // The temp dir itself is 0700; keep it so (a writable parent is not what we test).
        let f = Fixture { tmp };
        f.secret_file("pw", PW);
        f.secret_file("pw2", PW2);
        f.secret_file("amkey", AM_KEY);
        f.secret_file("amkey-wrong", AM_KEY_WRONG);
        f
    }

    pub fn root(&self) -> &Path {
        self.tmp.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// A string form of `path(name)` for command lines.
    pub fn arg(&self, name: &str) -> String {
        self.path(name).to_str().unwrap().to_owned()
    }

    /// Writes a 0600 file (no trailing newline).
    pub fn secret_file(&self, name: &str, content: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, content).unwrap();
        set_mode(&p, 0o600);
        p
    }

    /// Creates a directory with `mode`.
    pub fn dir(&self, name: &str, mode: u32) -> PathBuf {
        let p = self.path(name);
        std::fs::create_dir_all(&p).unwrap();
        set_mode(&p, mode);
        p
    }

    /// `amhash generate --password-file pw --salt-hex salt [extra]`: the reference value.
    pub fn generate(&self, pw_file: &str, salt: &str, extra: &[&str]) -> String {
        let pw = self.arg(pw_file);
        let mut args = vec!["generate", "--password-file", &pw, "--salt-hex", salt];
        args.extend_from_slice(extra);
        let out = run(&args, b"");
        assert_ok(&out);
        let s = stdout(&out);
        let value = s.strip_suffix('\n').unwrap();
        assert!(!value.contains('\n'));
        value.to_owned()
    }

    /// An AM-encrypted (ENCRYPTED_PLAIN) value of `pw_file` made by `amhash generate`.
    pub fn generate_am(&self, pw_file: &str, salt: &str) -> String {
        let key = format!("file:{}", self.arg("amkey"));
        self.generate(pw_file, salt, &["--encrypt", "am", "--key", &key])
    }
}

pub fn set_mode(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Permission bits (symlinks not followed).
pub fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().mode() & 0o7777
}

/// (uid, gid), symlinks not followed.
pub fn owner(p: &Path) -> (u32, u32) {
    let m = std::fs::symlink_metadata(p).unwrap();
    (m.uid(), m.gid())
}

pub fn chown(p: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(p, Some(uid), Some(gid)).unwrap();
}

pub fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap()
}

pub fn read_str(p: &Path) -> String {
    String::from_utf8(read(p)).unwrap()
}

/// One entry of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    File {
        mode: u32,
        uid: u32,
        gid: u32,
        bytes: Vec<u8>,
    },
    Dir {
        mode: u32,
        uid: u32,
        gid: u32,
    },
    Link {
        target: PathBuf,
        uid: u32,
        gid: u32,
    },
}

/// Every entry under `root` (recursively, symlinks not followed) with kind, mode, owner and
/// content: two equal snapshots mean nothing was written, renamed, chmod-ed or chown-ed.
pub fn snapshot(root: &Path) -> BTreeMap<PathBuf, Entry> {
    let mut map = BTreeMap::new();
    walk(root, root, &mut map);
    map
}

fn walk(root: &Path, p: &Path, map: &mut BTreeMap<PathBuf, Entry>) {
    let m = std::fs::symlink_metadata(p).unwrap();
    let rel = p.strip_prefix(root).unwrap().to_path_buf();
    let (uid, gid) = (m.uid(), m.gid());
    let mode = m.mode() & 0o7777;
    if m.file_type().is_symlink() {
        let target = std::fs::read_link(p).unwrap();
        map.insert(rel, Entry::Link { target, uid, gid });
    } else if m.is_dir() {
        map.insert(rel, Entry::Dir { mode, uid, gid });
        for e in std::fs::read_dir(p).unwrap() {
            walk(root, &e.unwrap().path(), map);
        }
    } else {
        let bytes = std::fs::read(p).unwrap();
        map.insert(
            rel,
            Entry::File {
                mode,
                uid,
                gid,
                bytes,
            },
        );
    }
}

/// The names in a directory, sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

/// The stdout of a `--json` run, parsed.
#[track_caller]
pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}): {}", describe(out)))
}

/// `bash -c SCRIPT` with positional args, returns stdout (must exit 0).
#[track_caller]
pub fn bash(script: &str, args: &[&str]) -> Vec<u8> {
    let out = std::process::Command::new("bash")
        .arg("--noprofile")
        .arg("--norc")
        .arg("-c")
        .arg(script)
        .arg("bash")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bash failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
