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

use secrecy::SecretString;
use zeroize::Zeroizing;

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
#[derive(Debug, Clone)]
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
    fn alphabet_is_64_distinct_symbols() {
        let mut sorted = RANDOM_ALPHABET.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 64);
    }
}
