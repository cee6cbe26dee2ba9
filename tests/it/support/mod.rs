//! The one support module of the integration tests: one runner for the amhash binaries
//! ([`Run`], [`run`]), one set of output assertions ([`assert_error`], [`assert_ok`],
//! [`line`], [`json`]), one fixture type ([`Fixture`]), and the shared vectors and secrets.
//! Submodules: [`child`] (tests that re-run this binary as a child process), [`fake_kms`]
//! and [`kms`] (a loopback Cloud KMS and the runs against it), [`fake_http`] (the loopback
//! server the secrets-manager fakes run on), [`hostile`] (the AM account as uid 65534: its
//! scripts and a /proc snooper), [`moto`] (a local AWS for the `aws-sm:` tests),
//! [`shared`] (file helpers the library's unit tests use too).
#![allow(dead_code)] // each test module uses a subset

pub mod child;
#[cfg(feature = "secrets")]
pub mod fake_http;
#[cfg(feature = "kms")]
pub mod fake_kms;
pub mod hostile;
#[cfg(feature = "kms")]
pub mod kms;
#[cfg(feature = "secrets")]
pub mod moto;
pub mod shared;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::Write as _;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use amhash::ssha::{Salt, SshaHash};
use base64::Engine as _;
use proptest::test_runner::{RngAlgorithm, TestRng};

pub use child::*;
pub use shared::*;

// ---- shared vectors and secrets ----------------------------------------------------------

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

/// The ForgeRock (ForgeOps) vector: the password "forgerock" with a salt of 20 zero bytes.
pub const FORGEROCK_PASSWORD: &str = "forgerock";
pub const FORGEROCK_VALUE: &str = "{SSHA-512}FAAAAAAAAAAAAAAAAAAAAAAAAAAAjSSqRIRQ0t41hid6CvguVVR/XChxJUw1jpU8+My3/X0XiwXWz/swJxDAwmBl05CoAceOGj3MW2SKeIm/aqzHdg==";

/// AM's property names.
pub const FORMAT_PROP: &str = "org.forgerock.openam.secrets.special.user.passwords.format";
pub const DIR_PROP: &str = "org.forgerock.openam.secrets.special.user.passwords.dir";
pub const KEY_PROP: &str = "org.forgerock.openam.secrets.googlekms.decryptionkey";

/// Every fixed secret of the tests: none may appear in anything amhash prints.
/// The password of the `generate` and `verify` tests (strong enough that a successful
/// generate has an empty stderr).
pub const CLI_PW: &str = "Tr0ub4dor&3-xQ7vK2mZ9pL4";

/// The encryption tests' AM passwords (one not ASCII), user passwords and AES-256 keys.
pub const AM_PW: &str = "Am-Encrypt-Pw-5819x";
pub const WRONG_AM_PW: &str = "Am-Encrypt-Pw-5819y";
pub const NON_ASCII_AM_PW: &str = "Am-Verschlüsselung-5819";
pub const USER_PW: &str = "Correct-Horse-Battery-42!";
pub const WRONG_USER_PW: &str = "Correct-Horse-Battery-43!";
pub const KEY_HEX: &str = "38d17b251ead127e55d2e432530ea7a147cf49e54fd1419a1b72c9d9fc3491dc";
pub const WRONG_KEY_HEX: &str = "3fb893c419e41346e98e0340860c385fcba48554c1396a4c700acb8a87c9b4ca";

/// The KMS tests' password (22 random characters: install takes it, generate does not warn).
pub const KMS_PW: &str = "Xq7-vR2_mK9pLw4zT8nB3s";

/// Every fixed secret of the tests: none may appear in anything amhash prints.
pub const SECRETS: &[&str] = &[
    PW,
    PW2,
    AM_KEY,
    AM_KEY_WRONG,
    CLI_PW,
    "hunter2",
    AM_PW,
    WRONG_AM_PW,
    NON_ASCII_AM_PW,
    USER_PW,
    WRONG_USER_PW,
    KEY_HEX,
    WRONG_KEY_HEX,
    KMS_PW,
];

/// Every subcommand path, as `amhash --help` and `amhash key --help` list them.
pub const SUBCOMMANDS: &[&[&str]] = &[
    &["generate"],
    &["verify"],
    &["install"],
    &["doctor"],
    &["encrypt"],
    &["decrypt"],
    &["key", "generate"],
    &["key", "store"],
    &["completions"],
    &["man"],
];

/// What points a process at the desktop session and its keyring: removed, so that a test's
/// own `dbus-run-session` is the only one.
pub const SESSION_VARS: &[&str] = &[
    "DBUS_SESSION_BUS_ADDRESS",
    "XDG_DATA_HOME",
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
    "XDG_RUNTIME_DIR",
];

// ---- the binaries -----------------------------------------------------------------------

/// The amhash binary under test.
pub const AMHASH: &str = env!("CARGO_BIN_EXE_amhash");
/// The strength helper under test.
#[cfg(feature = "strength")]
pub const STRENGTH_HELPER: &str = env!("CARGO_BIN_EXE_amhash-strength");

/// The shell command with which a stand-in for a helper sends the handshake's ready marker.
pub fn say_ready() -> String {
    let marker = std::str::from_utf8(amhash::helper::READY).unwrap();
    format!("printf '%s\\n' {}", marker.trim_end())
}

// ---- the runner --------------------------------------------------------------------------

/// One run of an amhash binary (or any program): arguments, stdin bytes, environment and
/// working directory in, [`Output`] out. `NO_COLOR` and `GOOGLE_APPLICATION_CREDENTIALS` are
/// removed from the environment.
pub struct Run {
    cmd: Command,
    stdin: Vec<u8>,
}

/// `amhash ARGS`.
pub fn amhash<S: AsRef<OsStr>>(args: &[S]) -> Run {
    Run::new(AMHASH).args(args)
}

/// `amhash install --dir DIR FLAG FILE` (FLAG `--password-file` or `--value-file`), to run
/// with more arguments or as it is.
pub fn install_into(dir: &Path, flag: &str, file: impl AsRef<OsStr>) -> Run {
    amhash(&["install", "--dir"]).arg(dir).arg(flag).arg(file)
}

/// `amhash verify --dir DIR --password-file PW`: whether the value installed in `dir` is
/// of the password in `pw_file`.
pub fn verify_dir(dir: &Path, pw_file: &Path) -> Output {
    amhash(&["verify", "--dir"])
        .arg(dir)
        .arg("--password-file")
        .arg(pw_file)
        .output()
}

/// `amhash ARGS` with `stdin`: the output. The common case of [`Run`].
pub fn run(args: &[&str], stdin: impl AsRef<[u8]>) -> Output {
    amhash(args).stdin(stdin).output()
}

impl Run {
    /// The program at `exe` (a copy of amhash, a helper, python3, ...).
    pub fn new(exe: impl AsRef<OsStr>) -> Self {
        let mut cmd = Command::new(exe);
        // No colour by the caller's choice, and no cloud or Vault credentials or settings
        // reached by chance.
        cmd.env_remove("NO_COLOR");
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            let proxy = ["http_proxy", "https_proxy", "all_proxy", "no_proxy"]
                .iter()
                .any(|p| name.eq_ignore_ascii_case(p));
            if proxy
                || [
                    "GOOGLE_",
                    "CLOUDSDK_",
                    "GCE_",
                    "VAULT_",
                    "AWS_",
                    "AZURE_",
                    "IDENTITY_",
                    "MSI_",
                ]
                .iter()
                .any(|p| name.starts_with(p))
            {
                cmd.env_remove(&*name);
            }
        }
        Run {
            cmd,
            stdin: Vec::new(),
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.cmd.arg(arg);
        self
    }

    pub fn args<S: AsRef<OsStr>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.cmd.args(args);
        self
    }

    /// The bytes written to stdin (none by default; stdin is then an empty pipe).
    pub fn stdin(mut self, bytes: impl AsRef<[u8]>) -> Self {
        self.stdin = bytes.as_ref().to_vec();
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    pub fn envs<K: AsRef<OsStr>, V: AsRef<OsStr>>(
        mut self,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.cmd.envs(vars);
        self
    }

    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Self {
        self.cmd.env_remove(key);
        self
    }

    pub fn cwd(mut self, dir: impl AsRef<Path>) -> Self {
        self.cmd.current_dir(dir);
        self
    }

    /// The command itself, for what the methods above do not cover (uid, ...).
    pub fn command(&mut self) -> &mut Command {
        &mut self.cmd
    }

    /// Runs to completion. A program may exit before it reads stdin: a broken pipe is fine.
    pub fn output(mut self) -> Output {
        self.cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = spawn(&mut self.cmd);
        let mut input = child.stdin.take().expect("piped stdin");
        let stdin = std::mem::take(&mut self.stdin);
        let writer = std::thread::spawn(move || match input.write_all(&stdin) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e),
            _ => Ok(()),
        });
        let out = child.wait_with_output().expect("wait for the child");
        if let Err(e) = writer.join().expect("stdin writer") {
            panic!("writing stdin of {:?}: {e}", self.cmd);
        }
        out
    }
}

/// Starts `cmd`. Tests run in threads of one process: while one thread writes a copy of a
/// binary, another may fork, and the child holds the copy's write descriptor until it execs;
/// exec-ing the copy then fails with ETXTBSY for that moment. Retry it.
pub fn spawn(cmd: &mut Command) -> Child {
    let mut tries = 0;
    loop {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(26) && tries < 50 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            r => return r.unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}")),
        }
    }
}

// ---- what a run printed ------------------------------------------------------------------

pub fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("stderr is UTF-8")
}

pub fn describe(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// No fixed secret of the tests (nor any of `extra`) on stdout or stderr.
#[track_caller]
pub fn assert_no_secret(out: &Output, extra: &[&str]) {
    let (o, e) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    for secret in SECRETS.iter().chain(extra) {
        assert!(
            !o.contains(secret) && !e.contains(secret),
            "output contains the secret {secret:?}: {}",
            describe(out)
        );
    }
}

/// Exit 0, and no secret printed.
#[track_caller]
pub fn assert_ok(out: &Output) {
    assert_eq!(out.status.code(), Some(0), "{}", describe(out));
    assert_no_secret(out, &[]);
}

/// A failure of amhash: exit `code`, stdout empty, stderr exactly one `amhash: error: ` line
/// holding every one of `needles`, no secret printed. Returns the line (with its newline).
#[track_caller]
pub fn assert_error(out: &Output, code: i32, needles: &[&str]) -> String {
    check_failure("", out, "amhash: error: ", code, needles)
}

/// [`assert_error`] for a row of a table: `case` names the row in every message.
#[track_caller]
pub fn assert_case_error(case: &str, out: &Output, code: i32, needles: &[&str]) -> String {
    check_failure(case, out, "amhash: error: ", code, needles)
}

/// A failure of any of the binaries, the one implementation of the checks above: exit
/// `code`, stdout empty, stderr one line starting `prefix` (`amhash: error: `,
/// `amhash-kms: `, `amhash-strength: `) holding every one of `needles`, and no secret and no
/// `{SSHA-512}` value in the output. `case` (may be empty) starts every message.
#[track_caller]
pub fn check_failure(
    case: &str,
    out: &Output,
    prefix: &str,
    code: i32,
    needles: &[&str],
) -> String {
    let at = if case.is_empty() {
        String::new()
    } else {
        format!("{case}: ")
    };
    assert_eq!(out.status.code(), Some(code), "{at}{}", describe(out));
    assert!(
        out.stdout.is_empty(),
        "{at}stdout not empty: {}",
        describe(out)
    );
    let err = stderr(out);
    assert!(
        err.ends_with('\n') && err.matches('\n').count() == 1,
        "{at}stderr is not one line: {err:?}"
    );
    assert!(err.starts_with(prefix), "{at}not {prefix:?}: {err:?}");
    for needle in needles {
        assert!(err.contains(needle), "{at}stderr lacks {needle:?}: {err:?}");
    }
    assert!(
        !err.contains("{SSHA-512}F"),
        "{at}a value in the error: {err:?}"
    );
    assert_no_secret(out, &[]);
    err
}

/// A report, not an error: exit `code` and `needle` on stdout.
#[track_caller]
pub fn assert_reports(out: &Output, code: i32, needle: &str) {
    assert_eq!(out.status.code(), Some(code), "{}", describe(out));
    assert!(
        stdout(out).contains(needle),
        "lacks {needle:?}: {}",
        describe(out)
    );
}

/// Exit 0, no secret printed: stdout.
#[track_caller]
pub fn ok_stdout(out: &Output) -> String {
    assert_ok(out);
    stdout(out)
}

/// Exit 0 and exactly one line on stdout: that line.
#[track_caller]
pub fn line(out: &Output) -> String {
    assert_ok(out);
    let text = stdout(out);
    let line = text
        .strip_suffix('\n')
        .unwrap_or_else(|| panic!("stdout does not end with a newline: {}", describe(out)));
    assert!(
        !line.is_empty() && !line.contains(['\n', '\r']),
        "not one line: {}",
        describe(out)
    );
    line.to_owned()
}

/// Exit 0, nothing on stderr, no secret printed.
#[track_caller]
pub fn assert_quiet(out: &Output) {
    assert_ok(out);
    assert!(out.stderr.is_empty(), "stderr: {}", describe(out));
}

/// Exit 0, one line on stdout and nothing on stderr: that line.
#[track_caller]
pub fn quiet_line(out: &Output) -> String {
    assert_quiet(out);
    line(out)
}

/// `--json` failure: exit `code`, empty stdout, one JSON error object on stderr,
/// `{"error":{"code":N,"kind":KIND,"message":...}}` with `needle` in the message.
#[track_caller]
pub fn assert_json_error(out: &Output, code: i32, kind: &str, needle: &str) {
    assert_eq!(out.status.code(), Some(code), "{}", describe(out));
    assert!(out.stdout.is_empty(), "{}", describe(out));
    let err = stderr(out);
    let line = err.strip_suffix('\n').expect("one line");
    assert!(!line.contains('\n'), "{}", describe(out));
    let v: serde_json::Value = serde_json::from_str(line).expect("JSON error object");
    let obj = v.as_object().expect("object");
    assert_eq!(obj.len(), 1, "{v}");
    assert_eq!(v["error"]["code"], serde_json::json!(code), "{v}");
    assert_eq!(v["error"]["kind"], serde_json::json!(kind), "{v}");
    assert_eq!(
        v["error"].as_object().expect("error object").len(),
        3,
        "{v}"
    );
    let msg = v["error"]["message"].as_str().expect("message");
    assert!(msg.contains(needle), "{msg:?} lacks {needle:?}");
    assert_no_secret(out, &[]);
}

/// The assertions above as methods, for chains: `run(..).error(2, "needle")`.
pub trait Checks {
    /// [`assert_error`] with one needle.
    fn error(&self, code: i32, needle: &str) -> String;
    /// [`assert_json_error`].
    fn json_error(&self, code: i32, kind: &str, needle: &str);
    /// [`line`].
    fn line(&self) -> String;
    /// [`quiet_line`].
    fn quiet_line(&self) -> String;
    /// [`quiet_line`], parsed as JSON.
    fn json(&self) -> serde_json::Value;
    /// [`assert_no_secret`].
    fn assert_no_secret(&self, extra: &[&str]);
}

impl Checks for Output {
    #[track_caller]
    fn error(&self, code: i32, needle: &str) -> String {
        assert_error(self, code, &[needle])
    }
    #[track_caller]
    fn json_error(&self, code: i32, kind: &str, needle: &str) {
        assert_json_error(self, code, kind, needle)
    }
    #[track_caller]
    fn line(&self) -> String {
        line(self)
    }
    #[track_caller]
    fn quiet_line(&self) -> String {
        quiet_line(self)
    }
    #[track_caller]
    fn json(&self) -> serde_json::Value {
        let line = quiet_line(self);
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
    }
    #[track_caller]
    fn assert_no_secret(&self, extra: &[&str]) {
        assert_no_secret(self, extra)
    }
}

/// (exit code, stdout, stderr) of a run.
pub fn parts(out: &Output) -> (Option<i32>, String, String) {
    (out.status.code(), stdout(out), stderr(out))
}

/// The stdout of a `--json` run, parsed.
#[track_caller]
pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}): {}", describe(out)))
}

/// The process runs as root: ownership tests need it (CI runs as root).
#[track_caller]
pub fn require_root() {
    assert!(
        rustix::process::geteuid().is_root(),
        "this test checks file owners and must run as root (as CI does)"
    );
}

/// A scratch directory (0700, removed on drop) with the files a test needs.
pub struct Fixture {
    pub tmp: tempfile::TempDir,
}

impl Fixture {
    /// An empty scratch directory.
    pub fn empty() -> Self {
        let tmp = tempfile::Builder::new()
            .prefix("amhash-test-")
            .tempdir()
            .unwrap();
        // The temp dir itself is 0700; keep it so (a writable parent is not what we test).
        Fixture { tmp }
    }

    /// A scratch directory with the password files `pw`, `pw2`, `amkey` and `amkey-wrong`.
    pub fn new() -> Self {
        let f = Fixture::empty();
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

    /// A copy of `amhash` in the scratch directory, alone: it looks for its helpers next to
    /// itself, so a test puts a stand-in there, or none.
    pub fn amhash_copy(&self) -> PathBuf {
        let exe = self.path("amhash");
        copy_executable(Path::new(AMHASH), &exe);
        exe
    }

    /// A string form of `path(name)` for command lines.
    pub fn arg(&self, name: &str) -> String {
        self.path(name).to_str().unwrap().to_owned()
    }

    /// Writes `content` to `name` with exactly `mode`.
    pub fn file(&self, name: &str, content: impl AsRef<[u8]>, mode: u32) -> PathBuf {
        write_file(self.root(), name, content, mode)
    }

    /// Writes a 0600 file (no trailing newline).
    pub fn secret_file(&self, name: &str, content: &str) -> PathBuf {
        self.file(name, content, 0o600)
    }

    /// A 0600 key file holding `content`: its `file:` source.
    pub fn key(&self, name: &str, content: impl AsRef<[u8]>) -> String {
        format!("file:{}", self.file(name, content, 0o600).display())
    }

    /// `file:` and the path of `name`, as `--key` takes it.
    pub fn source(&self, name: &str) -> String {
        format!("file:{}", self.arg(name))
    }

    /// Writes `content` to a 0600 file `name`: its path for a command line.
    pub fn write(&self, name: &str, content: &str) -> String {
        self.secret_file(name, content);
        self.arg(name)
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
        line(&run(&args, b""))
    }

    /// An AM-encrypted (ENCRYPTED_PLAIN) value of `pw_file` made by `amhash generate`.
    pub fn generate_am(&self, pw_file: &str, salt: &str) -> String {
        let key = self.source("amkey");
        self.generate(pw_file, salt, &["--encrypt", "am", "--key", &key])
    }
}

/// Writes `content` to `dir/name` with exactly `mode`.
pub fn write_file(dir: &Path, name: &str, content: impl AsRef<[u8]>, mode: u32) -> PathBuf {
    let path = dir.join(name);
    if mode & 0o111 == 0 {
        std::fs::write(&path, content).unwrap();
    } else {
        // A program: see `write_executable`.
        write_executable(&path, content);
    }
    set_mode(&path, mode);
    path
}

/// A new directory `parent/name` of mode 0700 (AM's secret directory must not be group or
/// other writable).
pub fn private_dir(parent: &Path, name: &str) -> PathBuf {
    let dir = parent.join(name);
    mkdir(&dir, 0o700);
    dir
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

// ---- random canaries and values ---------------------------------------------------------

/// The fixed salt the tests use when they need to know the exact value in advance.
pub const SALT_HEX: &str = "a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5";

/// `n` bytes from the operating system's random source.
pub fn os_random(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    getrandom::getrandom(&mut buf).expect("the OS random source works");
    buf
}

/// A random string of `len` characters from `alphabet`.
pub fn random_from(alphabet: &[u8], len: usize) -> String {
    os_random(len)
        .into_iter()
        .map(|b| char::from(alphabet[usize::from(b) % alphabet.len()]))
        .collect()
}

/// A random password zxcvbn calls strong: 24 characters of letters, digits and punctuation,
/// with a fixed marker so two canaries never collide with ordinary words.
pub fn strong_canary() -> String {
    let body = random_from(
        b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_#%+",
        24,
    );
    format!("Cy{body}")
}

/// A random password zxcvbn calls weak (install refuses it): 7 lowercase letters. Random, so
/// a leak is still detectable, and unlikely to be an English word that a message contains.
pub fn weak_canary() -> String {
    random_from(b"bcdfghjklmnpqrstvwxz", 7)
}

/// The forms in which a leaked secret could show up: itself, its hex (both cases) and its
/// base64 (standard, URL-safe, unpadded).
pub fn needle_forms(secret: &[u8]) -> Vec<String> {
    let mut forms = Vec::new();
    if let Ok(text) = std::str::from_utf8(secret) {
        forms.push(text.to_string());
    }
    forms.push(hex::encode(secret));
    forms.push(hex::encode_upper(secret));
    let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
    // A base64 prefix of at least 16 characters is enough to spot a leak of the start of it.
    forms.push(b64.trim_end_matches('=').to_string());
    forms.push(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret));
    forms
}

/// A seeded RNG; the seed comes from `AMHASH_TEST_SEED` (hex, 32 bytes) or the OS, and is
/// printed so a failure can be replayed.
pub fn seeded_rng(test: &str) -> TestRng {
    let seed: Vec<u8> = match std::env::var("AMHASH_TEST_SEED") {
        Ok(hex) => hex::decode(hex.trim()).expect("AMHASH_TEST_SEED is 64 hex characters"),
        Err(_) => os_random(32),
    };
    assert_eq!(seed.len(), 32, "AMHASH_TEST_SEED is 64 hex characters");
    println!(
        "{test}: seed {} (replay with AMHASH_TEST_SEED={})",
        hex::encode(&seed),
        hex::encode(&seed)
    );
    TestRng::from_seed(RngAlgorithm::ChaCha, &seed)
}

/// The `{SSHA-512}` value amhash makes for `password` with [`SALT_HEX`].
pub fn value_of(password: &str) -> String {
    SshaHash::with_salt(
        password.as_bytes(),
        Salt::from_hex(SALT_HEX).expect("valid salt"),
    )
    .to_string()
}

/// True for the temp names of `src/store/atomic.rs`: `.NAME.tmp-` + 16 lowercase hex digits.
pub fn is_temp_of(file: &str, name: &str) -> bool {
    file.strip_prefix(&format!(".{name}.tmp-"))
        .is_some_and(|rest| {
            rest.len() == 16
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

/// The temp files (of `password.<user>` or its `.previous`) in `dir`.
pub fn temps(dir: &Path) -> Vec<String> {
    names(dir)
        .into_iter()
        .filter(|f| f.starts_with('.') && f.contains(".tmp-"))
        .collect()
}
