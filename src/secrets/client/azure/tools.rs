//! Running the Azure CLI and the Azure Developer CLI (row 4 of the chain).
//!
//! The SDK runs them as `/bin/sh -c "cd /bin && az account get-access-token ..."` (and
//! `azd auth token ...`) through an [`Executor`]. This one runs exactly that, with `PATH` cut
//! down to the directories of the inherited `PATH` that no account but root (or the one
//! amhash runs as) can change ([`crate::store::is_trusted_search_dir`]). As root, an `az` that
//! the AM account could place (a directory of its own on root's `PATH`, a group-writable
//! `/usr/local/bin`, `.`) would choose the token, and so the key, and run as root. Everything
//! else is inherited: `az` finds its login in `HOME` (`~/.azure`) or `AZURE_CONFIG_DIR`.

use std::ffi::{OsStr, OsString};
use std::io;
use std::path::PathBuf;
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

/// The entries of `path` that [`is_trusted_search_dir`] accepts, in order.
pub(super) fn trusted_path(path: &OsStr) -> OsString {
    let kept: Vec<PathBuf> = std::env::split_paths(path)
        .filter(|dir| is_trusted_search_dir(dir))
        .collect();
    std::env::join_paths(kept).unwrap_or_default()
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
