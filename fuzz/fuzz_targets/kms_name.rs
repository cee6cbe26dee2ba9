//! Cloud KMS key names: parse or refuse; what parses prints back identically.
#![no_main]
use amhash::kms::KmsKeyName;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(name) = text.parse::<KmsKeyName>() {
        assert_eq!(name.to_string(), text);
        let _ = name.is_version_of(text);
    }
});
