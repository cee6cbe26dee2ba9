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
    /// All of it: the network helpers need the credentials variables, proxy settings and
    /// the like. With one change: loopback addresses are added to `NO_PROXY` and `no_proxy`
    /// (see [`no_proxy_with_loopback`]).
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

/// What runs at the other end of an [`exchange`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    /// An amhash helper: run with [`HANDSHAKE_FLAG`] and the environment given, and sent its
    /// input only once it has sent [`READY`] (see the module documentation).
    Helper(Env),
    /// A system tool that knows no handshake (`systemd-creds`): run with an empty environment
    /// and `/` as its working directory. Only for tools root installed, at an absolute path
    /// the caller chose (never a `$PATH` search): nothing waits for them to protect
    /// themselves.
    Tool,
}

/// A helper, with the environment given ([`exchange`] takes an [`Env`] for a helper).
impl From<Env> for Peer {
    fn from(env: Env) -> Self {
        Peer::Helper(env)
    }
}

/// Runs `path` (`name` in messages) as `peer` with `args`; once it is ready (a helper: it has
/// sent [`READY`]), writes `input` to it on the socket (its stdin) and collects its answer
/// from the same socket (its stdout), at most `max_output + 1` bytes, and its stderr (see the
/// module documentation for the channel and the handshake).
///
/// # Errors
/// [`ExchangeError`]; a peer that fails is not an error here but a [`Reply`] with its
/// status (and, if a helper failed before it was ready, an empty `stdout`).
pub fn exchange<I, S>(
    path: &Path,
    name: &str,
    peer: impl Into<Peer>,
    args: I,
    input: &[u8],
    max_output: usize,
) -> Result<Reply, ExchangeError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = Command::new(path);
    let ready_timeout = match peer.into() {
        Peer::Helper(env) => {
            match env {
                Env::Clear => {
                    command.env_clear();
                }
                Env::Inherit => {
                    let current = ["NO_PROXY", "no_proxy"].map(std::env::var_os);
                    let value = no_proxy_with_loopback(current);
                    command.env("NO_PROXY", &value).env("no_proxy", &value);
                }
            }
            command.arg(HANDSHAKE_FLAG);
            Some(READY_TIMEOUT)
        }
        Peer::Tool => {
            command.env_clear().current_dir("/");
            None
        }
    };
    command.args(args);
    exchange_within(command, name, input, max_output, ready_timeout)
}

/// The `NO_PROXY` a network helper gets: what is set (either spelling) plus the loopback
/// addresses. Plain http is allowed only to loopback (a Vault Agent, an emulator), and with
/// `http_proxy` set and no loopback entry in `NO_PROXY` (common on corporate hosts) the
/// clients would send that request, token and all, in clear to the proxy instead.
#[must_use]
pub fn no_proxy_with_loopback(current: [Option<std::ffi::OsString>; 2]) -> std::ffi::OsString {
    let mut value = std::ffi::OsString::new();
    for part in current.into_iter().flatten().filter(|v| !v.is_empty()) {
        if !value.is_empty() {
            value.push(",");
        }
        value.push(part);
    }
    if !value.is_empty() {
        value.push(",");
    }
    value.push("127.0.0.1,localhost,::1");
    value
}

/// [`exchange`] of a command already given its arguments, with a time limit for [`READY`]
/// (which tests shorten); `None`: no handshake at all ([`Peer::Tool`]).
fn exchange_within(
    mut command: Command,
    name: &str,
    input: &[u8],
    max_output: usize,
    ready_timeout: Option<Duration>,
) -> Result<Reply, ExchangeError> {
    // One socket as the helper's stdin and stdout: unlike a pipe, it cannot be opened again
    // through /proc/PID/fd by another process. Both ends are close-on-exec; the child's
    // stdin and stdout are dup2-ed copies, which are not.
    let (mut ours, theirs) = UnixStream::pair().map_err(ExchangeError::Spawn)?;
    let theirs_out = theirs.try_clone().map_err(ExchangeError::Spawn)?;
    command
        .stdin(Stdio::from(OwnedFd::from(theirs)))
        .stdout(Stdio::from(OwnedFd::from(theirs_out)))
        .stderr(Stdio::piped());
    let spawned = command.spawn();
    // The Command still holds our copies of the child's end: close them now, so that only
    // the helper holds that end and its exit is an end of file here.
    drop(command);
    let mut child = spawned.map_err(ExchangeError::Spawn)?;
    let handshake = ready_timeout.map(|t| (t, Instant::now() + t));

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

    let Some((ready_timeout, deadline)) = handshake else {
        return finish(ours, child, input, max_output, err_reader, name);
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

    finish(ours, child, input, max_output, err_reader, name)
}

/// Writes the input, shuts down the writing side, reads the answer until end of file.
fn finish(
    mut ours: UnixStream,
    mut child: Child,
    input: &[u8],
    max_output: usize,
    err_reader: std::thread::JoinHandle<Vec<u8>>,
    name: &str,
) -> Result<Reply, ExchangeError> {
    let message = |err_reader: std::thread::JoinHandle<Vec<u8>>| {
        one_line(&err_reader.join().unwrap_or_default(), name)
    };
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

mod agent;
#[cfg(test)]
mod tests;

pub use agent::{ready_for_secrets, usage_line};
