//! The RPCs: one client per operation, each call retried as [`super::retry`] says and its
//! CRC32C checksums checked as the module documentation lists.

use std::time::Duration;

use google_cloud_gax::error::Error as GaxError;
use google_cloud_gax::retry_policy::NeverRetry;
use google_cloud_kms_v1::client::KeyManagementService;
use google_cloud_kms_v1::model::PublicKey;
use google_cloud_kms_v1::model::crypto_key_version::CryptoKeyVersionAlgorithm;
use zeroize::Zeroizing;

use super::error::{error_chain, one_line, status_name, transient_detail};
use super::retry::{
    AttemptError, CallError, INTEGRITY_ATTEMPTS, TRANSIENT_ATTEMPTS, UNREACHABLE_ATTEMPTS,
    is_failed_precondition,
};
use super::{ClientError, KmsKeyName, KmsOptions, Retry, Rpc, classify, hint, oaep_encrypt};

/// Counts a failed attempt of one class: the pause before the next (`millis` of the count so
/// far), or `None` when the class has had its `max` attempts.
fn retry_after(count: &mut u32, max: u32, millis: impl Fn(u32) -> u64) -> Option<Duration> {
    *count += 1;
    (*count < max).then(|| Duration::from_millis(millis(*count)))
}

/// `Decrypt` and `AsymmetricDecrypt` take the same fields: the name, the ciphertext and its
/// CRC32C (the service refuses a ciphertext that does not match it).
macro_rules! send_decrypt {
    ($builder:expr, $name:expr, $ciphertext:expr) => {
        $builder
            .set_name($name.to_string())
            .set_ciphertext($ciphertext.to_vec())
            .set_ciphertext_crc32c(crc($ciphertext))
            .send()
            .await?
    };
}

pub(super) struct Ctx<'a> {
    opts: &'a KmsOptions,
    client: KeyManagementService,
}

pub(super) fn crc(data: &[u8]) -> i64 {
    i64::from(crc32c::crc32c(data))
}

impl<'a> Ctx<'a> {
    pub(super) async fn connect(opts: &'a KmsOptions) -> Result<Ctx<'a>, ClientError> {
        let mut builder = KeyManagementService::builder().with_retry_policy(NeverRetry);
        if let Some(e) = &opts.endpoint {
            builder = builder.with_endpoint(e.clone());
        }
        let credentials = if opts.anonymous {
            google_cloud_auth::credentials::anonymous::Builder::new().build()
        } else {
            // ADC read by amhash, from a file no other account chose (see `crate::gcp_adc`).
            crate::gcp_adc::credentials().map_err(|e| ClientError::Setup {
                endpoint: opts.endpoint_for_display().to_owned(),
                detail: one_line(&e.to_string()),
            })?
        };
        builder = builder.with_credentials(credentials);
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
            let failure = match attempt().await {
                Ok(v) => return Ok(v),
                Err(failure) => failure,
            };
            // What the error says when this failure is the last one.
            let (method, key) = (rpc.name(), name.to_string());
            let endpoint = || self.opts.endpoint_for_display().to_owned();
            let delay = match failure {
                AttemptError::Integrity(what) => {
                    retry_after(&mut integrity, INTEGRITY_ATTEMPTS, |_| 50).ok_or(
                        ClientError::Integrity {
                            method,
                            key,
                            what,
                            attempts: integrity,
                        },
                    )
                }
                AttemptError::Rpc(e) => match classify(&e) {
                    Retry::Permanent => return Err(CallError::Permanent(e)),
                    Retry::Credentials => Err(ClientError::Credentials {
                        method,
                        key,
                        detail: one_line(&error_chain(&e)),
                    }),
                    Retry::Transient => {
                        retry_after(&mut transient, TRANSIENT_ATTEMPTS, |n| 200 << (n - 1))
                            .ok_or_else(|| ClientError::Unavailable {
                                method,
                                key,
                                endpoint: endpoint(),
                                attempts: transient,
                                detail: transient_detail(&e),
                            })
                    }
                    Retry::Unreachable => {
                        retry_after(&mut unreachable, UNREACHABLE_ATTEMPTS, |n| 100 << (n - 1))
                            .ok_or_else(|| {
                                let detail = one_line(&error_chain(&e));
                                ClientError::Unreachable {
                                    method,
                                    key,
                                    endpoint: endpoint(),
                                    detail,
                                }
                            })
                    }
                },
            }
            .map_err(CallError::Final)?;
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

    pub(super) async fn encrypt(
        &self,
        plaintext: &[u8],
    ) -> Result<(Vec<u8>, KmsKeyName), ClientError> {
        let key = &self.opts.key;
        if !key.is_version() {
            return Ok((self.encrypt_api(key, plaintext).await?, key.clone()));
        }
        match self.public_key(key).await {
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

    /// `GetPublicKey` of a key version, its response checked.
    async fn public_key(&self, key: &KmsKeyName) -> Result<PublicKey, CallError> {
        self.call(Rpc::GetPublicKey, key, || async {
            let pk = self
                .client
                .get_public_key()
                .set_name(key.to_string())
                .send()
                .await?;
            ensure(
                pk.pem_crc32c == Some(crc(pk.pem.as_bytes())),
                "the public key does not match its pem_crc32c",
            )?;
            ensure_named(key, &pk.name, "the requested version")?;
            Ok(pk)
        })
        .await
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
                ensure(
                    resp.verified_plaintext_crc32c,
                    "Cloud KMS did not confirm the plaintext checksum (verified_plaintext_crc32c is false)",
                )?;
                ensure(
                    resp.ciphertext_crc32c == Some(crc(&resp.ciphertext)),
                    "the ciphertext does not match its ciphertext_crc32c",
                )?;
                ensure_named(name, &resp.name, "a version of the requested key")?;
                Ok(resp.ciphertext.to_vec())
            })
            .await;
        self.finish(Rpc::Encrypt, name, r)
    }

    pub(super) async fn decrypt(
        &self,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, ClientError> {
        let key = &self.opts.key;
        if !key.is_version() {
            return self.decrypt_api(key, ciphertext).await;
        }
        match self.asymmetric_decrypt_api(key, ciphertext).await {
            Ok(p) => Ok(p),
            // A version of a symmetric key: Decrypt takes the key and finds the version itself.
            Err(CallError::Permanent(e)) if is_failed_precondition(&e) => {
                self.decrypt_api(&key.key(), ciphertext).await
            }
            Err(e) => self.finish(Rpc::AsymmetricDecrypt, key, Err(e)),
        }
    }

    /// `AsymmetricDecrypt` with a key version, its response checked.
    async fn asymmetric_decrypt_api(
        &self,
        key: &KmsKeyName,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CallError> {
        self.call(Rpc::AsymmetricDecrypt, key, || async {
            let resp = send_decrypt!(self.client.asymmetric_decrypt(), key, ciphertext);
            ensure(
                resp.verified_ciphertext_crc32c,
                "Cloud KMS did not confirm the ciphertext checksum (verified_ciphertext_crc32c is false)",
            )?;
            checked_plaintext(&resp.plaintext, resp.plaintext_crc32c)
        })
        .await
    }

    async fn decrypt_api(
        &self,
        name: &KmsKeyName,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, ClientError> {
        let r = self
            .call(Rpc::Decrypt, name, || async {
                let resp = send_decrypt!(self.client.decrypt(), name, ciphertext);
                checked_plaintext(&resp.plaintext, resp.plaintext_crc32c)
            })
            .await;
        self.finish(Rpc::Decrypt, name, r)
    }
}

/// The plaintext of a decrypt response, checked against its `plaintext_crc32c`.
fn checked_plaintext(
    plaintext: &[u8],
    crc32c: Option<i64>,
) -> Result<Zeroizing<Vec<u8>>, AttemptError> {
    let plaintext = Zeroizing::new(plaintext.to_vec());
    ensure(
        crc32c == Some(crc(&plaintext)),
        "the plaintext does not match its plaintext_crc32c",
    )?;
    Ok(plaintext)
}

/// The check that a response names the key version asked for, or a version of the key asked
/// for (`what`, in the message).
fn ensure_named(requested: &KmsKeyName, named: &str, what: &str) -> Result<(), AttemptError> {
    ensure(
        requested.is_version_of(named),
        format!("the response names {} instead of {what}", one_line(named)),
    )
}

/// A check of a response: an integrity failure (retried, see the module documentation)
/// saying `what` when it does not hold.
fn ensure(holds: bool, what: impl Into<String>) -> Result<(), AttemptError> {
    if holds {
        Ok(())
    } else {
        Err(AttemptError::Integrity(what.into()))
    }
}

pub(super) fn algorithm_name(a: &CryptoKeyVersionAlgorithm) -> String {
    match a.name() {
        Some(n) => n.to_owned(),
        None => format!("#{}", a.value().unwrap_or(-1)),
    }
}
