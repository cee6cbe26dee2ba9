//! AM `JCEEncryption` (`com.iplanet.services.util.JCEEncryption`): PBEWithMD5AndDES, the AM
//! default for values encrypted with the AM encryption password.
//!
//! # Byte layout (then standard base64)
//!
//! ```text
//! offset  len  field
//! 0       1    0x01  version (JCEEncryption)
//! 1       1    0x02  key generation algorithm index (PBEWithMD5AndDES)
//! 2       1    0x02  encryption algorithm index (PBEWithMD5AndDES)
//! 3       8    IV    the DES-CBC IV, = DK[8..16] below (AM writes `Cipher.getIV()`)
//! 11      8n   DES-CBC(key = DK[0..8], IV = DK[8..16], PKCS#5-padded plaintext), n >= 1
//! ```
//!
//! DK is the 16-byte output of PBKDF1 (PKCS #5 v1.5 §6.1) with MD5 over the ASCII password,
//! salt `01 01 01 01 01 01 01 01` and 5 iterations: `T1 = MD5(P || S)`, `Ti = MD5(Ti-1)`,
//! `DK = T5`. Salt and iteration count are constants of AM, so key and IV depend on the password
//! only, and the same plaintext always gives the same value.
//!
//! # Integrity
//!
//! The format has none over the data. AM decrypts with the IV it derives and ignores the
//! stored one; we compare the stored IV with the derived one (in constant time) and refuse a
//! mismatch, which catches a wrong password (with certainty up to 2^-64) and a changed IV. A
//! changed ciphertext is caught only when it breaks the PKCS#5 padding of the last block; any
//! other change decrypts to different bytes without error. Callers must check the plaintext.
//!
//! # Password
//!
//! The JDK's PBEWithMD5AndDES key refuses passwords with characters outside printable ASCII
//! (0x20..=0x7E) ("Password is not ASCII"), so AM can only use such passwords for JCE: we refuse
//! the others instead of producing a value AM cannot read.

use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::generic_array::GenericArray;
use cbc::cipher::generic_array::typenum::U8;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use md5::{Digest, Md5};
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::{CipherError, InvalidInput, MalformedValue, Scheme};

/// The first three bytes of every JCE value.
pub const HEADER: [u8; 3] = [0x01, 0x02, 0x02];
/// The constant PBE salt of AM's JCEEncryption.
const SALT: [u8; 8] = [0x01; 8];
/// The constant PBE iteration count of AM's JCEEncryption.
const ITERATIONS: usize = 5;
const IV_LEN: usize = 8;
const BLOCK: usize = 8;
/// Header, IV and one DES block.
const MIN_LEN: usize = HEADER.len() + IV_LEN + BLOCK;

type DesCbcEnc = cbc::Encryptor<des::Des>;
type DesCbcDec = cbc::Decryptor<des::Des>;

/// PBKDF1-MD5 as PBEWithMD5AndDES uses it: key = DK[0..8], IV = DK[8..16].
///
/// RustCrypto has no PBKDF1 crate (PBKDF1 is obsolete; `pbkdf2` implements only PBKDF2), so it
/// is composed here from the `md-5` crate: the 5 chained MD5 calls are the whole algorithm.
fn derive(password: &[u8]) -> Zeroizing<[u8; 16]> {
    let mut t = Zeroizing::new([0u8; 16]);
    let mut md5 = Md5::new();
    md5.update(password);
    md5.update(SALT);
    md5.finalize_into(t.as_mut_slice().into());
    for _ in 1..ITERATIONS {
        let mut md5 = Md5::new();
        md5.update(t.as_slice());
        md5.finalize_into(t.as_mut_slice().into());
    }
    t
}

/// The password bytes as the JDK's PBEKey takes them (printable ASCII only).
fn password_bytes(password: &SecretString) -> Result<&[u8], CipherError> {
    let pw = password.expose_secret();
    if pw.trim().is_empty() {
        return Err(CipherError::Invalid(InvalidInput::BlankPassword));
    }
    if !pw.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
        return Err(CipherError::Invalid(InvalidInput::NonAsciiPassword));
    }
    Ok(pw.as_bytes())
}

/// Encrypts `plaintext` into the decoded bytes of a JCE value. Deterministic: AM derives the
/// IV from the password, so there is no random input.
///
/// # Errors
/// [`InvalidInput::BlankPassword`], [`InvalidInput::NonAsciiPassword`].
pub fn encrypt(password: &SecretString, plaintext: &[u8]) -> Result<Vec<u8>, CipherError> {
    let dk = derive(password_bytes(password)?);
    let (key, iv) = split(&dk);
    let enc = DesCbcEnc::new(key, iv);
    let ct = enc.encrypt_padded_vec_mut::<Pkcs7>(plaintext);
    let mut out = Vec::with_capacity(MIN_LEN + ct.len());
    out.extend_from_slice(&HEADER);
    out.extend_from_slice(iv.as_slice());
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Decrypts the decoded bytes of a JCE value.
///
/// # Errors
/// Malformed: [`MalformedValue::UnknownScheme`], [`MalformedValue::Truncated`],
/// [`MalformedValue::BadLength`]. [`CipherError::WrongKeyOrTampered`] when the stored IV is not the
/// one the password gives or the padding is wrong. Password errors as for [`encrypt`].
pub fn decrypt(password: &SecretString, bytes: &[u8]) -> Result<Zeroizing<Vec<u8>>, CipherError> {
    let wrong = CipherError::WrongKeyOrTampered {
        scheme: Scheme::AmJce,
    };
    let rest = bytes.strip_prefix(&HEADER).ok_or(CipherError::Malformed(
        MalformedValue::UnknownScheme {
            first: bytes.first().copied().unwrap_or(0),
        },
    ))?;
    if bytes.len() < MIN_LEN {
        return Err(CipherError::Malformed(MalformedValue::Truncated {
            scheme: Scheme::AmJce,
            len: bytes.len(),
            min: MIN_LEN,
        }));
    }
    let (stored_iv, ct) = rest.split_at(IV_LEN);
    if ct.len() % BLOCK != 0 {
        return Err(CipherError::Malformed(MalformedValue::BadLength {
            scheme: Scheme::AmJce,
            len: ct.len(),
            block: BLOCK,
        }));
    }
    let dk = derive(password_bytes(password)?);
    let (key, iv) = split(&dk);
    if !bool::from(stored_iv.ct_eq(iv.as_slice())) {
        return Err(wrong);
    }
    let dec = DesCbcDec::new(key, iv);
    let mut buf = Zeroizing::new(ct.to_vec());
    let len = dec
        .decrypt_padded_mut::<Pkcs7>(buf.as_mut_slice())
        .map_err(|_| wrong)?
        .len();
    buf.truncate(len);
    Ok(buf)
}

/// Key (DK[0..8]) and IV (DK[8..16]); the ranges are constant, within the 16-byte array.
fn split(dk: &[u8; 16]) -> (&GenericArray<u8, U8>, &GenericArray<u8, U8>) {
    (
        GenericArray::from_slice(&dk[..8]),
        GenericArray::from_slice(&dk[8..]),
    )
}
