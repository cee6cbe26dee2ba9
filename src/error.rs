//! The one question every library error answers: whose fault is it?
//!
//! Every error type of this crate implements [`Error`], whose [`Error::fault`] says whether
//! the user can fix it by changing the input ([`Fault::Input`]: a malformed value, a bad flag,
//! a file refused by policy) or something outside the input failed ([`Fault::Operational`]:
//! I/O, a wrong key or altered data, a keyring, Cloud KMS). The binaries turn that into an
//! exit code with [`Fault::exit_code`], the only place the numbers are written, and the
//! `amhash` binary reads a helper's exit status back with [`Fault::from_exit_code`].
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success; for `verify`, the password matches |
//! | 1 | `verify`: the password does not match; `doctor`: a problem was found |
//! | 2 | [`Fault::Input`] |
//! | 3 | [`Fault::Operational`] |

/// Whose fault a failure is; it fixes the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The input, a flag or a file refused by policy: the user fixes it (exit 2).
    Input,
    /// Something outside the input failed (exit 3).
    Operational,
}

/// Exit status of a command that succeeded.
pub const EXIT_SUCCESS: u8 = 0;
/// Exit status of `verify` when the password does not match, of `doctor` with a problem.
pub const EXIT_NEGATIVE: u8 = 1;

impl Fault {
    /// The process exit status of every amhash binary for this fault.
    #[must_use]
    pub const fn exit_code(self) -> u8 {
        match self {
            Self::Input => 2,
            Self::Operational => 3,
        }
    }

    /// The fault a helper's exit status reports, if it is one of the two.
    #[must_use]
    pub fn from_exit_code(code: i32) -> Option<Self> {
        [Self::Input, Self::Operational]
            .into_iter()
            .find(|f| i32::from(f.exit_code()) == code)
    }

    /// The name used in `--json` error objects.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Input => "input",
            Self::Operational => "operational",
        }
    }
}

/// An error of this crate: a one-line message (its `Display`, never a secret) and a
/// [`Fault`].
pub trait Error: std::error::Error {
    /// Whose fault this is.
    fn fault(&self) -> Fault;
}

/// Implements [`Error`] for `$ty`: every error of it is `$fault`'s fault, or (with `if`) the
/// listed variants are `$fault`'s and all others `$other`'s. Written next to each error type,
/// so its classification reads as one statement: `Type: Input if A | B, else Operational`.
macro_rules! fault_is {
    ($(#[$doc:meta])* $ty:ty: $fault:ident) => {
        impl $crate::error::Error for $ty {
            $(#[$doc])*
            fn fault(&self) -> $crate::error::Fault {
                $crate::error::Fault::$fault
            }
        }
    };
    ($(#[$doc:meta])* $ty:ident: $fault:ident if $($variant:ident)|+, else $other:ident) => {
        impl $crate::error::Error for $ty {
            $(#[$doc])*
            fn fault(&self) -> $crate::error::Fault {
                // `{ .. }` matches unit, tuple and struct variants alike.
                if matches!(self, $($ty::$variant { .. })|+) {
                    $crate::error::Fault::$fault
                } else {
                    $crate::error::Fault::$other
                }
            }
        }
    };
}

pub(crate) use fault_is;

/// The operating system's random source failed (a salt, a key, a random password).
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random source failed: {0}")]
pub struct RandomError(#[from] pub getrandom::Error);

fault_is!(RandomError: Operational);

/// An error and its sources on one line, a source the text already holds said once. Client
/// libraries put the useful part (refused, certificate unknown, the service's message) in
/// the sources, and often repeat one in the message above it.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let part = inner.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_round_trip_and_nothing_else_is_a_fault() {
        for fault in [Fault::Input, Fault::Operational] {
            assert_eq!(Fault::from_exit_code(fault.exit_code().into()), Some(fault));
        }
        assert_eq!(
            (Fault::Input.exit_code(), Fault::Operational.exit_code()),
            (2, 3)
        );
        for code in [-1, 0, 1, 4, 101, 134] {
            assert_eq!(Fault::from_exit_code(code), None, "{code}");
        }
    }
}
