//! The Cloud KMS client proper (feature `kms`, linked only into `amhash-kms`).
//!
//! Built on Google's official `google-cloud-kms-v1` client (REST transport). A current-thread
//! tokio runtime is created by [`encrypt`] / [`decrypt`] for the one operation and shut down
//! after it.
//!
//! # What is called
//!
//! | `--kms-key` names | encrypt | decrypt |
//! |-------------------|---------|---------|
//! | a key `.../cryptoKeys/K` (symmetric `ENCRYPT_DECRYPT`) | `Encrypt` with the key (KMS uses the primary version): **1 round trip** | `Decrypt` with the key: **1 round trip** |
//! | a version `.../cryptoKeyVersions/V` of an `ASYMMETRIC_DECRYPT` key | `GetPublicKey`, then RSA-OAEP locally: **1 round trip** | `AsymmetricDecrypt` with the version: **1 round trip** |
//! | a version of a symmetric key | `GetPublicKey` answers `FAILED_PRECONDITION`, then `Encrypt` with the version: **2 round trips** | `AsymmetricDecrypt` answers `FAILED_PRECONDITION`, then `Decrypt` with the key: **2 round trips** |
//!
//! Retries add round trips (see below). Encrypting with a version name needs the
//! `cloudkms.cryptoKeyVersions.viewPublicKey` permission as well as `useToEncrypt`.
//! AM must then be configured with the same name in
//! `org.forgerock.openam.secrets.googlekms.decryptionkey`: the key for a symmetric key, the
//! version for an asymmetric one.
//!
//! Local RSA-OAEP uses the hash the key's algorithm names, for both the OAEP digest and MGF1,
//! with an empty label, exactly as Cloud KMS decrypts it:
//!
//! | algorithm | hash | max plaintext (k - 2·hLen - 2) |
//! |-----------|------|---------------|
//! | `RSA_DECRYPT_OAEP_{2048,3072,4096}_SHA256` | SHA-256 | 190 / 318 / 446 bytes |
//! | `RSA_DECRYPT_OAEP_{2048,3072,4096}_SHA1` | SHA-1 | 214 / 342 / 470 bytes |
//! | `RSA_DECRYPT_OAEP_4096_SHA512` | SHA-512 | 382 bytes |
//!
//! (An `{SSHA-512}` string is 126 bytes, so every one of these fits.)
//!
//! # Integrity
//!
//! The client does not check CRC32C itself, so this module does, as Google's "verifying
//! end-to-end data integrity" guide asks:
//!
//! * `Encrypt`: sends `plaintext_crc32c`; requires `verified_plaintext_crc32c`; checks
//!   `ciphertext_crc32c` against the ciphertext; checks the response `name` is a version of
//!   the requested key (or the requested version itself).
//! * `GetPublicKey`: checks `pem_crc32c` and the response `name`.
//! * `Decrypt`: sends `ciphertext_crc32c` (the service answers `INVALID_ARGUMENT` if it does
//!   not match; `DecryptResponse` has no `verified_*` field); checks `plaintext_crc32c`.
//! * `AsymmetricDecrypt`: sends `ciphertext_crc32c`; requires `verified_ciphertext_crc32c`;
//!   checks `plaintext_crc32c`.
//!
//! A failed check is retried (the whole call) up to 3 attempts, then reported.
//!
//! # Time and retries
//!
//! `--kms-timeout` (default 30 s) caps the whole operation, client set-up and credentials
//! included (`tokio::time::timeout` around everything). The client's own retry loop is
//! turned off (`NeverRetry`): its default policy retries a refused connection for ~50 s and
//! does not retry `Encrypt`/`Decrypt` (POST, so "not idempotent") on `UNAVAILABLE`. Ours,
//! inside the time cap:
//!
//! | failure | class | attempts, backoff |
//! |---------|-------|-------------------|
//! | `UNAVAILABLE`, `DEADLINE_EXCEEDED`, HTTP 502/503/504, connection reset, I/O error mid-request | transient | 5 attempts, 200 ms doubling (200, 400, 800, 1600 ms) |
//! | cannot connect (refused, DNS failure, TLS handshake) | unreachable | 3 attempts, 100 then 200 ms: a refused connection fails in well under a second |
//! | CRC32C mismatch, unverified checksum, wrong response name | integrity | 3 attempts, 50 ms |
//! | everything else (`PERMISSION_DENIED`, `NOT_FOUND`, `INVALID_ARGUMENT`, `FAILED_PRECONDITION`, `UNAUTHENTICATED`, ...) | permanent | fails at once |
//!
//! Retrying `Encrypt`/`Decrypt` is safe: neither changes state in KMS.
//!
//! A refused connection is retried only briefly on purpose: it means nothing listens at the
//! endpoint, which is nearly always a wrong `--kms-endpoint` or no network, not a blip.
//!
//! Measured here (debug build, loopback fake, `tests/kms.rs`): a refused connection fails in
//! about 0.32 s (3 attempts); the round-trip counts in the first table are asserted from the
//! fake's request log; a server slower than `--kms-timeout 2` fails after 2 s. Without
//! `--kms-anonymous` and without ADC the client asks the metadata server; where that name
//! does not resolve it fails at once, elsewhere the time cap bounds it.
//!
//! # Secrets
//!
//! Our own copies of plaintext live in [`Zeroizing`] buffers. The client library's request
//! and response buffers (`bytes::Bytes`, the JSON body) are not zeroized; that is outside our
//! control. No error message contains plaintext, ciphertext or key material.

mod error;
mod input;
mod oaep;
mod retry;
mod rpc;
#[cfg(test)]
mod tests;

use std::future::Future;

use zeroize::Zeroizing;

use super::{KmsKeyName, KmsOptions};
use rpc::Ctx;

pub use error::{ClientError, hint};
pub use input::{check_endpoint, decode_ciphertext};
pub use oaep::{OaepHash, oaep_encrypt};
pub use retry::{Retry, classify, classify_http, classify_status};

/// Largest plaintext Cloud KMS `Encrypt` accepts.
pub const MAX_PLAINTEXT: usize = 64 * 1024;
/// Largest ciphertext Cloud KMS `Decrypt` accepts.
pub const MAX_CIPHERTEXT: usize = 64 * 1024 + 800;

/// The Cloud KMS method a message is about, and the IAM permission it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rpc {
    /// `Encrypt`
    Encrypt,
    /// `Decrypt`
    Decrypt,
    /// `GetPublicKey`
    GetPublicKey,
    /// `AsymmetricDecrypt`
    AsymmetricDecrypt,
}

impl Rpc {
    /// The method's name as Cloud KMS documents it.
    pub fn name(self) -> &'static str {
        match self {
            Rpc::Encrypt => "encrypt",
            Rpc::Decrypt => "decrypt",
            Rpc::GetPublicKey => "getPublicKey",
            Rpc::AsymmetricDecrypt => "asymmetricDecrypt",
        }
    }

    /// The IAM permission the caller needs on the key for this method.
    pub fn permission(self) -> &'static str {
        match self {
            Rpc::Encrypt => "cloudkms.cryptoKeyVersions.useToEncrypt",
            Rpc::Decrypt | Rpc::AsymmetricDecrypt => "cloudkms.cryptoKeyVersions.useToDecrypt",
            Rpc::GetPublicKey => "cloudkms.cryptoKeyVersions.viewPublicKey",
        }
    }
}

/// Encrypt `plaintext` with the key or version in `opts`; returns the raw ciphertext and the
/// name AM must decrypt it with (`org.forgerock.openam.secrets.googlekms.decryptionkey`):
/// Cloud KMS `Decrypt` takes only a CryptoKey, so for a symmetric key that is the key (a
/// version given is dropped), while `AsymmetricDecrypt` takes the CryptoKeyVersion. Which of
/// the two a version is, KMS itself answered (GetPublicKey succeeds only on an asymmetric one).
///
/// # Errors
/// See [`ClientError`].
pub fn encrypt(opts: &KmsOptions, plaintext: &[u8]) -> Result<(Vec<u8>, KmsKeyName), ClientError> {
    if plaintext.is_empty() {
        return Err(ClientError::EmptyInput { op: "encrypt" });
    }
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(ClientError::InputTooLarge {
            op: "encrypt",
            max: MAX_PLAINTEXT,
        });
    }
    run(opts, "encrypt", async {
        let c = Ctx::connect(opts).await?;
        c.encrypt(plaintext).await
    })
}

/// Decrypt a raw ciphertext (see [`decode_ciphertext`]) with the key or version in `opts`.
///
/// # Errors
/// See [`ClientError`].
pub fn decrypt(opts: &KmsOptions, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, ClientError> {
    if ciphertext.is_empty() {
        return Err(ClientError::EmptyInput { op: "decrypt" });
    }
    run(opts, "decrypt", async {
        let c = Ctx::connect(opts).await?;
        c.decrypt(ciphertext).await
    })
}

/// Run one operation on a fresh current-thread runtime, capped by `opts.timeout`.
fn run<T>(
    opts: &KmsOptions,
    op: &'static str,
    fut: impl Future<Output = Result<T, ClientError>>,
) -> Result<T, ClientError> {
    if let Some(e) = &opts.endpoint {
        check_endpoint(e, opts.anonymous)?;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| ClientError::Runtime { source })?;
    let result = rt.block_on(async {
        match tokio::time::timeout(opts.timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(ClientError::Timeout {
                op,
                key: opts.key.to_string(),
                endpoint: opts.endpoint_for_display().to_owned(),
                secs: opts.timeout.as_secs(),
                adc: if opts.anonymous {
                    ""
                } else {
                    "; off Google Cloud without Application Default Credentials the client waits for the metadata server, so set GOOGLE_APPLICATION_CREDENTIALS or run `gcloud auth application-default login`"
                },
            }),
        }
    });
    // Do not wait for a timed-out request (or a DNS lookup on the blocking pool) to finish.
    rt.shutdown_background();
    result
}
