//! AM's side of the contract: the formats AM decodes a special-user secret in, the advanced
//! server properties that configure it, and which properties a value needs.
//!
//! | property | value |
//! |----------|-------|
//! | [`PROP_PASSWORDS_FORMAT`] | [`Format`]: `PLAIN`, `ENCRYPTED_PLAIN` or `GOOGLE_KMS_ENCRYPTED` |
//! | [`PROP_GOOGLE_KMS_DECRYPTION_KEY`] | for `GOOGLE_KMS_ENCRYPTED`: the CryptoKey (symmetric) or CryptoKeyVersion (asymmetric) |
//! | [`PROP_PASSWORDS_DIR`] | the special secret store directory, if not AM's default |
//! | [`PROP_REFRESH_SECONDS`] | how long AM caches the secret ([`DEFAULT_REFRESH_SECONDS`]) |

/// AM advanced server property: how special-user secrets are encoded.
pub const PROP_PASSWORDS_FORMAT: &str =
    "org.forgerock.openam.secrets.special.user.passwords.format";
/// AM advanced server property: Google Cloud KMS key used for `GOOGLE_KMS_ENCRYPTED`.
pub const PROP_GOOGLE_KMS_DECRYPTION_KEY: &str =
    "org.forgerock.openam.secrets.googlekms.decryptionkey";
/// AM advanced server property: directory of the special secret store.
pub const PROP_PASSWORDS_DIR: &str = "org.forgerock.openam.secrets.special.user.passwords.dir";
/// AM advanced server property: cache expiry of the special secret, in seconds.
pub const PROP_REFRESH_SECONDS: &str =
    "org.forgerock.openam.secrets.special.user.secret.refresh.seconds";
/// Default of [`PROP_REFRESH_SECONDS`]: AM re-reads the secret at most every 15 minutes.
pub const DEFAULT_REFRESH_SECONDS: u64 = 900;
/// Default special secret store directory, relative to the AM configuration directory.
pub const DEFAULT_DIR_SUFFIX: &str = "security/secrets/userpasswords";

/// How AM decodes the special-user secret ([`PROP_PASSWORDS_FORMAT`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// `PLAIN`: the `{SSHA-512}` string as is.
    Plain,
    /// `ENCRYPTED_PLAIN`: encrypted with the AM encryption password.
    EncryptedPlain,
    /// `GOOGLE_KMS_ENCRYPTED`: base64 of a Google Cloud KMS ciphertext.
    GoogleKmsEncrypted,
}

// The AM property values; AM reads them in any letter case.
crate::names::names! {
    Format {
        Plain => "PLAIN",
        EncryptedPlain => "ENCRYPTED_PLAIN",
        GoogleKmsEncrypted => "GOOGLE_KMS_ENCRYPTED",
    }
    unknown: UnknownFormat = |given| UnknownFormat { given }
}

/// A string that names none of AM's formats.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid password format {given:?}: use PLAIN, ENCRYPTED_PLAIN or GOOGLE_KMS_ENCRYPTED")]
pub struct UnknownFormat {
    /// The string as given.
    pub given: String,
}

crate::error::fault_is!(UnknownFormat: Input);

/// One AM advanced server property a value needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// The property name.
    pub name: &'static str,
    /// Its value; `None` when it must be set but amhash does not know to what (a KMS
    /// ciphertext given as is: only whoever encrypted it knows the key).
    pub value: Option<String>,
}

/// The properties AM needs to read a value in `format`: the format itself and, for
/// `GOOGLE_KMS_ENCRYPTED`, the key to decrypt with (`kms_key`, when known).
#[must_use]
pub fn properties(format: Format, kms_key: Option<&str>) -> Vec<Property> {
    let mut properties = vec![Property {
        name: PROP_PASSWORDS_FORMAT,
        value: Some(format.as_str().to_owned()),
    }];
    if format == Format::GoogleKmsEncrypted {
        properties.push(Property {
            name: PROP_GOOGLE_KMS_DECRYPTION_KEY,
            value: kms_key.map(str::to_owned),
        });
    }
    properties
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_strings() {
        for (f, s) in [
            (Format::Plain, "PLAIN"),
            (Format::EncryptedPlain, "ENCRYPTED_PLAIN"),
            (Format::GoogleKmsEncrypted, "GOOGLE_KMS_ENCRYPTED"),
        ] {
            assert_eq!(f.to_string(), s);
            assert_eq!(s.parse::<Format>().unwrap(), f);
            assert_eq!(s.to_lowercase().parse::<Format>().unwrap(), f);
        }
        assert_eq!(
            "Encrypted_Plain".parse::<Format>().unwrap(),
            Format::EncryptedPlain
        );
        for bad in ["", "plain ", "ENCRYPTED-PLAIN", "KMS"] {
            let e = bad.parse::<Format>().err().unwrap();
            assert_eq!(e.given, bad);
            assert_eq!(crate::error::Error::fault(&e), crate::error::Fault::Input);
        }
    }

    #[test]
    fn property_names_are_ams() {
        for (name, want) in [
            (
                PROP_PASSWORDS_FORMAT,
                "org.forgerock.openam.secrets.special.user.passwords.format",
            ),
            (
                PROP_GOOGLE_KMS_DECRYPTION_KEY,
                "org.forgerock.openam.secrets.googlekms.decryptionkey",
            ),
            (
                PROP_PASSWORDS_DIR,
                "org.forgerock.openam.secrets.special.user.passwords.dir",
            ),
            (
                PROP_REFRESH_SECONDS,
                "org.forgerock.openam.secrets.special.user.secret.refresh.seconds",
            ),
        ] {
            assert_eq!(name, want);
        }
        assert_eq!(DEFAULT_REFRESH_SECONDS, 900);
    }

    #[test]
    fn which_properties_go_with_which_format() {
        let names = |f, k| -> Vec<(&str, Option<String>)> {
            properties(f, k)
                .into_iter()
                .map(|p| (p.name, p.value))
                .collect()
        };
        assert_eq!(
            names(Format::Plain, Some("ignored")),
            [(PROP_PASSWORDS_FORMAT, Some("PLAIN".into()))]
        );
        assert_eq!(
            names(Format::EncryptedPlain, None),
            [(PROP_PASSWORDS_FORMAT, Some("ENCRYPTED_PLAIN".into()))]
        );
        assert_eq!(
            names(Format::GoogleKmsEncrypted, Some("projects/p/k")),
            [
                (PROP_PASSWORDS_FORMAT, Some("GOOGLE_KMS_ENCRYPTED".into())),
                (PROP_GOOGLE_KMS_DECRYPTION_KEY, Some("projects/p/k".into()))
            ]
        );
        assert_eq!(
            names(Format::GoogleKmsEncrypted, None)[1],
            (PROP_GOOGLE_KMS_DECRYPTION_KEY, None)
        );
    }
}
