//! Running the Azure CLI and the Azure Developer CLI (row 4 of the chain).
//!
//! The SDK runs them as `/bin/sh -c "cd /bin && az account get-access-token ..."` (and
//! `azd auth token ...`) through an [`Executor`]. This one runs exactly that, with `PATH` cut
//! down to the directories of the inherited `PATH` that no account but root (or the one
//! amhash runs as) can change ([`crate::store::is_trusted_search_dir`]), and whose `az` and
//! `azd`, where they are, no other account can change either. As root, an `az` that
//! the AM account could place (a directory of its own on root's `PATH`, a group-writable
//! `/usr/local/bin`, `.`) would choose the token, and so the key, and run as root. Everything
//! else is inherited: `az` finds its login in `HOME` (`~/.azure`) or `AZURE_CONFIG_DIR`.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use azure_identity::Executor;

use crate::store::is_trusted_search_dir;

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

/// The entries of `path` that [`is_trusted_search_dir`] accepts and whose tools are trusted,
/// in order.
pub(super) fn trusted_path(path: &OsStr) -> OsString {
    let kept: Vec<PathBuf> = std::env::split_paths(path)
        .filter(|dir| is_trusted_search_dir(dir) && TOOLS.iter().all(|t| tool_ok(&dir.join(t))))
        .collect();
    std::env::join_paths(kept).unwrap_or_default()
}

/// A tool in a trusted directory is absent, or a file (after links, which that directory
/// holds safely) that only root or the caller can change, in a directory nobody else can.
fn tool_ok(tool: &Path) -> bool {
    if tool.symlink_metadata().is_err() {
        return true;
    }
    let Ok(real) = std::fs::canonicalize(tool) else {
        return false;
    };
    let euid = rustix::process::geteuid().as_raw();
    real.metadata()
        .is_ok_and(|m| (m.uid() == 0 || m.uid() == euid) && m.mode() & 0o022 == 0)
        && real.parent().is_some_and(is_trusted_search_dir)
}

#[async_trait::async_trait]
impl Executor for TrustedPathExecutor {
    async fn run(&self, program: &OsStr, args: &[&OsStr]) -> io::Result<Output> {
        let mut command = std::process::Command::new(program);
        command
            .args(args)
            .env("PATH", &self.path)
            .stdin(Stdio::null());
        tokio::task::spawn_blocking(move || command.output())
            .await
            .map_err(io::Error::other)?
    }
}
