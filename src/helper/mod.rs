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
//! helper --handshake ARGS...                         amhash
//!   1. protect itself, check TracerPid,              waits READY_TIMEOUT at most
//!      write READY ("amhash-helper-ready\n")
//!   2. read the input from stdin (same socket)  ---+  the caller's limit starts: writing,
//!      until end of file                           |  reading the answer, waiting for the
//!   3. write the answer to stdout, exit 0; or one  |  exit all end by it, or the helper is
//!      line on stderr and the failure status    ---+  killed: ExchangeError::TimedOut
//! ```
//!
//! # The overall time limit
//!
//! A helper's own time limit (`--kms-timeout`, `--secrets-timeout`) bounds its network calls,
//! but not a helper that hangs outside them (a stuck read, a bug, a hostile binary), and
//! `systemd-creds` has no limit at all: without one of its own, root's amhash would wait
//! forever. So [`exchange`] takes a limit for everything after the handshake (for a
//! [`Peer::Tool`], from its start): writing the input, reading the answer, and waiting for the
//! exit, since a helper can close its stdout and keep running. When it passes, amhash kills
//! the helper (`SIGKILL`), reaps it, zeroizes whatever part of an answer it had read (it may
//! be part of a secret) and returns [`ExchangeError::TimedOut`]. The network helpers' callers
//! give their own timeout plus [`NETWORK_GRACE`], the others [`LOCAL_LIMIT`]. Only the helper
//! itself is killed: amhash starts no process group, so that Ctrl-C still reaches a helper,
//! and it waits for no process the helper left behind (not for the stderr it may hold open,
//! nor, beyond [`REAP_GRACE`], for a helper that `SIGKILL` cannot end at once because it is
//! stuck in the kernel).
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
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use zeroize::{Zeroize as _, Zeroizing};

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

/// What a network helper's caller adds to the helper's own timeout (`--kms-timeout`,
/// `--secrets-timeout`) for [`exchange`]'s limit. The helper's timeout covers its network
/// calls only; it also needs time to start, set up its runtime and write its answer, and its
/// own timeout message names the service and is more useful than ours. The grace lets it
/// report that first; amhash's limit only catches a helper that hangs outside its calls.
pub const NETWORK_GRACE: Duration = Duration::from_secs(10);

/// [`exchange`]'s limit for a helper or tool that does no network I/O: `amhash-strength`
/// (milliseconds) and `systemd-creds` (a few seconds with a TPM2, which can be slow). Far
/// above either, so only a hung one reaches it.
pub const LOCAL_LIMIT: Duration = Duration::from_secs(60);

/// How long amhash waits, after it killed a helper, for the kernel to end it. `SIGKILL` ends
/// a process at once unless it is stuck in the kernel (an uninterruptible disk or NFS read),
/// which no signal shortens: amhash then leaves it behind rather than wait.
pub const REAP_GRACE: Duration = Duration::from_secs(5);

/// How long amhash waits at least for the rest of a helper's stderr once the helper ended
/// (its stderr closes with it, unless a process it started still holds it).
const STDERR_GRACE: Duration = Duration::from_secs(1);

/// The longest limit taken as given: beyond any real run, it keeps the deadline's `Instant`
/// arithmetic in range whatever a caller's timeout flag says.
const LONGEST_LIMIT: Duration = Duration::from_secs(365 * 24 * 3600);

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
    /// The peer did not finish within the caller's limit `after` (counted from its [`READY`],
    /// or for a [`Peer::Tool`] from its start). It was killed and reaped, and what it had
    /// answered so far was zeroized. See [`ExchangeError::timed_out_phrase`].
    TimedOut {
        /// The limit it was given.
        after: Duration,
    },
}

impl ExchangeError {
    /// For [`ExchangeError::TimedOut`]: what happened, as a phrase after the peer's name or
    /// path (the caller's message adds what to do).
    #[must_use]
    pub fn timed_out_phrase(after: Duration) -> String {
        // Rounded up: a limit of 1.5 s did not end "within 1 s".
        let secs = after
            .as_secs()
            .saturating_add(u64::from(after.subsec_nanos() > 0));
        format!("did not finish within {secs} s and was stopped")
    }
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
/// module documentation for the channel and the handshake). All of that after the handshake
/// (for a [`Peer::Tool`], all of it) must end within `limit`, or the peer is killed (see the
/// module documentation's "overall time limit").
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
    limit: Duration,
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
    exchange_within(command, name, input, max_output, ready_timeout, limit)
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
/// (which tests shorten); `None`: no handshake at all ([`Peer::Tool`]). `limit` as for
/// [`exchange`].
fn exchange_within(
    mut command: Command,
    name: &str,
    input: &[u8],
    max_output: usize,
    ready_timeout: Option<Duration>,
    limit: Duration,
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
    let handshake = ready_timeout.map(|t| (t, deadline_after(t)));
    let stderr = Stderr::drain(child.stderr.take());

    let Some((ready_timeout, deadline)) = handshake else {
        return finish(ours, child, input, max_output, stderr, name, limit);
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
            let ended = match not_ready {
                Handshake::TimedOut => None,
                _ => wait_until(&mut child, deadline)?,
            };
            if ended.is_none() {
                kill_and_reap(&mut child);
            }
            let message = stderr.line(name, deadline);
            if let Some(status) = ended.filter(|s| !s.success()) {
                // The helper reported a failure of its own (usage, protection): the caller
                // reports it by its contract.
                return Ok(Reply {
                    status,
                    stdout: Zeroizing::new(Vec::new()),
                    message,
                });
            }
            let what = if ended.is_none() {
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
            kill_and_reap(&mut child);
            stderr.discard();
            return Err(ExchangeError::Pipe(e));
        }
    }

    finish(ours, child, input, max_output, stderr, name, limit)
}

/// Writes the input, shuts down the writing side, reads the answer until end of file and
/// waits for the exit, all within `limit` from now; else kills the peer (see the module
/// documentation).
fn finish(
    mut ours: UnixStream,
    mut child: Child,
    input: &[u8],
    max_output: usize,
    stderr: Stderr,
    name: &str,
    limit: Duration,
) -> Result<Reply, ExchangeError> {
    let deadline = deadline_after(limit);
    // Sized once, so a plaintext is never reallocated (which would leave an unzeroed copy).
    let mut stdout = Zeroizing::new(Vec::with_capacity(max_output.saturating_add(64)));
    let io = write_until(&mut ours, input, deadline).and_then(|written| match written {
        Progress::Done => read_until(
            &mut ours,
            &mut stdout,
            max_output.saturating_add(1),
            deadline,
        ),
        Progress::TimedOut => Ok(Progress::TimedOut),
    });
    // Closed before waiting, so a helper writing more than we take cannot block forever.
    drop(ours);
    let ended = match io {
        Ok(Progress::TimedOut) => None,
        // A helper can close its stdout and keep running: its exit is awaited within the
        // same limit.
        _ => wait_until(&mut child, deadline)?,
    };
    let Some(status) = ended else {
        // Whatever part of an answer came may be part of a secret (a KMS plaintext).
        stdout.zeroize();
        drop(stdout);
        kill_and_reap(&mut child);
        stderr.discard();
        return Err(ExchangeError::TimedOut { after: limit });
    };
    let message = stderr.line(name, deadline);
    io.map_err(ExchangeError::Pipe)?;
    Ok(Reply {
        status,
        stdout,
        message,
    })
}

/// How a bounded write or read went, when it did not fail.
#[derive(Debug, PartialEq, Eq)]
enum Progress {
    /// All written, or read to the end (or the limit, or the peer went away).
    Done,
    /// The deadline passed first.
    TimedOut,
}

/// Writes all of `input` and shuts down the writing side, until `deadline`. A peer that went
/// away is not an error: a helper that rejects its input may exit without reading all of it,
/// and its exit status says what happened.
fn write_until(socket: &mut UnixStream, input: &[u8], deadline: Instant) -> io::Result<Progress> {
    let mut rest = input;
    while !rest.is_empty() {
        let Some(left) = time_left(deadline) else {
            return Ok(Progress::TimedOut);
        };
        socket.set_write_timeout(Some(left))?;
        match socket.write(rest) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => rest = rest.get(n..).unwrap_or_default(),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if timed_out(&e) => return Ok(Progress::TimedOut),
            Err(e) if peer_gone(&e) => return Ok(Progress::Done),
            Err(e) => return Err(e),
        }
    }
    match socket.shutdown(Shutdown::Write) {
        Err(e) if !peer_gone(&e) => Err(e),
        _ => Ok(Progress::Done),
    }
}

/// Reads into `buf` until end of file, `limit` bytes or `deadline`. `buf` must have room for
/// `limit` bytes: it is filled in place and never reallocated (it may receive a secret).
fn read_until(
    socket: &mut UnixStream,
    buf: &mut Vec<u8>,
    limit: usize,
    deadline: Instant,
) -> io::Result<Progress> {
    let mut len = buf.len();
    buf.resize(limit.max(len), 0);
    let result = loop {
        let Some(rest) = buf.get_mut(len..).filter(|r| !r.is_empty()) else {
            break Ok(Progress::Done);
        };
        let Some(left) = time_left(deadline) else {
            break Ok(Progress::TimedOut);
        };
        if let Err(e) = socket.set_read_timeout(Some(left)) {
            break Err(e);
        }
        match socket.read(rest) {
            Ok(0) => break Ok(Progress::Done),
            Ok(n) => len = len.saturating_add(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if timed_out(&e) => break Ok(Progress::TimedOut),
            // A helper that closes with input unread resets the connection; what it wrote
            // before is still read, and the exit status says what happened.
            Err(e) if peer_gone(&e) => break Ok(Progress::Done),
            Err(e) => break Err(e),
        }
    };
    buf.truncate(len);
    result
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
        let Some(left) = time_left(deadline) else {
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
            Err(e) if timed_out(&e) => return Ok(Handshake::TimedOut),
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
    while let Some(left) = time_left(deadline) {
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

/// `limit` from now (at most [`LONGEST_LIMIT`]).
fn deadline_after(limit: Duration) -> Instant {
    let now = Instant::now();
    // Cannot fail with LONGEST_LIMIT; if it did, the deadline is now, never "no deadline".
    now.checked_add(limit.min(LONGEST_LIMIT)).unwrap_or(now)
}

/// The time left until `deadline`; `None` once it has passed.
fn time_left(deadline: Instant) -> Option<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
}

/// Waits for `child` until `deadline`: its status, or `None` if it still runs then.
fn wait_until(child: &mut Child, deadline: Instant) -> Result<Option<ExitStatus>, ExchangeError> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(Some(status)),
            Ok(None) => {}
            Err(e) => {
                // Not left running unwatched.
                let _ = child.kill();
                return Err(ExchangeError::Pipe(e));
            }
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Kills `child` (`SIGKILL`) and reaps it, waiting [`REAP_GRACE`] at most (see there).
/// Returns its status if it was reaped.
fn kill_and_reap(child: &mut Child) -> Option<ExitStatus> {
    // It may have exited in between: then kill fails and the wait returns its status.
    let _ = child.kill();
    wait_until(child, deadline_after(REAP_GRACE)).ok().flatten()
}

/// A helper's stderr, drained on its own thread so a chatty child can never block on a full
/// pipe while we wait on stdout. The thread hands over what it read through a channel, so
/// amhash waits for it only as long as it chooses: a process the helper started may hold
/// the pipe open after the helper is gone (the thread then ends with that process).
struct Stderr {
    read: mpsc::Receiver<Vec<u8>>,
    thread: std::thread::JoinHandle<()>,
}

impl Stderr {
    fn drain(stderr: Option<ChildStderr>) -> Stderr {
        let (tx, read) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut e) = stderr {
                // Best effort: stderr only feeds the error message.
                let _ = e.by_ref().take(64 * 1024).read_to_end(&mut buf);
            }
            let _ = tx.send(buf);
        });
        Stderr { read, thread }
    }

    /// Once the helper ended: its stderr as one line (see [`one_line`]), waiting for the
    /// rest until `deadline` but at least [`STDERR_GRACE`]; empty if it did not come.
    fn line(self, name: &str, deadline: Instant) -> String {
        let wait = deadline
            .saturating_duration_since(Instant::now())
            .max(STDERR_GRACE);
        match self.read.recv_timeout(wait) {
            Ok(raw) => {
                // It has sent its last: the join returns at once.
                let _ = self.thread.join();
                one_line(&raw, name)
            }
            // Still held open: the thread is left to end on its own.
            Err(_) => String::new(),
        }
    }

    /// Once the helper was killed: its stderr is not needed, but the thread is given
    /// [`STDERR_GRACE`] to end (the kill closed the pipe) rather than left behind.
    fn discard(self) {
        let _ = self.line("", Instant::now());
    }
}

/// A read or write timeout of a socket (`SO_RCVTIMEO`, `SO_SNDTIMEO`) passed.
fn timed_out(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
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
