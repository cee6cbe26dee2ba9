//! The `{SSHA-512}` value AM reads from its special secret store.
//!
//! # Byte layout
//!
//! ```text
//! {SSHA-512}base64( len(1) ‖ salt(len) ‖ SHA-512(salt ‖ UTF-8 password)(64) )
//! ```
//!
//! `len` is a single unsigned byte (1..=255) giving the salt length. AM's own code
//! (`org.forgerock.openam.shared.security.crypto.Hashes.secureHash`) and the Python script in
//! the AM documentation both write a 20-byte salt, i.e. `struct.pack("B20s64s", 20, salt,
//! hash)`: 85 bytes, 116 base64 characters. The base64 alphabet is the standard one with `=`
//! padding and no line breaks.
//!
//! Parsing is strict: the text must be exactly what [`SshaHash`]'s `Display` writes, so
//! `parse(display(x)) == x` and `display(parse(s)) == s` for every accepted `s`.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest as _, Sha512};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::RandomError;

/// The scheme prefix AM expects.
pub const PREFIX: &str = "{SSHA-512}";
/// Salt length AM writes and `generate` uses by default.
pub const DEFAULT_SALT_LEN: usize = 20;
/// Length of a SHA-512 digest.
pub const DIGEST_LEN: usize = 64;

/// A salt of 1 to 255 bytes (the length must fit the format's single length byte).
#[derive(Clone, PartialEq, Eq)]
pub struct Salt(Vec<u8>);

impl Salt {
    /// Wraps `bytes` as a salt.
    ///
    /// # Errors
    /// [`SaltError`] when `bytes` is empty or longer than 255 bytes.
    pub fn new(bytes: Vec<u8>) -> Result<Self, SaltError> {
        if bytes.is_empty() || bytes.len() > usize::from(u8::MAX) {
            return Err(SaltError { len: bytes.len() });
        }
        Ok(Self(bytes))
    }

    /// A fresh salt of [`DEFAULT_SALT_LEN`] bytes from the operating system's CSPRNG.
    ///
    /// # Errors
    /// [`RandomError`] when the OS random source fails.
    pub fn random() -> Result<Self, RandomError> {
        let mut bytes = vec![0u8; DEFAULT_SALT_LEN];
        getrandom::getrandom(&mut bytes).map_err(RandomError)?;
        Ok(Self(bytes))
    }

    /// Parses a salt written as hex (for `--salt-hex`, vectors and tests).
    ///
    /// # Errors
    /// [`SaltError`] on invalid hex or a length outside 1..=255.
    pub fn from_hex(text: &str) -> Result<Self, SaltHexError> {
        let bytes = hex::decode(text).map_err(|_| SaltHexError::NotHex)?;
        Self::new(bytes).map_err(SaltHexError::Length)
    }

    /// The salt bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    fn len_byte(&self) -> u8 {
        // The constructor guarantees 1..=255.
        u8::try_from(self.0.len()).unwrap_or(u8::MAX)
    }
}

impl fmt::Debug for Salt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Salt({})", hex::encode(&self.0))
    }
}

/// A salt length outside what the format can carry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a salt must be 1 to 255 bytes long, not {len}")]
pub struct SaltError {
    /// The rejected length.
    pub len: usize,
}

/// Why a `--salt-hex` value was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SaltHexError {
    /// Not an even number of hex digits.
    #[error("the salt is not valid hex: give an even number of digits 0-9, a-f")]
    NotHex,
    /// Decoded, but of a length the format cannot carry.
    #[error(transparent)]
    Length(SaltError),
}

crate::error::fault_is!(SaltHexError: Input);
crate::error::fault_is!(ParseError: Input);

/// A parsed or freshly computed `{SSHA-512}` value.
///
/// Equality is constant time in the digest, so `==` is safe to use on secrets.
#[derive(Clone)]
pub struct SshaHash {
    salt: Salt,
    digest: [u8; DIGEST_LEN],
}

impl SshaHash {
    /// Hashes `password` (its UTF-8 bytes) with `salt`: SHA-512(salt ‖ password).
    pub fn with_salt(password: &[u8], salt: Salt) -> Self {
        let mut hasher = Sha512::new();
        hasher.update(salt.as_bytes());
        hasher.update(password);
        Self {
            digest: hasher.finalize().into(),
            salt,
        }
    }

    /// Hashes `password` with a fresh 20-byte random salt, as AM and its documentation do.
    ///
    /// # Errors
    /// [`RandomError`] when the OS random source fails.
    pub fn generate(password: &[u8]) -> Result<Self, RandomError> {
        Ok(Self::with_salt(password, Salt::random()?))
    }

    /// Hashes with `salt` when given (a known-answer check), else with a fresh random one.
    ///
    /// # Errors
    /// [`RandomError`] when the OS random source fails.
    pub fn new(password: &[u8], salt: Option<Salt>) -> Result<Self, RandomError> {
        match salt {
            Some(salt) => Ok(Self::with_salt(password, salt)),
            None => Self::generate(password),
        }
    }

    /// Whether `password` hashes to this value. Constant time in the digest comparison.
    pub fn verify(&self, password: &[u8]) -> bool {
        let candidate = Self::with_salt(password, self.salt.clone());
        bool::from(candidate.digest.ct_eq(&self.digest))
    }

    /// The salt.
    pub fn salt(&self) -> &Salt {
        &self.salt
    }

    /// The SHA-512 digest.
    pub fn digest(&self) -> &[u8; DIGEST_LEN] {
        &self.digest
    }

    /// The packed bytes before base64: `len ‖ salt ‖ digest`.
    fn packed(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(1 + self.salt.0.len() + DIGEST_LEN));
        out.push(self.salt.len_byte());
        out.extend_from_slice(self.salt.as_bytes());
        out.extend_from_slice(&self.digest);
        out
    }
}

// The digest is a password-equivalent for a fast hash, and a decrypted value is a secret:
// wipe both fields when the value goes away.
impl Drop for SshaHash {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.digest.zeroize();
        self.salt.0.zeroize();
    }
}

impl PartialEq for SshaHash {
    fn eq(&self, other: &Self) -> bool {
        self.salt == other.salt && bool::from(self.digest.ct_eq(&other.digest))
    }
}

impl Eq for SshaHash {}

impl fmt::Debug for SshaHash {
    // The value is what the tool exists to print, but keep `{:?}` from dumping it into a log
    // by accident: show only the salt length.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SshaHash")
            .field("salt_len", &self.salt.0.len())
            .finish_non_exhaustive()
    }
}

impl fmt::Display for SshaHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(PREFIX)?;
        f.write_str(&STANDARD.encode(self.packed()))
    }
}

/// Why a string is not a well-formed `{SSHA-512}` value.
///
/// Each variant is a different mistake with its own fix; none of them carries the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Nothing to parse.
    #[error("the value is empty: expected {{SSHA-512}} followed by base64")]
    Empty,
    /// Leading or trailing whitespace (a newline pasted with the value, usually).
    #[error(
        "the value has leading or trailing whitespace: remove it (AM reads the value byte for byte)"
    )]
    SurroundingWhitespace,
    /// A different, known scheme prefix.
    #[error("the value uses the {found} scheme, not {{SSHA-512}}: {hint}")]
    OtherScheme {
        /// The prefix found.
        found: String,
        /// What that scheme is and why AM cannot use it here.
        hint: &'static str,
    },
    /// No prefix, or an unknown one.
    #[error(
        "the value does not start with {{SSHA-512}}: AM's special secret store needs that prefix"
    )]
    MissingPrefix,
    /// The text after the prefix is not canonical standard base64.
    #[error(
        "the text after {{SSHA-512}} is not valid base64 ({detail}): copy the whole value again"
    )]
    InvalidBase64 {
        /// What the decoder objected to.
        detail: String,
    },
    /// Base64 padding followed by more text.
    #[error(
        "the value has trailing data after the base64 padding: remove everything after the final '='"
    )]
    TrailingGarbage,
    /// The first decoded byte, the salt length, is zero.
    #[error("the salt length byte is 0: not a valid {{SSHA-512}} value")]
    ZeroSaltLength,
    /// Fewer bytes than the salt length byte promises.
    #[error(
        "the value is truncated: {actual} bytes decoded, {expected} expected (1 + salt length {salt_len} + 64)"
    )]
    Truncated {
        /// Salt length byte.
        salt_len: usize,
        /// 1 + salt length + 64.
        expected: usize,
        /// Bytes decoded.
        actual: usize,
    },
    /// More bytes than the salt length byte promises.
    #[error(
        "the value has {extra} bytes of trailing data after the digest ({expected} expected for salt length {salt_len})"
    )]
    TrailingData {
        /// Salt length byte.
        salt_len: usize,
        /// 1 + salt length + 64.
        expected: usize,
        /// Bytes past the end.
        extra: usize,
    },
}

impl ParseError {
    /// A short stable name for each kind, used by the vectors and `--json`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::SurroundingWhitespace => "whitespace",
            Self::OtherScheme { .. } => "other-scheme",
            Self::MissingPrefix => "prefix",
            Self::InvalidBase64 { .. } => "base64",
            Self::TrailingGarbage => "trailing-garbage",
            Self::ZeroSaltLength => "zero-salt-length",
            Self::Truncated { .. } => "truncated",
            Self::TrailingData { .. } => "trailing-data",
        }
    }
}

/// Prefixes of other schemes an administrator may paste by mistake, longest first.
const OTHER_SCHEMES: &[(&str, &str)] = &[
    (
        "{SSHA512}",
        "LDAP servers (OpenDJ/DS) use {SSHA512} with digest first and salt last and no length byte; AM needs {SSHA-512}",
    ),
    (
        "{SSHA256}",
        "a salted SHA-256 hash; AM needs a salted SHA-512 {SSHA-512} value",
    ),
    (
        "{SSHA384}",
        "a salted SHA-384 hash; AM needs a salted SHA-512 {SSHA-512} value",
    ),
    (
        "{SHA512}",
        "an unsalted SHA-512 hash; AM needs a salted {SSHA-512} value",
    ),
    (
        "{SSHA}",
        "a salted SHA-1 hash; AM needs a salted SHA-512 {SSHA-512} value",
    ),
    (
        "{SHA}",
        "an unsalted SHA-1 hash; AM needs a salted SHA-512 {SSHA-512} value",
    ),
    (
        "{CRYPT}",
        "a crypt(3) hash; AM needs a salted SHA-512 {SSHA-512} value",
    ),
    (
        "{PBKDF2",
        "a PBKDF2 hash; AM's special secret store only reads {SSHA-512}",
    ),
    (
        "$6$",
        "a crypt(3) SHA-512 hash from /etc/shadow; AM needs a {SSHA-512} value",
    ),
];

impl FromStr for SshaHash {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, ParseError> {
        if text.is_empty() {
            return Err(ParseError::Empty);
        }
        if text.trim() != text {
            return Err(ParseError::SurroundingWhitespace);
        }
        let Some(body) = text.strip_prefix(PREFIX) else {
            return Err(other_scheme(text));
        };
        let decoded = decode_body(body)?;
        let Some((&len_byte, rest)) = decoded.split_first() else {
            return Err(ParseError::InvalidBase64 {
                detail: "no data after the prefix".into(),
            });
        };
        if len_byte == 0 {
            return Err(ParseError::ZeroSaltLength);
        }
        let salt_len = usize::from(len_byte);
        let expected = 1 + salt_len + DIGEST_LEN;
        let actual = decoded.len();
        if actual < expected {
            return Err(ParseError::Truncated {
                salt_len,
                expected,
                actual,
            });
        }
        if actual > expected {
            return Err(ParseError::TrailingData {
                salt_len,
                expected,
                extra: actual - expected,
            });
        }
        let (salt, digest) = rest.split_at(salt_len);
        let digest: [u8; DIGEST_LEN] = digest.try_into().map_err(|_| ParseError::Truncated {
            salt_len,
            expected,
            actual,
        })?;
        Ok(Self {
            salt: Salt(salt.to_vec()),
            digest,
        })
    }
}

fn other_scheme(text: &str) -> ParseError {
    let upper = text.to_ascii_uppercase();
    for (prefix, hint) in OTHER_SCHEMES {
        if upper.starts_with(prefix) {
            return ParseError::OtherScheme {
                found: text.get(..prefix.len()).unwrap_or(prefix).to_string(),
                hint,
            };
        }
    }
    if upper.starts_with("{SSHA-512}") {
        // Right scheme, wrong case: AM compares the prefix exactly.
        return ParseError::OtherScheme {
            found: text.get(..PREFIX.len()).unwrap_or(PREFIX).to_string(),
            hint: "the prefix must be written exactly {SSHA-512}, in upper case",
        };
    }
    ParseError::MissingPrefix
}

/// Decodes canonical padded standard base64, telling trailing garbage apart from other errors.
fn decode_body(body: &str) -> Result<Zeroizing<Vec<u8>>, ParseError> {
    if body.is_empty() {
        return Err(ParseError::InvalidBase64 {
            detail: "no data after the prefix".into(),
        });
    }
    // "...==junk" or "...=junk": text after padding is trailing garbage, not a base64 typo.
    if let Some(pad) = body.find('=') {
        let after = body.get(pad..).unwrap_or("");
        if !after.trim_start_matches('=').is_empty() {
            return Err(ParseError::TrailingGarbage);
        }
    }
    STANDARD
        .decode(body)
        .map(Zeroizing::new)
        .map_err(|e| ParseError::InvalidBase64 {
            detail: describe_base64_error(&e),
        })
}

fn describe_base64_error(error: &base64::DecodeError) -> String {
    use base64::DecodeError as E;
    match error {
        E::InvalidByte(offset, byte) => {
            format!("character {:?} at offset {offset}", char::from(*byte))
        }
        E::InvalidLength(len) => format!("{len} characters is not a whole number of base64 quads"),
        E::InvalidLastSymbol { offset, .. } => {
            format!("non-canonical final character at offset {offset}")
        }
        E::InvalidPadding => "missing or non-canonical '=' padding".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AM's own Java code (`Hashes.secureHash`), as published in ForgeRock's forgeops
    /// repository: password `forgerock`, salt = 20 zero bytes.
    const FORGEOPS: &str = "{SSHA-512}FAAAAAAAAAAAAAAAAAAAAAAAAAAAjSSqRIRQ0t41hid6CvguVVR/XChxJUw1jpU8+My3/X0XiwXWz/swJxDAwmBl05CoAceOGj3MW2SKeIm/aqzHdg==";

    #[test]
    fn forgeops_vector() {
        let h = SshaHash::with_salt(b"forgerock", Salt::new(vec![0; 20]).unwrap());
        assert_eq!(h.to_string(), FORGEOPS);
        let parsed: SshaHash = FORGEOPS.parse().unwrap();
        assert_eq!(parsed, h);
        assert!(parsed.verify(b"forgerock"));
        assert!(!parsed.verify(b"forgerocK"));
        assert!(!parsed.verify(b""));
    }

    #[test]
    fn layout_is_len_salt_digest() {
        let salt = Salt::new((1..=20).collect()).unwrap();
        let h = SshaHash::with_salt(b"pw", salt);
        let text = h.to_string();
        let raw = STANDARD.decode(text.strip_prefix(PREFIX).unwrap()).unwrap();
        assert_eq!(raw.len(), 85);
        assert_eq!(raw[0], 20);
        assert_eq!(&raw[1..21], &(1..=20).collect::<Vec<u8>>()[..]);
        let mut expected = Sha512::new();
        expected.update(&raw[1..21]);
        expected.update(b"pw");
        assert_eq!(&raw[21..], &expected.finalize()[..]);
        assert_eq!(text.len(), PREFIX.len() + 116);
    }

    #[test]
    fn salt_lengths_1_and_255_round_trip() {
        for len in [1usize, 2, 19, 20, 21, 64, 254, 255] {
            let salt = Salt::new(vec![0xab; len]).unwrap();
            let h = SshaHash::with_salt(b"secret", salt);
            let back: SshaHash = h.to_string().parse().unwrap();
            assert_eq!(back, h, "salt length {len}");
            assert!(back.verify(b"secret"));
        }
        assert_eq!(Salt::new(vec![]), Err(SaltError { len: 0 }));
        assert_eq!(Salt::new(vec![0; 256]), Err(SaltError { len: 256 }));
    }

    #[test]
    fn salt_hex() {
        assert_eq!(Salt::from_hex("00ff").unwrap().as_bytes(), &[0, 255]);
        assert_eq!(Salt::from_hex("0").unwrap_err(), SaltHexError::NotHex);
        assert_eq!(Salt::from_hex("zz").unwrap_err(), SaltHexError::NotHex);
        assert!(matches!(
            Salt::from_hex("").unwrap_err(),
            SaltHexError::Length(_)
        ));
        assert!(matches!(
            Salt::from_hex(&"00".repeat(256)).unwrap_err(),
            SaltHexError::Length(_)
        ));
    }

    #[test]
    fn random_salts_differ() {
        let a = SshaHash::generate(b"pw").unwrap();
        let b = SshaHash::generate(b"pw").unwrap();
        assert_eq!(a.salt().as_bytes().len(), DEFAULT_SALT_LEN);
        assert_ne!(a.salt(), b.salt());
        assert!(a.verify(b"pw") && b.verify(b"pw"));
    }

    fn body_of(raw: &[u8]) -> String {
        format!("{PREFIX}{}", STANDARD.encode(raw))
    }

    #[test]
    fn malformed_values_each_get_their_own_error() {
        let good = FORGEOPS;
        let body = good.strip_prefix(PREFIX).unwrap();
        let mut raw = STANDARD.decode(body).unwrap();
        let cases: Vec<(String, &str)> = vec![
            (String::new(), "empty"),
            (format!(" {good}"), "whitespace"),
            (format!("{good}\n"), "whitespace"),
            (format!("{good}\t"), "whitespace"),
            (format!("{{SSHA512}}{body}"), "other-scheme"),
            (format!("{{ssha512}}{body}"), "other-scheme"),
            (format!("{{SSHA}}{body}"), "other-scheme"),
            (format!("{{ssha-512}}{body}"), "other-scheme"),
            ("$6$abc$def".into(), "other-scheme"),
            (body.to_string(), "prefix"),
            (format!("SSHA-512{body}"), "prefix"),
            (PREFIX.to_string(), "base64"),
            (format!("{PREFIX}{}", &body[..body.len() - 2]), "base64"),
            (format!("{PREFIX}{}", body.replace('+', "-")), "base64"),
            (format!("{PREFIX}{}", body.replace("==", "")), "base64"),
            (
                format!("{PREFIX}{}", body.replace("dg==", "dh==")),
                "base64",
            ),
            (format!("{PREFIX}{} x", &body[..4]), "base64"),
            (format!("{good}AAAA"), "trailing-garbage"),
            (format!("{good}x"), "trailing-garbage"),
            (format!("{good}="), "base64"),
            (body_of(&raw[..raw.len() - 1]), "truncated"),
            (body_of(&raw[..1]), "truncated"),
            (body_of(&[raw.clone(), vec![0]].concat()), "trailing-data"),
        ];
        raw[0] = 0;
        let zero = body_of(&raw);
        raw[0] = 255;
        let big = body_of(&raw);
        let cases = cases
            .into_iter()
            .chain([(zero, "zero-salt-length"), (big, "truncated")]);
        for (input, kind) in cases {
            let err = input.parse::<SshaHash>().unwrap_err();
            assert_eq!(err.kind(), kind, "input {input:?}: {err}");
            // No message carries the base64 body.
            assert!(!err.to_string().contains(&body[..20]));
        }
    }

    #[test]
    fn ldap_ssha512_hint_names_the_layout() {
        let msg = "{SSHA512}abcd".parse::<SshaHash>().unwrap_err().to_string();
        assert!(msg.contains("{SSHA512}") && msg.contains("LDAP"), "{msg}");
    }

    #[test]
    fn debug_does_not_print_the_value() {
        let h: SshaHash = FORGEOPS.parse().unwrap();
        let dbg = format!("{h:?}");
        assert!(!dbg.contains("jSSqRIRQ"), "{dbg}");
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn parse_display_round_trip(salt in proptest::collection::vec(any::<u8>(), 1..=255), pw in proptest::collection::vec(any::<u8>(), 0..300)) {
                let h = SshaHash::with_salt(&pw, Salt::new(salt).unwrap());
                let text = h.to_string();
                let back: SshaHash = text.parse().unwrap();
                prop_assert_eq!(&back, &h);
                prop_assert_eq!(back.to_string(), text);
            }

            #[test]
            fn generate_then_verify(pw in "\\PC{1,80}") {
                let h = SshaHash::generate(pw.as_bytes()).unwrap();
                prop_assert!(h.verify(pw.as_bytes()));
                let mut other = pw.clone();
                other.push('x');
                prop_assert!(!h.verify(other.as_bytes()));
            }

            #[test]
            fn parser_never_panics(s in "\\PC{0,200}") {
                let _ = s.parse::<SshaHash>();
            }

            #[test]
            fn parser_never_panics_on_prefixed_base64(raw in proptest::collection::vec(any::<u8>(), 0..400)) {
                let text = format!("{PREFIX}{}", STANDARD.encode(&raw));
                if let Ok(h) = text.parse::<SshaHash>() {
                    prop_assert_eq!(h.to_string(), text);
                }
            }
        }
    }
}
