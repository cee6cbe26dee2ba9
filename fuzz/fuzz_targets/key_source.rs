//! Key source references (`file:`, `env:`, `keyring:`, and the secrets managers' `vault:`,
//! `aws-sm:`, `gcp-sm:`, `azure-kv:`) and keyring backend names: parsing never panics, and
//! the canonical form parses back to the same source (a manager's reference may be
//! written shorter than its canonical form: `gcp-sm:` without `/versions/latest`).
#![no_main]
use amhash::key_source::{KeySource, KeyringBackend};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(source) = text.parse::<KeySource>() {
        let shown = source.to_string();
        assert_eq!(shown.parse::<KeySource>().ok().as_ref(), Some(&source));
        if !matches!(source, KeySource::Manager(..)) {
            assert_eq!(shown, text);
        }
    }
    let _ = text.parse::<KeyringBackend>();
});
