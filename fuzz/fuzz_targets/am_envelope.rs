//! AM JCE and AESWrap envelopes: decrypting any text (or any bytes as base64) never panics.
//! The first byte picks the KDF so every AESWrap key size and digest is reached.
#![no_main]
use amhash::cipher::{AmKdf, KdfDigest, am_decrypt};
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let digest = [
        KdfDigest::Sha1,
        KdfDigest::Sha256,
        KdfDigest::Sha384,
        KdfDigest::Sha512,
    ][usize::from(selector & 3)];
    let bits = [128, 192, 256, 128][usize::from((selector >> 2) & 3)];
    let Ok(kdf) = AmKdf::new(digest, 10_000, bits) else {
        return;
    };
    let password = SecretString::from("fuzz-am-encryption-password");
    let text = base64::engine::general_purpose::STANDARD.encode(rest);
    let _ = am_decrypt(&password, &kdf, &text);
    if let Ok(raw) = std::str::from_utf8(rest) {
        let _ = am_decrypt(&password, &kdf, raw);
    }
});
