//! The encryption options every command shares: how to seal a value (`--encrypt`) and how
//! to open one (`--key`, `--kms-key`), validated before any password prompt.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::cli::{EncryptArgs, EncryptWith, KeyArgs};
use crate::failure::Failure;
use amhash::cipher::{self, AmCipher, AmKdf, LocalKey, Scheme};
use amhash::key_source::{KeySource, KeySourceError, KeyringBackend};
use amhash::kms::{self, KmsOptions};
use amhash::ssha::SshaHash;
use amhash::store::Format;

/// How a value is (to be) protected, fully resolved from the flags.
pub enum Protection {
    /// `{SSHA-512}` as is: format PLAIN.
    Plain,
    /// AM's encryptor with the AM encryption password: format ENCRYPTED_PLAIN.
    Am {
        cipher: AmCipher,
        kdf: AmKdf,
        key: KeySource,
        /// True when `cipher` was learned from `--am-sample`.
        from_sample: bool,
    },
    /// The amhash AES-256-GCM envelope under a local key (AM cannot read it).
    Gcm { key: KeySource },
    /// Cloud KMS: format GOOGLE_KMS_ENCRYPTED.
    Kms(KmsOptions),
}

impl Protection {
    /// The AM format property value for values protected this way, if AM can read them.
    pub fn format(&self) -> Option<Format> {
        match self {
            Self::Plain => Some(Format::Plain),
            Self::Am { .. } => Some(Format::EncryptedPlain),
            Self::Kms(_) => Some(Format::GoogleKmsEncrypted),
            Self::Gcm { .. } => None,
        }
    }

    /// What `--am-sample` matched, for reports: `None` without a sample.
    pub fn sample_note(&self) -> Option<String> {
        match self {
            Self::Am {
                cipher,
                from_sample: true,
                ..
            } => Some(format!(
                "--am-sample: your AM's value opens as {}; the new value uses the same",
                describe_cipher(*cipher)
            )),
            _ => None,
        }
    }

    /// A short name for reports.
    pub fn describe(&self) -> String {
        match self {
            Self::Plain => "none ({SSHA-512} as is)".into(),
            Self::Am {
                cipher,
                from_sample: true,
                ..
            } => format!(
                "AM encryption password, {} (as the --am-sample value)",
                cipher.as_str()
            ),
            Self::Am { cipher, .. } => format!("AM encryption password, {}", cipher.as_str()),
            Self::Gcm { .. } => "local AES-256-GCM key".into(),
            Self::Kms(opts) => format!("Cloud KMS key {}", opts.key),
        }
    }
}

/// Resolves `--encrypt` and its key flags, without reading any secret yet.
pub fn protection(args: &EncryptArgs) -> Result<Protection, Failure> {
    let keys = &args.keys;
    match args.encrypt {
        None | Some(EncryptWith::AesGcm | EncryptWith::Kms) if args.am_sample.is_some() => {
            Err(Failure::input("--am-sample goes with --encrypt am"))
        }
        None => {
            if keys.key.is_some() || keys.kms.kms_key.is_some() {
                return Err(Failure::input(
                    "--key and --kms-key need --encrypt am, aes-gcm or kms to say how to encrypt",
                ));
            }
            Ok(Protection::Plain)
        }
        Some(EncryptWith::Am) => {
            let kdf = am_kdf(keys)?;
            let key = required_key(keys, "--encrypt am", "the AM encryption password")?;
            // Before any prompt: a sample the key cannot open should not cost a password entry.
            let (cipher, from_sample) = match &args.am_sample {
                Some(path) => (sample_cipher(path, &key, keys.keyring_backend, &kdf)?, true),
                None => (args.am_cipher, false),
            };
            Ok(Protection::Am {
                cipher,
                kdf,
                key,
                from_sample,
            })
        }
        Some(EncryptWith::AesGcm) => Ok(Protection::Gcm {
            key: required_key(keys, "--encrypt aes-gcm", "the local key")?,
        }),
        Some(EncryptWith::Kms) => match kms_options(keys)? {
            Some(opts) => {
                // Before any prompt: a missing helper should not cost a password entry.
                kms::remote::Helper::locate().map_err(kms_failure)?;
                Ok(Protection::Kms(opts))
            }
            None => Err(Failure::input(
                "--encrypt kms needs --kms-key projects/P/locations/L/keyRings/R/cryptoKeys/K",
            )),
        },
    }
}

/// The AM encryptor and key wrap of a stored AM value, opened with `--key`.
pub fn am_cipher_of(text: &str, keys: &KeyArgs) -> Result<AmCipher, Failure> {
    let key = required_key(keys, "--am-sample", "the AM encryption password")?;
    let password = am_password(&key, keys.keyring_backend)?;
    cipher::am_decrypt(&password, &am_kdf(keys)?, text)
        .map(|opened| opened.cipher)
        .map_err(cipher_failure)
}

/// An AM encryptor in words, naming the key wrap for AESWrap.
pub fn describe_cipher(cipher: AmCipher) -> &'static str {
    match cipher {
        AmCipher::Jce => "JCEEncryption (jce)",
        AmCipher::AesWrap => "AESWrapEncryption with the RFC 3394 key wrap (aeswrap)",
        AmCipher::AesWrapPad => "AESWrapEncryption with the RFC 5649 key wrap (aeswrap-pad)",
    }
}

/// The AM encryptor and key wrap of `--am-sample`: the sample, opened with the AM encryption
/// password in `key` and the given KDF settings, tells which of JCE, AESWrap (RFC 3394) or
/// AESWrap (RFC 5649) the administrator's AM uses. The sample's plaintext can be anything.
pub fn sample_cipher(
    path: &std::path::Path,
    key: &KeySource,
    backend: KeyringBackend,
    kdf: &AmKdf,
) -> Result<AmCipher, Failure> {
    let context = || format!("--am-sample {}", amhash::escape::path(path));
    let text = super::verify::read_value_file(path).map_err(|e| e.context("--am-sample"))?;
    let password = am_password(key, backend)?;
    match cipher::am_decrypt(&password, kdf, text.trim()) {
        Ok(opened) => Ok(opened.cipher),
        Err(e) if e.kind() == cipher::ErrorKind::WrongKeyOrTampered => {
            Err(Failure::operational(format!(
                "{}: the key does not open this sample: it is not the AM encryption password of \
                 the AM that made it, or (AESWrap) that AM uses other \
                 org.forgerock.openam.encryption.key.* settings than the --am-kdf-* flags say; \
                 nothing was encrypted",
                context()
            )))
        }
        Err(e) => Err(cipher_failure(e).context(format!(
            "{}: not a value AM encrypted with its encryption password (JCE or AESWrap)",
            context()
        ))),
    }
}

fn required_key(keys: &KeyArgs, flag: &str, what: &str) -> Result<KeySource, Failure> {
    keys.key.clone().ok_or_else(|| {
        Failure::input(format!(
            "{flag} needs --key SOURCE naming {what} (file:PATH, env:VAR or keyring:SERVICE/ACCOUNT)"
        ))
    })
}

pub fn am_kdf(keys: &KeyArgs) -> Result<AmKdf, Failure> {
    AmKdf::new(keys.am_kdf_digest, keys.am_kdf_iterations, keys.am_key_size).map_err(Failure::input)
}

pub fn kms_options(keys: &KeyArgs) -> Result<Option<KmsOptions>, Failure> {
    let Some(name) = &keys.kms.kms_key else {
        if keys.kms.kms_endpoint.is_some() || keys.kms.kms_anonymous {
            return Err(Failure::input(
                "--kms-endpoint and --kms-anonymous need --kms-key NAME",
            ));
        }
        return Ok(None);
    };
    if keys.kms.kms_timeout == 0 {
        return Err(Failure::input("--kms-timeout must be at least 1 second"));
    }
    let mut opts = KmsOptions::new(name.clone());
    opts.endpoint = keys.kms.kms_endpoint.clone();
    opts.anonymous = keys.kms.kms_anonymous;
    opts.timeout = Duration::from_secs(keys.kms.kms_timeout);
    Ok(Some(opts))
}

/// A value sealed as a [`Protection`] says.
pub struct Sealed {
    /// The text to store.
    pub value: String,
    /// For Cloud KMS: the name AM must decrypt with, as KMS decided it.
    pub kms_decrypt_with: Option<kms::KmsKeyName>,
}

impl Sealed {
    /// What to tell the administrator about the KMS decryption key, when it is not simply
    /// the name they gave.
    pub fn kms_note(&self, protection: &Protection) -> Option<String> {
        let (Protection::Kms(opts), Some(with)) = (protection, &self.kms_decrypt_with) else {
            return None;
        };
        // Only when AM must be told something else than what was given: a version of a
        // symmetric key (an asymmetric key's version is itself what AM decrypts with).
        (*with != opts.key).then(|| {
            format!(
                "{} is a version of a symmetric key: AM must name the key {with} \
                 (Cloud KMS Decrypt takes a CryptoKey, never a version, and finds the version itself)",
                opts.key
            )
        })
    }
}

/// Encrypts `plaintext` (a `{SSHA-512}` value) as `protection` says.
pub fn seal(
    protection: &Protection,
    backend: KeyringBackend,
    plaintext: &str,
) -> Result<Sealed, Failure> {
    let value = match protection {
        Protection::Plain => plaintext.to_string(),
        Protection::Am {
            cipher, kdf, key, ..
        } => {
            let password = am_password(key, backend)?;
            cipher::am_encrypt(*cipher, &password, kdf, plaintext.as_bytes())
                .map_err(cipher_failure)?
        }
        Protection::Gcm { key } => {
            let key = local_key(key, backend)?;
            cipher::gcm_seal(&key, plaintext.as_bytes()).map_err(cipher_failure)?
        }
        Protection::Kms(opts) => {
            let sealed = kms::remote::encrypt(opts, plaintext.as_bytes()).map_err(kms_failure)?;
            return Ok(Sealed {
                value: sealed.value,
                kms_decrypt_with: Some(sealed.decrypt_with),
            });
        }
    };
    Ok(Sealed {
        value,
        kms_decrypt_with: None,
    })
}

/// What a stored value turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detected {
    /// `{SSHA-512}...`.
    Plain,
    /// An AM encrypted value, or our local envelope.
    Encrypted(Scheme),
    /// Base64 of no scheme amhash recognises: a Cloud KMS ciphertext, presumably.
    Opaque,
}

impl Detected {
    /// The AM format property value this value needs, if AM can read it.
    pub fn format(self) -> Option<Format> {
        match self {
            Self::Plain => Some(Format::Plain),
            Self::Encrypted(Scheme::AmJce | Scheme::AmAesWrap) => Some(Format::EncryptedPlain),
            Self::Encrypted(Scheme::AesGcm) => None,
            Self::Opaque => Some(Format::GoogleKmsEncrypted),
        }
    }

    pub fn describe(self) -> String {
        match self {
            Self::Plain => "{SSHA-512} (PLAIN)".into(),
            Self::Encrypted(scheme @ (Scheme::AmJce | Scheme::AmAesWrap)) => {
                format!("{scheme} (ENCRYPTED_PLAIN)")
            }
            Self::Encrypted(scheme) => format!("{scheme} (AM cannot read this format)"),
            Self::Opaque => {
                "base64 of no local scheme: a Cloud KMS ciphertext? (GOOGLE_KMS_ENCRYPTED)".into()
            }
        }
    }
}

/// Tells what a stored value is without any key.
pub fn detect(text: &str) -> Result<Detected, Failure> {
    if text.starts_with(amhash::ssha::PREFIX) || text.trim().starts_with('{') {
        return Ok(Detected::Plain);
    }
    let bytes = cipher::decode_base64_lenient(text).map_err(|_| {
        Failure::input(
            "the value is neither a {SSHA-512} hash nor base64 ciphertext: check what was stored",
        )
    })?;
    Ok(match Scheme::detect(&bytes) {
        Some(scheme) => Detected::Encrypted(scheme),
        None => Detected::Opaque,
    })
}

/// The canonical one-line form of a stored value given as text (a `--value-file`): blanks and
/// line breaks around it dropped; a `{SSHA-512}` value parsed strictly and printed again (a
/// blank or line break inside is an error); base64 ciphertext, which tools wrap at 76
/// columns, decoded across its line breaks and encoded again as one line of standard base64.
/// AM reads the file byte for byte, so what is installed is always this form.
pub fn canonical(text: &str) -> Result<(String, Detected), Failure> {
    use base64::Engine as _;
    let trimmed = text.trim_matches(|c: char| c.is_ascii_whitespace());
    let detected = detect(trimmed)?;
    let canonical = match detected {
        Detected::Plain => trimmed
            .parse::<SshaHash>()
            .map_err(Failure::from)?
            .to_string(),
        Detected::Encrypted(_) | Detected::Opaque => {
            let bytes = Zeroizing::new(cipher::decode_base64_lenient(trimmed).map_err(|_| {
                Failure::input(
                    "the value is not one base64 text (a blank or other character inside): check what was stored",
                )
            })?);
            base64::engine::general_purpose::STANDARD.encode(&*bytes)
        }
    };
    Ok((canonical, detected))
}

/// Opens a stored value: parses it when plain, decrypts it with the given keys otherwise,
/// and insists the result is a `{SSHA-512}` value.
pub fn open(text: &str, keys: &KeyArgs) -> Result<(SshaHash, Detected), Failure> {
    let kms = kms_options(keys)?;
    let detected = if kms.is_some() && !text.starts_with(amhash::ssha::PREFIX) {
        // A KMS ciphertext can start with any byte: with --kms-key, do not guess.
        Detected::Opaque
    } else {
        detect(text)?
    };
    let plaintext: Zeroizing<Vec<u8>> = match detected {
        Detected::Plain => return Ok((text.parse().map_err(Failure::from)?, detected)),
        Detected::Encrypted(scheme) => {
            let Some(key) = &keys.key else {
                return Err(Failure::input(format!(
                    "the value is encrypted ({scheme}): give --key SOURCE to decrypt it"
                )));
            };
            match scheme {
                Scheme::AmJce | Scheme::AmAesWrap => {
                    let password = am_password(key, keys.keyring_backend)?;
                    cipher::am_decrypt(&password, &am_kdf(keys)?, text)
                        .map_err(cipher_failure)?
                        .plaintext
                }
                Scheme::AesGcm => {
                    let key = local_key(key, keys.keyring_backend)?;
                    cipher::gcm_open(&key, text).map_err(cipher_failure)?
                }
            }
        }
        Detected::Opaque => match &kms {
            Some(opts) => kms::remote::decrypt(opts, text).map_err(kms_failure)?,
            None => {
                return Err(Failure::input(
                    "the value is not {SSHA-512} and not an AM or amhash encrypted value: \
                     if it is GOOGLE_KMS_ENCRYPTED, give --kms-key NAME",
                ));
            }
        },
    };
    // Every scheme rejects a wrong key before this point (AESWrap, AES-GCM and KMS by their
    // integrity checks, JCE by its derived-IV check): a plaintext here was opened with the
    // right key, it just is not a hash (ForgeRock's own test vectors encrypt a sentence).
    let hash = std::str::from_utf8(&plaintext)
        .ok()
        .and_then(|s| s.parse::<SshaHash>().ok())
        .ok_or_else(|| {
            Failure::operational(format!(
                "the value decrypts with this key, but what it holds is not a {{SSHA-512}} value: \
                 it was made from something else{}, so AM would not accept it as a password",
                if detected == Detected::Encrypted(Scheme::AmJce) {
                    " (or altered: JCE has no integrity check)"
                } else {
                    ""
                }
            ))
        })?;
    Ok((hash, detected))
}

/// Reads the AM encryption password from its source.
fn am_password(key: &KeySource, backend: KeyringBackend) -> Result<SecretString, Failure> {
    let bytes = key.read(backend).map_err(key_failure)?;
    let text = std::str::from_utf8(bytes.expose_secret()).map_err(|_| {
        Failure::input(format!(
            "the AM encryption password in {key} is not UTF-8 text"
        ))
    })?;
    Ok(SecretString::from(text))
}

/// Reads a local AES-256 key (64 hex characters) from its source.
fn local_key(key: &KeySource, backend: KeyringBackend) -> Result<LocalKey, Failure> {
    let bytes = key.read(backend).map_err(key_failure)?;
    let text = std::str::from_utf8(bytes.expose_secret())
        .map_err(|_| Failure::input(format!("the key in {key} is not 64 hex characters")))?;
    LocalKey::from_hex(text).map_err(|e| Failure::input(e).context(format!("the key in {key}")))
}

pub fn key_failure(e: KeySourceError) -> Failure {
    if e.is_usage() {
        Failure::input(e)
    } else {
        Failure::operational(e)
    }
}

pub fn cipher_failure(e: cipher::CipherError) -> Failure {
    if e.is_malformed() || e.kind() == cipher::ErrorKind::InvalidInput {
        Failure::input(e)
    } else {
        Failure::operational(e)
    }
}

pub fn kms_failure(e: kms::remote::KmsError) -> Failure {
    if e.is_usage() {
        Failure::input(e)
    } else {
        Failure::operational(e)
    }
}
