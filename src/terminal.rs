//! The controlling terminal (`/dev/tty`): where passwords are typed and where a new random
//! password is shown, never standard input or output, which may be a pipe or a log.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};

use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::input::{self, InputError};

fn open() -> io::Result<File> {
    OpenOptions::new().read(true).write(true).open("/dev/tty")
}

/// One line from the terminal with echo off, as Python's `getpass` reads it: only `ECHO` is
/// cleared (the terminal stays in canonical mode, so erase and kill work and every other
/// character, a tab included, is kept), and only the final `\n` is removed. (rpassword
/// switches to raw mode and drops control characters, which would hash a different password
/// than the reference script for the same keystrokes.)
///
/// # Errors
/// [`InputError::Io`] without a terminal or when it fails, [`InputError::TooLong`].
pub fn read_hidden_line(prompt: &str, max: usize) -> Result<Zeroizing<Vec<u8>>, InputError> {
    let tty = open()?;
    let saved = tcgetattr(&tty).map_err(io::Error::from)?;
    let mut quiet = saved.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    (&tty)
        .write_all(prompt.as_bytes())
        .and_then(|()| (&tty).flush())?;
    tcsetattr(&tty, OptionalActions::Flush, &quiet).map_err(io::Error::from)?;
    let read = input::read_line(&tty, max);
    // Restore echo whatever happened, then end the prompt's line as getpass does.
    let restored = tcsetattr(&tty, OptionalActions::Flush, &saved);
    let _ = (&tty).write_all(b"\n");
    let mut line = read?;
    restored.map_err(io::Error::from)?;
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    Ok(line)
}

/// Why a secret could not be shown.
#[derive(Debug)]
pub enum ShowError {
    /// There is no terminal to show it on.
    NoTerminal(io::Error),
    /// Writing to the terminal failed.
    Write(io::Error),
}

/// Shows `label: secret` once on the terminal.
///
/// # Errors
/// [`ShowError`].
pub fn show_once(label: &str, secret: &SecretString) -> Result<(), ShowError> {
    let mut tty = open().map_err(ShowError::NoTerminal)?;
    writeln!(tty, "{label}: {}", secret.expose_secret()).map_err(ShowError::Write)
}
