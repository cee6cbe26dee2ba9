//! Running the Azure CLI and the Azure Developer CLI (row 4 of the chain).
//!
//! The SDK runs them as `/bin/sh -c "cd /bin && az account get-access-token ..."` (and
//! `azd auth token ...`) through an [`Executor`]. This one runs exactly that, with `PATH` cut
//! down to the directories of the inherited `PATH` that no account but root (or the one
//! amhash runs as) can change, and whose `az` and `azd`, where they are, no other account
//! can change either, links and all ([`crate::store::resolve_closed`]); each is given
//! without links, as it resolved. As root, an `az` that the AM account could place or swap (a
//! directory of its own on root's `PATH`, a link into its tree, a group-writable
//! `/usr/local/bin`, `.`) would choose the token, and so the key, and run as root. With no
//! such directory, `PATH` names one that does not exist (an empty `PATH` would make `sh` look
//! in its working directory). `BASH_ENV` and `ENV` are dropped (a shell script `az` would
//! source them); everything else is inherited: `az` finds its login in `HOME` (`~/.azure`) or
//! `AZURE_CONFIG_DIR`, which must be root's own (see the README).
//!
//! What this does not cover: programs `az` itself runs by name (`python3`, `bash`) are looked
//! up in the same `PATH`, but only `az` and `azd` are followed through their links; and a
//! tool still running when the fetch times out is left running (the helper exits).

use std::ffi::{OsStr, OsString};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use azure_identity::Executor;

use crate::store::{Closed, resolve_closed};

/// Runs the SDK's commands with a trusted `PATH` (see the module documentation).
#[derive(Debug)]
pub(super) struct TrustedPathExecutor {
    path: OsString,
}

impl TrustedPathExecutor {
    /// With the trusted part of this process's `PATH`.
    pub(super) fn from_env() -> Self {
        Self {
            path: trusted_path(&std::env::var_os("PATH").unwrap_or_default()),
        }
    }
}

/// The programs the SDK runs from `PATH`.
const TOOLS: [&str; 2] = ["az", "azd"];

/// The `PATH` when no directory is trusted: one that does not exist (only root could make it).
const NO_PATH: &str = "/nonexistent";

/// The entries of `path` that resolve closed (see [`resolve_closed`]) and whose tools do, in
/// order, without links; [`NO_PATH`] if none does.
pub(super) fn trusted_path(path: &OsStr) -> OsString {
    let kept: Vec<PathBuf> = std::env::split_paths(path)
        .filter_map(|dir| resolve_closed(&dir, Closed::Dir))
        .filter(|dir| TOOLS.iter().all(|t| tool_ok(&dir.join(t))))
        .collect();
    match std::env::join_paths(kept) {
        Ok(joined) if !joined.is_empty() => joined,
        _ => OsString::from(NO_PATH),
    }
}

/// A tool in a trusted directory is absent, or resolves closed to a regular file.
fn tool_ok(tool: &Path) -> bool {
    match tool.symlink_metadata() {
        Err(e) => e.kind() == io::ErrorKind::NotFound,
        Ok(_) => resolve_closed(tool, Closed::File).is_some(),
    }
}

#[async_trait::async_trait]
impl Executor for TrustedPathExecutor {
    async fn run(&self, program: &OsStr, args: &[&OsStr]) -> io::Result<Output> {
        let mut command = std::process::Command::new(program);
        command
            .args(args)
            .env("PATH", &self.path)
            .env_remove("BASH_ENV")
            .env_remove("ENV")
            .stdin(Stdio::null());
        tokio::task::spawn_blocking(move || command.output())
            .await
            .map_err(io::Error::other)?
    }
}
