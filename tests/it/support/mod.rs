//! The one support module of the integration tests.
#![allow(dead_code)] // each test module uses a subset

pub mod child;
#[cfg(feature = "kms")]
pub mod fake_kms;
pub mod harden;
pub mod install;
#[cfg(feature = "kms")]
pub mod kms_helper;

/// Starts `cmd`. Tests run in threads of one process: while one thread writes a copy of a
/// binary, another may fork, and the child holds the copy's write descriptor until it execs;
/// exec-ing the copy then fails with ETXTBSY for that moment. Retry it.
pub fn spawn(cmd: &mut std::process::Command) -> std::process::Child {
    let mut tries = 0;
    loop {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(26) && tries < 50 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            r => return r.unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}")),
        }
    }
}
