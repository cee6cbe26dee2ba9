//! The helper's side of the exchange: the ready handshake, and the one-line usage error.

use std::io::{self, Write};

use super::READY;

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
pub(super) fn tracer_pid(status: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("TracerPid:"))
        .and_then(|v| v.trim().parse().ok())
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
