//! systemd's `EnvironmentFile=` syntax (systemd.exec(5)), for the fallback of the systemd
//! target.
//!
//! amhash writes one line, `VAR='VALUE'\n`: single quotes keep every character but `'`
//! literally, so a value is refused if it holds a `'` or a control character (no AM value
//! does). [`parse`] reads a file back by systemd's rules (`load_env_file` of systemd 252):
//!
//! - a line ends at `\n` or `\r`; blank lines are skipped; a line whose first non-blank character is `#` or `;` is a
//!   comment (a `\` at its end continues the comment onto the next line);
//! - `KEY=VALUE`: blanks before the key and around `=` and the value are dropped; a line
//!   without `=` is ignored;
//! - in an unquoted value, `\` escapes the next character (at the end of a line it joins the
//!   next line) and trailing blanks are dropped;
//! - `'...'` keeps everything literally up to the next `'`;
//! - `"..."` keeps everything but `\`: `\"`, `\\`, `` \` `` and `\$` are the character,
//!   `\` before a line break joins the lines, any other `\X` stays `\X`;
//! - quoted and unquoted parts may follow each other (`a'b'"c"` is `abc`); blanks between
//!   them are dropped;
//! - a later assignment of the same key wins.
//!
//! No variable expansion happens in `EnvironmentFile=` (systemd expands `${VAR}` only on
//! `ExecStart=` lines, after loading).

use zeroize::Zeroizing;

use super::super::{Result, StoreError};

/// The line amhash writes, with its `\n`.
///
/// # Errors
/// [`StoreError::InvalidValue`] for an empty value, a `'` or a control character.
pub fn line(var: &str, value: &str) -> Result<Zeroizing<String>> {
    check_value(value)?;
    let mut s = Zeroizing::new(String::with_capacity(var.len() + value.len() + 4));
    s.push_str(var);
    s.push_str("='");
    s.push_str(value);
    s.push_str("'\n");
    Ok(s)
}

/// Whether [`line`] can carry `value`.
///
/// # Errors
/// [`StoreError::InvalidValue`].
pub fn check_value(value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(StoreError::InvalidValue { reason: "is empty" });
    }
    if value.chars().any(char::is_control) {
        return Err(StoreError::InvalidValue {
            reason: "contains a control character (newline, tab, NUL...), which a systemd EnvironmentFile line cannot carry",
        });
    }
    if value.contains('\'') {
        return Err(StoreError::InvalidValue {
            reason: "contains a single quote, which amhash's EnvironmentFile line cannot carry",
        });
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    PreKey,
    Key,
    PreValue,
    Value,
    ValueEscape,
    /// Inside `'...'` or `"..."`: the quote that ends it.
    Quoted(u8),
    DoubleEscape,
    Comment,
    CommentEscape,
}

fn blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t')
}

/// systemd ends a line at `\n` and at `\r`.
fn nl(b: u8) -> bool {
    matches!(b, b'\n' | b'\r')
}

/// Every assignment in `content`, in order, by the rules in the module doc. No `Debug`
/// of the values: they are secrets.
#[must_use]
pub fn parse(content: &[u8]) -> Vec<(String, Zeroizing<Vec<u8>>)> {
    let mut out = Vec::new();
    let mut state = State::PreKey;
    let mut key = Vec::new();
    let mut value = Zeroizing::new(Vec::new());
    // Length of the value up to its last character that is not an unquoted trailing blank.
    let mut keep = 0usize;
    let mut push = |key: &mut Vec<u8>, value: &mut Zeroizing<Vec<u8>>, keep: usize| {
        value.truncate(keep);
        let k = String::from_utf8_lossy(key).trim_end().to_owned();
        out.push((k, std::mem::take(value)));
        key.clear();
    };
    for &c in content.iter().chain(std::iter::once(&b'\n')) {
        state = match state {
            State::PreKey if c == b'#' || c == b';' => State::Comment,
            State::PreKey if blank(c) || nl(c) => State::PreKey,
            State::PreKey => {
                key.push(c);
                State::Key
            }
            State::Key if nl(c) => {
                key.clear();
                State::PreKey
            }
            State::Key if c == b'=' => State::PreValue,
            State::Key => {
                key.push(c);
                State::Key
            }
            State::PreValue | State::Value if nl(c) => {
                push(&mut key, &mut value, keep);
                keep = 0;
                State::PreKey
            }
            State::PreValue if c == b'\'' || c == b'"' => State::Quoted(c),
            State::PreValue | State::Value if c == b'\\' => State::ValueEscape,
            State::PreValue if blank(c) => State::PreValue,
            State::PreValue | State::Value => {
                value.push(c);
                if !blank(c) {
                    keep = value.len();
                }
                // A quote inside an unquoted part is an ordinary character.
                State::Value
            }
            State::ValueEscape => {
                if !nl(c) {
                    value.push(c);
                    keep = value.len();
                }
                State::Value
            }
            State::Quoted(quote) if c == quote => {
                keep = value.len();
                State::PreValue
            }
            State::Quoted(b'"') if c == b'\\' => State::DoubleEscape,
            State::Quoted(quote) => {
                value.push(c);
                keep = value.len();
                State::Quoted(quote)
            }
            State::DoubleEscape => {
                match c {
                    b'\n' | b'\r' => {}
                    b'"' | b'\\' | b'`' | b'$' => value.push(c),
                    _ => {
                        value.push(b'\\');
                        value.push(c);
                    }
                }
                keep = value.len();
                State::Quoted(b'"')
            }
            State::Comment if c == b'\\' => State::CommentEscape,
            State::Comment if nl(c) => State::PreKey,
            State::Comment | State::CommentEscape => State::Comment,
        };
    }
    // An unterminated quote at the end of the file: systemd keeps what it read.
    if matches!(
        state,
        State::Quoted(_) | State::DoubleEscape | State::Value | State::ValueEscape
    ) {
        push(&mut key, &mut value, keep);
    }
    out
}

/// The value of the last assignment of `var` in `content`.
#[must_use]
pub fn read(content: &[u8], var: &str) -> Option<Zeroizing<Vec<u8>>> {
    parse(content)
        .into_iter()
        .rev()
        .find(|(k, _)| k == var)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Vec<(String, String)> {
        parse(text.as_bytes())
            .into_iter()
            .map(|(k, v)| (k, String::from_utf8(v.to_vec()).unwrap()))
            .collect()
    }

    #[test]
    fn systemd_rules_table() {
        let table: &[(&str, &[(&str, &str)])] = &[
            ("A=b\n", &[("A", "b")]),
            ("  A = b  \n", &[("A", "b")]),
            ("# c\n; d\nA=1", &[("A", "1")]),
            ("# c \\\nA=1\nB=2\n", &[("B", "2")]),
            ("A='x y \\ $z \"'\n", &[("A", "x y \\ $z \"")]),
            (
                "A=\"x \\\" \\\\ \\$ \\` \\n\"\n",
                &[("A", "x \" \\ $ ` \\n")],
            ),
            ("A=a\\ b\\\nc\n", &[("A", "a bc")]),
            ("A='a'\"b\"c\n", &[("A", "abc")]),
            ("A=#notacomment\n", &[("A", "#notacomment")]),
            ("novalue\nA=\n", &[("A", "")]),
            ("A=\"multi\nline\"\n", &[("A", "multi\nline")]),
            ("A=1\nA=2\n", &[("A", "1"), ("A", "2")]),
        ];
        for (text, want) in table {
            let want: Vec<(String, String)> = want
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            assert_eq!(one(text), want, "{text:?}");
        }
        assert_eq!(
            read(b"A=1\nA=2\n", "A").map(|v| v.to_vec()),
            Some(b"2".to_vec())
        );
    }

    #[test]
    fn written_lines_parse_back_exactly() {
        for value in [
            "{SSHA-512}FAAAAA+/=",
            "AAEC/+==",
            "a b  c ",
            " lead",
            "$HOME ${X} `x` \\n \" # ;",
            "ünïcödé",
        ] {
            let l = line("PASSWORD_AMADMIN", value).unwrap();
            let mut file = b"# before\nOTHER=1\n".to_vec();
            file.extend_from_slice(l.as_bytes());
            assert_eq!(
                read(&file, "PASSWORD_AMADMIN").map(|v| v.to_vec()),
                Some(value.as_bytes().to_vec()),
                "{value:?}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn any_input_parses_without_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = parse(&bytes);
        }

        #[test]
        fn any_carried_value_parses_back(value in "[^'\\p{Cc}]{1,60}", before in "[ -~\n]{0,80}") {
            let l = line("PASSWORD_AMADMIN", &value).unwrap();
            // Whatever precedes it on earlier lines (ended by a line break, not a quote or
            // backslash left open).
            let mut file: Vec<u8> = before.replace(['\'', '"', '\\'], "").into_bytes();
            file.push(b'\n');
            file.extend_from_slice(l.as_bytes());
            proptest::prop_assert_eq!(
                read(&file, "PASSWORD_AMADMIN").map(|v| v.to_vec()),
                Some(value.into_bytes())
            );
        }
    }

    #[test]
    fn values_the_line_cannot_carry_are_refused() {
        for value in ["", "a'b", "a\nb", "a\rb", "a\tb", "a\0b"] {
            assert!(line("A", value).is_err(), "{value:?}");
        }
    }
}
