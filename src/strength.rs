//! Password strength for a fast hash, and random passwords that need no estimate.
//!
//! A `{SSHA-512}` value is one salted SHA-512: a single GPU tries around 10^10 candidates a
//! second, so a leaked value protects only a password that needs far more guesses than that.
//! zxcvbn's own top score (4) means "more than 10^10 guesses", which such a GPU covers in
//! seconds; we therefore judge by its guess estimate instead, and require at least
//! 10^[`MIN_GUESSES_LOG10`]. zxcvbn counts an unpatterned character as 10 guesses and caps
//! its estimate at 2^64 (10^19.3), so 10^16 means "at least 16 characters with no word,
//! keyboard, date or repeat pattern": about 96 bits when they are drawn at random from 64
//! symbols, which is what [`random_password`] does with 22.
//!
//! # Where zxcvbn runs
//!
//! [`assess`] runs zxcvbn in the calling process. The `amhash` binary does not: zxcvbn's
//! dictionaries, regular expressions and libm would more than double its size and add about
//! 0.8 MiB to the peak memory of every `generate` (see [`crate::helper`]). `amhash install`
//! calls [`assess_in_helper`] instead, which runs the `amhash-strength` binary installed
//! next to it:
//!
//! ```text
//! amhash-strength          (no arguments; --help and --version as usual)
//!   stdin   the password, UTF-8, 1 to HELPER_MAX_INPUT bytes, nothing added
//!   stdout  one line of JSON: {"guesses_log10":F,"warning":"..."|null}
//!   --handshake  (hidden; what amhash passes) stdin and stdout are one socket, and
//!           amhash::helper::READY comes first on stdout, written only once the process is
//!           protected and not traced (else exit 2 without reading); see crate::helper
//!   stderr  on failure, one line (and, if the process could not protect itself, a warning
//!           line before it; amhash joins them)
//!   exit    0 ok, 2 any failure it reports (empty, too long or not UTF-8 input, arguments,
//!           I/O); amhash treats any other end (a signal) as a failure too
//!   env     none: amhash clears the environment
//! ```
//!
//! amhash sends only the first 100 characters: zxcvbn evaluates no more than that, so the
//! estimate is the same and less of the secret leaves the process.

use std::path::PathBuf;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::helper::{self, Env, ExchangeError, LocateError};

/// The weakest acceptable guess estimate, as a power of ten.
pub const MIN_GUESSES_LOG10: f64 = 16.0;

/// The alphabet of [`random_password`]: the 64 characters of URL-safe base64. No quotes,
/// spaces or shell metacharacters, so the password survives copy and paste and every
/// install target's quoting.
pub const RANDOM_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Length of [`random_password`]: 22 characters of 6 bits each, 132 bits of entropy.
pub const RANDOM_LEN: usize = 22;

// 22 symbols of 6 bits: at least 128 bits, checked at compile time.
const _: () = assert!(RANDOM_LEN * 6 >= 128);

/// What the estimator said about a password. Holds no part of the password.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Strength {
    /// log10 of the estimated number of guesses.
    pub guesses_log10: f64,
    /// zxcvbn's warning, if it had one.
    pub warning: Option<String>,
}

impl Strength {
    /// Whether the password is too weak for a fast hash.
    pub fn is_weak(&self) -> bool {
        self.guesses_log10 < MIN_GUESSES_LOG10
    }

    /// One sentence saying why it is weak and what to do.
    pub fn reason(&self) -> String {
        let warning = self
            .warning
            .as_deref()
            .map(|w| format!("{} ", w.trim_end_matches('.').to_string() + "."))
            .unwrap_or_default();
        format!(
            "{warning}The password would fall after about 10^{:.0} guesses, and a GPU tries about 10^10 \
             salted SHA-512 a second: use --random, or at least 22 random characters",
            self.guesses_log10.max(0.0)
        )
    }
}

/// The shortest password `generate` accepts without a warning.
pub const QUICK_MIN_CHARS: usize = 16;

/// The check `generate` makes: length only, no dictionaries.
///
/// zxcvbn builds its word lists and patterns on first use, which costs about 30 ms and
/// 7 MB: more than the rest of `generate` many times over, and `generate` is the command a
/// pipeline runs. So `generate` only warns about passwords shorter than [`QUICK_MIN_CHARS`]
/// characters (too short for a fast hash whatever they contain), and `install`, which
/// refuses weak passwords, runs the full [`assess`].
pub fn quick_check(password: &str) -> Option<String> {
    let chars = password.chars().count();
    (chars < QUICK_MIN_CHARS).then(|| {
        format!(
            "{chars} characters is too short for a fast hash (a GPU tries about 10^10 salted SHA-512 \
             a second): use --random, or at least 22 random characters; amhash install would refuse it"
        )
    })
}

/// Estimates the strength of `password` with zxcvbn. (zxcvbn copies the first 100
/// characters into buffers of its own that are not zeroized: a known limitation.)
pub fn assess(password: &str) -> Strength {
    let entropy = zxcvbn::zxcvbn(password, &["amadmin", "openam", "forgerock", "password"]);
    Strength {
        guesses_log10: entropy.guesses_log10(),
        warning: entropy
            .feedback()
            .and_then(|f| f.warning())
            .map(|w| w.to_string()),
    }
}

/// Name of the helper binary that runs zxcvbn, looked up next to the running executable.
pub const HELPER_NAME: &str = "amhash-strength";

/// How many characters of the password zxcvbn evaluates (and [`assess_in_helper`] sends).
pub const EVALUATED_CHARS: usize = 100;

/// The most input `amhash-strength` accepts: [`EVALUATED_CHARS`] characters of up to 4
/// UTF-8 bytes each.
pub const HELPER_MAX_INPUT: usize = EVALUATED_CHARS * 4;

/// Largest answer accepted from the helper (a guess estimate and a short warning).
const HELPER_MAX_OUTPUT: usize = 4096;

/// Why [`assess_in_helper`] has no estimate.
#[derive(Debug, thiserror::Error)]
pub enum EstimateError {
    /// `amhash-strength` is not next to the running executable.
    #[error(
        "amhash-strength is not installed next to amhash (looked for {}): install both with `cargo install --path .`",
        path.display()
    )]
    HelperMissing {
        /// Where it was expected.
        path: PathBuf,
    },
    /// The running executable's own path is unknown, so the helper cannot be located.
    #[error("cannot locate amhash-strength: the path of the running executable is unknown: {0}")]
    CurrentExe(std::io::Error),
    /// Starting the helper or talking to it failed.
    #[error("cannot run {}: {source}", path.display())]
    Run {
        /// The helper's path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The helper failed or answered outside its contract.
    #[error("{} failed ({what})", path.display())]
    Failed {
        /// The helper's path.
        path: PathBuf,
        /// Its status and message, or what is wrong with its answer.
        what: String,
    },
}

/// [`assess`], run by the `amhash-strength` helper next to the running executable.
///
/// # Errors
/// [`EstimateError`]: the helper is missing, cannot be run, or fails.
pub fn assess_in_helper(password: &str) -> Result<Strength, EstimateError> {
    let path = helper::locate(HELPER_NAME).map_err(|e| match e {
        LocateError::CurrentExe(e) => EstimateError::CurrentExe(e),
        LocateError::Missing(path) => EstimateError::HelperMissing { path },
    })?;
    assess_with(&path, password)
}

/// [`assess_in_helper`] with the helper at an explicit path (tests, packagers).
///
/// # Errors
/// See [`assess_in_helper`].
pub fn assess_with(path: &std::path::Path, password: &str) -> Result<Strength, EstimateError> {
    let no_args: [&str; 0] = [];
    // No environment: the helper needs none, and it may hold an `env:` key of this command.
    let reply = helper::exchange(
        path,
        HELPER_NAME,
        Env::Clear,
        no_args,
        evaluated_prefix(password).as_bytes(),
        HELPER_MAX_OUTPUT,
    )
    .map_err(|e| match e {
        ExchangeError::Spawn(source) | ExchangeError::Pipe(source) => EstimateError::Run {
            path: path.to_owned(),
            source,
        },
        ExchangeError::NotReady(what) => EstimateError::Failed {
            path: path.to_owned(),
            what,
        },
    })?;
    let failed = |what: String| EstimateError::Failed {
        path: path.to_owned(),
        what,
    };
    if !reply.status.success() {
        let message = if reply.message.is_empty() {
            String::new()
        } else {
            format!(": {}", reply.message)
        };
        return Err(failed(format!("{}{message}", reply.status)));
    }
    parse_reply(&reply.stdout).ok_or_else(|| failed("unexpected output".to_owned()))
}

/// The first [`EVALUATED_CHARS`] characters of `password`: all that zxcvbn looks at.
fn evaluated_prefix(password: &str) -> &str {
    let end = password
        .char_indices()
        .nth(EVALUATED_CHARS)
        .map_or(password.len(), |(i, _)| i);
    password.get(..end).unwrap_or(password)
}

/// The longest warning taken from the helper (zxcvbn's are one short sentence).
const MAX_WARNING: usize = 200;

/// The helper's answer: one line of JSON with a finite estimate and, if any, a warning that
/// can go into a one-line message (no control characters, at most [`MAX_WARNING`]).
fn parse_reply(out: &[u8]) -> Option<Strength> {
    if out.len() > HELPER_MAX_OUTPUT {
        return None;
    }
    let line = out.strip_suffix(b"\n")?;
    if line.contains(&b'\n') {
        return None;
    }
    let strength: Strength = serde_json::from_slice(line).ok()?;
    let warning_ok = strength
        .warning
        .as_deref()
        .is_none_or(|w| w.chars().count() <= MAX_WARNING && !w.chars().any(char::is_control));
    (strength.guesses_log10.is_finite() && warning_ok).then_some(strength)
}

/// A new random password: [`RANDOM_LEN`] characters from [`RANDOM_ALPHABET`] (132 bits),
/// drawn from the OS CSPRNG. 64 symbols divide 256 exactly, so masking a byte is unbiased.
///
/// # Errors
/// [`getrandom::Error`] when the OS random source fails.
pub fn random_password() -> Result<SecretString, getrandom::Error> {
    let mut bytes = Zeroizing::new([0u8; RANDOM_LEN]);
    getrandom::getrandom(bytes.as_mut())?;
    let mut text = Zeroizing::new(String::with_capacity(RANDOM_LEN));
    for b in bytes.iter() {
        let symbol = RANDOM_ALPHABET
            .get(usize::from(b & 0x3f))
            .copied()
            .unwrap_or(b'A');
        text.push(char::from(symbol));
    }
    Ok(SecretString::from(text.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn weak_passwords_are_weak() {
        for pw in [
            "password",
            "amadmin",
            "Password1!",
            "Tr0ub4dor&3",
            "aB3-xY9_qR7z",
            "qwertyuiop123456",
            "forgerock2026",
        ] {
            let s = assess(pw);
            assert!(s.is_weak(), "{pw}: 10^{}", s.guesses_log10);
            let reason = s.reason();
            if pw != "password" {
                assert!(!reason.contains(pw), "{reason}");
            }
            assert!(reason.contains("--random"), "{reason}");
        }
    }

    #[test]
    fn random_passwords_are_strong_and_distinct() {
        let a = random_password().unwrap();
        let b = random_password().unwrap();
        assert_ne!(a.expose_secret(), b.expose_secret());
        for pw in [&a, &b] {
            let text = pw.expose_secret();
            assert_eq!(text.len(), RANDOM_LEN);
            assert!(text.bytes().all(|c| RANDOM_ALPHABET.contains(&c)));
            assert!(!assess(text).is_weak(), "{}", assess(text).guesses_log10);
        }
    }

    #[test]
    fn quick_check_is_length_only() {
        assert!(quick_check("password").is_some());
        assert!(quick_check("aB3-xY9_qR7zK2m").is_some());
        assert!(quick_check("aB3-xY9_qR7zK2mN").is_none());
        // 16 characters, counted as characters, not bytes.
        assert!(quick_check("üüüüüüüü").is_some());
        let reason = quick_check("hunter2").unwrap();
        assert!(
            !reason.contains("hunter2") && reason.contains("--random"),
            "{reason}"
        );
    }

    #[test]
    fn helper_reply_round_trips_and_anything_else_is_refused() {
        let s = assess("Tr0ub4dor&3");
        let mut line = serde_json::to_vec(&s).unwrap();
        line.push(b'\n');
        let back = parse_reply(&line).unwrap();
        assert_eq!(back.guesses_log10, s.guesses_log10);
        assert_eq!(back.warning, s.warning);
        assert!(parse_reply(br#"{"guesses_log10":17.5,"warning":null}"#).is_none()); // no newline
        for bad in [
            &b"\n"[..],
            b"17.5\n",
            b"{\"guesses_log10\":\"17\",\"warning\":null}\n",
            b"{\"guesses_log10\":17.5,\"warning\":null,\"x\":1}\n",
            b"{\"guesses_log10\":17.5,\"warning\":null}\n\n",
            b"{\"guesses_log10\":1e999,\"warning\":null}\n",
            // Warnings go into one-line messages: no control characters, bounded.
            b"{\"guesses_log10\":2.0,\"warning\":\"two\\nlines\"}\n",
            b"{\"guesses_log10\":2.0,\"warning\":\"\\u001b[31mred\"}\n",
        ] {
            assert!(
                parse_reply(bad).is_none(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let long = format!(
            "{{\"guesses_log10\":2.0,\"warning\":\"{}\"}}\n",
            "w".repeat(MAX_WARNING + 1)
        );
        assert!(parse_reply(long.as_bytes()).is_none());
        let ok = parse_reply(b"{\"guesses_log10\":17.5,\"warning\":\"w\"}\n").unwrap();
        assert_eq!((ok.guesses_log10, ok.warning.as_deref()), (17.5, Some("w")));
    }

    #[test]
    fn the_helper_gets_the_first_100_characters() {
        assert_eq!(evaluated_prefix("short"), "short");
        let ascii = "a".repeat(150);
        assert_eq!(evaluated_prefix(&ascii), &ascii[..100]);
        // Characters, not bytes: 100 four-byte characters are 400 bytes.
        let wide = "𝄞".repeat(150);
        assert_eq!(evaluated_prefix(&wide), "𝄞".repeat(100));
        assert_eq!(evaluated_prefix(&wide).len(), HELPER_MAX_INPUT);
        let mixed = format!("{}é{}", "a".repeat(99), "b".repeat(10));
        assert_eq!(evaluated_prefix(&mixed), format!("{}é", "a".repeat(99)));
    }

    #[test]
    fn a_failing_or_missing_helper_is_an_error_not_an_estimate() {
        let e = assess_with(std::path::Path::new("/bin/false"), "x").unwrap_err();
        assert!(matches!(e, EstimateError::Failed { .. }), "{e}");
        assert!(e.to_string().contains("exit status: 1"), "{e}");
        let e = assess_with(std::path::Path::new("/nonexistent/amhash-strength"), "x").unwrap_err();
        assert!(matches!(e, EstimateError::Run { .. }), "{e}");
        // /bin/cat knows no handshake: it rejects the flag, is never sent the password, and
        // its failure is reported as any helper's.
        let e = assess_with(std::path::Path::new("/bin/cat"), "x").unwrap_err();
        assert!(
            e.to_string().contains("failed (exit status: 1: ")
                && e.to_string().contains("'--handshake'"),
            "{e}"
        );
        // /bin/true exits successfully without saying it is ready: no estimate either.
        let e = assess_with(std::path::Path::new("/bin/true"), "x").unwrap_err();
        assert!(
            e.to_string()
                .ends_with("failed (it exited without signalling that it was ready)"),
            "{e}"
        );
    }

    #[test]
    fn alphabet_is_64_distinct_symbols() {
        let mut sorted = RANDOM_ALPHABET.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 64);
    }
}
