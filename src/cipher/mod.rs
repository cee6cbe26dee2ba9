//! Encryption of the `{SSHA-512}` value: the two formats AM itself reads, and a local envelope.
//!
//! Three schemes, one file each, each with its byte layout written down in its own doc:
//!
//! | scheme | file | who reads it | starts with (decoded bytes) |
//! |---|---|---|---|
//! | [`Scheme::AmJce`] | [`am_jce`] | AM `JCEEncryption` (PBEWithMD5AndDES, the AM default) | `01 02 02` |
//! | [`Scheme::AmAesWrap`] | [`am_aeswrap`] | AM `AESWrapEncryption` (PBKDF2 + AES key wrap, RFC 3394 or RFC 5649) | `02` |
//! | [`Scheme::AesGcm`] | [`aes_gcm`] | amhash only (AES-256-GCM under a local 32-byte key) | `41 4D 48 47` (`"AMHG"`) |
//!
//! Every value travels as standard base64 text (RFC 4648 alphabet with `+` and `/`, padded with
//! `=`, one line). On input, [`decode_base64_lenient`] also accepts the line breaks that
//! `base64` and `gcloud ... | base64` insert every 76 columns and whitespace around the value;
//! anything else that is not base64 is refused.
//!
//! The leading bytes above do not overlap, so [`Scheme::detect`] tells the scheme of any value
//! without the user saying which. Inside AESWrap, RFC 3394 (KW) and RFC 5649 (KWP) have the same
//! layout and length; [`am_decrypt`] tells them apart by their integrity check and reports which
//! one matched in [`Decrypted::cipher`].
//!
//! Errors separate "this is not a value we can parse" ([`ErrorKind::Malformed`]) from "this
//! parses but the key is wrong or the bytes were changed" ([`ErrorKind::WrongKeyOrTampered`]),
//! so a command line can give them different exit codes. JCE has no integrity check over the
//! data (see [`am_jce`]): only its password check and its padding can reject a value, and a
//! changed ciphertext can decrypt to different bytes without any error. Callers that decrypt a
//! JCE value must check that the result is what they expect (an `{SSHA-512}` value).

pub mod aes_gcm;
pub mod am_aeswrap;
pub mod am_jce;

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::SecretString;

use crate::error::Fault;
use zeroize::Zeroizing;

pub use self::aes_gcm::{LocalKey, gcm_open, gcm_seal, gcm_seal_with_nonce};
pub use self::am_aeswrap::{AmKdf, KdfDigest, KeyWrap};

/// An encryption scheme amhash reads, as told by the first bytes of a decoded value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// AM `JCEEncryption`: PBEWithMD5AndDES, bytes start `01 02 02`.
    AmJce,
    /// AM `AESWrapEncryption`: PBKDF2 + AES key wrap, bytes start `02`.
    AmAesWrap,
    /// The amhash local AES-256-GCM envelope, bytes start with `"AMHG"`.
    AesGcm,
}

impl Scheme {
    /// Which scheme the decoded bytes of a value belong to, or `None` when no scheme matches.
    ///
    /// Only the leading bytes are looked at; whether the rest is well formed is found out when
    /// the value is decrypted.
    #[must_use]
    pub fn detect(bytes: &[u8]) -> Option<Scheme> {
        if bytes.starts_with(&am_jce::HEADER) {
            Some(Scheme::AmJce)
        } else if bytes.first() == Some(&am_aeswrap::VERSION) {
            Some(Scheme::AmAesWrap)
        } else if bytes.starts_with(&aes_gcm::MAGIC) {
            Some(Scheme::AesGcm)
        } else {
            None
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scheme::AmJce => "AM JCE (PBEWithMD5AndDES)",
            Scheme::AmAesWrap => "AM AESWrap",
            Scheme::AesGcm => "amhash AES-256-GCM",
        })
    }
}

/// Decodes a base64 value and tells its scheme.
///
/// # Errors
/// [`MalformedValue::Empty`] or [`MalformedValue::Base64`] when the text is not base64,
/// [`MalformedValue::UnknownScheme`] when the bytes match no scheme.
pub fn detect_scheme(value: &str) -> Result<Scheme, CipherError> {
    let bytes = decode_base64_lenient(value)?;
    Scheme::detect(&bytes).ok_or_else(|| unknown_scheme(&bytes))
}

fn unknown_scheme(bytes: &[u8]) -> CipherError {
    CipherError::Malformed(MalformedValue::UnknownScheme {
        first: bytes.first().copied().unwrap_or(0),
    })
}

/// An AM encryption: the cipher AM uses to read a value encrypted with its encryption password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AmCipher {
    /// `JCEEncryption`, PBEWithMD5AndDES: the AM default (`com.iplanet.security.encryptor`).
    Jce,
    /// `AESWrapEncryption` with AES key wrap of RFC 3394 (`AESWrap`, what ForgeRock's class
    /// asks the JDK for).
    AesWrap,
    /// `AESWrapEncryption` with AES key wrap with padding of RFC 5649 (`AESWrapPad`, what a
    /// community OpenAM fork asks for on Java 17 and later).
    AesWrapPad,
}

impl AmCipher {
    /// The scheme (and so the leading bytes) of values made with this cipher.
    #[must_use]
    pub fn scheme(self) -> Scheme {
        match self {
            AmCipher::Jce => Scheme::AmJce,
            AmCipher::AesWrap | AmCipher::AesWrapPad => Scheme::AmAesWrap,
        }
    }

    /// The encryptor in words, naming the key wrap for AESWrap.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            AmCipher::Jce => "JCEEncryption (jce)",
            AmCipher::AesWrap => "AESWrapEncryption with the RFC 3394 key wrap (aeswrap)",
            AmCipher::AesWrapPad => "AESWrapEncryption with the RFC 5649 key wrap (aeswrap-pad)",
        }
    }
}

// The names `--am-cipher` takes, in any letter case.
crate::names::names! {
    AmCipher {
        Jce => "jce",
        AesWrap => "aeswrap",
        AesWrapPad => "aeswrap-pad",
    }
    unknown: CipherError = |name| CipherError::Invalid(InvalidInput::UnknownCipher(name))
}

/// The plaintext of an AM value and the cipher that opened it.
///
/// Holds a secret: no `Debug`, and the plaintext is zeroized on drop.
pub struct Decrypted {
    /// Which AM cipher the value was made with (for AESWrap: which key wrap matched).
    pub cipher: AmCipher,
    /// The decrypted bytes.
    pub plaintext: Zeroizing<Vec<u8>>,
}

impl Decrypted {
    /// The scheme of the value.
    #[must_use]
    pub fn scheme(&self) -> Scheme {
        self.cipher.scheme()
    }
}

/// Encrypts `plaintext` the way AM does with its encryption password, as base64 text.
///
/// `kdf` is used by the AESWrap ciphers only; it must match the
/// `org.forgerock.openam.encryption.key.*` settings of the AM that will read the value.
/// AESWrap values get a fresh random 16-byte salt from the operating system.
///
/// # Errors
/// [`InvalidInput::BlankPassword`], [`InvalidInput::NonAsciiPassword`] (JCE only),
/// [`InvalidInput::PlaintextTooShort`] (RFC 3394 needs at least 8 bytes of plaintext),
/// [`CipherError::Random`] when the OS random generator fails.
pub fn am_encrypt(
    cipher: AmCipher,
    am_password: &SecretString,
    kdf: &AmKdf,
    plaintext: &[u8],
) -> Result<String, CipherError> {
    let bytes = match cipher {
        AmCipher::Jce => am_jce::encrypt(am_password, plaintext)?,
        AmCipher::AesWrap | AmCipher::AesWrapPad => {
            let wrap = if cipher == AmCipher::AesWrap {
                KeyWrap::Kw
            } else {
                KeyWrap::Kwp
            };
            let mut salt = [0u8; am_aeswrap::SALT_LEN];
            random_bytes(&mut salt)?;
            am_aeswrap::encrypt_with_salt(wrap, am_password, kdf, &salt, plaintext)?
        }
    };
    Ok(STANDARD.encode(bytes))
}

/// Decrypts an AM value (JCE, or AESWrap with either key wrap), telling the cipher from the
/// value itself.
///
/// # Errors
/// Malformed input ([`ErrorKind::Malformed`]): not base64, empty, unknown leading bytes, an
/// amhash AES-GCM value ([`MalformedValue::WrongScheme`]), too short, bad lengths.
/// [`CipherError::WrongKeyOrTampered`] when the password (or for AESWrap the KDF settings) is
/// not the one the value was made with, or the value was changed. Password errors as for
/// [`am_encrypt`]. A JCE value changed inside its ciphertext may decrypt without error (JCE has
/// no integrity check): check the plaintext.
pub fn am_decrypt(
    am_password: &SecretString,
    kdf: &AmKdf,
    value: &str,
) -> Result<Decrypted, CipherError> {
    let bytes = decode_base64_lenient(value)?;
    match Scheme::detect(&bytes) {
        Some(Scheme::AmJce) => Ok(Decrypted {
            cipher: AmCipher::Jce,
            plaintext: am_jce::decrypt(am_password, &bytes)?,
        }),
        Some(Scheme::AmAesWrap) => {
            let (cipher, plaintext) = am_aeswrap::decrypt(am_password, kdf, &bytes)?;
            Ok(Decrypted { cipher, plaintext })
        }
        Some(found @ Scheme::AesGcm) => Err(CipherError::Malformed(MalformedValue::WrongScheme {
            expected: "an AM encrypted value",
            found,
        })),
        None => Err(unknown_scheme(&bytes)),
    }
}

/// Decodes base64 text as written by people and tools: surrounding whitespace and line breaks
/// (`\n` or `\r\n`, e.g. the 76-column wrapping of `base64`) are ignored; everything else must
/// be standard, padded base64 (RFC 4648 §4), with no spaces inside a line.
///
/// # Errors
/// [`MalformedValue::Empty`] for empty or blank text, [`MalformedValue::Base64`] otherwise.
pub fn decode_base64_lenient(text: &str) -> Result<Vec<u8>, CipherError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(CipherError::Malformed(MalformedValue::Empty));
    }
    // Line breaks are the only thing allowed between the base64 characters: a CR must be part of
    // a CRLF pair, so a stray CR is left in and rejected by the decoder.
    let joined: String = trimmed
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .collect();
    STANDARD.decode(joined).map_err(|e| {
        CipherError::Malformed(MalformedValue::Base64 {
            reason: e.to_string(),
        })
    })
}

/// Fills `buf` from the operating system's CSPRNG.
pub(crate) fn random_bytes(buf: &mut [u8]) -> Result<(), CipherError> {
    getrandom::getrandom(buf).map_err(|e| CipherError::Random {
        reason: e.to_string(),
    })
}

/// What kind of failure a [`CipherError`] is, for callers that map errors to exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The value is not something we can parse (bad base64, unknown scheme, wrong lengths).
    Malformed,
    /// The value parses but does not decrypt: the key is wrong or the data was altered.
    WrongKeyOrTampered,
    /// A parameter given by the caller is unusable (password, KDF settings, key text, cipher name).
    InvalidInput,
    /// The system failed (the OS random generator).
    System,
}

/// Errors of the cipher module. No variant carries secret or secret-derived bytes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CipherError {
    /// The value is not well formed in its scheme.
    #[error(transparent)]
    Malformed(#[from] MalformedValue),
    /// Authentication, key-wrap integrity, password check or padding failed.
    #[error("could not decrypt the {scheme} value: the key is wrong or the data was altered")]
    WrongKeyOrTampered {
        /// The scheme the value is in.
        scheme: Scheme,
    },
    /// A parameter, a password, a plaintext or a key that the cipher cannot take.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// The operating system random generator failed.
    #[error("the operating system random number generator failed: {reason}")]
    Random {
        /// The OS error.
        reason: String,
    },
}

/// A value that is not well formed in its scheme ([`ErrorKind::Malformed`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MalformedValue {
    /// The value is empty or only whitespace.
    #[error("the encrypted value is empty: pass the base64 text of an encrypted value")]
    Empty,
    /// The value is not standard padded base64.
    #[error(
        "the encrypted value is not valid base64 ({reason}): pass standard, padded base64 text"
    )]
    Base64 {
        /// What the decoder found wrong (position and character of the value, not secret).
        reason: String,
    },
    /// The decoded bytes start like no scheme amhash knows.
    #[error(
        "the value is in no known encrypted format (first byte 0x{first:02x}): expected AM JCE \
         (01 02 02), AM AESWrap (02) or an amhash AES-GCM envelope (\"AMHG\")"
    )]
    UnknownScheme {
        /// The first decoded byte (0 when there is none).
        first: u8,
    },
    /// The value is of a known scheme, but not the one this operation reads.
    #[error("the value is {found}, not {expected}: decrypt it with the matching key")]
    WrongScheme {
        /// What the operation reads.
        expected: &'static str,
        /// The scheme the value is in.
        found: Scheme,
    },
    /// The value is shorter than the smallest well-formed value of its scheme.
    #[error("the {scheme} value is truncated: {len} bytes, at least {min} expected")]
    Truncated {
        /// The scheme the value is in.
        scheme: Scheme,
        /// Its length in bytes after base64 decoding.
        len: usize,
        /// The smallest well-formed length.
        min: usize,
    },
    /// An AESWrap value declares a salt longer than the bytes that follow.
    #[error(
        "the AM AESWrap value declares a {declared}-byte salt but only {available} bytes follow \
         its header: the value is cut or corrupt"
    )]
    SaltPastEnd {
        /// The salt length in the header.
        declared: usize,
        /// The bytes after the header.
        available: usize,
    },
    /// An AESWrap value declares a salt shorter than AM accepts.
    #[error("the AM AESWrap value declares a {declared}-byte salt; AM requires at least 16")]
    SaltTooShort {
        /// The salt length in the header.
        declared: usize,
    },
    /// The ciphertext length is not a whole number of blocks.
    #[error(
        "the {scheme} ciphertext is {len} bytes, not a multiple of {block}: the value is cut or \
         corrupt"
    )]
    BadLength {
        /// The scheme the value is in.
        scheme: Scheme,
        /// The ciphertext length.
        len: usize,
        /// The block (or semiblock) size it must be a multiple of.
        block: usize,
    },
    /// An amhash AES-GCM envelope of a version this build does not read.
    #[error("unsupported amhash AES-GCM envelope version {found}: this amhash reads version 1")]
    UnsupportedVersion {
        /// The version byte found.
        found: u8,
    },
    /// An AESWrap value passed its integrity check but its PKCS#5 padding is wrong, so it was
    /// encrypted by something other than AM.
    #[error(
        "the AM AESWrap value decrypted but its PKCS#5 padding is invalid: it was not made by AM"
    )]
    BadInnerPadding,
}

/// A parameter, a password, a plaintext or a key the cipher cannot take
/// ([`ErrorKind::InvalidInput`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidInput {
    /// The AM encryption password is empty or only whitespace (AM refuses such passwords).
    #[error("the AM encryption password is empty or blank: pass the encryption password of AM")]
    BlankPassword,
    /// JCE was asked for with a password that the JDK's PBEWithMD5AndDES refuses.
    #[error(
        "the AM encryption password has characters outside printable ASCII, which AM's JCE \
         encryption (PBEWithMD5AndDES) refuses: use the aeswrap cipher or an ASCII password"
    )]
    NonAsciiPassword,
    /// PBKDF2 iteration count outside what AM accepts.
    #[error(
        "PBKDF2 iteration count {0} is out of range: AM accepts 10000 to 2147483647 \
         (org.forgerock.openam.encryption.key.iterations)"
    )]
    BadIterations(u32),
    /// AES key size AM cannot use.
    #[error(
        "AES key size of {0} bits is not supported: use 128, 192 or 256 \
         (org.forgerock.openam.encryption.key.size)"
    )]
    BadKeySize(u32),
    /// PBKDF2 digest name not recognised.
    #[error("unknown PBKDF2 digest \"{0}\": use SHA1, SHA256, SHA384 or SHA512")]
    UnknownDigest(String),
    /// AM cipher name not recognised.
    #[error("unknown AM cipher \"{0}\": use jce, aeswrap or aeswrap-pad")]
    UnknownCipher(String),
    /// RFC 3394 key wrap needs at least two 64-bit blocks; the JDK refuses fewer.
    #[error(
        "the plaintext is {len} bytes: AES key wrap (RFC 3394) needs at least 8, use aeswrap-pad"
    )]
    PlaintextTooShort {
        /// The plaintext length.
        len: usize,
    },
    /// The plaintext is longer than the cipher can take.
    #[error("the plaintext is {len} bytes, too long for this cipher")]
    PlaintextTooLong {
        /// The plaintext length.
        len: usize,
    },
    /// A local key given as raw bytes is not 32 bytes long.
    #[error("the local AES-256 key must be 32 bytes, got {len}")]
    KeyLength {
        /// The length given.
        len: usize,
    },
    /// A local key file's text is not 64 hexadecimal characters.
    #[error(
        "the local key text must be exactly 64 hexadecimal characters ({problem}): check the key \
         file"
    )]
    KeyText {
        /// What is wrong, without any character of the key.
        problem: &'static str,
    },
}

impl CipherError {
    /// The kind of this error.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        match self {
            CipherError::Malformed(_) => ErrorKind::Malformed,
            CipherError::WrongKeyOrTampered { .. } => ErrorKind::WrongKeyOrTampered,
            CipherError::Invalid(_) => ErrorKind::InvalidInput,
            CipherError::Random { .. } => ErrorKind::System,
        }
    }
}

impl crate::error::Error for CipherError {
    /// A malformed value or an invalid parameter is the input's fault; a wrong key, altered
    /// data or a failed random source is operational.
    fn fault(&self) -> Fault {
        match self.kind() {
            ErrorKind::Malformed | ErrorKind::InvalidInput => Fault::Input,
            ErrorKind::WrongKeyOrTampered | ErrorKind::System => Fault::Operational,
        }
    }
}

#[cfg(test)]
mod tests;
