//! Exit codes and the one-line error report.
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success; for `verify`, the password matches |
//! | 1 | `verify`: the password does not match; `doctor`: a problem was found |
//! | 2 | malformed input or usage error (bad flag, malformed value, bad key reference) |
//! | 3 | operational failure: I/O, wrong key or altered data, keyring, KMS |

use std::fmt;
use std::process::ExitCode;

/// How a command that did not fail ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Success,
    /// Exit 1: the password does not match / doctor found a problem.
    Negative,
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Success => ExitCode::SUCCESS,
            Outcome::Negative => ExitCode::from(1),
        }
    }
}

/// The class of a failure, which fixes the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Exit 2: the input or the command line is wrong.
    Input,
    /// Exit 3: something outside the input failed.
    Operational,
}

impl Class {
    pub fn code(self) -> u8 {
        match self {
            Self::Input => 2,
            Self::Operational => 3,
        }
    }

    /// The name used in `--json` error objects.
    pub fn name(self) -> &'static str {
        match self {
            Self::Input => "input",
            Self::Operational => "operational",
        }
    }
}

/// A failed command: a class and a one-line message that never contains a secret.
#[derive(Debug)]
pub struct Failure {
    pub class: Class,
    pub message: String,
}

impl Failure {
    pub fn input(message: impl fmt::Display) -> Self {
        Self {
            class: Class::Input,
            message: message.to_string(),
        }
    }

    pub fn operational(message: impl fmt::Display) -> Self {
        Self {
            class: Class::Operational,
            message: message.to_string(),
        }
    }

    /// Prepends context ("reading --hash-file x: ...").
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

impl From<amhash::password::PasswordError> for Failure {
    fn from(e: amhash::password::PasswordError) -> Self {
        if e.is_input() {
            Self::input(e)
        } else {
            Self::operational(e)
        }
    }
}

impl From<amhash::ssha::ParseError> for Failure {
    fn from(e: amhash::ssha::ParseError) -> Self {
        Self::input(e)
    }
}
