//! Process-level protection while secrets are in memory.
//!
//! `amhash` calls [`protect_process`] first thing, before any secret is read:
//!
//! - the core-file size limit becomes 0 (soft and hard), so a crash cannot write the
//!   password, the AM encryption password or a key to disk;
//! - the process is marked non-dumpable (`PR_SET_DUMPABLE 0`), which also stops other
//!   processes of the same user from attaching with ptrace or reading `/proc/PID/mem` and
//!   `/proc/PID/environ` (the kernel makes those files root's).
//!
//! Both go through `rustix`'s safe wrappers, so the crate stays `#![forbid(unsafe_code)]`.

use rustix::process::{DumpableBehavior, Resource, Rlimit, set_dumpable_behavior, setrlimit};

/// Applies both protections.
///
/// # Errors
/// The first system call that failed. Neither should fail for an unprivileged process; the
/// caller decides whether to go on without them.
pub fn protect_process() -> std::io::Result<()> {
    setrlimit(
        Resource::Core,
        Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    )?;
    set_dumpable_behavior(DumpableBehavior::NotDumpable)?;
    Ok(())
}
