//! Password strength for a fast hash, and random passwords that need no estimate.
//!
//! A `{SSHA-512}` value is one salted SHA-512. Measured on one NVIDIA H200, hashcat 6.2.6
//! tries [`GPU_GUESSES_PER_SECOND`] (5.2 × 10^9) candidates a second against AM's layout
//! (mode 1720, `sha512($salt.$pass)`; a hand-written CUDA kernel for exactly AM's bytes
//! reached 5.06 × 10^9). amAdmin is the most powerful account in AM, so a leaked value must
//! hold out for [`MIN_GPU_YEARS`] GPU-years: [`MIN_GUESSES`], about 1.6 × 10^20 guesses.
//!
//! We judge by zxcvbn's guess estimate (an unpatterned character counts as 10 guesses,
//! words, keyboard walks, dates and repeats as zxcvbn scores them). zxcvbn computes in `u64`
//! and saturates at 2^64 ≈ 1.8 × 10^19, below the bar, so a saturated estimate is computed
//! again in `f64` from zxcvbn's own match sequence ([`uncapped_log10`]) instead of being taken
//! as "strong": the lowest over a few runs (zxcvbn breaks saturated ties in HashMap order)
//! and never above 10^n for n characters. In that model the bar means at least 21 unpatterned characters;
//! [`random_password`]'s 26 characters (156 bits of real entropy) clear it with room: over
//! 20 000 samples the lowest estimate was 10^24 (with 22 characters, 1 in 1 000 fell below
//! the bar, when a random run happened to spell a word or a keyboard walk).
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

/// The measured attack rate: `{SSHA-512}` guesses a second on one NVIDIA H200 (hashcat
/// 6.2.6, mode 1720, 5.16 × 10^9; mode 1711, LDAP `{SSHA512}`, 5.41 × 10^9).
pub const GPU_GUESSES_PER_SECOND: f64 = 5.2e9;

/// How long one such GPU must need to find the password.
pub const MIN_GPU_YEARS: f64 = 1000.0;

/// Seconds in a (Julian) year.
const SECONDS_PER_YEAR: f64 = 365.25 * 24.0 * 3600.0;

/// The weakest acceptable guess estimate: [`MIN_GPU_YEARS`] at [`GPU_GUESSES_PER_SECOND`],
/// about 1.64 × 10^20.
pub const MIN_GUESSES: f64 = GPU_GUESSES_PER_SECOND * SECONDS_PER_YEAR * MIN_GPU_YEARS;

/// log10 of [`MIN_GUESSES`], written out because `amhash` links no libm (a unit test checks
/// it against `MIN_GUESSES.log10()`).
pub const MIN_GUESSES_LOG10: f64 = 20.215_107_310_720_025;

/// The alphabet of [`random_password`]: the 64 characters of URL-safe base64. No quotes,
/// spaces or shell metacharacters, so the password survives copy and paste and every
/// install target's quoting.
pub const RANDOM_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Length of [`random_password`]: 26 characters of 6 bits each, 156 bits of entropy.
pub const RANDOM_LEN: usize = 26;

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
    /// Whether the password is too weak for a fast hash: fewer than [`MIN_GUESSES`].
    pub fn is_weak(&self) -> bool {
        self.guesses_log10.is_nan() || self.guesses_log10 < MIN_GUESSES_LOG10
    }

    /// One sentence saying why it is weak and what to do.
    pub fn reason(&self) -> String {
        let warning = self
            .warning
            .as_deref()
            .map(|w| format!("{} ", w.trim_end_matches('.').to_string() + "."))
            .unwrap_or_default();
        format!(
            "{warning}The password would be found within {} by one GPU ({}); amAdmin needs {} \
             GPU-years: use --random",
            lasts(self.guesses_log10),
            rate(),
            MIN_GPU_YEARS
        )
    }
}

/// The measured rate, for messages.
fn rate() -> String {
    format!(
        "{:.1} x 10^9 {{SSHA-512}} guesses a second, measured with hashcat on an NVIDIA H200",
        GPU_GUESSES_PER_SECOND / 1e9
    )
}

/// How long one GPU needs for `10^guesses_log10` guesses, in words ("about 3 days").
///
/// No `powf`/`log10` here (see [`pow10`]): this runs in `amhash`, which links no libm.
#[must_use]
pub fn lasts(guesses_log10: f64) -> String {
    let g = guesses_log10.max(0.0);
    let seconds = pow10(g) / GPU_GUESSES_PER_SECOND;
    // (seconds, log10 of them, name)
    let units = [
        (SECONDS_PER_YEAR, 7.499_103_967_085_228, "years"),
        (86400.0, 4.936_513_742_478_893, "days"),
        (3600.0, 3.556_302_500_767_287, "hours"),
        (60.0, 1.778_151_250_383_643_6, "minutes"),
    ];
    for (size, size_log10, name) in units {
        if seconds >= 2.0 * size {
            let n = seconds / size;
            return if n >= 1e6 {
                format!(
                    "about 10^{:.0} {name}",
                    g - LOG10_GPU_GUESSES_PER_SECOND - size_log10
                )
            } else {
                format!("about {n:.0} {name}")
            };
        }
    }
    if seconds >= 1.0 {
        format!("about {seconds:.0} seconds")
    } else {
        "less than a second".to_owned()
    }
}

/// log10 of [`GPU_GUESSES_PER_SECOND`].
const LOG10_GPU_GUESSES_PER_SECOND: f64 = 9.716_003_343_634_8;

/// `10^x` for `x >= 0` without libm: `powi` for the whole decades (compiler built-ins, not
/// libm) and steps of 1/65536 of a decade for the rest (within 0.002 %, plenty for "about
/// N days"). `amhash` must not link libm: loading it costs every `generate` about 0.5 MiB
/// of peak memory (measured: median 3.5 MiB without, 4.0 MiB with).
fn pow10(x: f64) -> f64 {
    const STEP: f64 = 1.000_035_135_277_462; // 10^(1/65536)
    // `as` truncates (x >= 0, so it is the floor) and saturates; no floor() call.
    let whole = x as i32;
    let steps = ((x - f64::from(whole)) * 65536.0 + 0.5) as i32;
    10f64.powi(whole) * STEP.powi(steps)
}

/// The shortest password `generate` accepts without a warning: in zxcvbn's model (10 guesses
/// an unpatterned character), the fewest characters that can reach [`MIN_GUESSES`].
pub const QUICK_MIN_CHARS: usize = 21;

/// The check `generate` makes: the same bar as `install`, by length only, no dictionaries.
///
/// zxcvbn builds its word lists and patterns on first use, which costs about 30 ms and
/// 7 MB: more than the rest of `generate` many times over, and `generate` is the command a
/// pipeline runs. So `generate` warns about passwords shorter than [`QUICK_MIN_CHARS`]
/// characters (below the bar whatever they contain), and `install`, which refuses weak
/// passwords, runs the full [`assess`].
pub fn quick_check(password: &str) -> Option<String> {
    let chars = password.chars().count();
    (chars < QUICK_MIN_CHARS).then(|| {
        format!(
            "{chars} characters would be found within {} by one GPU ({}), even if random in \
             zxcvbn's model: use --random, or at least {QUICK_MIN_CHARS} random characters; \
             amhash install would refuse it",
            lasts(chars as f64),
            rate()
        )
    })
}

/// Estimates the strength of `password` with zxcvbn. (zxcvbn copies the first 100
/// characters into buffers of its own that are not zeroized: a known limitation.)
#[cfg(feature = "strength")]
pub fn assess(password: &str) -> Strength {
    const USER_INPUTS: &[&str] = &["amadmin", "openam", "forgerock", "password"];
    let entropy = zxcvbn::zxcvbn(password, USER_INPUTS);
    let mut guesses_log10 = uncapped_log10(&entropy);
    if entropy.guesses() == u64::MAX {
        // Saturated: zxcvbn's last step picks among sequence lengths whose saturated totals
        // tie in HashMap order, so each run may hand back another of them. Each is a real
        // sequence, so its f64 total bounds the model's minimum from above: take the lowest
        // of a few runs, and of one brute-force match over the whole (10^n), so that the
        // figure errs towards "weak".
        for _ in 0..SATURATED_RUNS {
            guesses_log10 =
                guesses_log10.min(uncapped_log10(&zxcvbn::zxcvbn(password, USER_INPUTS)));
        }
        let evaluated = password.chars().count().min(EVALUATED_CHARS);
        guesses_log10 = guesses_log10.min(evaluated as f64);
    }
    // zxcvbn scores each separator of "correct horse battery staple" as its own match, and
    // its additive term for long match sequences (10000^(l-1)) then calls four common words
    // 10^24 guesses, while a combinator attack on a word list needs about 10^13. Without the
    // separators, a text made of dictionary words only is scored as what it is.
    let joined: Zeroizing<String> =
        Zeroizing::new(password.chars().filter(|c| !is_separator(*c)).collect());
    if joined.len() != password.len() && !joined.is_empty() {
        let words = zxcvbn::zxcvbn(&joined, USER_INPUTS);
        let all_words = words.sequence().iter().all(|m| {
            !matches!(
                m.pattern,
                zxcvbn::matching::patterns::MatchPattern::BruteForce
            )
        });
        if all_words {
            guesses_log10 = guesses_log10.min(uncapped_log10(&words));
        }
    }
    Strength {
        guesses_log10,
        warning: entropy
            .feedback()
            .and_then(|f| f.warning())
            .map(|w| w.to_string()),
    }
}

/// Extra zxcvbn runs for a saturated estimate (see [`assess`]).
#[cfg(feature = "strength")]
const SATURATED_RUNS: usize = 7;

/// Characters people put between the words of a passphrase.
#[cfg(feature = "strength")]
fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '-' | '_' | '.' | ',' | ';' | ':' | '/' | '+' | '|')
}

/// zxcvbn's estimate without its `u64` cap: when the estimate saturated, log10 of
/// `l! × Π guesses(m) + 10000^(l−1)` over zxcvbn's own optimal match sequence (its scoring
/// formula, with `l` matches), in `f64`. A brute-force match of `n` characters is `10^n`
/// (at least 11, or 51 as a part of a longer password, as zxcvbn has it); another pattern
/// whose own estimate saturated counts as 2^64, which can only understate it.
#[cfg(feature = "strength")]
#[must_use]
pub fn uncapped_log10(entropy: &zxcvbn::Entropy) -> f64 {
    // Well below the cap, zxcvbn's own figure is exact.
    if entropy.guesses() < u64::MAX / 16 {
        return entropy.guesses_log10();
    }
    let sequence = entropy.sequence();
    let l = sequence.len();
    let mut log_product = 0.0;
    for m in sequence {
        log_product += match m.pattern {
            zxcvbn::matching::patterns::MatchPattern::BruteForce => {
                // 10^n, and zxcvbn's floor of 11 for a single character (51 for more is
                // below 10^2 anyway).
                match m.token.chars().count() {
                    1 => 11f64.log10(),
                    n => n as f64,
                }
            }
            _ => (m.guesses.unwrap_or(u64::MAX) as f64).log10(),
        };
    }
    let log_factorial: f64 = (1..=l).map(|k| (k as f64).log10()).sum();
    let a = log_factorial + log_product;
    let b = 4.0 * (l.saturating_sub(1) as f64);
    let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
    hi + (1.0 + 10f64.powf(lo - hi)).log10()
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
        crate::escape::path(path)
    )]
    HelperMissing {
        /// Where it was expected.
        path: PathBuf,
    },
    /// The running executable's own path is unknown, so the helper cannot be located.
    #[error("cannot locate amhash-strength: the path of the running executable is unknown: {0}")]
    CurrentExe(std::io::Error),
    /// Starting the helper or talking to it failed.
    #[error("cannot run {}: {source}", crate::escape::path(path))]
    Run {
        /// The helper's path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The helper failed or answered outside its contract.
    #[error("{} failed ({what})", crate::escape::path(path))]
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
        helper::LOCAL_LIMIT,
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
        ExchangeError::TimedOut { after } => EstimateError::Failed {
            path: path.to_owned(),
            what: format!(
                "{}: it hung; check that it is the amhash-strength installed with amhash",
                ExchangeError::timed_out_phrase(after)
            ),
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

/// A new random password: [`RANDOM_LEN`] characters from [`RANDOM_ALPHABET`] (156 bits),
/// drawn from the OS CSPRNG. 64 symbols divide 256 exactly, so masking a byte is unbiased.
///
/// # Errors
/// [`crate::error::RandomError`] when the OS random source fails.
pub fn random_password() -> Result<SecretString, crate::error::RandomError> {
    let mut bytes = Zeroizing::new([0u8; RANDOM_LEN]);
    getrandom::getrandom(bytes.as_mut()).map_err(crate::error::RandomError)?;
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
    #[cfg(feature = "strength")]
    use secrecy::ExposeSecret;

    #[cfg(feature = "strength")]
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

    #[cfg(feature = "strength")]
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

    #[cfg(feature = "strength")]
    #[test]
    fn random_passwords_clear_the_bar_with_room() {
        // Two orders of magnitude of room on every sample (the lowest of 20 000 was 10^24).
        for _ in 0..300 {
            let pw = random_password().unwrap();
            let s = assess(pw.expose_secret());
            assert!(
                s.guesses_log10 >= MIN_GUESSES.log10() + 2.0,
                "10^{}",
                s.guesses_log10
            );
        }
    }

    #[test]
    fn quick_check_is_length_only() {
        assert!(quick_check("password").is_some());
        assert!(quick_check("aB3-xY9_qR7zK2mNp4Wx").is_some());
        assert!(quick_check("aB3-xY9_qR7zK2mNp4WxZ").is_none());
        // 21 characters, counted as characters, not bytes.
        assert!(quick_check(&"ü".repeat(20)).is_some());
        assert!(quick_check(&"ü".repeat(21)).is_none());
        let reason = quick_check("hunter2").unwrap();
        assert!(
            !reason.contains("hunter2") && reason.contains("--random"),
            "{reason}"
        );
        assert!(
            reason.contains("would be found within less than a second by one GPU (5.2 x 10^9"),
            "{reason}"
        );
    }

    #[test]
    fn the_bar_is_1000_gpu_years_at_the_measured_rate() {
        // The constants written out for want of libm in amhash.
        assert!((MIN_GUESSES.log10() - MIN_GUESSES_LOG10).abs() < 1e-9);
        assert!((GPU_GUESSES_PER_SECOND.log10() - LOG10_GPU_GUESSES_PER_SECOND).abs() < 1e-9);
        for x in [0.0, 0.5, 1.0, 9.716, 12.3456, 20.2, 33.9] {
            let rel = pow10(x) / 10f64.powf(x);
            assert!((rel - 1.0).abs() < 0.000_05, "{x}: {rel}");
        }
        // 5.2e9/s for 1000 years: 1.64e20 guesses, which 21 unpatterned characters reach and
        // 20 do not.
        assert!((1.6e20..1.7e20).contains(&MIN_GUESSES), "{MIN_GUESSES}");
        assert!(10f64.powi(QUICK_MIN_CHARS as i32) >= MIN_GUESSES);
        assert!(10f64.powi(QUICK_MIN_CHARS as i32 - 1) < MIN_GUESSES);
        assert_eq!(lasts(MIN_GUESSES.log10()), "about 1000 years");
        assert_eq!(lasts(16.0), "about 22 days");
        assert_eq!(lasts(9.0), "less than a second");
        assert_eq!(lasts(12.0), "about 3 minutes");
        assert_eq!(lasts(11.0), "about 19 seconds");
        assert_eq!(lasts(30.0), "about 10^13 years");
    }

    #[cfg(feature = "strength")]
    #[test]
    fn estimates_go_past_zxcvbn_s_u64_cap() {
        // zxcvbn alone saturates at 2^64 (10^19.27) for anything this long.
        for (pw, at_least) in [
            ("Xq7#Lp2$Vz9!Rk4@Tw6%Nb8^", 24.0),
            ("k3V9xQ2mZ7pL4wN8rT6yB1cH5fJ0dG", 30.0),
        ] {
            let e = zxcvbn::zxcvbn(pw, &[]);
            assert!(
                e.guesses_log10() < 19.5,
                "{pw}: zxcvbn capped at {}",
                e.guesses_log10()
            );
            let s = assess(pw);
            assert!(s.guesses_log10 >= at_least, "{pw}: {}", s.guesses_log10);
            assert!(!s.is_weak());
        }
        // Below the cap nothing changes.
        let e = zxcvbn::zxcvbn("Tr0ub4dor&3", &[]);
        assert_eq!(uncapped_log10(&e), e.guesses_log10());
    }

    /// The table the issue asks for: what install refuses and accepts, and why.
    #[cfg(feature = "strength")]
    #[test]
    fn password_table() {
        let refused: &[(&str, &str)] = &[
            (
                "aB3-xY9_qR7zK2mN",
                "16 random-looking characters: 10^16, about 22 days",
            ),
            (
                "Kx9#mQ2$vL7!pW4@",
                "16 random-looking characters with symbols",
            ),
            ("correct horse battery staple", "four common words"),
            ("correct-horse-battery-staple", "four common words, dashes"),
            (
                "Correct_Horse_Battery_Staple_Mountain",
                "five capitalised words",
            ),
            (
                "correcthorsebatterystaplebook",
                "five common words run together",
            ),
            ("Tr0ub4dor&3", "a leet word with a suffix"),
            ("P@ssw0rdP@ssw0rd2026!", "a leet word, repeated, a year"),
            ("Adm1n1str4t0rF0rg3r0ck", "leet variants of common words"),
            ("Amadmin2026!Amadmin2026!", "a repeated guessable block"),
            ("qwertyuiopasdfghjklzxcvbnm", "a keyboard walk"),
            ("forgerock-openam-amadmin-2026", "the product's own names"),
            ("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "a sequence"),
        ];
        for (pw, why) in refused {
            let s = assess(pw);
            assert!(s.is_weak(), "{why}: {pw} reaches 10^{:.1}", s.guesses_log10);
        }
        let accepted: &[(&str, &str)] = &[
            ("k3V9xQ2mZ7pL4wN8rT6yB1cH5fJ0dG", "28+ random characters"),
            (
                "7Hq-Zk2_mW9pXv4RtB8nLc3yJd6s",
                "28 random URL-safe characters",
            ),
        ];
        for (pw, why) in accepted {
            let s = assess(pw);
            assert!(!s.is_weak(), "{why}: {pw} only 10^{:.1}", s.guesses_log10);
        }
    }

    #[test]
    fn helper_reply_round_trips_and_anything_else_is_refused() {
        let s = Strength {
            guesses_log10: 11.04,
            warning: Some("This is similar to a commonly used password.".to_owned()),
        };
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
