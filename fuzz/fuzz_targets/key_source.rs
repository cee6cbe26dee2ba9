//! Key source references (`file:`, `env:`, `keyring:`) and keyring backend names.
#![no_main]
use amhash::key_source::{KeySource, KeyringBackend};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(source) = text.parse::<KeySource>() {
        assert_eq!(source.to_string(), text);
    }
    let _ = text.parse::<KeyringBackend>();
});
