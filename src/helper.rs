//! Helper executables that `amhash` runs from its own directory, and the exchange with them.
//!
//! Two dependencies are too heavy for a binary whose everyday job is one SHA-512: the Cloud
//! KMS client (tokio, hyper, rustls) and the zxcvbn strength estimator (its dictionaries,
//! regular expressions and libm). Each lives in a helper binary installed next to `amhash`
//! (`amhash-kms`, `amhash-strength`), so `generate`, `verify` and the local ciphers never
//! load them. The measured cost of linking zxcvbn into `amhash`: a 5.0 MB instead of a
//! 2.3 MB binary, and about 0.8 MiB more peak memory on every `generate`.
//!
//! The exchange is the same for both: arguments on the command line (never a secret), the
//! input on stdin, the answer on stdout, one line on stderr on failure, and the exit status
//! saying which kind of failure. Each caller maps the status by its helper's contract.
//!
//! # The channel and the ready handshake
//!
//! The input is a secret (a password, a hash to encrypt) and so may be the answer (a KMS
//! plaintext). Two things keep other processes of the same user away from it:
//!
//! - **A socket, not pipes.** [`exchange`] gives the helper one end of a Unix socket pair as
//!   both its stdin and its stdout (stderr stays a pipe: it carries no secret). A pipe can be
//!   opened again through `/proc/PID/fd/0` by any process of the same user until the helper
//!   makes itself non-dumpable; opening a socket there fails (`ENXIO`). The parent's copy of
//!   the helper's end is closed right after the spawn.
//! - **Nothing before the helper is protected.** amhash passes [`HANDSHAKE_FLAG`] (first
//!   argument, hidden from `--help`). A helper given it calls [`ready_for_secrets`] before it
//!   reads anything: that checks that [`crate::hardening::protect_process`] succeeded
//!   (non-dumpable, core limit 0) and that no process is tracing it (`TracerPid:` 0 in
//!   `/proc/self/status`: a tracer that attached before `PR_SET_DUMPABLE` stays attached),
//!   and only then writes [`READY`] on stdout. If it cannot, it fails with one line on stderr
//!   and its usual failure status, without reading its input.
//!
//! [`exchange`] reads exactly [`READY`] before it writes any input. If the helper exits, or
//! writes anything else first, or says nothing for [`READY_TIMEOUT`] (it is then killed),
//! nothing is written to it: a helper that failed (non-zero status, e.g. a usage error) is
//! returned as a [`Reply`] whose status and message the caller reports as usual, and any
//! other end is [`ExchangeError::NotReady`]. After the input, amhash shuts down its writing
//! side (the helper sees end of input) and reads the answer until end of file.
//!
//! ```text
//! helper --handshake ARGS...
//!   1. protect itself, check TracerPid, write READY ("amhash-helper-ready\n") to stdout
//!   2. read the input from stdin (same socket) until end of file
//!   3. write the answer to stdout, exit 0; or one line on stderr and the failure status
//! ```
//!
//! Without [`HANDSHAKE_FLAG`] (a human or a test running a helper by hand) a helper keeps
//! the plain stdin/stdout contract, and only warns if it cannot protect itself.
//!
//! What this does not stop: a process of the same user that can `ptrace` the helper
//! (`kernel.yama.ptrace_scope` 0) and both attaches and detaches again in the moment
//! between `execve` and `PR_SET_DUMPABLE` (or takes a copy of the socket with
//! `pidfd_getfd` then); the `TracerPid` check only sees a tracer still attached. With
//! `ptrace_scope` 1 or more, neither is allowed to a process that is not the helper's
//! ancestor.

use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

/// Longest stderr message kept for an error message, in characters.
const MAX_MESSAGE: usize = 2048;

/// The argument that asks a helper for the ready handshake (see the module documentation).
/// Not secret; hidden from the helpers' `--help`.
pub const HANDSHAKE_FLAG: &str = "--handshake";

/// What a helper writes on stdout, before anything else, once it is protected and ready for
/// its input.
pub const READY: &[u8] = b"amhash-helper-ready\n";

/// How long [`exchange`] waits for [`READY`] before it kills the helper. A helper sends it
/// right after starting, before any network or disk access.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a helper could not be found.
#[derive(Debug)]
pub enum LocateError {
    /// The running executable's own path is unknown.
    CurrentExe(io::Error),
    /// No file of that name next to the running executable.
    Missing(PathBuf),
}

/// The helper `name` in the directory of [`std::env::current_exe`] (how `cargo install`
/// and packages install them).
///
/// # Errors
/// [`LocateError`].
pub fn locate(name: &str) -> Result<PathBuf, LocateError> {
    let exe = std::env::current_exe().map_err(LocateError::CurrentExe)?;
    let dir = exe.parent().unwrap_or_else(|| Path::new("."));
    existing(dir.join(name))
}

/// `path` if a file is there.
///
/// # Errors
/// [`LocateError::Missing`].
pub fn existing(path: PathBuf) -> Result<PathBuf, LocateError> {
    if path.is_file() {
        Ok(path)
    } else {
        Err(LocateError::Missing(path))
    }
}

/// Why an exchange with a helper did not complete.
#[derive(Debug)]
pub enum ExchangeError {
    /// The helper could not be started.
    Spawn(io::Error),
    /// Writing its input or reading its output failed.
    Pipe(io::Error),
    /// The helper did not signal that it was ready (see [`READY`]) and yet did not report a
    /// failure: it exited successfully without it, or said nothing in time and was killed.
    /// Nothing was written to it. Says what happened, as a phrase.
    NotReady(String),
}

/// What a helper inherits of amhash's environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Env {
    /// All of it: `amhash-kms` needs the Application Default Credentials variables, proxy
    /// settings and the like.
    Inherit,
    /// None: the helper needs nothing from it, and an `env:VAR` key source of the same
    /// command would otherwise sit in the helper's `/proc/PID/environ` until it protects
    /// itself.
    Clear,
}

/// How a helper ended.
pub struct Reply {
    /// Its exit status.
    pub status: ExitStatus,
    /// Its stdout, at most `max_output + 1` bytes (so the caller can tell "too long").
    /// Zeroized on drop: for `amhash-kms decrypt` it is a plaintext.
    pub stdout: Zeroizing<Vec<u8>>,
    /// Its stderr as one line (see [`one_line`]).
    pub message: String,
}

/// Runs `path` (the helper `name`) with [`HANDSHAKE_FLAG`], `args` and `env`; once it has
/// sent [`READY`], writes `input` to it and collects its answer and stderr (see the module
/// documentation for the channel and the handshake).
///
/// # Errors
/// [`ExchangeError`]; a helper that fails is not an error here but a [`Reply`] with its
/// status (and, if it failed before it was ready, an empty `stdout`).
pub fn exchange<I, S>(
    path: &Path,
    name: &str,
    env: Env,
    args: I,
    input: &[u8],
    max_output: usize,
) -> Result<Reply, ExchangeError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    exchange_within(path, name, env, args, input, max_output, READY_TIMEOUT)
}

/// [`exchange`] with another time limit for [`READY`] (tests).
fn exchange_within<I, S>(
    path: &Path,
    name: &str,
    env: Env,
    args: I,
    input: &[u8],
    max_output: usize,
    ready_timeout: Duration,
) -> Result<Reply, ExchangeError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    // One socket as the helper's stdin and stdout: unlike a pipe, it cannot be opened again
    // through /proc/PID/fd by another process. Both ends are close-on-exec; the child's
    // stdin and stdout are dup2-ed copies, which are not.
    let (mut ours, theirs) = UnixStream::pair().map_err(ExchangeError::Spawn)?;
    let theirs_out = theirs.try_clone().map_err(ExchangeError::Spawn)?;
    let mut command = Command::new(path);
    if env == Env::Clear {
        command.env_clear();
    }
    command
        .arg(HANDSHAKE_FLAG)
        .args(args)
        .stdin(Stdio::from(OwnedFd::from(theirs)))
        .stdout(Stdio::from(OwnedFd::from(theirs_out)))
        .stderr(Stdio::piped());
    let spawned = command.spawn();
    // The Command still holds our copies of the child's end: close them now, so that only
    // the helper holds that end and its exit is an end of file here.
    drop(command);
    let mut child = spawned.map_err(ExchangeError::Spawn)?;
    let deadline = Instant::now() + ready_timeout;

    // Drain stderr on its own thread so a chatty child can never block on a full pipe while
    // we wait on stdout.
    let stderr = child.stderr.take();
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut e) = stderr {
            // Best effort: stderr only feeds the error message.
            let _ = e.by_ref().take(64 * 1024).read_to_end(&mut buf);
        }
        buf
    });
    let message = |err_reader: std::thread::JoinHandle<Vec<u8>>| {
        one_line(&err_reader.join().unwrap_or_default(), name)
    };

    match await_ready(&mut ours, deadline) {
        Ok(Handshake::Ready) => {}
        Ok(not_ready) => {
            // Nothing is written. The helper gets end of input, and what it still writes is
            // read and dropped (until it exits or the deadline), so one that is still running
            // ends rather than blocks, and without a reset connection it did not cause.
            if not_ready != Handshake::TimedOut {
                let _ = ours.shutdown(Shutdown::Write);
                discard_until_eof(&mut ours, deadline);
            }
            drop(ours);
            let (status, killed) = wait_until(&mut child, deadline)?;
            let message = message(err_reader);
            if !killed && !status.success() && not_ready != Handshake::TimedOut {
                // The helper reported a failure of its own (usage, protection): the caller
                // reports it by its contract.
                return Ok(Reply {
                    status,
                    stdout: Zeroizing::new(Vec::new()),
                    message,
                });
            }
            let what = if killed || not_ready == Handshake::TimedOut {
                format!(
                    "it did not signal that it was ready within {} s and was stopped",
                    ready_timeout.as_secs()
                )
            } else if not_ready == Handshake::Other {
                "it wrote something else before signalling that it was ready".to_owned()
            } else {
                "it exited without signalling that it was ready".to_owned()
            };
            return Err(ExchangeError::NotReady(what));
        }
        Err(e) => {
            drop(ours);
            let _ = child.kill();
            let _ = child.wait();
            let _ = err_reader.join();
            return Err(ExchangeError::Pipe(e));
        }
    }

    let write_result = ours
        .set_read_timeout(None)
        .and_then(|()| ours.write_all(input))
        .and_then(|()| ours.shutdown(Shutdown::Write));
    // A helper that rejects its input may exit without reading all of it: a broken pipe or
    // reset connection here is expected then, and the exit status says what happened.
    let write_result = match write_result {
        Err(e) if peer_gone(&e) => Ok(()),
        other => other,
    };

    // Sized once, so a plaintext is never reallocated (which would leave an unzeroed copy).
    let mut stdout = Zeroizing::new(Vec::with_capacity(max_output + 64));
    let read_result = match (&ours).take(max_output as u64 + 1).read_to_end(&mut stdout) {
        // A helper that closes with input unread resets the connection; what it wrote
        // before is still read, and the exit status says what happened.
        Err(e) if peer_gone(&e) => Ok(()),
        other => other.map(|_| ()),
    };
    // Closed before waiting, so a helper writing more than we take cannot block forever.
    drop(ours);
    let status = child.wait().map_err(ExchangeError::Pipe)?;
    let message = message(err_reader);
    write_result.map_err(ExchangeError::Pipe)?;
    read_result.map_err(ExchangeError::Pipe)?;
    Ok(Reply {
        status,
        stdout,
        message,
    })
}

/// How the helper's first bytes went.
#[derive(Debug, PartialEq, Eq)]
enum Handshake {
    /// Exactly [`READY`].
    Ready,
    /// End of file (or a reset) before all of [`READY`].
    Closed,
    /// Bytes that are not [`READY`].
    Other,
    /// Nothing complete before the deadline.
    TimedOut,
}

/// Reads the helper's first bytes, until they are [`READY`] or cannot become it, or until
/// `deadline`. Reads no further than [`READY`]'s length.
fn await_ready(socket: &mut UnixStream, deadline: Instant) -> io::Result<Handshake> {
    let mut got = [0u8; READY.len()];
    let mut len = 0usize;
    while len < READY.len() {
        let Some(left) = deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
        else {
            return Ok(Handshake::TimedOut);
        };
        socket.set_read_timeout(Some(left))?;
        let Some(rest) = got.get_mut(len..) else {
            break;
        };
        match socket.read(rest) {
            Ok(0) => return Ok(Handshake::Closed),
            Ok(n) => len = len.saturating_add(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Ok(Handshake::TimedOut);
            }
            Err(e) if peer_gone(&e) => return Ok(Handshake::Closed),
            Err(e) => return Err(e),
        }
        if got.get(..len) != READY.get(..len) {
            return Ok(Handshake::Other);
        }
    }
    Ok(Handshake::Ready)
}

/// Reads and drops what comes until end of file, an error or `deadline`. (Only what a
/// helper writes before it is ready, which holds no secret.)
fn discard_until_eof(socket: &mut UnixStream, deadline: Instant) {
    let mut scratch = [0u8; 4096];
    while let Some(left) = deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
    {
        if socket.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match socket.read(&mut scratch) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// Waits for `child` until `deadline`, then kills it. Returns its status and whether it was
/// killed.
fn wait_until(child: &mut Child, deadline: Instant) -> Result<(ExitStatus, bool), ExchangeError> {
    loop {
        if let Some(status) = child.try_wait().map_err(ExchangeError::Pipe)? {
            return Ok((status, false));
        }
        if Instant::now() >= deadline {
            // It may have exited in between: then kill fails and wait returns its status.
            let _ = child.kill();
            let status = child.wait().map_err(ExchangeError::Pipe)?;
            return Ok((status, true));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The other end went away (closed, possibly with data unread).
fn peer_gone(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset | io::ErrorKind::NotConnected
    )
}

/// The helper side of the handshake: call it after parsing the arguments, when amhash passed
/// [`HANDSHAKE_FLAG`], with the result of [`crate::hardening::protect_process`] (called
/// first thing in `main`), and before reading any input. Checks that the protection is in
/// place and that no process traces this one, then writes [`READY`] on stdout.
///
/// # Errors
/// A one-line message (without the helper's name) when the process is not protected, is
/// traced, or cannot tell or signal; the helper must then fail without reading its input.
pub fn ready_for_secrets(protected: io::Result<()>) -> Result<(), String> {
    protected.map_err(|e| {
        format!(
            "cannot disable core dumps and ptrace for this process ({e}); refusing to receive secrets"
        )
    })?;
    let status = std::fs::read_to_string("/proc/self/status").map_err(|e| {
        format!(
            "cannot tell whether this process is traced (/proc/self/status: {e}); refusing to receive secrets"
        )
    })?;
    match tracer_pid(&status) {
        Some(0) => {}
        Some(pid) => {
            return Err(format!(
                "this process is traced by process {pid}; refusing to receive secrets"
            ));
        }
        None => {
            return Err("cannot tell whether this process is traced (no TracerPid in /proc/self/status); refusing to receive secrets".to_owned());
        }
    }
    let mut out = io::stdout().lock();
    out.write_all(READY)
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot tell amhash that this helper is ready: {e}"))
}

/// The `TracerPid:` of a `/proc/PID/status` text.
fn tracer_pid(status: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("TracerPid:"))
        .and_then(|v| v.trim().parse().ok())
}

/// A helper's stderr as one line: trimmed, control characters removed, lines joined,
/// bounded, and without the helper's own `NAME: ` prefix (amhash adds its own). `name` is
/// the helper's name, not its file's, which a packager may have changed.
pub fn one_line(raw: &[u8], name: &str) -> String {
    let text = String::from_utf8_lossy(raw);
    let text = text.trim();
    let text = text
        .strip_prefix(name)
        .and_then(|rest| rest.strip_prefix(": "))
        .unwrap_or(text);
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_MESSAGE)
        .collect()
}

/// A helper binary's argument error as the one line its contract allows: clap's rendered
/// message up to its usage block, lines joined, without clap's `error: ` prefix. (Takes the
/// rendered text, so the library does not depend on clap.)
pub fn usage_line(rendered: &str) -> String {
    let message = rendered
        .lines()
        .map(str::trim)
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty() && !l.starts_with("Usage:"))
        .collect::<Vec<_>>()
        .join(" ");
    match message.strip_prefix("error: ").unwrap_or(&message) {
        "" => "invalid arguments".to_owned(),
        m => m.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_becomes_one_line() {
        let p = "amhash-kms";
        assert_eq!(one_line(b"  error: x\n", p), "error: x");
        assert_eq!(one_line(b"a\n\nb\r\n", p), "a b");
        assert_eq!(one_line(b"a\x1b[31mb", p), "a[31mb");
        assert_eq!(one_line(b"", p), "");
        assert_eq!(
            one_line(b"amhash-kms: Cloud KMS failed\n", p),
            "Cloud KMS failed"
        );
        // Only the helper's own name is stripped.
        assert_eq!(one_line(b"amhash-strength: x\n", p), "amhash-strength: x");
        assert_eq!(one_line(&vec![b'a'; 5000], p).len(), MAX_MESSAGE);
    }

    #[test]
    fn usage_errors_become_one_line() {
        let rendered = "error: unexpected argument 'x' found\n\n  tip: to pass 'x' as a value, use '-- x'\n\nUsage: amhash-kms encrypt [OPTIONS]\n\nFor more information, try '--help'.\n";
        assert_eq!(usage_line(rendered), "unexpected argument 'x' found");
        assert_eq!(
            usage_line(
                "error: the following required arguments were not provided:\n  --kms-key <NAME>\n\nUsage: x\n"
            ),
            "the following required arguments were not provided: --kms-key <NAME>"
        );
        assert_eq!(usage_line(""), "invalid arguments");
        assert_eq!(usage_line("Usage: x\n"), "invalid arguments");
    }

    #[test]
    fn missing_file_is_missing() {
        let e = existing(PathBuf::from("/nonexistent/amhash-x")).unwrap_err();
        assert!(matches!(e, LocateError::Missing(p) if p == Path::new("/nonexistent/amhash-x")));
        // A directory is not a helper.
        assert!(matches!(
            existing(PathBuf::from("/")),
            Err(LocateError::Missing(_))
        ));
    }

    /// A `#!/bin/sh` helper with `body`, in its own temporary directory.
    struct Script {
        dir: tempfile::TempDir,
    }

    impl Script {
        fn new(body: &str) -> Script {
            use std::os::unix::fs::PermissionsExt;
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("helper");
            std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            Script { dir }
        }

        fn path(&self) -> PathBuf {
            self.dir.path().join("helper")
        }

        fn file(&self, name: &str) -> Vec<u8> {
            std::fs::read(self.dir.path().join(name)).unwrap_or_default()
        }

        fn run(&self, input: &[u8], max: usize) -> Result<Reply, ExchangeError> {
            self.run_within(input, max, READY_TIMEOUT)
        }

        fn run_within(
            &self,
            input: &[u8],
            max: usize,
            timeout: Duration,
        ) -> Result<Reply, ExchangeError> {
            let args: [&str; 0] = [];
            loop {
                match exchange_within(&self.path(), "sh", Env::Inherit, args, input, max, timeout) {
                    // A test thread that forked while another wrote its script holds it open
                    // for writing until it execs: "text file busy". Try again.
                    Err(ExchangeError::Spawn(e)) if e.raw_os_error() == Some(26) => {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    other => return other,
                }
            }
        }
    }

    const SAY_READY: &str = "printf 'amhash-helper-ready\\n'";

    #[test]
    fn exchange_passes_input_and_collects_everything() {
        let run = |script: &str, input: &[u8], max: usize| {
            Script::new(&format!("{SAY_READY}\n{script}"))
                .run(input, max)
                .unwrap()
        };
        // stdin and stdout are one socket: `cat` echoes the input back.
        let reply = run("cat; echo sh: oops >&2; exit 3", b"input bytes", 1024);
        assert_eq!(reply.status.code(), Some(3));
        assert_eq!(&reply.stdout[..], b"input bytes");
        assert_eq!(reply.message, "oops");
        // The handshake flag comes first, then the caller's arguments (none here).
        let reply = run(r#"[ "$*" = --handshake ] || exit 9; cat"#, b"x", 16);
        assert_eq!(reply.status.code(), Some(0), "{}", reply.message);
        // Output is cut at max_output + 1 bytes.
        let reply = run("printf 0123456789", b"", 4);
        assert_eq!(&reply.stdout[..], b"01234");
        // A helper that never reads its input is not a pipe error, nor one that reads part
        // of it and closes (a reset connection).
        let reply = run("exit 2", &vec![0u8; 1 << 20], 16);
        assert_eq!(reply.status.code(), Some(2));
        let reply = run(
            "head -c 10 >/dev/null; echo sh: too long >&2; exit 2",
            &vec![0u8; 1 << 20],
            16,
        );
        assert_eq!(
            (reply.status.code(), &reply.message[..]),
            (Some(2), "too long")
        );
        // Standard input is a socket, and /proc/PID/fd/0 cannot be opened again.
        let reply = run(
            r#"[ -S /dev/stdin ] && [ -S /dev/stdout ] || exit 7
cat /proc/$$/fd/0 /proc/$$/fd/1 2>&1 | grep -c 'No such device or address'"#,
            b"",
            64,
        );
        assert_eq!(reply.status.code(), Some(0), "{}", reply.message);
        assert_eq!(&reply.stdout[..], b"2\n");
        assert!(matches!(
            exchange(
                Path::new("/nonexistent/helper"),
                "x",
                Env::Inherit,
                ["x"],
                b"",
                1
            ),
            Err(ExchangeError::Spawn(_))
        ));
    }

    #[test]
    fn nothing_is_written_before_the_helper_is_ready() {
        // Each stand-in records what reaches its stdin (bounded in time) in `got`.
        let record = "timeout 5 cat >\"${0%/*}/got\"";
        // It reports a failure (a usage error, say) instead: its reply, as usual.
        let s = Script::new(&format!("echo 'sh: bad argument' >&2; {record}; exit 2"));
        let reply = s.run(b"SECRET", 16).unwrap();
        assert_eq!(
            (reply.status.code(), &reply.message[..]),
            (Some(2), "bad argument")
        );
        assert!(reply.stdout.is_empty());
        assert_eq!(s.file("got"), b"");
        // It writes something else first: the input is not sent.
        let s = Script::new(&format!("echo hello; {record}"));
        let what = not_ready(s.run(b"SECRET", 16));
        assert!(what.contains("wrote something else"), "{what}");
        assert_eq!(s.file("got"), b"");
        // It exits successfully without the whole marker.
        for body in ["exit 0", "printf amhash-helper-rea"] {
            let what = not_ready(Script::new(body).run(b"SECRET", 16));
            assert!(what.contains("exited without"), "{body}: {what}");
        }
        // It waits for input without the marker, or says nothing at all: stopped after the
        // time limit, and nothing was sent.
        for body in [record, "exec sleep 30"] {
            let s = Script::new(body);
            let started = Instant::now();
            let what = not_ready(s.run_within(b"SECRET", 16, Duration::from_millis(1500)));
            assert!(started.elapsed() < Duration::from_secs(10), "{body}");
            assert!(what.contains("within 1 s"), "{body}: {what}");
            assert_eq!(s.file("got"), b"", "{body}");
        }
    }

    fn not_ready(result: Result<Reply, ExchangeError>) -> String {
        match result {
            Err(ExchangeError::NotReady(what)) => what,
            Err(e) => panic!("{e:?}"),
            Ok(reply) => panic!("a reply: {:?} {}", reply.status, reply.message),
        }
    }

    #[test]
    fn tracer_pid_is_read_from_proc_status() {
        assert_eq!(tracer_pid("Name:\tx\nTracerPid:\t0\nUid:\t0\n"), Some(0));
        assert_eq!(tracer_pid("TracerPid:\t4711\n"), Some(4711));
        assert_eq!(tracer_pid("Name:\tx\n"), None);
        assert_eq!(tracer_pid("TracerPid:\tx\n"), None);
        let own = std::fs::read_to_string("/proc/self/status").unwrap();
        assert!(tracer_pid(&own).is_some(), "{own}");
    }

    #[test]
    fn env_is_inherited_or_cleared() {
        // The test's own environment has PATH; with a cleared one the helper sees none of
        // it (dash adds PWD itself).
        let s = Script::new(&format!("{SAY_READY}\nexec /usr/bin/env -0"));
        let env = |mode| {
            let args: [&str; 0] = [];
            exchange(&s.path(), "env", mode, args, b"", 1 << 16).unwrap()
        };
        let vars = |reply: &Reply| -> Vec<String> {
            reply
                .stdout
                .split(|b| *b == 0)
                .filter(|v| !v.is_empty())
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .collect()
        };
        let inherited = env(Env::Inherit);
        assert!(inherited.status.success());
        assert!(
            vars(&inherited).iter().any(|v| v.starts_with("PATH=")),
            "{:?}",
            vars(&inherited)
        );
        let cleared = env(Env::Clear);
        assert!(cleared.status.success());
        assert!(
            vars(&cleared).iter().all(|v| v.starts_with("PWD=")),
            "{:?}",
            vars(&cleared)
        );
    }
}
