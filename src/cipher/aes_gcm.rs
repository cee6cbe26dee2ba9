//! The amhash local-key envelope: AES-256-GCM under a 32-byte key kept outside AM.
//!
//! AM cannot read this format; it protects a value at rest (for instance a hash waiting to be
//! installed) with a key of the administrator's own.
//!
//! # Byte layout (then standard base64)
//!
//! ```text
//! offset  len  field
//! 0       4    "AMHG"   magic, ASCII 41 4D 48 47
//! 4       1    0x01     envelope version
//! 5       12   nonce    random per encryption, from the OS CSPRNG
//! 17      m    ciphertext (m = plaintext length, may be 0)
//! 17+m    16   tag      GCM authentication tag
//! ```
//!
//! The additional authenticated data is the 5 header bytes (magic and version), so a value whose
//! header is changed and still parsed fails authentication, and a future version cannot be
//! passed off as this one. Random 96-bit nonces keep the chance of a repeat negligible for any
//! number of values one administrator makes (NIST SP 800-38D §8.3 bounds 2^32 per key).
//!
//! # Key file
//!
//! The key is 32 random bytes, stored as 64 hexadecimal characters ([`LocalKey::from_hex`],
//! [`LocalKey::to_hex`]); the caller strips one trailing newline before parsing.

use ::aes_gcm::aead::generic_array::GenericArray;
use ::aes_gcm::aead::{AeadInPlace, KeyInit};
use ::aes_gcm::{Aes256Gcm, Nonce, Tag};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use super::{
    CipherError, InvalidInput, MalformedValue, Scheme, decode_base64_lenient, random_bytes,
};

/// The first four bytes of every envelope.
pub const MAGIC: [u8; 4] = *b"AMHG";
/// The envelope version this code writes and reads.
pub const VERSION: u8 = 0x01;
/// Magic and version: also the additional authenticated data.
const HEADER_LEN: usize = 5;
/// The GCM nonce length.
pub const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const MIN_LEN: usize = HEADER_LEN + NONCE_LEN + TAG_LEN;
const HEADER: [u8; HEADER_LEN] = [MAGIC[0], MAGIC[1], MAGIC[2], MAGIC[3], VERSION];

/// A local AES-256 key. Zeroized on drop; no `Debug` or `Display`, so it cannot be printed.
pub struct LocalKey(Zeroizing<[u8; LocalKey::LEN]>);

impl LocalKey {
    /// Key length in bytes.
    pub const LEN: usize = 32;

    /// A key from 32 raw bytes.
    ///
    /// # Errors
    /// [`InvalidInput::KeyLength`] unless `bytes` is 32 bytes long.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CipherError> {
        let mut key = Zeroizing::new([0u8; Self::LEN]);
        if bytes.len() != Self::LEN {
            return Err(CipherError::Invalid(InvalidInput::KeyLength {
                len: bytes.len(),
            }));
        }
        key.copy_from_slice(bytes);
        Ok(LocalKey(key))
    }

    /// A key from its key-file text: exactly 64 hexadecimal characters, either case, nothing
    /// else (the caller strips one trailing newline).
    ///
    /// # Errors
    /// [`InvalidInput::KeyText`], which never quotes the text.
    pub fn from_hex(text: &str) -> Result<Self, CipherError> {
        if text.len() != 2 * Self::LEN {
            return Err(CipherError::Invalid(InvalidInput::KeyText {
                problem: "wrong length",
            }));
        }
        let mut key = Zeroizing::new([0u8; Self::LEN]);
        hex::decode_to_slice(text, key.as_mut_slice()).map_err(|_| {
            CipherError::Invalid(InvalidInput::KeyText {
                problem: "a character is not hexadecimal",
            })
        })?;
        Ok(LocalKey(key))
    }

    /// A new random key from the OS CSPRNG.
    ///
    /// # Errors
    /// [`CipherError::Random`] when the OS random generator fails.
    pub fn generate() -> Result<Self, CipherError> {
        let mut key = Zeroizing::new([0u8; Self::LEN]);
        random_bytes(key.as_mut_slice())?;
        Ok(LocalKey(key))
    }

    /// The key-file text: 64 lowercase hexadecimal characters, no newline.
    #[must_use]
    pub fn to_hex(&self) -> Zeroizing<String> {
        // Built in buffers of the final size, so no reallocation leaves a copy behind.
        let mut digits = Zeroizing::new([0u8; 2 * Self::LEN]);
        let mut text = Zeroizing::new(String::with_capacity(2 * Self::LEN));
        // 32 bytes in, 64 digits out: the lengths match, so encoding cannot fail.
        if hex::encode_to_slice(self.0.as_slice(), digits.as_mut_slice()).is_ok() {
            text.extend(digits.iter().map(|&d| char::from(d)));
        }
        text
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(GenericArray::from_slice(self.0.as_slice()))
    }
}

/// Encrypts `plaintext` into an envelope, as base64 text, with a fresh random nonce.
///
/// # Errors
/// [`CipherError::Random`] when the OS random generator fails, [`InvalidInput::PlaintextTooLong`]
/// past GCM's limit (64 GiB).
pub fn gcm_seal(key: &LocalKey, plaintext: &[u8]) -> Result<String, CipherError> {
    let mut nonce = [0u8; NONCE_LEN];
    random_bytes(&mut nonce)?;
    gcm_seal_with_nonce(key, &nonce, plaintext)
}

/// Encrypts with a given nonce.
///
/// For known-answer vectors and tests only: never pass the same nonce twice with one key, as
/// that reveals the XOR of the plaintexts and lets anyone forge tags. Use [`gcm_seal`].
///
/// # Errors
/// [`InvalidInput::PlaintextTooLong`] past GCM's limit.
#[doc(hidden)]
pub fn gcm_seal_with_nonce(
    key: &LocalKey,
    nonce: &[u8; NONCE_LEN],
    plaintext: &[u8],
) -> Result<String, CipherError> {
    // Zeroizing, and sized once: the buffer holds the plaintext until it is encrypted in place.
    let mut out = Zeroizing::new(Vec::with_capacity(MIN_LEN + plaintext.len()));
    out.extend_from_slice(&HEADER);
    out.extend_from_slice(nonce);
    out.extend_from_slice(plaintext);
    let (aad, rest) = out.split_at_mut(HEADER_LEN);
    let (_nonce, body) = rest.split_at_mut(NONCE_LEN);
    let tag = key
        .cipher()
        .encrypt_in_place_detached(Nonce::from_slice(nonce), aad, body)
        .map_err(|_| {
            CipherError::Invalid(InvalidInput::PlaintextTooLong {
                len: plaintext.len(),
            })
        })?;
    out.extend_from_slice(&tag);
    Ok(STANDARD.encode(out.as_slice()))
}

/// Decrypts an envelope given as base64 text.
///
/// # Errors
/// Malformed: [`MalformedValue::Empty`], [`MalformedValue::Base64`], [`MalformedValue::UnknownScheme`],
/// [`MalformedValue::WrongScheme`] (an AM value), [`MalformedValue::UnsupportedVersion`],
/// [`MalformedValue::Truncated`]. [`CipherError::WrongKeyOrTampered`] when authentication fails.
pub fn gcm_open(key: &LocalKey, value: &str) -> Result<Zeroizing<Vec<u8>>, CipherError> {
    let bytes = decode_base64_lenient(value)?;
    match Scheme::detect(&bytes) {
        Some(Scheme::AesGcm) => {}
        Some(found) => {
            return Err(CipherError::Malformed(MalformedValue::WrongScheme {
                expected: "an amhash AES-GCM envelope",
                found,
            }));
        }
        None => {
            return Err(CipherError::Malformed(MalformedValue::UnknownScheme {
                first: bytes.first().copied().unwrap_or(0),
            }));
        }
    }
    let truncated = CipherError::Malformed(MalformedValue::Truncated {
        scheme: Scheme::AesGcm,
        len: bytes.len(),
        min: MIN_LEN,
    });
    match bytes.get(MAGIC.len()) {
        Some(&VERSION) => {}
        Some(&found) => {
            return Err(CipherError::Malformed(MalformedValue::UnsupportedVersion {
                found,
            }));
        }
        None => return Err(truncated),
    }
    if bytes.len() < MIN_LEN {
        return Err(truncated);
    }
    let (header, rest) = bytes.split_at(HEADER_LEN);
    let (nonce, rest) = rest.split_at(NONCE_LEN);
    let (ct, tag) = rest.split_at(rest.len() - TAG_LEN);
    let mut buf = Zeroizing::new(ct.to_vec());
    key.cipher()
        .decrypt_in_place_detached(
            Nonce::from_slice(nonce),
            header,
            buf.as_mut_slice(),
            Tag::from_slice(tag),
        )
        .map_err(|_| CipherError::WrongKeyOrTampered {
            scheme: Scheme::AesGcm,
        })?;
    Ok(buf)
}
