//! Cloud KMS resource names: a crypto key or one of its versions.
//!
//! Two shapes are accepted, and nothing else (no leading `//cloudkms.googleapis.com/`, no
//! trailing `/`, no extra segments):
//!
//! ```text
//! projects/P/locations/L/keyRings/R/cryptoKeys/K                        a key (symmetric use)
//! projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/V    one version of a key
//! ```
//!
//! Segment rules, as Google documents them:
//!
//! | segment | rule | source |
//! |---------|------|--------|
//! | `P` | a project ID (6 to 30 of `a-z 0-9 -`, starting with a letter, not ending with `-`), optionally prefixed by a legacy domain (`example.com:`), or a project number (digits) | Resource Manager project ID rules, `gcloud projects create` |
//! | `L` | 1 to 63 of `a-z 0-9 -` (`global`, `us-east1`, `europe`, `nam-eur-asia1`) | KMS locations list |
//! | `R`, `K` | `[a-zA-Z0-9_-]{1,63}` | `CreateKeyRingRequest.key_ring_id`, `CreateCryptoKeyRequest.crypto_key_id` |
//! | `V` | decimal digits (the service assigns version IDs `1`, `2`, ...) | `CryptoKeyVersion.name` |
//!
//! Checking this before any request means a typo is a usage error (exit 2) that costs no
//! network round trip and cannot be sent to some other resource by accident.

use std::fmt;
use std::str::FromStr;

/// Longest key ring, key or location ID Cloud KMS accepts.
const MAX_ID_LEN: usize = 63;
/// Longest version ID we accept (an int64 has at most 19 digits).
const MAX_VERSION_LEN: usize = 19;

/// A parsed Cloud KMS crypto key or crypto key version name.
///
/// `Display` writes the canonical form, so `name.to_string().parse() == Ok(name)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KmsKeyName {
    project: String,
    location: String,
    key_ring: String,
    key: String,
    version: Option<String>,
}

/// Why a string is not a Cloud KMS key name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyNameError {
    /// The string does not have the `projects/.../cryptoKeys/K[/cryptoKeyVersions/V]` shape.
    #[error(
        "'{name}' is not a Cloud KMS key name: expected projects/PROJECT/locations/LOCATION/keyRings/RING/cryptoKeys/KEY[/cryptoKeyVersions/VERSION]"
    )]
    Shape {
        /// The rejected input.
        name: String,
    },
    /// One segment breaks the documented character or length rules.
    #[error("'{name}' is not a Cloud KMS key name: the {segment} '{value}' is invalid ({rule})")]
    Segment {
        /// The rejected input.
        name: String,
        /// Which segment (`project`, `location`, `key ring`, `key`, `version`).
        segment: &'static str,
        /// The offending segment.
        value: String,
        /// The rule it breaks.
        rule: &'static str,
    },
}

impl KmsKeyName {
    /// The project ID or number.
    pub fn project(&self) -> &str {
        &self.project
    }

    /// The location (`global`, `us-east1`, ...).
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The key ring ID.
    pub fn key_ring(&self) -> &str {
        &self.key_ring
    }

    /// The crypto key ID.
    pub fn key_id(&self) -> &str {
        &self.key
    }

    /// The version ID, when this names a version.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// True when this names a crypto key version rather than a crypto key.
    pub fn is_version(&self) -> bool {
        self.version.is_some()
    }

    /// The crypto key this names or whose version this names (the version part dropped).
    pub fn key(&self) -> KmsKeyName {
        KmsKeyName {
            version: None,
            ..self.clone()
        }
    }

    /// Whether `other` (a name from a KMS response) is acceptable for a request made with
    /// `self`: a version of the same key when `self` is a key, exactly `self` when `self` is a
    /// version. Anything unparsable is not.
    pub fn is_version_of(&self, other: &str) -> bool {
        let Ok(other) = other.parse::<KmsKeyName>() else {
            return false;
        };
        match &self.version {
            Some(_) => other == *self,
            None => other.version.is_some() && other.key() == *self,
        }
    }
}

impl fmt::Display for KmsKeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "projects/{}/locations/{}/keyRings/{}/cryptoKeys/{}",
            self.project, self.location, self.key_ring, self.key
        )?;
        if let Some(v) = &self.version {
            write!(f, "/cryptoKeyVersions/{v}")?;
        }
        Ok(())
    }
}

impl FromStr for KmsKeyName {
    type Err = KeyNameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let shape = || KeyNameError::Shape { name: s.to_owned() };
        let parts: Vec<&str> = s.split('/').collect();
        let (project, location, key_ring, key, version) = match parts.as_slice() {
            [
                "projects",
                p,
                "locations",
                l,
                "keyRings",
                r,
                "cryptoKeys",
                k,
            ] => (*p, *l, *r, *k, None),
            [
                "projects",
                p,
                "locations",
                l,
                "keyRings",
                r,
                "cryptoKeys",
                k,
                "cryptoKeyVersions",
                v,
            ] => (*p, *l, *r, *k, Some(*v)),
            _ => return Err(shape()),
        };
        let check = |segment: &'static str, value: &str, rule: Result<(), &'static str>| {
            rule.map_err(|rule| KeyNameError::Segment {
                name: s.to_owned(),
                segment,
                value: value.to_owned(),
                rule,
            })
        };
        check("project", project, project_rule(project))?;
        check("location", location, location_rule(location))?;
        check("key ring", key_ring, id_rule(key_ring))?;
        check("key", key, id_rule(key))?;
        if let Some(v) = version {
            check("version", v, version_rule(v))?;
        }
        Ok(KmsKeyName {
            project: project.to_owned(),
            location: location.to_owned(),
            key_ring: key_ring.to_owned(),
            key: key.to_owned(),
            version: version.map(str::to_owned),
        })
    }
}

impl TryFrom<&str> for KmsKeyName {
    type Error = KeyNameError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        s.parse()
    }
}

fn id_rule(v: &str) -> Result<(), &'static str> {
    if v.is_empty() || v.len() > MAX_ID_LEN {
        return Err("must be 1 to 63 characters");
    }
    if !v
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err("only letters, digits, '_' and '-' are allowed");
    }
    Ok(())
}

fn location_rule(v: &str) -> Result<(), &'static str> {
    if v.is_empty() || v.len() > MAX_ID_LEN {
        return Err("must be 1 to 63 characters");
    }
    if !v
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err("only lowercase letters, digits and '-' are allowed, e.g. global or us-east1");
    }
    Ok(())
}

fn version_rule(v: &str) -> Result<(), &'static str> {
    if v.is_empty() || v.len() > MAX_VERSION_LEN || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err("a version ID is a number such as 1");
    }
    Ok(())
}

fn project_rule(v: &str) -> Result<(), &'static str> {
    const RULE: &str = "expected a project ID (6 to 30 lowercase letters, digits or '-', starting with a letter) or a project number";
    if !v.is_empty() && v.len() <= 30 && v.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(());
    }
    // Legacy domain-scoped projects: `example.com:my-project`.
    let id = match v.split_once(':') {
        Some((domain, id)) => {
            let domain_ok = !domain.is_empty()
                && domain.len() <= 253
                && domain.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'
                });
            if !domain_ok {
                return Err(RULE);
            }
            id
        }
        None => v,
    };
    let bytes = id.as_bytes();
    let ok = (6..=30).contains(&bytes.len())
        && bytes.first().is_some_and(u8::is_ascii_lowercase)
        && bytes.last().is_some_and(|b| *b != b'-')
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
    if ok { Ok(()) } else { Err(RULE) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "projects/my-project/locations/global/keyRings/am-ring/cryptoKeys/am_key-1";
    const VERSION: &str = "projects/my-project/locations/global/keyRings/am-ring/cryptoKeys/am_key-1/cryptoKeyVersions/3";

    #[test]
    fn good_names_round_trip() {
        let good = [
            KEY,
            VERSION,
            "projects/123456789012/locations/us-east1/keyRings/R/cryptoKeys/K",
            "projects/example.com:my-project/locations/europe/keyRings/r/cryptoKeys/k",
            "projects/abcdef/locations/nam-eur-asia1/keyRings/a/cryptoKeys/b/cryptoKeyVersions/1",
            &format!(
                "projects/a23456789012345678901234567890/locations/global/keyRings/{}/cryptoKeys/{}",
                "r".repeat(63),
                "K".repeat(63)
            ),
        ];
        for s in good {
            let name: KmsKeyName = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(name.to_string(), s);
            assert_eq!(name.to_string().parse::<KmsKeyName>(), Ok(name));
        }
    }

    #[test]
    fn bad_names_are_rejected() {
        let bad: &[(&str, &str)] = &[
            ("", "shape"),
            ("projects/p", "shape"),
            ("projects/my-project/locations/global/keyRings/r", "shape"),
            (
                "projects/my-project/locations/global/keyRings/r/cryptoKeys/",
                "key",
            ),
            (
                "projects/my-project/locations/global/keyRings//cryptoKeys/k",
                "key ring",
            ),
            (
                "projects//locations/global/keyRings/r/cryptoKeys/k",
                "project",
            ),
            (
                "projects/my-project/locations//keyRings/r/cryptoKeys/k",
                "location",
            ),
            (&format!("{KEY}/"), "shape"),
            (&format!("/{KEY}"), "shape"),
            (&format!("//cloudkms.googleapis.com/{KEY}"), "shape"),
            (&format!("{KEY}/cryptoKeyVersions/"), "version"),
            (&format!("{KEY}/cryptoKeyVersions/v1"), "version"),
            (&format!("{KEY}/cryptoKeyVersions/1/x"), "shape"),
            (&format!("{KEY} "), "key"),
            (
                "projects/my-project/locations/global/keyRings/r/cryptoKeys/k.v",
                "key",
            ),
            (
                "projects/my-project/locations/global/keyRings/r%2F/cryptoKeys/k",
                "key ring",
            ),
            (
                "projects/my-project/locations/Global/keyRings/r/cryptoKeys/k",
                "location",
            ),
            (
                "Projects/my-project/locations/global/keyRings/r/cryptoKeys/k",
                "shape",
            ),
            (
                "projects/my-project/locations/global/keyrings/r/cryptoKeys/k",
                "shape",
            ),
            (
                "projects/My-Project/locations/global/keyRings/r/cryptoKeys/k",
                "project",
            ),
            (
                "projects/short/locations/global/keyRings/r/cryptoKeys/k",
                "project",
            ),
            (
                "projects/my-project-/locations/global/keyRings/r/cryptoKeys/k",
                "project",
            ),
            (
                "projects/1my-project/locations/global/keyRings/r/cryptoKeys/k",
                "project",
            ),
            (
                "projects/:my-project/locations/global/keyRings/r/cryptoKeys/k",
                "project",
            ),
            (
                &format!(
                    "projects/my-project/locations/global/keyRings/{}/cryptoKeys/k",
                    "r".repeat(64)
                ),
                "key ring",
            ),
            (
                &format!(
                    "projects/my-project/locations/global/keyRings/r/cryptoKeys/{}",
                    "k".repeat(64)
                ),
                "key",
            ),
            (
                &format!("{KEY}/cryptoKeyVersions/{}", "1".repeat(20)),
                "version",
            ),
            (
                "projects/my-project/locations/global/keyRings/r/cryptoKeys/clé",
                "key",
            ),
        ];
        for (s, want) in bad {
            match s.parse::<KmsKeyName>() {
                Ok(n) => panic!("{s:?} parsed as {n}"),
                Err(KeyNameError::Shape { .. }) => assert_eq!(*want, "shape", "{s:?}"),
                Err(KeyNameError::Segment { segment, .. }) => assert_eq!(*want, segment, "{s:?}"),
            }
        }
    }

    #[test]
    fn version_parts() {
        let v: KmsKeyName = VERSION.parse().unwrap();
        let k: KmsKeyName = KEY.parse().unwrap();
        assert!(v.is_version());
        assert!(!k.is_version());
        assert_eq!(v.version(), Some("3"));
        assert_eq!(v.key(), k);
        assert_eq!(k.key(), k);
        assert_eq!(v.project(), "my-project");
        assert_eq!(v.location(), "global");
        assert_eq!(v.key_ring(), "am-ring");
        assert_eq!(v.key_id(), "am_key-1");
    }

    #[test]
    fn is_version_of_table() {
        let k: KmsKeyName = KEY.parse().unwrap();
        let v: KmsKeyName = VERSION.parse().unwrap();
        let cases: &[(&KmsKeyName, &str, bool)] = &[
            (&k, VERSION, true),
            (&k, &format!("{KEY}/cryptoKeyVersions/1"), true),
            (&k, KEY, false),
            (&k, "", false),
            (
                &k,
                "projects/my-project/locations/global/keyRings/am-ring/cryptoKeys/other/cryptoKeyVersions/3",
                false,
            ),
            (
                &k,
                "projects/other-proj/locations/global/keyRings/am-ring/cryptoKeys/am_key-1/cryptoKeyVersions/3",
                false,
            ),
            (&k, &format!("{VERSION}/"), false),
            (&v, VERSION, true),
            (&v, &format!("{KEY}/cryptoKeyVersions/4"), false),
            (&v, KEY, false),
        ];
        for (req, resp, want) in cases {
            assert_eq!(req.is_version_of(resp), *want, "{req} vs {resp}");
        }
    }

    #[test]
    fn errors_name_the_input_and_segment() {
        let e = "projects/my-project/locations/global/keyRings/r!/cryptoKeys/k"
            .parse::<KmsKeyName>()
            .unwrap_err()
            .to_string();
        assert!(e.contains("key ring 'r!'"), "{e}");
        assert!(e.contains("projects/my-project"), "{e}");
    }
}
