//! Helpers for tests that re-run their own test binary as a child process.
//!
//! A test checks [`child_step`] first: when the parent set [`STEP_VAR`], the test is running
//! as a child, does that one step and prints [`DONE`]. The parent checks for [`DONE`] so a
//! filter that matched nothing cannot pass silently.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Names the step a child process should run.
pub const STEP_VAR: &str = "AMHASH_TEST_CHILD_STEP";
/// Printed by a child once its step succeeded.
pub const DONE: &str = "AMHASH-CHILD-STEP-DONE";
/// A child that takes longer than this is killed and the test fails (a hang guard, not a
/// timing assertion).
pub const DEADLINE: Duration = Duration::from_secs(180);

/// The step requested of this process, if it runs as a child.
pub fn child_step() -> Option<String> {
    std::env::var(STEP_VAR).ok()
}

/// In a child run: does the requested step with `step` and returns true.
pub fn ran_as_child(step: fn(&str)) -> bool {
    child_step().map(|s| step(&s)).is_some()
}

/// A shell function, `start_keyring unlocked|locked`, for a `dbus-run-session` script: starts
/// gnome-keyring-daemon's Secret Service, unlocked with `$AMHASH_TEST_KEYRING_PASSWORD` (the
/// login keyring is made on first use) or locked, and waits (at most 10 s) until it owns
/// `org.freedesktop.secrets`. Without the wait a client that comes first makes D-Bus start
/// a second daemon, one without the password, whose keyring is locked.
pub const START_KEYRING: &str = r#"
start_keyring() {
    if [ "$1" = unlocked ]; then
        printf '%s' "$AMHASH_TEST_KEYRING_PASSWORD" |
            gnome-keyring-daemon --unlock --components=secrets >/dev/null ||
            { echo "gnome-keyring-daemon --unlock failed" >&2; exit 90; }
    else
        gnome-keyring-daemon --start --components=secrets </dev/null >/dev/null ||
            { echo "gnome-keyring-daemon --start failed" >&2; exit 90; }
    fi
    tries=0
    until dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
        grep -q 'boolean true'; do
        tries=$((tries + 1))
        [ "$tries" -le 200 ] || { echo "no Secret Service on the bus after 10 s" >&2; exit 92; }
        sleep 0.05
    done
}
"#;

/// Marks the end of a successful child step.
pub fn child_done(step: &str) {
    println!("{DONE} {step}");
}

/// Fails, naming the packages to install, unless every tool is on PATH.
pub fn require_tools(tools: &[&str]) {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|t| !std::env::split_paths(&path).any(|d| is_executable(&d.join(t))))
        .collect();
    assert!(
        missing.is_empty(),
        "missing {missing:?}: the keyring tests need them; install the Debian packages with \
         `apt-get install -y --no-install-recommends dbus gnome-keyring keyutils` \
         (or run .ci/keyring-setup.sh)"
    );
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The command line that re-runs exactly `test` of this test binary.
pub fn self_args(test: &str) -> Vec<String> {
    let exe = std::env::current_exe().expect("path of the test binary");
    vec![
        exe.display().to_string(),
        "--exact".into(),
        test.into(),
        "--nocapture".into(),
        "--test-threads=1".into(),
    ]
}

/// Output of a finished child.
pub struct Finished {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    /// Panics with the child's output unless it succeeded and printed `DONE` `times` times.
    pub fn assert_done(&self, what: &str, times: usize) {
        let done = self.stdout.matches(DONE).count();
        assert!(
            self.success && done == times,
            "{what}: success={} steps done={done}/{times}\n--- stdout\n{}\n--- stderr\n{}",
            self.success,
            self.stdout,
            self.stderr
        );
    }
}

/// Runs `cmd` to completion, killing it after [`DEADLINE`].
pub fn run_child(mut cmd: Command) -> Finished {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = super::spawn(&mut cmd);
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for child") {
            break status;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {DEADLINE:?} (hung keyring daemon or prompt?)");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Finished {
        success: status.success(),
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    }
}

/// A name no other run (or concurrent helper on the same machine) uses.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{prefix}-{}-{nanos}", std::process::id())
}
