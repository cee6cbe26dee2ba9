//! The password reader (first line, strict UTF-8, Python-style strip) on any bytes.
#![no_main]
use amhash::password::{Origin, from_first_line, python_strip};
use libfuzzer_sys::fuzz_target;
use secrecy::ExposeSecret;

fuzz_target!(|data: &[u8]| {
    if let Ok(pw) = from_first_line(data, Origin::Stdin) {
        let pw = pw.expose_secret();
        assert!(!pw.is_empty() && !pw.contains('\n'));
        assert_eq!(python_strip(pw), pw);
    }
});
