//! Running `systemd-creds` with a secret.
//!
//! - The binary is taken from a fixed list of absolute paths ([`CANDIDATES`]), never from
//!   `$PATH`, and must be a regular file owned by root that group and others cannot write.
//! - It runs with an empty environment and `/` as its working directory
//!   ([`crate::helper::Peer::Tool`]).
//! - The secret goes to it only on its stdin and its answer comes back on its stdout, both one
//!   end of a Unix socket pair (never argv, the environment or a pipe, which
//!   `/proc/PID/fd/0` could reopen); the output is read bounded ([`MAX_OUTPUT`]).
//! - Arguments are fixed words and the credential name (`password.<user>`), never a path:
//!   `encrypt - -` and `decrypt - -`, so systemd-creds opens no file of ours.
//!
//! `encrypt --name=password.<user> --with-key=host+tpm2|host - -` writes systemd's base64
//! text (with a final `\n`), which is stored as it is; `decrypt --name=password.<user>
//! --newline=no - -` checks the embedded name and prints the exact plaintext.

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::helper::{self, ExchangeError, Peer, Reply};

use super::super::{Result, StoreError};

/// Where `systemd-creds` is looked for, in order.
pub const CANDIDATES: &[&str] = &["/usr/bin/systemd-creds", "/bin/systemd-creds"];

/// The first systemd with `systemd-creds` (and `--newline`, `--with-key`).
pub const MIN_VERSION: u32 = 250;

/// Largest answer read from `systemd-creds` (an encrypted value is about 300 bytes).
pub const MAX_OUTPUT: usize = 64 * 1024;

/// Which keys protect a credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyChoice {
    /// The host key (`/var/lib/systemd/credential.secret`) only: no TPM2 on this host.
    Host,
    /// Both the TPM2 and the host key: decrypts only on this host with this TPM.
    HostAndTpm2,
}

impl KeyChoice {
    /// The `--with-key=` argument.
    #[must_use]
    pub fn arg(self) -> &'static str {
        match self {
            KeyChoice::Host => "--with-key=host",
            KeyChoice::HostAndTpm2 => "--with-key=host+tpm2",
        }
    }

    /// For reports and `--json`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            KeyChoice::Host => "host",
            KeyChoice::HostAndTpm2 => "host+tpm2",
        }
    }
}

/// A usable `systemd-creds`.
#[derive(Clone, Debug)]
pub struct Tool {
    path: PathBuf,
    version: u32,
}

fn unavailable(reason: impl Into<String>) -> StoreError {
    StoreError::CredsUnavailable {
        reason: reason.into(),
    }
}

impl Tool {
    /// Finds `systemd-creds` (see the module doc) and checks its version.
    ///
    /// # Errors
    /// [`StoreError::CredsUnavailable`]: missing, not root's, or older than [`MIN_VERSION`].
    pub fn find() -> Result<Tool> {
        Self::find_in(CANDIDATES)
    }

    /// [`Tool::find`] among `candidates` (tests give their own).
    pub(super) fn find_in(candidates: &[&str]) -> Result<Tool> {
        let path = candidates
            .iter()
            .map(Path::new)
            .find(|p| p.is_file())
            .ok_or_else(|| unavailable(format!("not installed ({})", candidates.join(", "))))?;
        let st =
            rustix::fs::stat(path).map_err(|e| unavailable(format!("{}: {e}", path.display())))?;
        if st.st_uid != 0 || st.st_mode & 0o022 != 0 {
            return Err(unavailable(format!(
                "{} is not a root-owned file that only root can change",
                path.display()
            )));
        }
        let reply = run(path, &["--version"], b"").map_err(|e| unavailable(exchange_text(&e)))?;
        let text = String::from_utf8_lossy(&reply.stdout);
        let version = text
            .split_whitespace()
            .nth(1)
            .and_then(|v| v.parse::<u32>().ok())
            .filter(|_| text.starts_with("systemd "))
            .ok_or_else(|| unavailable("it did not report its version"))?;
        if version < MIN_VERSION {
            return Err(unavailable(format!(
                "systemd {version} is older than {MIN_VERSION}"
            )));
        }
        Ok(Tool {
            path: path.to_path_buf(),
            version,
        })
    }

    /// Its systemd version.
    #[must_use]
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The strongest key this host offers: TPM2 and host key when `systemd-creds has-tpm2`
    /// says full support (exit 0), else the host key.
    #[must_use]
    pub fn strongest_key(&self) -> KeyChoice {
        match run(&self.path, &["has-tpm2"], b"") {
            Ok(reply) if reply.status.success() => KeyChoice::HostAndTpm2,
            _ => KeyChoice::Host,
        }
    }

    /// Encrypts `plaintext` as credential `name` with `key`.
    ///
    /// # Errors
    /// [`StoreError::CredsFailed`].
    pub fn encrypt(&self, name: &str, key: KeyChoice, plaintext: &[u8]) -> Result<Vec<u8>> {
        let name_arg = format!("--name={name}");
        let reply = run(
            &self.path,
            &["encrypt", &name_arg, key.arg(), "-", "-"],
            plaintext,
        )
        .map_err(|e| failed("encrypt", exchange_text(&e)))?;
        let out = checked("encrypt", &reply)?;
        Ok(out.to_vec())
    }

    /// Decrypts `ciphertext`, which must carry the credential name `name`.
    ///
    /// # Errors
    /// [`StoreError::CredsFailed`] (a wrong name, another host's key, a corrupt file).
    pub fn decrypt(&self, name: &str, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let name_arg = format!("--name={name}");
        let reply = run(
            &self.path,
            &["decrypt", &name_arg, "--newline=no", "-", "-"],
            ciphertext,
        )
        .map_err(|e| failed("decrypt", exchange_text(&e)))?;
        let out = checked("decrypt", &reply)?;
        Ok(Zeroizing::new(out.to_vec()))
    }
}

fn run(path: &Path, args: &[&str], input: &[u8]) -> std::result::Result<Reply, ExchangeError> {
    // systemd-creds has no time limit of its own.
    let limit = helper::LOCAL_LIMIT;
    helper::exchange(
        path,
        "systemd-creds",
        Peer::Tool,
        args,
        input,
        MAX_OUTPUT,
        limit,
    )
}

fn failed(op: &'static str, message: String) -> StoreError {
    StoreError::CredsFailed { op, message }
}

fn checked<'a>(op: &'static str, reply: &'a Reply) -> Result<&'a [u8]> {
    if !reply.status.success() {
        let message = if reply.message.is_empty() {
            format!("it exited with {}", reply.status)
        } else {
            reply.message.clone()
        };
        return Err(failed(op, message));
    }
    if reply.stdout.len() > MAX_OUTPUT {
        return Err(failed(op, format!("it wrote more than {MAX_OUTPUT} bytes")));
    }
    Ok(&reply.stdout)
}

fn exchange_text(e: &ExchangeError) -> String {
    match e {
        ExchangeError::Spawn(e) => format!("cannot start it: {e}"),
        ExchangeError::Pipe(e) => format!("cannot talk to it: {e}"),
        ExchangeError::NotReady(what) => what.clone(),
        ExchangeError::TimedOut { after } => format!(
            "it {}; check that the TPM2 answers (systemd-creds has-tpm2) and that /var/lib/systemd is not on a stuck file system",
            ExchangeError::timed_out_phrase(*after)
        ),
    }
}
