//! Property tests for the parsers that had none in `src/` (see SECURITY.md for the map): any
//! input gives `Ok` or `Err`, never a panic, and what parses round-trips.
//!
//! Already covered beside the code, and not repeated here: `{SSHA-512}` parse/display
//! (`src/ssha.rs`), AM JCE/AESWrap and AES-GCM round trips and arbitrary envelopes
//! (`src/cipher/tests.rs`), key source references (`src/key_source/tests.rs`), env-file and
//! setenv editors on arbitrary bytes (`src/store/tests.rs`).

use amhash::am::Format;
use amhash::cipher::{self, AmKdf, KdfDigest, LocalKey, Scheme};
use amhash::kms::KmsKeyName;
use amhash::password::{self, Origin};
use amhash::ssha::{Salt, SshaHash};
use amhash::store::{self, SecretId};
use base64::Engine as _;
use proptest::prelude::*;
use secrecy::{ExposeSecret, SecretString};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A valid KMS key name from its parts.
fn kms_name() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            "[a-z][a-z0-9-]{4,28}[a-z0-9]",
            "[0-9]{1,15}",
            "[a-z]{3,10}\\.com:[a-z][a-z0-9-]{4,20}[a-z0-9]"
        ],
        "[a-z0-9-]{1,63}",
        "[a-zA-Z0-9_-]{1,63}",
        "[a-zA-Z0-9_-]{1,63}",
        proptest::option::of("[0-9]{1,19}"),
    )
        .prop_map(|(p, l, r, k, v)| {
            let mut s = format!("projects/{p}/locations/{l}/keyRings/{r}/cryptoKeys/{k}");
            if let Some(v) = v {
                s.push_str(&format!("/cryptoKeyVersions/{v}"));
            }
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    // ---- KMS key names ----------------------------------------------------------------------

    #[test]
    fn kms_key_name_never_panics_and_round_trips(s in any::<String>()) {
        if let Ok(name) = s.parse::<KmsKeyName>() {
            prop_assert_eq!(name.to_string(), s.clone());
            prop_assert!(!name.is_version_of(&s) || !name.is_version());
        }
    }

    #[test]
    fn kms_key_name_mutations_never_panic(name in kms_name(), cut in any::<prop::sample::Index>(), insert in "[/a-zA-Z0-9:._ \\x00-]{0,3}") {
        let at = cut.index(name.len() + 1);
        let mut mutated = name.clone();
        mutated.insert_str(at, &insert);
        if let Ok(parsed) = mutated.parse::<KmsKeyName>() {
            prop_assert_eq!(parsed.to_string(), mutated);
        }
        let _ = name[..at].parse::<KmsKeyName>();
    }

    #[test]
    fn valid_kms_key_names_parse_and_round_trip(s in kms_name()) {
        let name: KmsKeyName = s.parse().map_err(|e| TestCaseError::fail(format!("{s}: {e}")))?;
        prop_assert_eq!(name.to_string(), s.clone());
        let key = name.key();
        prop_assert!(!key.is_version());
        match name.version() {
            // A response naming a version of the requested key is accepted...
            Some(v) => {
                prop_assert!(key.is_version_of(&s));
                prop_assert!(name.is_version_of(&s));
                // ...but not another version when a version was asked for.
                let other = format!("{}/cryptoKeyVersions/{}9", key, v);
                prop_assert!(!name.is_version_of(&other));
            }
            // A key itself is not "a version of" the key.
            None => prop_assert!(!name.is_version_of(&s)),
        }
    }

    // ---- base64 decoders ------------------------------------------------------------------------

    #[test]
    fn lenient_base64_never_panics(s in any::<String>()) {
        let _ = cipher::decode_base64_lenient(&s);
    }

    #[test]
    fn lenient_base64_round_trips_wrapped_text(bytes in proptest::collection::vec(any::<u8>(), 1..400),
                                               width in 1usize..100, crlf in any::<bool>(), pad in "[ \\t\\n]{0,3}") {
        let text = b64(&bytes);
        let sep = if crlf { "\r\n" } else { "\n" };
        let wrapped: Vec<&str> = text.as_bytes().chunks(width).map(|c| std::str::from_utf8(c).unwrap()).collect();
        let input = format!("{pad}{}{sep}{pad}", wrapped.join(sep));
        prop_assert_eq!(cipher::decode_base64_lenient(&input).unwrap(), bytes);
    }

    #[test]
    fn scheme_detection_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = Scheme::detect(&bytes);
        let _ = cipher::detect_scheme(&b64(&bytes));
    }

    // ---- envelopes: integrity -------------------------------------------------------------------

    #[test]
    fn gcm_rejects_every_single_bit_flip(plain in proptest::collection::vec(any::<u8>(), 0..100),
                                         key in proptest::array::uniform32(any::<u8>()),
                                         bit in any::<prop::sample::Index>()) {
        let key = LocalKey::from_bytes(&key).unwrap();
        let sealed = cipher::gcm_seal(&key, &plain).unwrap();
        let mut raw = cipher::decode_base64_lenient(&sealed).unwrap();
        let i = bit.index(raw.len() * 8);
        raw[i / 8] ^= 1 << (i % 8);
        prop_assert!(cipher::gcm_open(&key, &b64(&raw)).is_err());
    }

    #[test]
    fn am_envelopes_with_a_flipped_bit_never_panic(plain in proptest::collection::vec(any::<u8>(), 8..80),
                                                   which in prop::sample::select(vec![cipher::AmCipher::Jce, cipher::AmCipher::AesWrap, cipher::AmCipher::AesWrapPad]),
                                                   bit in any::<prop::sample::Index>()) {
        let kdf = AmKdf::new(KdfDigest::Sha256, 10_000, 128).unwrap();
        let pw = SecretString::from("am-encryption-password");
        let sealed = cipher::am_encrypt(which, &pw, &kdf, &plain).unwrap();
        let mut raw = cipher::decode_base64_lenient(&sealed).unwrap();
        let i = bit.index(raw.len() * 8);
        raw[i / 8] ^= 1 << (i % 8);
        // JCE has no integrity check, so a flip may "decrypt" to other bytes; the AES key
        // wraps have one. Either way: no panic, and never the original plaintext silently
        // with a changed header for the wraps.
        if let Ok(d) = cipher::am_decrypt(&pw, &kdf, &b64(&raw))
            && which != cipher::AmCipher::Jce
        {
            prop_assert_ne!(d.plaintext.as_slice(), &plain[..], "a flipped AES wrap opened");
        }
    }

    // ---- small parsers --------------------------------------------------------------------------

    #[test]
    fn salt_hex_never_panics(s in any::<String>()) {
        if let Ok(salt) = Salt::from_hex(&s) {
            prop_assert_eq!(hex::encode(salt.as_bytes()), s.to_ascii_lowercase());
        }
    }

    #[test]
    fn ssha_parser_never_panics_on_any_string(s in any::<String>()) {
        if let Ok(h) = s.parse::<SshaHash>() {
            prop_assert_eq!(h.to_string(), s);
        }
    }

    #[test]
    fn user_names_are_safe_file_names(s in any::<String>()) {
        if let Ok(id) = SecretId::new(&s) {
            let file = id.file_name();
            prop_assert!(!file.contains('/') && !file.contains('\0') && file != "." && file != "..");
            prop_assert_eq!(file, format!("password.{s}"));
            prop_assert_eq!(s.parse::<SecretId>().ok(), Some(id));
        }
    }

    #[test]
    fn format_parser_never_panics(s in any::<String>()) {
        if let Ok(f) = s.parse::<Format>() {
            prop_assert_eq!(f.as_str().parse::<Format>().ok(), Some(f));
            prop_assert!(f.as_str().eq_ignore_ascii_case(&s));
        }
    }

    #[test]
    fn am_cipher_and_digest_parsers_never_panic(s in any::<String>()) {
        let _ = s.parse::<cipher::AmCipher>();
        let _ = s.parse::<KdfDigest>();
    }

    #[test]
    fn owner_specs_never_panic(spec in any::<String>(), passwd in any::<String>(), group in any::<String>()) {
        let _ = store::Owner::resolve_with(&spec, &passwd, &group);
    }

    #[test]
    fn owner_specs_over_real_looking_databases(spec in "[a-z0-9:]{0,12}",
                                               lines in proptest::collection::vec("[a-z0-9:x]{0,20}", 0..6)) {
        let db = lines.join("\n");
        let _ = store::Owner::resolve_with(&spec, &db, &db);
    }

    #[test]
    fn password_first_line_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(pw) = password::from_first_line(&bytes[..], Origin::Stdin) {
            let pw = pw.expose_secret();
            prop_assert!(!pw.is_empty() && !pw.contains('\n'));
            prop_assert_eq!(password::python_strip(pw), pw);
        }
    }

    #[test]
    fn k8s_manifest_is_yaml_with_the_exact_value(name in "[a-z0-9.-]{1,20}", ns in proptest::option::of("[a-z0-9-]{1,12}"),
                                                   value in "[ -~]{1,60}") {
        let id = SecretId::amadmin();
        if let Ok(m) = store::k8s::manifest(&name, ns.as_deref(), &id, &value) {
            let doc: serde_norway::Value = serde_norway::from_str(&m).unwrap();
            prop_assert_eq!(doc["metadata"]["name"].as_str(), Some(name.as_str()), "{}", m.as_str());
            if let Some(ns) = &ns {
                prop_assert_eq!(doc["metadata"]["namespace"].as_str(), Some(ns.as_str()), "{}", m.as_str());
            }
            let data = doc["data"]["password.amadmin"].as_str().unwrap();
            prop_assert_eq!(base64::engine::general_purpose::STANDARD.decode(data).unwrap(), value.as_bytes());
        }
    }
}

#[cfg(feature = "strength")]
proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// zxcvbn is third-party code fed the password as is.
    #[test]
    fn strength_never_panics(s in any::<String>()) {
        let strength = amhash::strength::assess(&s);
        let _ = strength.reason();
    }
}

#[cfg(feature = "kms")]
mod kms_client {
    use super::*;
    use amhash::kms::client::{check_endpoint, decode_ciphertext};

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn ciphertext_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode_ciphertext(&bytes);
        }

        #[test]
        fn ciphertext_decoder_round_trips_with_whitespace(bytes in proptest::collection::vec(any::<u8>(), 1..300),
                                                          spaces in proptest::collection::vec((any::<prop::sample::Index>(), prop::sample::select(vec![b' ', b'\n', b'\t', b'\r'])), 0..6)) {
            let mut text = b64(&bytes).into_bytes();
            for (at, ws) in spaces {
                let i = at.index(text.len() + 1);
                text.insert(i, ws);
            }
            prop_assert_eq!(decode_ciphertext(&text).unwrap(), bytes);
        }

        #[test]
        fn endpoint_check_never_panics(s in any::<String>(), anonymous in any::<bool>()) {
            let _ = check_endpoint(&s, anonymous);
        }

        #[test]
        fn plain_http_to_a_remote_host_needs_anonymous(host in "[a-z]{1,10}\\.[a-z]{2,5}", port in 1u16..) {
            let url = format!("http://{host}:{port}");
            prop_assert!(check_endpoint(&url, false).is_err());
            prop_assert!(check_endpoint(&url, true).is_ok());
            let https = format!("https://{host}:{port}");
            let loopback = format!("http://127.0.0.1:{port}");
            prop_assert!(check_endpoint(&https, false).is_ok());
            prop_assert!(check_endpoint(&loopback, false).is_ok());
        }
    }
}

/// The names that a plain YAML scalar would turn into something else than a string.
#[test]
fn k8s_names_that_look_like_numbers_or_booleans_stay_strings() {
    for (name, ns) in [
        ("0", "1"),
        ("1e3", "true"),
        ("null", "on"),
        ("123", "no"),
        ("0x1f", "y"),
    ] {
        let m = store::k8s::manifest(name, Some(ns), &SecretId::amadmin(), "{SSHA-512}x").unwrap();
        let doc: serde_norway::Value = serde_norway::from_str(&m).unwrap();
        assert_eq!(
            doc["metadata"]["name"].as_str(),
            Some(name),
            "{}",
            m.as_str()
        );
        assert_eq!(
            doc["metadata"]["namespace"].as_str(),
            Some(ns),
            "{}",
            m.as_str()
        );
    }
}
