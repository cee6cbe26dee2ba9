//! The lenient base64 decoder used for every stored value, and scheme detection.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(bytes) = amhash::cipher::decode_base64_lenient(text) {
        let _ = amhash::cipher::Scheme::detect(&bytes);
    }
    let _ = amhash::cipher::detect_scheme(text);
});
