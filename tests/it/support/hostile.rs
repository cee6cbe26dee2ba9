//! The hostile AM account, played by uid 65534, for the tests where root runs amhash and that
//! account does what it could on a real host (SECURITY.md, "root on a shared AM host"):
//! shell scripts run through `setpriv` ([`as_am`], [`am_background`]), and a `/proc` snooper
//! ([`start_snooper`]) that is this test binary run again as uid 65534.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{Fixture, chown, describe, require_root, set_mode, spawn};

/// The AM account in these tests.
pub const AM_UID: u32 = 65534;
pub const AM_GID: u32 = 65534;
pub const AM_OWNER: &str = "65534:65534";

/// A fixture whose root the AM account can traverse (0755; the secrets in it stay 0600
/// root's), with `am/`, a directory the AM account owns, as AM's tree on a real host.
pub fn host() -> Fixture {
    require_root();
    let f = Fixture::new();
    set_mode(f.root(), 0o755);
    let am = f.dir("am", 0o755);
    chown(&am, AM_UID, AM_GID);
    f
}

/// Runs `script` with `sh -c` as the AM account, in the fixture's root; must succeed.
#[track_caller]
pub fn as_am(f: &Fixture, script: &str) {
    let out = am_command(f, script).output().unwrap();
    assert!(
        out.status.success(),
        "attacker script failed: {}",
        describe(&out)
    );
}

/// The same, left running (a lock holder, a racer); stop it with [`kill`].
pub fn am_background(f: &Fixture, script: &str) -> Child {
    am_command(f, script)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// `setpriv` as the AM account (no supplementary groups), `sh -c script` in the fixture.
pub fn am_command(f: &Fixture, script: &str) -> Command {
    let mut c = Command::new("setpriv");
    c.args([
        &format!("--reuid={AM_UID}"),
        &format!("--regid={AM_GID}"),
        "--clear-groups",
        "sh",
        "-c",
        script,
    ])
    .current_dir(f.root());
    c
}

/// Stops a background process this test started.
pub fn kill(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Waits for a racer that was told to stop (a `stop` file its loop checks) to end by itself,
/// so no command of its loop is still running once this returns (killing the shell would
/// leave a `mv` it started to finish later); kills it after 30 s.
pub fn wait_stopped(mut child: Child) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    kill(child);
    panic!("the racer did not stop within 30 s");
}

// ---- the /proc snooper ------------------------------------------------------------------------

/// When set, [`snooper_process`] is a snooper: the value is its log file, and
/// [`SNOOP_TARGETS_VAR`] says whom to snoop.
const SNOOPER_LOG: &str = "AMHASH_TEST_SNOOPER_LOG";
/// `COMM,COMM/ENTRY,ENTRY`: the process names, and the `/proc/PID/` entries to open.
const SNOOP_TARGETS_VAR: &str = "AMHASH_TEST_SNOOP_TARGETS";

/// Not a test of its own: the entry point of the snooper process that [`start_snooper`]
/// starts. Does nothing otherwise.
#[test]
fn snooper_process() {
    if let (Some(log), Some(targets)) = (
        std::env::var_os(SNOOPER_LOG),
        std::env::var(SNOOP_TARGETS_VAR).ok(),
    ) {
        let (names, entries) = targets.split_once('/').unwrap();
        let names: Vec<&str> = names.split(',').collect();
        let entries: Vec<&str> = entries.split(',').collect();
        snoop(Path::new(&log), &names, &entries);
    }
}

/// Polls /proc for processes whose `comm` is one of `names` and tries to open and read each of
/// `entries` of theirs (`fd/0`, `environ`, `mem`; `fd/*` means every fd listed in `fd/`),
/// until `LOG.stop` exists (or 60 s). Logs `seen PID COMM`, `error PID ENTRY ERRNO` (once
/// each) and `captured PID ENTRY HEX` (what it read within a second).
fn snoop(log: &Path, names: &[&str], entries: &[&str]) {
    let stop = log.with_extension("stop");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut out = std::fs::OpenOptions::new().append(true).open(log).unwrap();
    let mut noted = HashSet::new();
    let nonblock = i32::try_from(rustix::fs::OFlags::NONBLOCK.bits()).unwrap();
    while !stop.exists() && Instant::now() < deadline {
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            let comm = comm.trim_end();
            if !names.contains(&comm) {
                continue;
            }
            if noted.insert((pid, "seen".to_owned(), 0)) {
                writeln!(out, "seen {pid} {comm}").unwrap();
            }
            let mut paths: Vec<String> = Vec::new();
            for e in entries {
                if *e == "fd/*" {
                    match std::fs::read_dir(format!("/proc/{pid}/fd")) {
                        Ok(fds) => paths.extend(
                            fds.flatten()
                                .map(|f| format!("fd/{}", f.file_name().to_string_lossy())),
                        ),
                        Err(err) => {
                            let errno = err.raw_os_error().unwrap_or(-1);
                            if noted.insert((pid, "fd/*".to_owned(), errno)) {
                                writeln!(out, "error {pid} fd/* {errno}").unwrap();
                            }
                        }
                    }
                } else {
                    paths.push((*e).to_owned());
                }
            }
            for e in paths {
                match std::fs::OpenOptions::new()
                    .read(true)
                    .custom_flags(nonblock)
                    .open(format!("/proc/{pid}/{e}"))
                {
                    Ok(mut file) => {
                        // Read what arrives in the next second (the attack: wait for it).
                        let mut got = Vec::new();
                        let until = Instant::now() + Duration::from_secs(1);
                        let mut buf = [0u8; 4096];
                        while Instant::now() < until {
                            match file.read(&mut buf) {
                                Ok(0) => break,
                                Ok(n) => got.extend_from_slice(&buf[..n]),
                                Err(_) => std::thread::sleep(Duration::from_millis(2)),
                            }
                        }
                        writeln!(out, "captured {pid} {e} {}", hex::encode(&got)).unwrap();
                    }
                    Err(err) => {
                        let errno = err.raw_os_error().unwrap_or(-1);
                        if noted.insert((pid, e.clone(), errno)) {
                            writeln!(out, "error {pid} {e} {errno}").unwrap();
                        }
                    }
                }
            }
        }
    }
}

/// A running snooper (uid 65534) and its log; [`Snooper::stop`] ends it and returns the log.
pub struct Snooper {
    child: Child,
    log: PathBuf,
}

/// Starts a copy of this test binary in `dir` (which uid 65534 must be able to traverse) as
/// uid 65534, snooping on processes named `names` (`/proc/PID/comm`) and opening `entries` of
/// theirs (see [`snoop`]).
pub fn start_snooper(dir: &Path, names: &[&str], entries: &[&str]) -> Snooper {
    let exe = dir.join("snooper");
    crate::support::copy_executable(&std::env::current_exe().unwrap(), &exe);
    let log = dir.join("snoop.log");
    std::fs::write(&log, b"").unwrap();
    set_mode(&log, 0o600);
    chown(&log, AM_UID, AM_GID);
    // std drops the supplementary groups when it changes the uid. Started through the retry of
    // `spawn` (ETXTBSY, see there).
    let child = spawn(
        Command::new(&exe)
            .uid(AM_UID)
            .gid(AM_GID)
            .current_dir("/")
            .args([
                "--exact",
                "support::hostile::snooper_process",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(SNOOPER_LOG, &log)
            .env(
                SNOOP_TARGETS_VAR,
                format!("{}/{}", names.join(","), entries.join(",")),
            )
            .stdout(Stdio::null()),
    );
    Snooper { child, log }
}

impl Snooper {
    /// What the snooper logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }

    /// Waits (polling the log, at most `secs`) until `done` holds for it.
    #[track_caller]
    pub fn wait_for(&self, what: &str, secs: u64, done: impl Fn(&str) -> bool) {
        let until = Instant::now() + Duration::from_secs(secs);
        while !done(&self.log()) {
            assert!(
                Instant::now() < until,
                "{what} within {secs} s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Tells the snooper to stop, waits for it, and returns its log.
    pub fn stop(mut self) -> String {
        std::fs::write(self.log.with_extension("stop"), b"").unwrap();
        let until = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < until, "the snooper did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
        self.log()
    }
}
