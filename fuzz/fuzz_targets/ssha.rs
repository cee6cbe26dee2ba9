//! `{SSHA-512}` values: any text parses or is refused; what parses prints back identically.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(hash) = text.parse::<amhash::ssha::SshaHash>() {
        assert_eq!(hash.to_string(), text);
        let _ = hash.verify(text.as_bytes());
    }
});
