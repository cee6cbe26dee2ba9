//! The KMS helper's ciphertext input (base64, whitespace anywhere). Needs `--features kms`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = amhash::kms::client::decode_ciphertext(data);
});
