//! AM `AESWrapEncryption` (`org.forgerock.openam.shared.security.crypto.AESWrapEncryption`):
//! a key derived from the AM encryption password with PBKDF2 and a fresh salt, then AES key
//! wrap of the PKCS#5-padded plaintext.
//!
//! # Byte layout (then standard base64)
//!
//! ```text
//! offset    len   field
//! 0         1     0x02  version (1 is JCEEncryption)
//! 1         1     s     salt length; AM writes 16 and refuses less than 16
//! 2         s     salt  random, from the OS CSPRNG
//! 2+s       8n+8  AESKW(K, PKCS#5-pad-to-8(plaintext)), n >= 1 (n >= 2 for RFC 3394)
//! ```
//!
//! `K = PBKDF2-HMAC-<digest>(UTF-8 password, salt, iterations, key_bits)`, with AM's settings
//! `org.forgerock.openam.encryption.key.digest` (SHA1, SHA256, SHA384, SHA512; default SHA1),
//! `.iterations` (at least 10 000, the default) and `.size` (128, 192 or 256 bits; default 128),
//! held in [`AmKdf`]. The settings are not in the value: reading a value needs the same ones.
//!
//! PKCS#5 padding adds 1 to 8 bytes of value `n` to make the length a multiple of 8 (AM's own
//! `pkcs5pad`). AESKW is one of two key wraps, told apart only by their integrity check value
//! (the lengths are the same, as the padded input is already a multiple of 8):
//!
//! - [`KeyWrap::Kw`], RFC 3394 (`AESWrap`): what ForgeRock's `AESWrapEncryption` asks the JDK
//!   for, on every Java version. The JDK refuses inputs shorter than two 64-bit blocks, so
//!   plaintexts shorter than 8 bytes are refused.
//! - [`KeyWrap::Kwp`], RFC 5649 (`AESWrapPad`): what a community fork of OpenAM switched to on
//!   Java 17 and later (2022), to fix short inputs.
//!
//! Which one a given AM reads is not told by its Java version; a value that AM encrypted is:
//! [`decrypt`] tries KW, and on an integrity failure KWP, and says which one matched (the
//! binary's `--am-sample`).

use std::str::FromStr;

use aes_kw::{KekAes128, KekAes192, KekAes256};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use super::{AmCipher, CipherError, InvalidInput, MalformedValue, Scheme};

/// The version byte of AESWrap values.
pub const VERSION: u8 = 0x02;
/// The salt length AM writes, as the byte written in the header.
const SALT_LEN_BYTE: u8 = 16;
/// The salt length AM writes.
pub const SALT_LEN: usize = SALT_LEN_BYTE as usize;
/// The smallest salt AM accepts when reading.
const MIN_SALT_LEN: usize = 16;
/// AES key wrap works in 64-bit semiblocks.
const SEMIBLOCK: usize = 8;
/// A KW/KWP output is at least the integrity value plus one semiblock (KWP) ...
const MIN_WRAPPED: usize = 2 * SEMIBLOCK;
/// ... and at least the integrity value plus two semiblocks for KW (RFC 3394 §2, and the JDK).
const MIN_WRAPPED_KW: usize = 3 * SEMIBLOCK;

/// The HMAC digest of PBKDF2, as AM's `org.forgerock.openam.encryption.key.digest` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum KdfDigest {
    /// HMAC-SHA1, the AM default.
    #[default]
    Sha1,
    /// HMAC-SHA256.
    Sha256,
    /// HMAC-SHA384.
    Sha384,
    /// HMAC-SHA512.
    Sha512,
}

// The AM names.
crate::names::names! {
    KdfDigest {
        Sha1 => "SHA1",
        Sha256 => "SHA256",
        Sha384 => "SHA384",
        Sha512 => "SHA512",
    }
}

impl FromStr for KdfDigest {
    type Err = CipherError;

    /// The AM names in any letter case, with or without a hyphen after `SHA`:
    /// `SHA1`, `sha256`, `SHA-384`, `sha-512`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let without_hyphen = s
            .get(..4)
            .filter(|p| p.eq_ignore_ascii_case("sha-"))
            .and_then(|_| s.get(4..))
            .map(|bits| format!("SHA{bits}"));
        KdfDigest::from_name(without_hyphen.as_deref().unwrap_or(s))
            .ok_or_else(|| CipherError::Invalid(InvalidInput::UnknownDigest(s.to_owned())))
    }
}

/// PBKDF2 settings of AM's AESWrapEncryption; [`Default`] is AM's default (SHA1, 10 000, 128).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AmKdf {
    digest: KdfDigest,
    iterations: u32,
    key_bits: u32,
}

impl Default for AmKdf {
    fn default() -> Self {
        AmKdf {
            digest: KdfDigest::Sha1,
            iterations: AmKdf::MIN_ITERATIONS,
            key_bits: 128,
        }
    }
}

impl AmKdf {
    /// AM refuses fewer PBKDF2 iterations (and uses this many by default).
    pub const MIN_ITERATIONS: u32 = 10_000;
    /// AM reads the count into a Java `int`.
    pub const MAX_ITERATIONS: u32 = i32::MAX.unsigned_abs();

    /// Checked settings.
    ///
    /// # Errors
    /// [`InvalidInput::BadIterations`] outside 10 000 ..= 2^31-1,
    /// [`InvalidInput::BadKeySize`] unless `key_bits` is 128, 192 or 256.
    pub fn new(digest: KdfDigest, iterations: u32, key_bits: u32) -> Result<Self, CipherError> {
        if !(Self::MIN_ITERATIONS..=Self::MAX_ITERATIONS).contains(&iterations) {
            return Err(CipherError::Invalid(InvalidInput::BadIterations(
                iterations,
            )));
        }
        if !matches!(key_bits, 128 | 192 | 256) {
            return Err(CipherError::Invalid(InvalidInput::BadKeySize(key_bits)));
        }
        Ok(AmKdf {
            digest,
            iterations,
            key_bits,
        })
    }

    /// The PBKDF2 HMAC digest.
    #[must_use]
    pub fn digest(&self) -> KdfDigest {
        self.digest
    }

    /// The PBKDF2 iteration count.
    #[must_use]
    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    /// The AES key size in bits (128, 192 or 256).
    #[must_use]
    pub fn key_bits(&self) -> u32 {
        self.key_bits
    }

    /// PBKDF2 into a 32-byte buffer, of which the first `key_bits / 8` bytes are the key.
    fn derive(&self, password: &[u8], salt: &[u8]) -> Kek {
        let mut key = Zeroizing::new([0u8; 32]);
        let out = match self.key_bits {
            128 => &mut key[..16],
            192 => &mut key[..24],
            _ => &mut key[..],
        };
        let rounds = self.iterations;
        match self.digest {
            KdfDigest::Sha1 => pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, rounds, out),
            KdfDigest::Sha256 => pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, rounds, out),
            KdfDigest::Sha384 => pbkdf2::pbkdf2_hmac::<sha2::Sha384>(password, salt, rounds, out),
            KdfDigest::Sha512 => pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password, salt, rounds, out),
        }
        let key = &*key;
        match self.key_bits {
            128 => Kek::A128(KekAes128::new((&key[..16]).into())),
            192 => Kek::A192(KekAes192::new((&key[..24]).into())),
            _ => Kek::A256(KekAes256::new(key.into())),
        }
    }
}

/// Which AES key wrap an AESWrap value uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyWrap {
    /// RFC 3394 AES key wrap (`AESWrap`).
    Kw,
    /// RFC 5649 AES key wrap with padding (`AESWrapPad`).
    Kwp,
}

impl KeyWrap {
    /// The AM cipher name of this wrap.
    #[must_use]
    pub fn cipher(self) -> AmCipher {
        match self {
            KeyWrap::Kw => AmCipher::AesWrap,
            KeyWrap::Kwp => AmCipher::AesWrapPad,
        }
    }
}

/// A key-encryption key of the size the settings ask for.
enum Kek {
    A128(KekAes128),
    A192(KekAes192),
    A256(KekAes256),
}

macro_rules! with_kek {
    ($kek:expr, $k:ident => $body:expr) => {
        match $kek {
            Kek::A128($k) => $body,
            Kek::A192($k) => $body,
            Kek::A256($k) => $body,
        }
    };
}

/// The password as AM's PBKDF2 takes it: UTF-8 bytes of a non-blank string.
fn password_bytes(password: &SecretString) -> Result<&[u8], CipherError> {
    let pw = password.expose_secret();
    if pw.trim().is_empty() {
        return Err(CipherError::Invalid(InvalidInput::BlankPassword));
    }
    Ok(pw.as_bytes())
}

/// PKCS#5 padding to a multiple of 8, as AM's `AESWrapEncryption.pkcs5pad`.
fn pkcs5_pad(data: &[u8]) -> Zeroizing<Vec<u8>> {
    let pad = SEMIBLOCK - data.len() % SEMIBLOCK;
    let mut out = Zeroizing::new(Vec::with_capacity(data.len() + pad));
    out.extend_from_slice(data);
    // `pad` is 1..=8, so it always fits in the byte.
    out.resize(data.len() + pad, u8::try_from(pad).unwrap_or(0));
    out
}

/// Removes PKCS#5 padding as AM's `pkcs5unpad` does: last byte 1..=8, all padding bytes equal.
fn pkcs5_unpad(data: &mut Zeroizing<Vec<u8>>) -> Result<(), CipherError> {
    let pad = usize::from(
        *data
            .last()
            .ok_or(CipherError::Malformed(MalformedValue::BadInnerPadding))?,
    );
    let keep = data
        .len()
        .checked_sub(pad)
        .filter(|_| (1..=SEMIBLOCK).contains(&pad))
        .ok_or(CipherError::Malformed(MalformedValue::BadInnerPadding))?;
    if data
        .get(keep..)
        .is_none_or(|p| p.iter().any(|&b| usize::from(b) != pad))
    {
        return Err(CipherError::Malformed(MalformedValue::BadInnerPadding));
    }
    data.truncate(keep);
    Ok(())
}

/// Encrypts with a given salt into the decoded bytes of an AESWrap value.
///
/// For known-answer vectors and tests only: real values must use a fresh random salt each
/// (use [`super::am_encrypt`]), or equal plaintexts give equal values.
///
/// # Errors
/// [`InvalidInput::BlankPassword`], [`InvalidInput::PlaintextTooShort`] (KW with fewer than 8
/// bytes), [`InvalidInput::PlaintextTooLong`] (KWP over 2^32 bytes).
#[doc(hidden)]
pub fn encrypt_with_salt(
    wrap: KeyWrap,
    password: &SecretString,
    kdf: &AmKdf,
    salt: &[u8; SALT_LEN],
    plaintext: &[u8],
) -> Result<Vec<u8>, CipherError> {
    let pw = password_bytes(password)?;
    if wrap == KeyWrap::Kw && plaintext.len() < SEMIBLOCK {
        return Err(CipherError::Invalid(InvalidInput::PlaintextTooShort {
            len: plaintext.len(),
        }));
    }
    let padded = pkcs5_pad(plaintext);
    let kek = kdf.derive(pw, salt);
    let mut out = Vec::with_capacity(2 + SALT_LEN + padded.len() + SEMIBLOCK);
    out.extend_from_slice(&[VERSION, SALT_LEN_BYTE]);
    out.extend_from_slice(salt);
    let header = out.len();
    out.resize(header + padded.len() + SEMIBLOCK, 0);
    let (_, wrapped) = out.split_at_mut(header);
    with_kek!(&kek, k => match wrap {
        KeyWrap::Kw => k.wrap(&padded, wrapped),
        KeyWrap::Kwp => k.wrap_with_padding(&padded, wrapped),
    })
    .map_err(|_| {
        CipherError::Invalid(InvalidInput::PlaintextTooLong {
            len: plaintext.len(),
        })
    })?;
    Ok(out)
}

/// Decrypts the decoded bytes of an AESWrap value, trying KW and then KWP.
///
/// # Errors
/// Malformed: [`MalformedValue::UnknownScheme`], [`MalformedValue::Truncated`],
/// [`MalformedValue::SaltPastEnd`], [`MalformedValue::SaltTooShort`], [`MalformedValue::BadLength`],
/// [`MalformedValue::BadInnerPadding`]. [`CipherError::WrongKeyOrTampered`] when neither wrap's
/// integrity check passes: wrong password, other KDF settings, or changed data.
pub fn decrypt(
    password: &SecretString,
    kdf: &AmKdf,
    bytes: &[u8],
) -> Result<(AmCipher, Zeroizing<Vec<u8>>), CipherError> {
    let truncated = |min| {
        CipherError::Malformed(MalformedValue::Truncated {
            scheme: Scheme::AmAesWrap,
            len: bytes.len(),
            min,
        })
    };
    let (&version, rest) = bytes.split_first().ok_or_else(|| truncated(2))?;
    if version != VERSION {
        return Err(CipherError::Malformed(MalformedValue::UnknownScheme {
            first: version,
        }));
    }
    let (&salt_len, rest) = rest.split_first().ok_or_else(|| truncated(2))?;
    let salt_len = usize::from(salt_len);
    if salt_len > rest.len() {
        return Err(CipherError::Malformed(MalformedValue::SaltPastEnd {
            declared: salt_len,
            available: rest.len(),
        }));
    }
    if salt_len < MIN_SALT_LEN {
        return Err(CipherError::Malformed(MalformedValue::SaltTooShort {
            declared: salt_len,
        }));
    }
    let (salt, wrapped) = rest.split_at(salt_len);
    if wrapped.len() < MIN_WRAPPED {
        return Err(truncated(2 + salt_len + MIN_WRAPPED));
    }
    if wrapped.len() % SEMIBLOCK != 0 {
        return Err(CipherError::Malformed(MalformedValue::BadLength {
            scheme: Scheme::AmAesWrap,
            len: wrapped.len(),
            block: SEMIBLOCK,
        }));
    }
    let kek = kdf.derive(password_bytes(password)?, salt);
    let mut out = Zeroizing::new(vec![0u8; wrapped.len() - SEMIBLOCK]);

    // KW first; its integrity value (A6A6A6A6A6A6A6A6) and KWP's (A65959A6 || length) differ,
    // so at most one passes on an unaltered value.
    if wrapped.len() >= MIN_WRAPPED_KW && with_kek!(&kek, k => k.unwrap(wrapped, &mut out)).is_ok()
    {
        pkcs5_unpad(&mut out)?;
        return Ok((AmCipher::AesWrap, out));
    }
    let len = with_kek!(&kek, k => k.unwrap_with_padding(wrapped, &mut out))
        .map_err(|_| CipherError::WrongKeyOrTampered {
            scheme: Scheme::AmAesWrap,
        })?
        .len();
    out.truncate(len);
    pkcs5_unpad(&mut out)?;
    Ok((AmCipher::AesWrapPad, out))
}
