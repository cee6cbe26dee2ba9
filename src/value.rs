//! A stored value in any of its forms, and the pipeline between them.
//!
//! ```text
//!   password --SshaHash--> {SSHA-512}... --seal(Protection)--> stored text --open(Keys)--> SshaHash
//! ```
//!
//! What is stored is one line of text in one of these forms ([`Form`]), told apart without
//! any key by [`Form::detect`]:
//!
//! | form | text | AM format ([`crate::am::Format`]) |
//! |------|------|-----------------------------------|
//! | [`Form::Plain`] | `{SSHA-512}` + base64 (see [`crate::ssha`]) | `PLAIN` |
//! | [`Form::Encrypted`] AM JCE / AESWrap | base64 of the AM encryptor's bytes (see [`crate::cipher`]) | `ENCRYPTED_PLAIN` |
//! | [`Form::Encrypted`] AES-GCM | base64 of the amhash envelope | none: AM cannot read it |
//! | [`Form::Opaque`] | base64 of anything else: a Cloud KMS ciphertext | `GOOGLE_KMS_ENCRYPTED` |
//!
//! Opening any form must end in a well-formed `{SSHA-512}` value: AM would reject anything
//! else after decrypting it.

use std::fmt;
use std::path::Path;

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::am::Format;
use crate::cipher::{self, AmCipher, AmKdf, CipherError, ErrorKind, LocalKey, Scheme};
use crate::error::Fault;
use crate::key_source::{KeySource, KeySourceError, KeyringBackend};
use crate::kms::{self, KmsError, KmsKeyName, KmsOptions};
use crate::ssha::{self, SshaHash};
use crate::store::{self, StoreError};

/// Values are short; a file larger than this is not a value file.
pub const MAX_VALUE_FILE: usize = 64 * 1024;

/// Why a value could not be read, recognised, sealed or opened. Messages name what is wrong
/// and what to give; none contains a password, a key or a plaintext.
#[derive(Debug, thiserror::Error)]
pub enum ValueError {
    /// Neither `{SSHA-512}` nor base64.
    #[error(
        "the value is neither a {{SSHA-512}} hash nor base64 ciphertext: check what was stored"
    )]
    Unrecognised,
    /// Base64 with a blank or another character inside.
    #[error(
        "the value is not one base64 text (a blank or other character inside): check what was stored"
    )]
    NotOneBase64,
    /// A malformed `{SSHA-512}` value.
    #[error(transparent)]
    Hash(#[from] ssha::ParseError),
    /// An encrypted value and no key to open it.
    #[error("the value is encrypted ({scheme}): give --key SOURCE to decrypt it")]
    NeedsKey {
        /// What it is encrypted with.
        scheme: Scheme,
    },
    /// Base64 of no local scheme, and no KMS key.
    #[error(
        "the value is not {{SSHA-512}} and not an AM or amhash encrypted value: if it is GOOGLE_KMS_ENCRYPTED, give --kms-key NAME"
    )]
    NeedsKmsKey,
    /// The key opened the value, but what it holds is not a `{SSHA-512}` value.
    #[error(
        "the value decrypts with this key, but what it holds is not a {{SSHA-512}} value: it was made from something else{}, so AM would not accept it as a password",
        if *.jce { " (or altered: JCE has no integrity check)" } else { "" }
    )]
    NotAHash {
        /// JCE has no integrity check, so altered data also ends here.
        jce: bool,
    },
    /// The AM encryption password is not text.
    #[error("the AM encryption password in {key} is not UTF-8 text")]
    PasswordNotText {
        /// The key reference.
        key: String,
    },
    /// A local key is not 64 hex characters.
    #[error("the key in {key} is not 64 hex characters")]
    LocalKeyNotText {
        /// The key reference.
        key: String,
    },
    /// A local key's text is malformed.
    #[error("the key in {key}: {source}")]
    LocalKey {
        /// The key reference.
        key: String,
        /// What is wrong with it.
        source: CipherError,
    },
    /// The key does not open the AM sample.
    #[error(
        "the key does not open this sample: it is not the AM encryption password of the AM that made it, or (AESWrap) that AM uses other org.forgerock.openam.encryption.key.* settings than the --am-kdf-* flags say; nothing was encrypted"
    )]
    SampleWrongKey,
    /// The sample is no AM encrypted value.
    #[error("not a value AM encrypted with its encryption password (JCE or AESWrap): {0}")]
    SampleNotAm(CipherError),
    /// A value file refused by policy (a link, an owner): see [`store::read_secret_file`].
    #[error(transparent)]
    FileRefused(StoreError),
    /// A value file that cannot be read.
    #[error(transparent)]
    File(StoreError),
    /// A value file too large to be a value.
    #[error("{path}: the file is larger than any value could be")]
    FileTooLarge {
        /// The path, escaped.
        path: String,
    },
    /// A value file that is not text.
    #[error("{path}: the file is not UTF-8 text")]
    FileNotText {
        /// The path, escaped.
        path: String,
    },
    /// Reading a key failed.
    #[error(transparent)]
    Key(#[from] KeySourceError),
    /// A cipher failed.
    #[error(transparent)]
    Cipher(#[from] CipherError),
    /// Cloud KMS (through `amhash-kms`) failed.
    #[error(transparent)]
    Kms(#[from] KmsError),
}

impl crate::error::Error for ValueError {
    fn fault(&self) -> Fault {
        match self {
            Self::Hash(e) => e.fault(),
            Self::Key(e) => e.fault(),
            Self::Cipher(e) | Self::SampleNotAm(e) => e.fault(),
            Self::Kms(e) => e.fault(),
            Self::NotAHash { .. } | Self::SampleWrongKey | Self::File(_) => Fault::Operational,
            Self::Unrecognised
            | Self::NotOneBase64
            | Self::NeedsKey { .. }
            | Self::NeedsKmsKey
            | Self::PasswordNotText { .. }
            | Self::LocalKeyNotText { .. }
            | Self::LocalKey { .. }
            | Self::FileRefused(_)
            | Self::FileTooLarge { .. }
            | Self::FileNotText { .. } => Fault::Input,
        }
    }
}

/// What form a stored value is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `{SSHA-512}...`.
    Plain,
    /// An AM encrypted value, or the amhash envelope.
    Encrypted(Scheme),
    /// Base64 of no scheme amhash recognises: a Cloud KMS ciphertext, presumably.
    Opaque,
}

impl Form {
    /// Tells what a stored value is without any key.
    ///
    /// # Errors
    /// [`ValueError::Unrecognised`] for text that is neither `{SSHA-512}` nor base64.
    pub fn detect(text: &str) -> Result<Self, ValueError> {
        if text.starts_with(ssha::PREFIX) || text.trim().starts_with('{') {
            return Ok(Self::Plain);
        }
        let bytes = cipher::decode_base64_lenient(text).map_err(|_| ValueError::Unrecognised)?;
        Ok(match Scheme::detect(&bytes) {
            Some(scheme) => Self::Encrypted(scheme),
            None => Self::Opaque,
        })
    }

    /// The AM format property value this form needs, if AM can read it.
    #[must_use]
    pub fn format(self) -> Option<Format> {
        match self {
            Self::Plain => Some(Format::Plain),
            Self::Encrypted(Scheme::AmJce | Scheme::AmAesWrap) => Some(Format::EncryptedPlain),
            Self::Encrypted(Scheme::AesGcm) => None,
            Self::Opaque => Some(Format::GoogleKmsEncrypted),
        }
    }

    /// A short description for reports.
    #[must_use]
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

/// A stored value in its canonical one-line form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredValue {
    text: String,
    form: Form,
}

impl StoredValue {
    /// The canonical form of a value given as text (a `--value-file`): blanks and line breaks
    /// around it dropped; a `{SSHA-512}` value parsed strictly and printed again (a blank or
    /// line break inside is an error); base64 ciphertext, which tools wrap at 76 columns,
    /// decoded across its line breaks and encoded again as one line of standard base64. AM
    /// reads the file byte for byte, so what is installed is always this form.
    ///
    /// # Errors
    /// [`ValueError::Unrecognised`], [`ValueError::Hash`], [`ValueError::NotOneBase64`].
    pub fn canonical(text: &str) -> Result<Self, ValueError> {
        let trimmed = text.trim_matches(|c: char| c.is_ascii_whitespace());
        let form = Form::detect(trimmed)?;
        let text = match form {
            Form::Plain => trimmed.parse::<SshaHash>()?.to_string(),
            Form::Encrypted(_) | Form::Opaque => {
                let bytes = Zeroizing::new(
                    cipher::decode_base64_lenient(trimmed).map_err(|_| ValueError::NotOneBase64)?,
                );
                base64::engine::general_purpose::STANDARD.encode(&*bytes)
            }
        };
        Ok(Self { text, form })
    }

    /// The form.
    #[must_use]
    pub fn form(&self) -> Form {
        self.form
    }

    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for StoredValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// How a value is (to be) protected.
#[derive(Debug, Clone)]
pub enum Protection {
    /// `{SSHA-512}` as is: format PLAIN.
    Plain,
    /// AM's encryptor with the AM encryption password: format ENCRYPTED_PLAIN.
    Am {
        /// JCE or AESWrap.
        cipher: AmCipher,
        /// AESWrap's key derivation settings.
        kdf: AmKdf,
        /// Where the AM encryption password is.
        key: KeySource,
        /// True when `cipher` was learned from an AM sample ([`am_cipher_of_sample`]).
        from_sample: bool,
    },
    /// The amhash AES-256-GCM envelope under a local key (AM cannot read it).
    Gcm {
        /// Where the local key is.
        key: KeySource,
    },
    /// Cloud KMS: format GOOGLE_KMS_ENCRYPTED.
    Kms(KmsOptions),
}

impl Protection {
    /// The AM format property value for values protected this way, if AM can read them.
    #[must_use]
    pub fn format(&self) -> Option<Format> {
        match self {
            Self::Plain => Some(Format::Plain),
            Self::Am { .. } => Some(Format::EncryptedPlain),
            Self::Kms(_) => Some(Format::GoogleKmsEncrypted),
            Self::Gcm { .. } => None,
        }
    }

    /// What an AM sample taught, for reports: `None` without a sample.
    #[must_use]
    pub fn sample_note(&self) -> Option<String> {
        match self {
            Self::Am {
                cipher,
                from_sample: true,
                ..
            } => Some(format!(
                "--am-sample: your AM's value opens as {}; the new value uses the same",
                cipher.describe()
            )),
            _ => None,
        }
    }

    /// A short name for reports.
    #[must_use]
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

    /// Encrypts a `{SSHA-512}` value as this protection says.
    ///
    /// # Errors
    /// [`ValueError::Key`], [`ValueError::Cipher`], [`ValueError::Kms`] and the key text
    /// errors.
    pub fn seal(&self, hash: &SshaHash, backend: KeyringBackend) -> Result<Sealed, ValueError> {
        let plaintext = Zeroizing::new(hash.to_string());
        let value = match self {
            Self::Plain => plaintext.to_string(),
            Self::Am {
                cipher, kdf, key, ..
            } => {
                let password = am_password(key, backend)?;
                cipher::am_encrypt(*cipher, &password, kdf, plaintext.as_bytes())?
            }
            Self::Gcm { key } => cipher::gcm_seal(&local_key(key, backend)?, plaintext.as_bytes())?,
            Self::Kms(opts) => {
                let sealed = kms::remote::encrypt(opts, plaintext.as_bytes())?;
                return Ok(Sealed {
                    value: sealed.value,
                    kms_decrypt_with: Some(sealed.decrypt_with),
                    kms_given: Some(opts.key.clone()),
                });
            }
        };
        Ok(Sealed {
            value,
            kms_decrypt_with: None,
            kms_given: None,
        })
    }
}

/// A value sealed by [`Protection::seal`].
#[derive(Debug, Clone)]
pub struct Sealed {
    /// The text to store.
    pub value: String,
    /// For Cloud KMS: the name AM must decrypt with, as KMS decided it.
    pub kms_decrypt_with: Option<KmsKeyName>,
    /// For Cloud KMS: the name it was encrypted with.
    kms_given: Option<KmsKeyName>,
}

impl Sealed {
    /// What to tell the administrator about the KMS decryption key, when it is not simply
    /// the name they gave: a version of a symmetric key (an asymmetric key's version is
    /// itself what AM decrypts with).
    #[must_use]
    pub fn kms_note(&self) -> Option<String> {
        let (Some(given), Some(with)) = (&self.kms_given, &self.kms_decrypt_with) else {
            return None;
        };
        (with != given).then(|| {
            format!(
                "{given} is a version of a symmetric key: AM must name the key {with} \
                 (Cloud KMS Decrypt takes a CryptoKey, never a version, and finds the version itself)"
            )
        })
    }
}

/// The keys a stored value may be opened with.
#[derive(Debug, Clone)]
pub struct Keys {
    /// The AM encryption password or the local AES-GCM key.
    pub key: Option<KeySource>,
    /// Where `keyring:` keys are.
    pub backend: KeyringBackend,
    /// AESWrap's key derivation settings.
    pub kdf: AmKdf,
    /// Cloud KMS, for `GOOGLE_KMS_ENCRYPTED` values.
    pub kms: Option<KmsOptions>,
}

/// Opens a stored value exactly as stored (AM reads it byte for byte): parses it when plain,
/// decrypts it with `keys` otherwise, and insists the result is a `{SSHA-512}` value.
///
/// # Errors
/// Every [`ValueError`] but the file ones.
pub fn open(text: &str, keys: &Keys) -> Result<(SshaHash, Form), ValueError> {
    let form = if keys.kms.is_some() && !text.starts_with(ssha::PREFIX) {
        // A KMS ciphertext can start with any byte: with a KMS key, do not guess.
        Form::Opaque
    } else {
        Form::detect(text)?
    };
    let plaintext: Zeroizing<Vec<u8>> = match form {
        Form::Plain => return Ok((text.parse()?, form)),
        Form::Encrypted(scheme) => {
            let Some(key) = &keys.key else {
                return Err(ValueError::NeedsKey { scheme });
            };
            match scheme {
                Scheme::AmJce | Scheme::AmAesWrap => {
                    let password = am_password(key, keys.backend)?;
                    cipher::am_decrypt(&password, &keys.kdf, text)?.plaintext
                }
                Scheme::AesGcm => cipher::gcm_open(&local_key(key, keys.backend)?, text)?,
            }
        }
        Form::Opaque => match &keys.kms {
            Some(opts) => kms::remote::decrypt(opts, text)?,
            None => return Err(ValueError::NeedsKmsKey),
        },
    };
    // Every scheme rejects a wrong key before this point (AESWrap, AES-GCM and KMS by their
    // integrity checks, JCE by its derived-IV check): a plaintext here was opened with the
    // right key, it just is not a hash (ForgeRock's own test vectors encrypt a sentence).
    let hash = std::str::from_utf8(&plaintext)
        .ok()
        .and_then(|s| s.parse::<SshaHash>().ok())
        .ok_or(ValueError::NotAHash {
            jce: form == Form::Encrypted(Scheme::AmJce),
        })?;
    Ok((hash, form))
}

/// The AM encryptor and key wrap of a value the administrator's AM encrypted (an AM sample):
/// opened with the AM encryption password in `key` and the KDF settings, it tells which of
/// JCE, AESWrap (RFC 3394) or AESWrap (RFC 5649) that AM uses. Its plaintext can be anything.
///
/// # Errors
/// [`ValueError::SampleWrongKey`] when the key does not open it, [`ValueError::SampleNotAm`]
/// when it is no AM encrypted value, and the key errors.
pub fn am_cipher_of_sample(
    sample: &str,
    key: &KeySource,
    backend: KeyringBackend,
    kdf: &AmKdf,
) -> Result<AmCipher, ValueError> {
    let password = am_password(key, backend)?;
    match cipher::am_decrypt(&password, kdf, sample.trim()) {
        Ok(opened) => Ok(opened.cipher),
        Err(e) if e.kind() == ErrorKind::WrongKeyOrTampered => Err(ValueError::SampleWrongKey),
        Err(e) => Err(ValueError::SampleNotAm(e)),
    }
}

/// Reads a value file: the whole file, minus one trailing newline. Opened like every file
/// amhash trusts with a secret ([`store::read_secret_file`]): no link another account could
/// have placed is followed. A refusal by policy (a link, an owner) is the input's fault; a
/// file that is missing or unreadable is operational, as for any input file.
///
/// # Errors
/// [`ValueError::FileRefused`], [`ValueError::File`], [`ValueError::FileTooLarge`],
/// [`ValueError::FileNotText`].
pub fn read_value_file(path: &Path) -> Result<String, ValueError> {
    let bytes = store::read_secret_file(path).map_err(|e| {
        if e.is_refusal() {
            ValueError::FileRefused(e)
        } else {
            ValueError::File(e)
        }
    })?;
    let shown = || crate::escape::path(path);
    if bytes.len() > MAX_VALUE_FILE {
        return Err(ValueError::FileTooLarge { path: shown() });
    }
    let mut text =
        String::from_utf8(bytes.to_vec()).map_err(|_| ValueError::FileNotText { path: shown() })?;
    if text.ends_with('\n') {
        text.pop();
    }
    Ok(text)
}

/// Reads the AM encryption password from its source.
fn am_password(key: &KeySource, backend: KeyringBackend) -> Result<SecretString, ValueError> {
    key_text(key, backend, |key| ValueError::PasswordNotText { key })
}

/// The key in `key` as text; `not_text` names the key when it is not UTF-8.
fn key_text(
    key: &KeySource,
    backend: KeyringBackend,
    not_text: fn(String) -> ValueError,
) -> Result<SecretString, ValueError> {
    let bytes = key.read(backend)?;
    let text = std::str::from_utf8(bytes.expose_secret()).map_err(|_| not_text(key.to_string()))?;
    Ok(SecretString::from(text))
}

/// Reads a local AES-256 key (64 hex characters) from its source.
fn local_key(key: &KeySource, backend: KeyringBackend) -> Result<LocalKey, ValueError> {
    let text = key_text(key, backend, |key| ValueError::LocalKeyNotText { key })?;
    LocalKey::from_hex(text.expose_secret()).map_err(|source| ValueError::LocalKey {
        key: key.to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error as _;

    /// ForgeRock's published value for "forgerock" with 20 zero salt bytes (vectors/ssha512-am.json).
    const FORGEROCK: &str = "{SSHA-512}FAAAAAAAAAAAAAAAAAAAAAAAAAAAjSSqRIRQ0t41hid6CvguVVR/XChxJUw1jpU8+My3/X0XiwXWz/swJxDAwmBl05CoAceOGj3MW2SKeIm/aqzHdg==";

    fn no_keys() -> Keys {
        Keys {
            key: None,
            backend: KeyringBackend::Auto,
            kdf: AmKdf::default(),
            kms: None,
        }
    }

    #[test]
    fn forms_are_told_apart_without_a_key() {
        assert_eq!(Form::detect(FORGEROCK).unwrap(), Form::Plain);
        let gcm = cipher::gcm_seal(&LocalKey::generate().unwrap(), FORGEROCK.as_bytes()).unwrap();
        assert_eq!(Form::detect(&gcm).unwrap(), Form::Encrypted(Scheme::AesGcm));
        assert_eq!(Form::detect("AAECAwQ=").unwrap(), Form::Opaque);
        let e = Form::detect("not base64 at all!").unwrap_err();
        assert!(matches!(e, ValueError::Unrecognised));
        assert_eq!(e.fault(), Fault::Input);
        for (form, format) in [
            (Form::Plain, Some(Format::Plain)),
            (Form::Encrypted(Scheme::AmJce), Some(Format::EncryptedPlain)),
            (
                Form::Encrypted(Scheme::AmAesWrap),
                Some(Format::EncryptedPlain),
            ),
            (Form::Encrypted(Scheme::AesGcm), None),
            (Form::Opaque, Some(Format::GoogleKmsEncrypted)),
        ] {
            assert_eq!(form.format(), format, "{form:?}");
        }
    }

    #[test]
    fn canonical_form_is_one_line_and_refuses_blanks_inside() {
        let v = StoredValue::canonical(&format!("\n  {FORGEROCK}\r\n")).unwrap();
        assert_eq!((v.as_str(), v.form()), (FORGEROCK, Form::Plain));
        assert_eq!(v.to_string(), FORGEROCK);
        // Base64 wrapped at 76 columns comes out as one line.
        let wrapped = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4\nOTo7PD0+Pw==\n";
        let v = StoredValue::canonical(wrapped).unwrap();
        assert_eq!(v.form(), Form::Opaque);
        assert!(!v.as_str().contains('\n'));
        let e = StoredValue::canonical(&FORGEROCK.replace("FAAA", "FA AA")).unwrap_err();
        assert_eq!(e.fault(), Fault::Input);
    }

    #[test]
    fn open_needs_the_right_key_and_a_hash_inside() {
        let (hash, form) = open(FORGEROCK, &no_keys()).unwrap();
        assert!(hash.verify(b"forgerock"));
        assert_eq!(form, Form::Plain);
        let key = LocalKey::generate().unwrap();
        let gcm = cipher::gcm_seal(&key, FORGEROCK.as_bytes()).unwrap();
        let e = open(&gcm, &no_keys()).unwrap_err();
        assert!(matches!(e, ValueError::NeedsKey { .. }), "{e}");
        assert_eq!(e.fault(), Fault::Input);
        let e = open("AAECAwQ=", &no_keys()).unwrap_err();
        assert!(matches!(e, ValueError::NeedsKmsKey), "{e}");
        // Not a hash inside: operational, and JCE's lack of integrity is said.
        assert_eq!(
            ValueError::NotAHash { jce: false }.fault(),
            Fault::Operational
        );
        assert!(
            ValueError::NotAHash { jce: true }
                .to_string()
                .contains("JCE has no integrity check")
        );
    }

    #[test]
    fn plain_protection_seals_to_the_hash_itself() {
        let hash: SshaHash = FORGEROCK.parse().unwrap();
        let sealed = Protection::Plain.seal(&hash, KeyringBackend::Auto).unwrap();
        assert_eq!(sealed.value, FORGEROCK);
        assert_eq!(sealed.kms_note(), None);
        assert_eq!(Protection::Plain.format(), Some(Format::Plain));
    }
}
