use super::retry::Retry;
use super::rpc::{algorithm_name, crc};
use super::*;
use crate::error::{Error as _, Fault};
use google_cloud_gax::error::Error as GaxError;
use google_cloud_gax::error::rpc::{Code, Status};
use google_cloud_kms_v1::model::crypto_key_version::CryptoKeyVersionAlgorithm;
use rsa::Oaep;
use std::io;

fn key(s: &str) -> KmsKeyName {
    s.parse().unwrap()
}

#[test]
fn status_classification_table() {
    let cases = [
        (Code::Unavailable, Retry::Transient),
        (Code::DeadlineExceeded, Retry::Transient),
        (Code::PermissionDenied, Retry::Permanent),
        (Code::NotFound, Retry::Permanent),
        (Code::InvalidArgument, Retry::Permanent),
        (Code::FailedPrecondition, Retry::Permanent),
        (Code::ResourceExhausted, Retry::Permanent),
        (Code::Internal, Retry::Permanent),
        (Code::Unauthenticated, Retry::Credentials),
    ];
    for (code, want) in cases {
        let e = GaxError::service(Status::default().set_code(code).set_message("m"));
        assert_eq!(classify(&e), want, "{code:?}");
    }
}

#[test]
fn transport_classification_table() {
    let refused = || io::Error::new(io::ErrorKind::ConnectionRefused, "refused");
    assert_eq!(classify(&GaxError::connect(refused())), Retry::Unreachable);
    let reset = io::Error::new(io::ErrorKind::ConnectionReset, "reset");
    assert_eq!(classify(&GaxError::io(reset)), Retry::Transient);
    assert_eq!(classify(&GaxError::timeout(refused())), Retry::Transient);
    assert_eq!(classify(&GaxError::deser(refused())), Retry::Permanent);
    for (code, want) in [
        (502, Retry::Transient),
        (503, Retry::Transient),
        (504, Retry::Transient),
        (500, Retry::Permanent),
        (401, Retry::Credentials),
        (403, Retry::Permanent),
        (404, Retry::Permanent),
        (429, Retry::Permanent),
    ] {
        assert_eq!(classify_http(code), want, "{code}");
    }
}

#[test]
fn hints_name_the_permission() {
    assert!(
        hint(Rpc::Encrypt, "PERMISSION_DENIED").contains("cloudkms.cryptoKeyVersions.useToEncrypt")
    );
    assert!(
        hint(Rpc::Decrypt, "PERMISSION_DENIED").contains("cloudkms.cryptoKeyVersions.useToDecrypt")
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
    let k = key("projects/my-project/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1");
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
        assert_eq!(e.fault(), Fault::Input);
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
