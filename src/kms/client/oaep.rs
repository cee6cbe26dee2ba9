//! RSA-OAEP with a Cloud KMS asymmetric key's public key, done locally (the first table in
//! the module documentation).

use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use rsa::{Oaep, RsaPublicKey};

use super::{ClientError, KmsKeyName};

/// The OAEP hash a Cloud KMS asymmetric decryption algorithm uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OaepHash {
    /// SHA-1 (`RSA_DECRYPT_OAEP_*_SHA1`).
    Sha1,
    /// SHA-256 (`RSA_DECRYPT_OAEP_*_SHA256`).
    Sha256,
    /// SHA-512 (`RSA_DECRYPT_OAEP_4096_SHA512`).
    Sha512,
}

impl OaepHash {
    /// The OAEP hash for an algorithm name, `None` for anything but `RSA_DECRYPT_OAEP_*`.
    pub fn for_algorithm(name: &str) -> Option<OaepHash> {
        let rest = name.strip_prefix("RSA_DECRYPT_OAEP_")?;
        let (bits, hash) = rest.split_once('_')?;
        if !matches!(bits, "2048" | "3072" | "4096") {
            return None;
        }
        match hash {
            "SHA1" => Some(OaepHash::Sha1),
            "SHA256" => Some(OaepHash::Sha256),
            "SHA512" => Some(OaepHash::Sha512),
            _ => None,
        }
    }

    /// The digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            OaepHash::Sha1 => 20,
            OaepHash::Sha256 => 32,
            OaepHash::Sha512 => 64,
        }
    }

    /// OAEP padding with this hash for both the digest and MGF1, and an empty label.
    pub fn padding(self) -> Oaep {
        match self {
            OaepHash::Sha1 => Oaep::new::<sha1::Sha1>(),
            OaepHash::Sha256 => Oaep::new::<sha2::Sha256>(),
            OaepHash::Sha512 => Oaep::new::<sha2::Sha512>(),
        }
    }

    /// The longest message RSA-OAEP with this hash takes for a `modulus_len`-byte key.
    pub fn max_plaintext(self, modulus_len: usize) -> usize {
        modulus_len.saturating_sub(2 * self.digest_len() + 2)
    }
}

/// RSA-OAEP encrypt `plaintext` to the PEM (SPKI) public key of `key`, as `algorithm` says.
///
/// # Errors
/// [`ClientError::UnsupportedAlgorithm`], [`ClientError::BadPublicKey`],
/// [`ClientError::PlaintextTooLong`], [`ClientError::Oaep`].
pub fn oaep_encrypt(
    key: &KmsKeyName,
    algorithm: &str,
    pem: &str,
    plaintext: &[u8],
) -> Result<Vec<u8>, ClientError> {
    let hash =
        OaepHash::for_algorithm(algorithm).ok_or_else(|| ClientError::UnsupportedAlgorithm {
            key: key.to_string(),
            algorithm: algorithm.to_owned(),
        })?;
    let public = RsaPublicKey::from_public_key_pem(pem).map_err(|e| ClientError::BadPublicKey {
        key: key.to_string(),
        detail: e.to_string(),
    })?;
    let max = hash.max_plaintext(public.size());
    if plaintext.len() > max {
        return Err(ClientError::PlaintextTooLong {
            key: key.to_string(),
            algorithm: algorithm.to_owned(),
            len: plaintext.len(),
            max,
        });
    }
    public
        .encrypt(&mut rand_core::OsRng, hash.padding(), plaintext)
        .map_err(|e| ClientError::Oaep {
            key: key.to_string(),
            detail: e.to_string(),
        })
}
