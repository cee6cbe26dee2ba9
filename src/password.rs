//! Reading the password the way the reference script in the AM documentation does.
//!
//! The reference (`001` seed) reads:
//!
//! ```python
//! if os.isatty(0):
//!    pwd = getpass.getpass(); cnf = getpass.getpass('Confirm: ')
//! else:
//!    pwd = sys.stdin.buffer.readline().decode('utf-8').strip()
//! ```
//!
//! so on a terminal the password is taken as typed (no stripping), and otherwise only the
//! first line counts, decoded as strict UTF-8, with whitespace stripped from both ends by
//! Python's definition of whitespace ([`python_strip`]), which differs from Rust's
//! `str::trim`. We add one rule: an empty password is refused.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};

use crate::input::InputError;

/// The longest first line we accept. Python has no limit; a password this long is a
/// mistake (a binary file piped in), and reading without bound would be a memory hazard.
pub const MAX_LINE: usize = 1 << 20;

/// Where a password was read from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Standard input that is not a terminal.
    Stdin,
    /// A `--password-file`.
    File(PathBuf),
    /// The controlling terminal.
    Terminal,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Stdin => f.write_str("standard input"),
            Self::File(p) => f.write_str(&crate::escape::path(p)),
            Self::Terminal => f.write_str("the terminal"),
        }
    }
}

/// Why no password could be read. Never carries password bytes.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// The first line is not valid UTF-8.
    #[error(
        "the password read from {origin} is not valid UTF-8 (byte offset {offset}): AM hashes the UTF-8 bytes, so re-encode it"
    )]
    InvalidUtf8 {
        /// Where it came from.
        origin: Origin,
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// Nothing left after stripping.
    #[error(
        "the password read from {origin} is empty{after}: give a long random password (see `amhash generate --help`)"
    )]
    Empty {
        /// Where it came from.
        origin: Origin,
        /// " after stripping whitespace" when stripping emptied it.
        after: &'static str,
    },
    /// The confirmation typed at the prompt was different.
    #[error("the password and its confirmation do not match: nothing was written, run it again")]
    Mismatch,
    /// The first line is longer than [`MAX_LINE`].
    #[error("the first line of {origin} is longer than {MAX_LINE} bytes: that is not a password")]
    TooLong {
        /// Where it came from.
        origin: Origin,
    },
    /// Reading failed.
    #[error("cannot read the password from {origin}: {source}")]
    Io {
        /// Where it came from.
        origin: Origin,
        /// The I/O error.
        source: io::Error,
    },
    /// The password file is not one amhash trusts to hold a password: another account owns
    /// it (and so chose the password), or the path goes through a link, or a `..`, that
    /// another account could have placed or moved.
    #[error("--password-file {message}")]
    Untrusted {
        /// The store's message, which names the path and what is wrong.
        message: String,
    },
}

crate::error::fault_is!(PasswordError: Operational if Io, else Input);

/// Whether `c` is whitespace to Python's `str.isspace()` / `str.strip()`.
///
/// Python counts a character as whitespace when its bidirectional class is WS, B or S, or
/// its category is Zs. That is Rust's `char::is_whitespace` (Unicode `White_Space`) plus
/// the four ASCII information separators U+001C..U+001F. A test checks this list against
/// the `python3` on the machine, character by character.
pub fn is_python_whitespace(c: char) -> bool {
    matches!(c, '\u{1c}'..='\u{1f}') || c.is_whitespace()
}

/// `s.strip()` as Python does it.
pub fn python_strip(s: &str) -> &str {
    s.trim_matches(is_python_whitespace)
}

/// Reads the first line of `reader` (up to and including the first `\n`, as Python's
/// `readline()` does), decodes it as strict UTF-8 and strips it the Python way.
///
/// # Errors
/// [`PasswordError`] for invalid UTF-8, an empty result, an over-long line or I/O failure.
pub fn from_first_line(reader: impl Read, origin: Origin) -> Result<SecretString, PasswordError> {
    let line = crate::input::read_line(reader, MAX_LINE).map_err(|e| input_error(e, &origin))?;
    let text = match std::str::from_utf8(&line) {
        Ok(text) => text,
        Err(e) => {
            return Err(PasswordError::InvalidUtf8 {
                origin,
                offset: e.valid_up_to(),
            });
        }
    };
    let stripped = python_strip(text);
    if stripped.is_empty() {
        let after = if text.is_empty() {
            ""
        } else {
            " after stripping whitespace"
        };
        return Err(PasswordError::Empty { origin, after });
    }
    Ok(SecretString::from(stripped))
}

/// Reads the password from `path` by the same rule as standard input.
///
/// # Errors
/// As [`from_first_line`], plus failure to open the file.
pub fn from_file(path: &Path) -> Result<SecretString, PasswordError> {
    use crate::store::StoreError;
    let origin = Origin::File(path.to_path_buf());
    // As every file amhash trusts with a secret: walked without following another account's
    // links, a regular file (a FIFO cannot hang us), owned by root or the caller.
    let file = crate::store::open_trusted_file(path).map_err(|e| match e {
        StoreError::Io { source, .. } => PasswordError::Io {
            origin: origin.clone(),
            source,
        },
        StoreError::DirMissing { .. } => PasswordError::Io {
            origin: origin.clone(),
            source: io::Error::from(io::ErrorKind::NotFound),
        },
        // A refusal by policy is the user's to fix (exit 2); a file that cannot be read as
        // one (a directory, a FIFO) stays an I/O failure, as it always was.
        e if e.is_refusal() => PasswordError::Untrusted {
            message: e.to_string(),
        },
        StoreError::NotRegularFile { kind, .. } => PasswordError::Io {
            origin: origin.clone(),
            source: io::Error::other(format!("it is a {kind}, not a regular file")),
        },
        e => PasswordError::Untrusted {
            message: e.to_string(),
        },
    })?;
    from_first_line(file, origin)
}

/// Prompts on the controlling terminal without echo, taking the password as typed.
///
/// With `confirm`, prompts again with `Confirm: ` and fails when the two differ, as the
/// reference script does. Prompts go to the terminal, never to stdout.
///
/// # Errors
/// [`PasswordError`] when the terminal cannot be read, the entry is empty, or the
/// confirmation differs.
pub fn from_terminal(prompt: &str, confirm: bool) -> Result<SecretString, PasswordError> {
    let first = read_terminal_line(prompt)?;
    if first.expose_secret().is_empty() {
        return Err(PasswordError::Empty {
            origin: Origin::Terminal,
            after: "",
        });
    }
    if confirm {
        let second = read_terminal_line("Confirm: ")?;
        let same: bool = subtle::ConstantTimeEq::ct_eq(
            first.expose_secret().as_bytes(),
            second.expose_secret().as_bytes(),
        )
        .into();
        if !same {
            return Err(PasswordError::Mismatch);
        }
    }
    Ok(first)
}

/// One line from the terminal with echo off (see [`crate::terminal::read_hidden_line`]).
fn read_terminal_line(prompt: &str) -> Result<SecretString, PasswordError> {
    let origin = Origin::Terminal;
    let line =
        crate::terminal::read_hidden_line(prompt, MAX_LINE).map_err(|e| input_error(e, &origin))?;
    let text = std::str::from_utf8(&line).map_err(|e| PasswordError::InvalidUtf8 {
        origin,
        offset: e.valid_up_to(),
    })?;
    Ok(SecretString::from(text))
}

fn input_error(e: InputError, origin: &Origin) -> PasswordError {
    match e {
        InputError::Io(source) => PasswordError::Io {
            origin: origin.clone(),
            source,
        },
        InputError::TooLong { .. } => PasswordError::TooLong {
            origin: origin.clone(),
        },
    }
}

/// Where to take the password from.
#[derive(Debug, Clone)]
pub enum Source {
    /// `--password-file PATH`.
    File(PathBuf),
    /// Standard input: prompt when it is a terminal, else read its first line.
    Stdin,
}

impl Source {
    /// Reads the password. `confirm` asks for the confirmation prompt on a terminal.
    ///
    /// # Errors
    /// See [`PasswordError`].
    pub fn read(&self, confirm: bool) -> Result<SecretString, PasswordError> {
        match self {
            Self::File(path) => from_file(path),
            Self::Stdin => {
                if std::io::IsTerminal::is_terminal(&io::stdin()) {
                    from_terminal("Password: ", confirm)
                } else {
                    from_first_line(io::stdin().lock(), Origin::Stdin)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error as _, Fault};

    fn first_line(input: &[u8]) -> Result<String, PasswordError> {
        from_first_line(input, Origin::Stdin).map(|s| s.expose_secret().to_string())
    }

    #[test]
    fn strips_like_python() {
        let cases: &[(&[u8], &str)] = &[
            (b"secret\n", "secret"),
            (b"  secret  \n", "secret"),
            (b"\tsecret\r\n", "secret"),
            (b"secret", "secret"),
            (b"a b\n", "a b"),
            (b"\x1csecret\x1f\n", "secret"),
            (b"\x0b\x0csecret\x0b\x0c", "secret"),
            ("\u{a0}s\u{3000}".as_bytes(), "s"),
            ("\u{2028}s\u{85}\n".as_bytes(), "s"),
            // Not whitespace to Python: zero-width space, BOM, U+180E.
            ("\u{200b}s\u{feff}".as_bytes(), "\u{200b}s\u{feff}"),
            ("\u{180e}s".as_bytes(), "\u{180e}s"),
            (b"first\nsecond\n", "first"),
            (b"first\rstill first\n", "first\rstill first"),
        ];
        for (input, want) in cases {
            assert_eq!(first_line(input).unwrap(), *want, "input {input:?}");
        }
    }

    #[test]
    fn refuses_empty_and_invalid() {
        for input in [&b""[..], b"\n", b"   \n", b"\x1c\x1d\n", b"\nsecond\n"] {
            let err = first_line(input).unwrap_err();
            assert!(matches!(err, PasswordError::Empty { .. }), "{input:?}");
            assert_eq!(err.fault(), Fault::Input);
        }
        let err = first_line(b"ok\xff\n").unwrap_err();
        assert!(
            matches!(err, PasswordError::InvalidUtf8 { offset: 2, .. }),
            "{err}"
        );
        // Invalid UTF-8 on the second line does not matter: only the first line is read.
        assert_eq!(first_line(b"ok\n\xff\n").unwrap(), "ok");
        // Encoded surrogates are invalid UTF-8 for Python too.
        assert!(first_line(b"\xed\xa0\x80\n").is_err());
    }

    #[test]
    fn refuses_overlong_line() {
        let long = vec![b'a'; MAX_LINE + 1];
        assert!(matches!(
            first_line(&long).unwrap_err(),
            PasswordError::TooLong { .. }
        ));
        let fits = vec![b'a'; MAX_LINE];
        assert_eq!(first_line(&fits).unwrap().len(), MAX_LINE);
    }

    #[test]
    fn messages_do_not_echo_the_password() {
        let err = first_line(b"hunter2\xff\n").unwrap_err().to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }

    /// Our whitespace set equals Python's `str.isspace()` over every Unicode scalar value.
    #[test]
    fn whitespace_matches_the_python_on_this_machine() {
        let out = std::process::Command::new("python3")
            .args([
                "-c",
                "import sys; print(' '.join(str(c) for c in range(0x110000) if chr(c).isspace()))",
            ])
            .output()
            .expect("python3 is needed for this test (the reference script is Python)");
        assert!(out.status.success());
        let python: Vec<u32> = String::from_utf8(out.stdout)
            .unwrap()
            .split_whitespace()
            .map(|n| n.parse().unwrap())
            .collect();
        let ours: Vec<u32> = (0..0x110000u32)
            .filter_map(char::from_u32)
            .filter(|&c| is_python_whitespace(c))
            .map(u32::from)
            .collect();
        assert_eq!(ours, python);
    }
}
