//! The Tomcat setenv.sh editor: reading any bytes never panics; an edit that succeeds reads
//! back the value and format and is idempotent (the checks are in `src/lib.rs`, shared with
//! `env_file`).
#![no_main]
use amhash_fuzz::{Editor, check_editor};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|content: &[u8]| check_editor(Editor::Setenv, content));
