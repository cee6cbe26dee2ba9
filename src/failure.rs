//! How a command ended, and the one mapping from a library error to a failure.
//!
//! Every library error says whose fault it is ([`amhash::error::Error::fault`]); the exit
//! codes themselves are written once, in [`amhash::error`]. `output` prints a failure as one
//! line (or one JSON object) and exits with its code.

use std::fmt;
use std::process::ExitCode;

use amhash::error::{EXIT_NEGATIVE, EXIT_SUCCESS, Fault};

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
        ExitCode::from(match outcome {
            Outcome::Success => EXIT_SUCCESS,
            Outcome::Negative => EXIT_NEGATIVE,
        })
    }
}

/// A failed command: whose fault, and a one-line message that never contains a secret.
#[derive(Debug)]
pub struct Failure {
    pub fault: Fault,
    pub message: String,
}

impl Failure {
    /// The user's input or flags are wrong (exit 2).
    pub fn input(message: impl fmt::Display) -> Self {
        Self {
            fault: Fault::Input,
            message: message.to_string(),
        }
    }

    /// Something outside the input failed (exit 3).
    pub fn operational(message: impl fmt::Display) -> Self {
        Self {
            fault: Fault::Operational,
            message: message.to_string(),
        }
    }

    /// Prepends context ("--value-file x: ...").
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

/// The one mapping: every library error becomes a failure of its own fault.
impl<E: amhash::error::Error> From<E> for Failure {
    fn from(e: E) -> Self {
        Self {
            fault: e.fault(),
            message: e.to_string(),
        }
    }
}
