//! Names and paths made safe to print.
//!
//! File names come from the file system, and in a store directory the AM account owns they
//! are the attacker's to choose: a name holding ESC, BEL or a newline could repaint the
//! terminal or forge a line of a report (`ok: password matches`). Everything amhash prints
//! that came from outside goes through here. Control characters (C0, DEL, C1), the Unicode
//! line and paragraph separators and the bidirectional overrides become visible escapes
//! (`\n`, `\t`, `\r`, `\x1b`, `\u{202e}`); bytes that are not UTF-8 become `\xNN`. Other
//! text, including non-ASCII letters, is kept as it is.
//!
//! `--json` output needs none of this: JSON escapes control characters itself, and paths
//! that are not UTF-8 are carried losslessly as hex (see the binary's `output` module).

use std::fmt::Write as _;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// `path` for a message or a report line.
#[must_use]
pub fn path(path: &Path) -> String {
    bytes(path.as_os_str().as_bytes())
}

/// Text from outside (a file name, a helper's message) for a message or a report line.
#[must_use]
pub fn text(s: &str) -> String {
    bytes(s.as_bytes())
}

/// Bytes that should be text: valid UTF-8 kept (but for the characters above), other bytes
/// as `\xNN`.
#[must_use]
pub fn bytes(raw: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len());
    for chunk in raw.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_char(&mut out, c);
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// `text` (already escaped for printing) as one single-quoted shell word, for the commands
/// amhash suggests (`chmod ... 'PATH'`): a `'` in it is written `'\''`.
#[must_use]
pub fn shell_word(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn push_char(out: &mut String, c: char) {
    if !needs_escape(c) {
        out.push(c);
        return;
    }
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if u32::from(c) < 0x100 => {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn table() {
        let cases: &[(&[u8], &str)] = &[
            (b"password.amadmin", "password.amadmin"),
            (b"/srv/am/\xc3\xa9t\xc3\xa9", "/srv/am/été"),
            (b"a\x1b[2Jb", "a\\x1b[2Jb"),
            (b"x\x07\ny\r\tz", "x\\x07\\ny\\r\\tz"),
            (b"st\xff", "st\\xff"),
            (b"\x7f\xc2\x9b", "\\x7f\\x9b"),
            ("rtl\u{202e}txt".as_bytes(), "rtl\\u{202e}txt"),
            ("line\u{2028}sep".as_bytes(), "line\\u{2028}sep"),
        ];
        for (raw, want) in cases {
            assert_eq!(bytes(raw), *want, "{raw:?}");
            assert_eq!(path(Path::new(OsStr::from_bytes(raw))), *want);
        }
    }

    #[test]
    fn shell_words_survive_a_shell() {
        for text in ["plain", "it's", "a b", "''", "$HOME `id`"] {
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s {}", shell_word(text)))
                .output()
                .unwrap();
            assert_eq!(String::from_utf8(out.stdout).unwrap(), text);
        }
    }

    #[test]
    fn output_never_has_a_control_character() {
        let all: Vec<u8> = (0..=255u8).collect();
        let out = bytes(&all);
        assert!(!out.chars().any(needs_escape), "{out:?}");
    }
}
