//! The shell profile editor: reading any bytes never panics; an edit that succeeds reads back
//! the value and is idempotent.
#![no_main]
use amhash::store::{SecretId, env_file};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

const VALUE: &str = "{SSHA-512}FAAAAAAAAAAAAAAAAAAAAAAAAAAAjSSqRIRQ0t41hid6CvguVVR/XChxJUw1jpU8+My3/X0XiwXWz/swJxDAwmBl05CoAceOGj3MW2SKeIm/aqzHdg==";

fuzz_target!(|content: &[u8]| {
    let id = SecretId::amadmin();
    let path = Path::new("profile");
    let _ = env_file::read(content, &id, path);
    if let Ok(edit) = env_file::edit(content, &id, VALUE, path) {
        let back = env_file::read(&edit.content, &id, path)
            .expect("our own output reads back")
            .expect("our line is there");
        assert!(back.value.matches(VALUE));
        let again = env_file::edit(&edit.content, &id, VALUE, path).expect("idempotent");
        assert!(!again.changed);
    }
});
