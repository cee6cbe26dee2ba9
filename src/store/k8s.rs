//! Kubernetes target: a `Secret` manifest whose key `password.<user>` holds the value. Mounted
//! as a volume at AM's special secret directory, the key becomes the file AM reads.
//!
//! ```yaml
//! apiVersion: v1
//! kind: Secret
//! metadata:
//!   name: "NAME"
//!   namespace: "NAMESPACE"   # only if given
//! type: Opaque
//! data:
//!   password.amadmin: BASE64(VALUE)
//! ```
//!
//! `data` (standard base64 of the UTF-8 bytes) rather than `stringData`, so the mounted file is
//! exactly the value with no trailing newline. NAME must be a DNS-1123 subdomain, NAMESPACE a
//! DNS-1123 label, so neither needs escaping; both are double-quoted all the same, because a
//! plain scalar such as `0`, `1e3`, `true`, `null` or (YAML 1.1) `on` would load as a number,
//! boolean or null and the API server would reject the manifest. Write it with
//! [`super::atomic::write_secret`] (mode 0600) or to stdout.

use base64::Engine as _;
use zeroize::Zeroizing;

use super::{Result, SecretId, StoreError, check_value};

/// Checks a DNS-1123 label: 1–63 of `[a-z0-9-]`, starting and ending alphanumeric.
///
/// # Errors
/// [`StoreError::InvalidK8sName`] naming `field`.
pub fn validate_label(field: &'static str, s: &str) -> Result<()> {
    let err = |reason| invalid(field, s, reason);
    if s.is_empty() || s.len() > 63 {
        return Err(err("must be 1 to 63 characters"));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(err("must contain only lower-case letters, digits and '-'"));
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Err(err("must start and end with a letter or digit"));
    }
    Ok(())
}

/// Checks a DNS-1123 subdomain: at most 253 characters, dot-separated labels as in
/// [`validate_label`].
///
/// # Errors
/// [`StoreError::InvalidK8sName`] naming `field`.
pub fn validate_subdomain(field: &'static str, s: &str) -> Result<()> {
    let err = |reason| invalid(field, s, reason);
    if s.is_empty() || s.len() > 253 {
        return Err(err("must be 1 to 253 characters"));
    }
    for label in s.split('.') {
        validate_label(field, label)
            .map_err(|_| err("must be dot-separated parts of lower-case letters, digits and '-', each starting and ending with a letter or digit"))?;
    }
    Ok(())
}

fn invalid(field: &'static str, value: &str, reason: &'static str) -> StoreError {
    StoreError::InvalidK8sName {
        field,
        value: value.to_owned(),
        reason,
    }
}

/// The manifest (see the module doc). No `Debug` on the result: it holds the secret.
///
/// # Errors
/// [`StoreError::InvalidK8sName`], [`StoreError::InvalidValue`] (empty value).
pub fn manifest(
    name: &str,
    namespace: Option<&str>,
    id: &SecretId,
    value: &str,
) -> Result<Zeroizing<String>> {
    validate_subdomain("name", name)?;
    if let Some(ns) = namespace {
        validate_label("namespace", ns)?;
    }
    check_value(value)?;
    let mut out = Zeroizing::new(String::with_capacity(200 + value.len() * 4 / 3));
    out.push_str("apiVersion: v1\nkind: Secret\nmetadata:\n  name: \"");
    out.push_str(name);
    out.push_str("\"\n");
    if let Some(ns) = namespace {
        out.push_str("  namespace: \"");
        out.push_str(ns);
        out.push_str("\"\n");
    }
    out.push_str("type: Opaque\ndata:\n  ");
    out.push_str(&id.secret_id());
    out.push_str(": ");
    let mut b64 = Zeroizing::new(String::new());
    base64::engine::general_purpose::STANDARD.encode_string(value.as_bytes(), &mut b64);
    out.push_str(&b64);
    out.push('\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error as _, Fault};
    use crate::test_support::{secret_data, yaml};

    /// The amadmin secret a manifest carries, parsed as YAML and decoded.
    fn secret_of(manifest: &str) -> Vec<u8> {
        secret_data(&yaml(manifest), "password.amadmin")
    }

    #[test]
    fn manifest_exact_and_parses() {
        let id = SecretId::amadmin();
        let m = manifest("am-secrets", Some("forgerock"), &id, "{SSHA-512}ab+/=").unwrap();
        assert_eq!(
            m.as_str(),
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: \"am-secrets\"\n  namespace: \"forgerock\"\ntype: Opaque\ndata:\n  password.amadmin: e1NTSEEtNTEyfWFiKy89\n"
        );
        let doc: serde_norway::Value = serde_norway::from_str(&m).unwrap();
        assert_eq!(secret_of(&m), b"{SSHA-512}ab+/=");
        assert_eq!(
            doc.get("metadata")
                .unwrap()
                .get("namespace")
                .unwrap()
                .as_str(),
            Some("forgerock")
        );
        let m = manifest("a.b-c", None, &SecretId::new("bob.x").unwrap(), "v").unwrap();
        assert!(!m.contains("namespace"));
        assert!(m.contains("  password.bob.x: dg==\n"));
    }

    #[test]
    fn manifest_round_trips_base64_punctuation() {
        // '+', '/' and '=' in the base64 text must stay a plain YAML string.
        for v in ["\u{3ff}\u{3ff}>?", "\u{fbff}\u{ffff}", "a"] {
            let m = manifest("s", None, &SecretId::amadmin(), v).unwrap();
            assert_eq!(secret_of(&m), v.as_bytes());
        }
    }

    #[test]
    fn invalid_names() {
        let id = SecretId::amadmin();
        let long_label = "a".repeat(64);
        let long_sub = ["a"; 128].join("."); // 255 characters
        for bad in [
            "",
            "A",
            "a_b",
            "-a",
            "a-",
            "a..b",
            ".a",
            "a.",
            &long_label,
            &long_sub,
            "a b",
            "ä",
        ] {
            let e = manifest(bad, None, &id, "v").unwrap_err();
            assert!(
                matches!(e, StoreError::InvalidK8sName { field: "name", .. }),
                "{bad:?}: {e}"
            );
            assert_eq!(e.fault(), Fault::Input);
        }
        for bad in ["", "a.b", "A", "-a", &long_label] {
            let e = manifest("ok", Some(bad), &id, "v").unwrap_err();
            assert!(
                matches!(
                    e,
                    StoreError::InvalidK8sName {
                        field: "namespace",
                        ..
                    }
                ),
                "{bad:?}: {e}"
            );
        }
        let e = manifest("ok", None, &id, "").unwrap_err();
        assert!(matches!(e, StoreError::InvalidValue { .. }));
        let max_sub = ["a"; 127].join("."); // 253 characters
        for good in ["a", "0", "a-b", "a.b.c", &"a".repeat(63), &max_sub] {
            assert!(manifest(good, Some("ns-1"), &id, "v").is_ok(), "{good}");
        }
    }
}
