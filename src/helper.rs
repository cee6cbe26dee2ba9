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

use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use zeroize::Zeroizing;

/// Longest stderr message kept for an error message, in characters.
const MAX_MESSAGE: usize = 2048;

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

/// Runs `path` (the helper `name`) with `args` and `env`, writes `input` to its stdin and
/// collects its stdout and stderr.
///
/// # Errors
/// [`ExchangeError`]; a helper that fails is not an error here but a [`Reply`] with its
/// status.
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
    let mut command = Command::new(path);
    if env == Env::Clear {
        command.env_clear();
    }
    let mut child = command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(ExchangeError::Spawn)?;

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

    let write_result = match child.stdin.take() {
        // Dropping stdin after the write closes the pipe: the helper sees end of input.
        Some(mut stdin) => stdin.write_all(input),
        None => Ok(()),
    };
    // A helper that rejects its arguments exits without reading stdin: a broken pipe here is
    // expected then, and the exit status says what happened.
    let write_result = match write_result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    };

    // Sized once, so a plaintext is never reallocated (which would leave an unzeroed copy).
    let mut stdout = Zeroizing::new(Vec::with_capacity(max_output + 64));
    let read_result = match child.stdout.take() {
        Some(out) => out
            .take(max_output as u64 + 1)
            .read_to_end(&mut stdout)
            .map(|_| ()),
        None => Ok(()),
    };
    let status = child.wait().map_err(ExchangeError::Pipe)?;
    let raw_message = err_reader.join().unwrap_or_default();
    write_result.map_err(ExchangeError::Pipe)?;
    read_result.map_err(ExchangeError::Pipe)?;
    Ok(Reply {
        status,
        stdout,
        message: one_line(&raw_message, name),
    })
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

    #[test]
    fn exchange_passes_input_and_collects_everything() {
        let sh = Path::new("/bin/sh");
        let run = |script: &str, input: &[u8], max: usize| {
            exchange(sh, "sh", Env::Inherit, ["-c", script], input, max)
        };
        let reply = run("cat; echo sh: oops >&2; exit 3", b"input bytes", 1024).unwrap();
        assert_eq!(reply.status.code(), Some(3));
        assert_eq!(&reply.stdout[..], b"input bytes");
        assert_eq!(reply.message, "oops");
        // Output is cut at max_output + 1 bytes.
        let reply = run("printf 0123456789", b"", 4).unwrap();
        assert_eq!(&reply.stdout[..], b"01234");
        // A helper that never reads its input is not a pipe error.
        let reply = run("exit 2", &vec![0u8; 1 << 20], 16).unwrap();
        assert_eq!(reply.status.code(), Some(2));
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
    fn env_is_inherited_or_cleared() {
        // The test's own environment has PATH; `env` with a cleared one prints nothing.
        let env =
            |mode| exchange(Path::new("/usr/bin/env"), "env", mode, ["-0"], b"", 1 << 16).unwrap();
        let inherited = env(Env::Inherit);
        assert!(inherited.status.success());
        assert!(
            inherited
                .stdout
                .split(|b| *b == 0)
                .any(|v| v.starts_with(b"PATH=")),
            "{:?}",
            String::from_utf8_lossy(&inherited.stdout)
        );
        let cleared = env(Env::Clear);
        assert!(cleared.status.success());
        assert!(
            cleared.stdout.is_empty(),
            "{:?}",
            String::from_utf8_lossy(&cleared.stdout)
        );
    }
}
