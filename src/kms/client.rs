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

use std::future::Future;
use std::io;
use std::time::Duration;

use google_cloud_gax::error::Error as GaxError;
use google_cloud_gax::retry_policy::NeverRetry;
use google_cloud_kms_v1::client::KeyManagementService;
use google_cloud_kms_v1::model::crypto_key_version::CryptoKeyVersionAlgorithm;
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use rsa::{Oaep, RsaPublicKey};
use zeroize::Zeroizing;

use super::{EXIT_KMS, EXIT_USAGE, KmsKeyName, KmsOptions};

/// Largest plaintext Cloud KMS `Encrypt` accepts.
pub const MAX_PLAINTEXT: usize = 64 * 1024;
/// Largest ciphertext Cloud KMS `Decrypt` accepts.
pub const MAX_CIPHERTEXT: usize = 64 * 1024 + 800;

const TRANSIENT_ATTEMPTS: u32 = 5;
const UNREACHABLE_ATTEMPTS: u32 = 3;
const INTEGRITY_ATTEMPTS: u32 = 3;

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

/// Failures of a KMS operation in the helper. Every message names the key and says what to
/// check; none contains plaintext or ciphertext.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing on standard input.
    #[error("standard input is empty: pipe the data to {op}")]
    EmptyInput {
        /// `encrypt` or `decrypt`.
        op: &'static str,
    },
    /// Standard input is larger than Cloud KMS accepts.
    #[error("standard input is larger than the {max} bytes Cloud KMS accepts for {op}")]
    InputTooLarge {
        /// `encrypt` or `decrypt`.
        op: &'static str,
        /// The limit.
        max: usize,
    },
    /// The ciphertext given to decrypt is not base64.
    #[error(
        "the ciphertext on standard input is not base64: expected the output of amhash-kms encrypt or of `gcloud kms encrypt ... | base64`"
    )]
    CiphertextEncoding,
    /// The endpoint is not an http(s) URL, or is plain http to a remote host while credentials
    /// would be sent.
    #[error("invalid --kms-endpoint '{endpoint}': {why}")]
    Endpoint {
        /// The rejected endpoint.
        endpoint: String,
        /// What is wrong.
        why: &'static str,
    },
    /// The async runtime could not be created.
    #[error("cannot start the I/O runtime for Cloud KMS: {source}")]
    Runtime {
        /// The underlying error.
        source: io::Error,
    },
    /// The client could not be built (credentials file unreadable, bad endpoint, ...).
    #[error(
        "cannot set up the Cloud KMS client for {endpoint}: {detail}; check --kms-endpoint and the Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS or `gcloud auth application-default login`)"
    )]
    Setup {
        /// The endpoint in use.
        endpoint: String,
        /// The client's message.
        detail: String,
    },
    /// No usable credentials could be obtained for a request.
    #[error(
        "cannot get credentials for Cloud KMS {method} on {key}: {detail}; set up Application Default Credentials (`gcloud auth application-default login`, or GOOGLE_APPLICATION_CREDENTIALS=/path/to/key.json), or use --kms-anonymous for an emulator"
    )]
    Credentials {
        /// The method.
        method: &'static str,
        /// The key or version name.
        key: String,
        /// The credentials library's message.
        detail: String,
    },
    /// KMS answered with a permanent error status.
    #[error("Cloud KMS {method} on {key} failed with {status}: {message}; {hint}")]
    Rejected {
        /// The method.
        method: &'static str,
        /// The key or version name.
        key: String,
        /// The status name (`PERMISSION_DENIED`) or `HTTP nnn`.
        status: String,
        /// The service's message, on one line.
        message: String,
        /// What to check.
        hint: String,
    },
    /// Transient failures (`UNAVAILABLE`, resets, ...) persisted through every attempt.
    #[error(
        "Cloud KMS {method} on {key} kept failing at {endpoint} after {attempts} attempts, last with {detail}; try again later"
    )]
    Unavailable {
        /// The method.
        method: &'static str,
        /// The key or version name.
        key: String,
        /// The endpoint in use.
        endpoint: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        detail: String,
    },
    /// The endpoint could not be connected to.
    #[error(
        "cannot connect to Cloud KMS at {endpoint} for {method} on {key} ({detail}); check --kms-endpoint, DNS and the network"
    )]
    Unreachable {
        /// The method.
        method: &'static str,
        /// The key or version name.
        key: String,
        /// The endpoint in use.
        endpoint: String,
        /// The connection error.
        detail: String,
    },
    /// The whole operation took longer than `--kms-timeout`.
    #[error(
        "Cloud KMS {op} with {key} did not finish within the {secs} s timeout (endpoint {endpoint}); check the network and the endpoint, or raise --kms-timeout{adc}"
    )]
    Timeout {
        /// `encrypt` or `decrypt`.
        op: &'static str,
        /// The key or version name.
        key: String,
        /// The endpoint in use.
        endpoint: String,
        /// The timeout.
        secs: u64,
        /// A hint about ADC falling back to the metadata server, when credentials are in use.
        adc: &'static str,
    },
    /// A checksum or name check failed on every attempt.
    #[error(
        "Cloud KMS {method} on {key}: {what} (on all {attempts} attempts), so the response was discarded; try again, and check any proxy between here and Cloud KMS"
    )]
    Integrity {
        /// The method.
        method: &'static str,
        /// The key or version name.
        key: String,
        /// Which check failed.
        what: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The key version is not an RSA-OAEP decryption key.
    #[error(
        "{key} has algorithm {algorithm}, which cannot encrypt; use a symmetric ENCRYPT_DECRYPT key or a version of an RSA_DECRYPT_OAEP_* ASYMMETRIC_DECRYPT key"
    )]
    UnsupportedAlgorithm {
        /// The version name.
        key: String,
        /// The algorithm KMS reported.
        algorithm: String,
    },
    /// The PEM KMS returned is not an RSA public key.
    #[error("the public key of {key} is not an RSA public key in PEM: {detail}")]
    BadPublicKey {
        /// The version name.
        key: String,
        /// The parser's message.
        detail: String,
    },
    /// The plaintext does not fit in one RSA-OAEP block for this key.
    #[error(
        "the plaintext is {len} bytes but {key} ({algorithm}) can encrypt at most {max}; use a larger key, SHA-256 instead of SHA-512, or a symmetric key"
    )]
    PlaintextTooLong {
        /// The version name.
        key: String,
        /// The algorithm.
        algorithm: String,
        /// The plaintext length.
        len: usize,
        /// The most this key can take.
        max: usize,
    },
    /// RSA-OAEP encryption failed for another reason.
    #[error("RSA-OAEP encryption with the public key of {key} failed: {detail}")]
    Oaep {
        /// The version name.
        key: String,
        /// The rsa crate's message.
        detail: String,
    },
}

impl ClientError {
    /// The helper's exit status for this error: 2 for bad input or options, 3 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            ClientError::EmptyInput { .. }
            | ClientError::InputTooLarge { .. }
            | ClientError::CiphertextEncoding
            | ClientError::Endpoint { .. } => EXIT_USAGE,
            _ => EXIT_KMS,
        }
    }
}

/// How a failed attempt is handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Fail at once.
    Permanent,
    /// Retry with backoff.
    Transient,
    /// Could not connect: retry briefly.
    Unreachable,
    /// Credentials could not be obtained.
    Credentials,
}

/// Classify a gRPC status name (as in `PERMISSION_DENIED`).
pub fn classify_status(name: &str) -> Class {
    match name {
        "UNAVAILABLE" | "DEADLINE_EXCEEDED" => Class::Transient,
        "UNAUTHENTICATED" => Class::Credentials,
        _ => Class::Permanent,
    }
}

/// Classify an HTTP status that came without a parsable Google error body.
pub fn classify_http(code: u16) -> Class {
    match code {
        502..=504 => Class::Transient,
        401 => Class::Credentials,
        _ => Class::Permanent,
    }
}

/// Classify an error from the client library.
pub fn classify(e: &GaxError) -> Class {
    if let Some(status) = e.status() {
        return classify_status(status.code.name());
    }
    if let Some(code) = e.http_status_code() {
        return classify_http(code);
    }
    if e.is_connect() {
        return Class::Unreachable;
    }
    if e.is_authentication() {
        return Class::Credentials;
    }
    if e.is_timeout() || e.is_io() {
        return Class::Transient;
    }
    Class::Permanent
}

/// The status name of a failed call: `PERMISSION_DENIED`, or `HTTP 418`, or the error kind.
fn status_name(e: &GaxError) -> String {
    if let Some(s) = e.status() {
        return s.code.name().to_owned();
    }
    if let Some(code) = e.http_status_code() {
        return format!("HTTP {code}");
    }
    "an invalid response".to_owned()
}

fn is_failed_precondition(e: &GaxError) -> bool {
    e.status()
        .is_some_and(|s| s.code.name() == "FAILED_PRECONDITION")
}

/// What to check for a permanent status.
pub fn hint(rpc: Rpc, status: &str) -> String {
    match status {
        "PERMISSION_DENIED" | "HTTP 403" => format!(
            "check the IAM permission {} (role roles/cloudkms.cryptoKey{}) on this key for the credentials in use; Cloud KMS also answers PERMISSION_DENIED when the key does not exist",
            rpc.permission(),
            match rpc {
                Rpc::Encrypt => "Encrypter",
                Rpc::Decrypt | Rpc::AsymmetricDecrypt => "Decrypter",
                Rpc::GetPublicKey => "Encrypter or roles/cloudkms.publicKeyViewer",
            }
        ),
        "NOT_FOUND" | "HTTP 404" => {
            "check the resource name (project, key ring, key, version) and its location".to_owned()
        }
        "FAILED_PRECONDITION" => {
            "check that the key version is enabled and that the key's purpose is ENCRYPT_DECRYPT or ASYMMETRIC_DECRYPT".to_owned()
        }
        "INVALID_ARGUMENT" if matches!(rpc, Rpc::Decrypt | Rpc::AsymmetricDecrypt) => {
            "check that the ciphertext is complete and was made with this key".to_owned()
        }
        "INVALID_ARGUMENT" => "check the key name and the input".to_owned(),
        "RESOURCE_EXHAUSTED" | "HTTP 429" => {
            "a Cloud KMS quota is exhausted; wait and try again, or raise the quota".to_owned()
        }
        _ => "check the Cloud KMS documentation for this status".to_owned(),
    }
}

/// Longest foreign message (service, client library) quoted in an error.
const MAX_QUOTED: usize = 300;

/// One line, no control characters, bounded: service and library messages go into our
/// one-line errors.
fn one_line(s: &str) -> String {
    let flat: String = s
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    if flat.chars().count() <= MAX_QUOTED {
        return flat;
    }
    let mut cut: String = flat.chars().take(MAX_QUOTED).collect();
    cut.push_str("...");
    cut
}

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

/// Decode the base64 ciphertext given to decrypt: standard alphabet, padding required,
/// whitespace anywhere ignored (so `base64`'s 76-column lines and a final newline are fine).
///
/// # Errors
/// [`ClientError::EmptyInput`], [`ClientError::CiphertextEncoding`],
/// [`ClientError::InputTooLarge`].
pub fn decode_ciphertext(text: &[u8]) -> Result<Vec<u8>, ClientError> {
    use base64::Engine as _;
    let compact: Vec<u8> = text
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if compact.is_empty() {
        return Err(ClientError::EmptyInput { op: "decrypt" });
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .map_err(|_| ClientError::CiphertextEncoding)?;
    if bytes.len() > MAX_CIPHERTEXT {
        return Err(ClientError::InputTooLarge {
            op: "decrypt",
            max: MAX_CIPHERTEXT,
        });
    }
    Ok(bytes)
}

/// Check an endpoint override: an http(s) URL; plain http only to a loopback host or with
/// anonymous credentials, so a bearer token never crosses the network unencrypted.
///
/// # Errors
/// [`ClientError::Endpoint`].
pub fn check_endpoint(endpoint: &str, anonymous: bool) -> Result<(), ClientError> {
    let bad = |why| ClientError::Endpoint {
        endpoint: endpoint.to_owned(),
        why,
    };
    let (https, rest) = if let Some(r) = endpoint.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = endpoint.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(bad("expected an http:// or https:// URL"));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') || endpoint.chars().any(char::is_whitespace)
    {
        return Err(bad("expected scheme://host[:port]"));
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !https && !loopback && !anonymous {
        return Err(bad(
            "plain http would send the credentials unencrypted; use https, a loopback address, or --kms-anonymous",
        ));
    }
    Ok(())
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

/// Result of one attempt.
enum AttemptError {
    /// The call failed.
    Rpc(GaxError),
    /// The call answered, but a check failed.
    Integrity(String),
}

impl From<GaxError> for AttemptError {
    fn from(e: GaxError) -> Self {
        AttemptError::Rpc(e)
    }
}

/// Result of a call with retries: either a final error, or a permanent one the caller may
/// want to look at (FAILED_PRECONDITION for the version-of-symmetric fallbacks).
enum CallError {
    Final(ClientError),
    Permanent(GaxError),
}

struct Ctx<'a> {
    opts: &'a KmsOptions,
    client: KeyManagementService,
}

fn crc(data: &[u8]) -> i64 {
    i64::from(crc32c::crc32c(data))
}

impl<'a> Ctx<'a> {
    async fn connect(opts: &'a KmsOptions) -> Result<Ctx<'a>, ClientError> {
        let mut builder = KeyManagementService::builder().with_retry_policy(NeverRetry);
        if let Some(e) = &opts.endpoint {
            builder = builder.with_endpoint(e.clone());
        }
        if opts.anonymous {
            builder = builder.with_credentials(
                google_cloud_auth::credentials::anonymous::Builder::new().build(),
            );
        }
        let client = builder.build().await.map_err(|e| ClientError::Setup {
            endpoint: opts.endpoint_for_display().to_owned(),
            detail: one_line(&error_chain(&e)),
        })?;
        Ok(Ctx { opts, client })
    }

    /// Run `attempt` until it succeeds, fails permanently, or its class's attempts run out.
    async fn call<T, F, Fut>(
        &self,
        rpc: Rpc,
        name: &KmsKeyName,
        mut attempt: F,
    ) -> Result<T, CallError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AttemptError>>,
    {
        let (mut transient, mut unreachable, mut integrity) = (0u32, 0u32, 0u32);
        loop {
            let delay = match attempt().await {
                Ok(v) => return Ok(v),
                Err(AttemptError::Integrity(what)) => {
                    integrity += 1;
                    if integrity >= INTEGRITY_ATTEMPTS {
                        return Err(CallError::Final(ClientError::Integrity {
                            method: rpc.name(),
                            key: name.to_string(),
                            what,
                            attempts: integrity,
                        }));
                    }
                    Duration::from_millis(50)
                }
                Err(AttemptError::Rpc(e)) => match classify(&e) {
                    Class::Permanent => return Err(CallError::Permanent(e)),
                    Class::Credentials => {
                        return Err(CallError::Final(ClientError::Credentials {
                            method: rpc.name(),
                            key: name.to_string(),
                            detail: one_line(&error_chain(&e)),
                        }));
                    }
                    Class::Transient => {
                        transient += 1;
                        if transient >= TRANSIENT_ATTEMPTS {
                            return Err(CallError::Final(ClientError::Unavailable {
                                method: rpc.name(),
                                key: name.to_string(),
                                endpoint: self.opts.endpoint_for_display().to_owned(),
                                attempts: transient,
                                detail: transient_detail(&e),
                            }));
                        }
                        Duration::from_millis(200 << (transient - 1))
                    }
                    Class::Unreachable => {
                        unreachable += 1;
                        if unreachable >= UNREACHABLE_ATTEMPTS {
                            return Err(CallError::Final(ClientError::Unreachable {
                                method: rpc.name(),
                                key: name.to_string(),
                                endpoint: self.opts.endpoint_for_display().to_owned(),
                                detail: one_line(&error_chain(&e)),
                            }));
                        }
                        Duration::from_millis(100 << (unreachable - 1))
                    }
                },
            };
            tokio::time::sleep(delay).await;
        }
    }

    /// A permanent error as the user sees it.
    fn rejected(&self, rpc: Rpc, name: &KmsKeyName, e: &GaxError) -> ClientError {
        let status = status_name(e);
        let message = match e.status() {
            Some(s) if !s.message.is_empty() => one_line(s.message.trim_end_matches('.')),
            _ => one_line(&error_chain(e)),
        };
        ClientError::Rejected {
            method: rpc.name(),
            key: name.to_string(),
            hint: hint(rpc, &status),
            status,
            message,
        }
    }

    fn finish<T>(
        &self,
        rpc: Rpc,
        name: &KmsKeyName,
        r: Result<T, CallError>,
    ) -> Result<T, ClientError> {
        match r {
            Ok(v) => Ok(v),
            Err(CallError::Final(e)) => Err(e),
            Err(CallError::Permanent(e)) => Err(self.rejected(rpc, name, &e)),
        }
    }

    async fn encrypt(&self, plaintext: &[u8]) -> Result<(Vec<u8>, KmsKeyName), ClientError> {
        let key = &self.opts.key;
        if !key.is_version() {
            return Ok((self.encrypt_api(key, plaintext).await?, key.clone()));
        }
        let r = self
            .call(Rpc::GetPublicKey, key, || async {
                let pk = self
                    .client
                    .get_public_key()
                    .set_name(key.to_string())
                    .send()
                    .await?;
                if pk.pem_crc32c != Some(crc(pk.pem.as_bytes())) {
                    return Err(AttemptError::Integrity(
                        "the public key does not match its pem_crc32c".into(),
                    ));
                }
                if !key.is_version_of(&pk.name) {
                    return Err(AttemptError::Integrity(format!(
                        "the response names {} instead of the requested version",
                        one_line(&pk.name)
                    )));
                }
                Ok(pk)
            })
            .await;
        match r {
            Ok(pk) => {
                let algorithm = algorithm_name(&pk.algorithm);
                Ok((
                    oaep_encrypt(key, &algorithm, &pk.pem, plaintext)?,
                    key.clone(),
                ))
            }
            // Not an asymmetric key: a pinned version of a symmetric key. Encrypt takes the
            // version; Decrypt (AM's) only the key.
            Err(CallError::Permanent(e)) if is_failed_precondition(&e) => {
                Ok((self.encrypt_api(key, plaintext).await?, key.key()))
            }
            Err(e) => self.finish(Rpc::GetPublicKey, key, Err(e)),
        }
    }

    async fn encrypt_api(
        &self,
        name: &KmsKeyName,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, ClientError> {
        let sum = crc(plaintext);
        let r = self
            .call(Rpc::Encrypt, name, || async {
                let resp = self
                    .client
                    .encrypt()
                    .set_name(name.to_string())
                    .set_plaintext(plaintext.to_vec())
                    .set_plaintext_crc32c(sum)
                    .send()
                    .await?;
                if !resp.verified_plaintext_crc32c {
                    return Err(AttemptError::Integrity(
                        "Cloud KMS did not confirm the plaintext checksum (verified_plaintext_crc32c is false)".into(),
                    ));
                }
                if resp.ciphertext_crc32c != Some(crc(&resp.ciphertext)) {
                    return Err(AttemptError::Integrity(
                        "the ciphertext does not match its ciphertext_crc32c".into(),
                    ));
                }
                if !name.is_version_of(&resp.name) {
                    return Err(AttemptError::Integrity(format!(
                        "the response names {} instead of a version of the requested key",
                        one_line(&resp.name)
                    )));
                }
                Ok(resp.ciphertext.to_vec())
            })
            .await;
        self.finish(Rpc::Encrypt, name, r)
    }

    async fn decrypt(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, ClientError> {
        let key = &self.opts.key;
        if !key.is_version() {
            return self.decrypt_api(key, ciphertext).await;
        }
        let sum = crc(ciphertext);
        let r = self
            .call(Rpc::AsymmetricDecrypt, key, || async {
                let resp = self
                    .client
                    .asymmetric_decrypt()
                    .set_name(key.to_string())
                    .set_ciphertext(ciphertext.to_vec())
                    .set_ciphertext_crc32c(sum)
                    .send()
                    .await?;
                let plaintext = Zeroizing::new(resp.plaintext.to_vec());
                if !resp.verified_ciphertext_crc32c {
                    return Err(AttemptError::Integrity(
                        "Cloud KMS did not confirm the ciphertext checksum (verified_ciphertext_crc32c is false)".into(),
                    ));
                }
                if resp.plaintext_crc32c != Some(crc(&plaintext)) {
                    return Err(AttemptError::Integrity(
                        "the plaintext does not match its plaintext_crc32c".into(),
                    ));
                }
                Ok(plaintext)
            })
            .await;
        match r {
            Ok(p) => Ok(p),
            // A version of a symmetric key: Decrypt takes the key and finds the version itself.
            Err(CallError::Permanent(e)) if is_failed_precondition(&e) => {
                self.decrypt_api(&key.key(), ciphertext).await
            }
            Err(e) => self.finish(Rpc::AsymmetricDecrypt, key, Err(e)),
        }
    }

    async fn decrypt_api(
        &self,
        name: &KmsKeyName,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, ClientError> {
        let sum = crc(ciphertext);
        let r = self
            .call(Rpc::Decrypt, name, || async {
                let resp = self
                    .client
                    .decrypt()
                    .set_name(name.to_string())
                    .set_ciphertext(ciphertext.to_vec())
                    .set_ciphertext_crc32c(sum)
                    .send()
                    .await?;
                let plaintext = Zeroizing::new(resp.plaintext.to_vec());
                if resp.plaintext_crc32c != Some(crc(&plaintext)) {
                    return Err(AttemptError::Integrity(
                        "the plaintext does not match its plaintext_crc32c".into(),
                    ));
                }
                Ok(plaintext)
            })
            .await;
        self.finish(Rpc::Decrypt, name, r)
    }
}

fn algorithm_name(a: &CryptoKeyVersionAlgorithm) -> String {
    match a.name() {
        Some(n) => n.to_owned(),
        None => format!("#{}", a.value().unwrap_or(-1)),
    }
}

/// The error and its sources on one line (the client's top-level message alone is often
/// just "cannot connect to endpoint").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        source = inner.source();
    }
    s
}

fn transient_detail(e: &GaxError) -> String {
    match e.status() {
        Some(s) => one_line(&format!(
            "{}: {}",
            s.code.name(),
            s.message.trim_end_matches('.')
        )),
        None => one_line(&error_chain(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use google_cloud_gax::error::rpc::{Code, Status};

    fn key(s: &str) -> KmsKeyName {
        s.parse().unwrap()
    }

    #[test]
    fn status_classification_table() {
        let cases = [
            (Code::Unavailable, Class::Transient),
            (Code::DeadlineExceeded, Class::Transient),
            (Code::PermissionDenied, Class::Permanent),
            (Code::NotFound, Class::Permanent),
            (Code::InvalidArgument, Class::Permanent),
            (Code::FailedPrecondition, Class::Permanent),
            (Code::ResourceExhausted, Class::Permanent),
            (Code::Internal, Class::Permanent),
            (Code::Unauthenticated, Class::Credentials),
        ];
        for (code, want) in cases {
            let e = GaxError::service(Status::default().set_code(code).set_message("m"));
            assert_eq!(classify(&e), want, "{code:?}");
        }
    }

    #[test]
    fn transport_classification_table() {
        let refused = || io::Error::new(io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(classify(&GaxError::connect(refused())), Class::Unreachable);
        let reset = io::Error::new(io::ErrorKind::ConnectionReset, "reset");
        assert_eq!(classify(&GaxError::io(reset)), Class::Transient);
        assert_eq!(classify(&GaxError::timeout(refused())), Class::Transient);
        assert_eq!(classify(&GaxError::deser(refused())), Class::Permanent);
        for (code, want) in [
            (502, Class::Transient),
            (503, Class::Transient),
            (504, Class::Transient),
            (500, Class::Permanent),
            (401, Class::Credentials),
            (403, Class::Permanent),
            (404, Class::Permanent),
            (429, Class::Permanent),
        ] {
            assert_eq!(classify_http(code), want, "{code}");
        }
    }

    #[test]
    fn hints_name_the_permission() {
        assert!(
            hint(Rpc::Encrypt, "PERMISSION_DENIED")
                .contains("cloudkms.cryptoKeyVersions.useToEncrypt")
        );
        assert!(
            hint(Rpc::Decrypt, "PERMISSION_DENIED")
                .contains("cloudkms.cryptoKeyVersions.useToDecrypt")
        );
        assert!(
            hint(Rpc::AsymmetricDecrypt, "PERMISSION_DENIED")
                .contains("cloudkms.cryptoKeyVersions.useToDecrypt")
        );
        assert!(
            hint(Rpc::GetPublicKey, "PERMISSION_DENIED")
                .contains("cloudkms.cryptoKeyVersions.viewPublicKey")
        );
        assert!(hint(Rpc::Decrypt, "NOT_FOUND").contains("location"));
    }

    #[test]
    fn oaep_hash_selection_table() {
        let cases = [
            ("RSA_DECRYPT_OAEP_2048_SHA256", Some(OaepHash::Sha256)),
            ("RSA_DECRYPT_OAEP_3072_SHA256", Some(OaepHash::Sha256)),
            ("RSA_DECRYPT_OAEP_4096_SHA256", Some(OaepHash::Sha256)),
            ("RSA_DECRYPT_OAEP_4096_SHA512", Some(OaepHash::Sha512)),
            ("RSA_DECRYPT_OAEP_2048_SHA1", Some(OaepHash::Sha1)),
            ("RSA_DECRYPT_OAEP_3072_SHA1", Some(OaepHash::Sha1)),
            ("RSA_DECRYPT_OAEP_4096_SHA1", Some(OaepHash::Sha1)),
            ("RSA_SIGN_PSS_2048_SHA256", None),
            ("RSA_DECRYPT_OAEP_1024_SHA256", None),
            ("RSA_DECRYPT_OAEP_2048_SHA384", None),
            ("GOOGLE_SYMMETRIC_ENCRYPTION", None),
            ("EC_SIGN_P256_SHA256", None),
            ("", None),
        ];
        for (name, want) in cases {
            assert_eq!(OaepHash::for_algorithm(name), want, "{name}");
        }
        // The generated enum's names are the ones we match on.
        let all = [
            CryptoKeyVersionAlgorithm::RsaDecryptOaep2048Sha256,
            CryptoKeyVersionAlgorithm::RsaDecryptOaep3072Sha256,
            CryptoKeyVersionAlgorithm::RsaDecryptOaep4096Sha256,
            CryptoKeyVersionAlgorithm::RsaDecryptOaep4096Sha512,
            CryptoKeyVersionAlgorithm::RsaDecryptOaep2048Sha1,
            CryptoKeyVersionAlgorithm::RsaDecryptOaep3072Sha1,
            CryptoKeyVersionAlgorithm::RsaDecryptOaep4096Sha1,
        ];
        for a in all {
            assert!(
                OaepHash::for_algorithm(&algorithm_name(&a)).is_some(),
                "{a:?}"
            );
        }
    }

    #[test]
    fn oaep_capacity() {
        // k - 2 hLen - 2, RFC 8017 section 7.1.1.
        assert_eq!(OaepHash::Sha256.max_plaintext(256), 190);
        assert_eq!(OaepHash::Sha1.max_plaintext(256), 214);
        assert_eq!(OaepHash::Sha512.max_plaintext(512), 382);
        assert_eq!(OaepHash::Sha512.max_plaintext(256), 126);
        assert_eq!(OaepHash::Sha512.max_plaintext(100), 0);
    }

    #[test]
    fn oaep_rejects_what_does_not_fit_or_is_not_oaep() {
        use rsa::pkcs8::{EncodePublicKey, LineEnding};
        let k =
            key("projects/my-project/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1");
        // 1024 bits keeps the test fast; size checks do not depend on it.
        let private = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 1024).unwrap();
        let pem = private
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap();
        let alg = "RSA_DECRYPT_OAEP_2048_SHA256";
        let max = OaepHash::Sha256.max_plaintext(128);
        assert_eq!(max, 62);
        let ct = oaep_encrypt(&k, alg, &pem, &vec![7u8; max]).unwrap();
        let pt = private.decrypt(Oaep::new::<sha2::Sha256>(), &ct).unwrap();
        assert_eq!(pt, vec![7u8; max]);
        let e = oaep_encrypt(&k, alg, &pem, &vec![7u8; max + 1]).unwrap_err();
        assert!(
            matches!(e, ClientError::PlaintextTooLong { len, .. } if len == max + 1),
            "{e}"
        );
        // SHA-512 OAEP does not fit a 1024-bit key at all.
        let e = oaep_encrypt(&k, "RSA_DECRYPT_OAEP_2048_SHA512", &pem, b"x").unwrap_err();
        assert!(
            matches!(e, ClientError::PlaintextTooLong { max: 0, .. }),
            "{e}"
        );
        let e = oaep_encrypt(&k, "RSA_SIGN_PSS_2048_SHA256", &pem, b"x").unwrap_err();
        assert!(matches!(e, ClientError::UnsupportedAlgorithm { .. }), "{e}");
        let e = oaep_encrypt(
            &k,
            alg,
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
            b"x",
        )
        .unwrap_err();
        assert!(matches!(e, ClientError::BadPublicKey { .. }), "{e}");
    }

    #[test]
    fn crc32c_is_castagnoli() {
        // RFC 3720 B.4: 32 bytes of zeros -> 0x8a9136aa; "123456789" -> 0xe3069283.
        assert_eq!(crc(&[0u8; 32]), 0x8a91_36aa);
        assert_eq!(crc(b"123456789"), 0xe306_9283);
        assert!(
            crc(&[0xff; 64]) >= 0,
            "a u32 checksum is never negative as i64"
        );
    }

    #[test]
    fn ciphertext_input_forms() {
        let raw: Vec<u8> = (0u8..=200).collect();
        use base64::Engine as _;
        let one = base64::engine::general_purpose::STANDARD.encode(&raw);
        let wrapped: String = one
            .as_bytes()
            .chunks(76)
            .map(|c| format!("{}\n", std::str::from_utf8(c).unwrap()))
            .collect();
        for input in [
            one.clone(),
            format!("{one}\n"),
            wrapped,
            format!("  \r\n{one}\t\n\n"),
        ] {
            assert_eq!(
                decode_ciphertext(input.as_bytes()).unwrap(),
                raw,
                "{input:?}"
            );
        }
        let bad: &[(&str, &str)] = &[
            ("", "empty"),
            (" \n", "empty"),
            ("not base64!", "encoding"),
            ("AAA", "encoding"),
            ("AA-_", "encoding"),
        ];
        for (input, want) in bad {
            let e = decode_ciphertext(input.as_bytes()).unwrap_err();
            let got = match e {
                ClientError::EmptyInput { .. } => "empty",
                ClientError::CiphertextEncoding => "encoding",
                _ => "other",
            };
            assert_eq!(got, *want, "{input:?}");
            assert_eq!(e.exit_code(), EXIT_USAGE);
        }
    }

    #[test]
    fn endpoint_table() {
        let cases = [
            ("https://cloudkms.googleapis.com", false, true),
            ("https://europe-west1-cloudkms.googleapis.com/", false, true),
            ("http://127.0.0.1:8080", false, true),
            ("http://[::1]:8080", false, true),
            ("http://localhost:9", false, true),
            ("http://kms.internal:8080", false, false),
            ("http://kms.internal:8080", true, true),
            ("ftp://x", true, false),
            ("127.0.0.1:8080", true, false),
            ("https://", false, false),
            ("https://user@host", false, false),
            ("http://127.0.0.1.evil.com", false, false),
        ];
        for (e, anon, ok) in cases {
            assert_eq!(check_endpoint(e, anon).is_ok(), ok, "{e} anonymous={anon}");
        }
    }
}
