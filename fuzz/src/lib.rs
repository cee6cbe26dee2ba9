//! What fuzz targets share: the contract of the two editors of a file amhash keeps one entry
//! in (the shell profile, Tomcat's setenv.sh), so both are held to the same checks.

use std::path::Path;

use amhash::am::Format;
use amhash::store::{SecretId, env_file, setenv};

/// The value the editors write (any `{SSHA-512}` value would do).
const VALUE: &str = "{SSHA-512}FAAAAAAAAAAAAAAAAAAAAAAAAAAAjSSqRIRQ0t41hid6CvguVVR/XChxJUw1jpU8+My3/X0XiwXWz/swJxDAwmBl05CoAceOGj3MW2SKeIm/aqzHdg==";

/// An editor of a file amhash keeps one entry in.
#[derive(Clone, Copy)]
pub enum Editor {
    /// `store::env_file`: one `export PASSWORD_AMADMIN=` line in a shell profile.
    EnvFile,
    /// `store::setenv`: one marked block in setenv.sh, recording the value's format too.
    Setenv,
}

impl Editor {
    /// Reads `content` back: `Some(true)` if amadmin's entry holds [`VALUE`] (and, in
    /// setenv.sh, the format PLAIN), `None` if there is no entry.
    fn read(self, content: &[u8]) -> Result<Option<bool>, amhash::store::StoreError> {
        let id = SecretId::amadmin();
        match self {
            Editor::EnvFile => env_file::read(content, &id, Path::new("profile"))
                .map(|v| v.map(|v| v.value.matches(VALUE))),
            Editor::Setenv => setenv::read(content, &id, Path::new("setenv.sh"))
                .map(|v| v.map(|v| v.value.matches(VALUE) && v.format == Format::Plain)),
        }
    }

    /// Puts [`VALUE`] in `content`: the new content and whether it changed.
    fn edit(self, content: &[u8]) -> Result<(Vec<u8>, bool), amhash::store::StoreError> {
        let id = SecretId::amadmin();
        match self {
            Editor::EnvFile => env_file::edit(content, &id, VALUE, Path::new("profile"))
                .map(|e| (e.content.to_vec(), e.changed)),
            Editor::Setenv => setenv::edit(content, &id, VALUE, Format::Plain, Path::new("setenv.sh"))
                .map(|e| (e.content.to_vec(), e.changed)),
        }
    }
}

/// Reading any bytes never panics; an edit that succeeds reads back what was written and is
/// idempotent.
pub fn check_editor(editor: Editor, content: &[u8]) {
    let _ = editor.read(content);
    if let Ok((edited, _)) = editor.edit(content) {
        let holds = editor
            .read(&edited)
            .expect("our own output reads back")
            .expect("our entry is there");
        assert!(holds, "the edit reads back what was written");
        let (_, changed) = editor.edit(&edited).expect("idempotent");
        assert!(!changed);
    }
}
