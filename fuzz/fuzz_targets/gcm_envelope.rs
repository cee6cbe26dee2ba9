//! The amhash AES-256-GCM envelope: opening any text never panics, and only a genuine seal
//! opens (round trip checked on the input as plaintext).
#![no_main]
use amhash::cipher::{LocalKey, gcm_open, gcm_seal};
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(key) = LocalKey::from_bytes(&[7u8; 32]) else {
        return;
    };
    let _ = gcm_open(
        &key,
        &base64::engine::general_purpose::STANDARD.encode(data),
    );
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = gcm_open(&key, text);
    }
    if let Ok(sealed) = gcm_seal(&key, data) {
        let opened = gcm_open(&key, &sealed).expect("a fresh seal opens");
        assert_eq!(opened.as_slice(), data);
    }
});
