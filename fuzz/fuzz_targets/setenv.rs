//! The Tomcat setenv.sh editor: reading any bytes never panics; an edit that succeeds reads
//! back the value and format and is idempotent.
#![no_main]
use amhash::am::Format;
use amhash::store::{SecretId, setenv};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

const VALUE: &str = "{SSHA-512}FAAAAAAAAAAAAAAAAAAAAAAAAAAAjSSqRIRQ0t41hid6CvguVVR/XChxJUw1jpU8+My3/X0XiwXWz/swJxDAwmBl05CoAceOGj3MW2SKeIm/aqzHdg==";

fuzz_target!(|content: &[u8]| {
    let id = SecretId::amadmin();
    let path = Path::new("setenv.sh");
    let _ = setenv::read(content, &id, path);
    if let Ok(edit) = setenv::edit(content, &id, VALUE, Format::Plain, path) {
        let back = setenv::read(&edit.content, &id, path)
            .expect("our own output reads back")
            .expect("our block is there");
        assert!(back.value.matches(VALUE) && back.format == Format::Plain);
        let again =
            setenv::edit(&edit.content, &id, VALUE, Format::Plain, path).expect("idempotent");
        assert!(!again.changed);
    }
});
