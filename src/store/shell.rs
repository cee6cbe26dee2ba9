//! POSIX shell quoting for the profile and setenv.sh editors, and the inverse for read-back.
//!
//! Writing always uses single quotes: `'` + value with each `'` written as `'\''` + `'`. Inside
//! single quotes a shell interprets nothing, so any value without control characters survives.
//!
//! For a string that is itself placed inside a double-quoted assignment (setenv.sh), the
//! characters a shell interprets inside double quotes (`\`, `$`, `` ` ``, `"`) are escaped with a
//! backslash.
//!
//! Reading back parses one shell word as a shell would (single quotes, double quotes with their
//! four escapes, backslash escapes) and reports anything that needs evaluation (`$`, backticks)
//! instead of guessing.

use zeroize::Zeroizing;

/// Why a word could not be read back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WordError {
    /// A quote is not closed on this line, or the line ends in a backslash (continuation).
    Unterminated,
    /// The word needs expansion (`$…`, backticks): its value is only known at run time.
    Expansion,
    /// The line has more after the word than blanks and a comment.
    Trailing,
}

impl WordError {
    pub(crate) fn reason(self) -> &'static str {
        match self {
            WordError::Unterminated => {
                "a quote is not closed on this line (or the line continues on the next)"
            }
            WordError::Expansion => {
                "it uses shell expansion ($ or backquote), so its value is only known at run time"
            }
            WordError::Trailing => "the line has more commands after the assignment",
        }
    }
}

/// `'value'` with embedded `'` as `'\''`.
pub(crate) fn single_quote(value: &str) -> Zeroizing<String> {
    let mut s = Zeroizing::new(String::with_capacity(value.len() + 2));
    s.push('\'');
    for c in value.chars() {
        if c == '\'' {
            s.push_str("'\\''");
        } else {
            s.push(c);
        }
    }
    s.push('\'');
    s
}

/// Escapes `\ $ ` "` for use inside a double-quoted shell string.
pub(crate) fn escape_in_double_quotes(s: &str) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(s.len() + 8));
    for c in s.chars() {
        if matches!(c, '\\' | '$' | '`' | '"') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The inverse of [`escape_in_double_quotes`] for the content of a double-quoted string
/// (without its quotes): `\` before `\ $ ` "` is removed, other backslashes are literal;
/// an unescaped `$`, backtick or `"` is an error.
pub(crate) fn unescape_double_quoted(s: &[u8]) -> Result<Zeroizing<Vec<u8>>, WordError> {
    let mut out = Zeroizing::new(Vec::with_capacity(s.len()));
    let mut it = s.iter().copied().peekable();
    while let Some(b) = it.next() {
        match b {
            b'\\' => match it.peek().copied() {
                Some(n @ (b'\\' | b'$' | b'`' | b'"')) => {
                    out.push(n);
                    it.next();
                }
                _ => out.push(b'\\'),
            },
            b'$' | b'`' => return Err(WordError::Expansion),
            b'"' => return Err(WordError::Trailing),
            _ => out.push(b),
        }
    }
    Ok(out)
}

/// Parses the shell word at the start of `s` (which holds the rest of one line, without its
/// `\n`). After the word only blanks and a `#` comment may follow.
pub(crate) fn parse_word(s: &[u8]) -> Result<Zeroizing<Vec<u8>>, WordError> {
    let mut out = Zeroizing::new(Vec::with_capacity(s.len()));
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        i += 1;
        match b {
            b'\'' => {
                let rest = s.get(i..).unwrap_or_default();
                let end = rest
                    .iter()
                    .position(|&c| c == b'\'')
                    .ok_or(WordError::Unterminated)?;
                out.extend_from_slice(rest.get(..end).unwrap_or_default());
                i += end + 1;
            }
            b'"' => loop {
                let Some(&c) = s.get(i) else {
                    return Err(WordError::Unterminated);
                };
                i += 1;
                match c {
                    b'"' => break,
                    b'\\' => match s.get(i) {
                        Some(&n @ (b'\\' | b'$' | b'`' | b'"')) => {
                            out.push(n);
                            i += 1;
                        }
                        Some(_) => out.push(b'\\'),
                        None => return Err(WordError::Unterminated),
                    },
                    b'$' | b'`' => return Err(WordError::Expansion),
                    _ => out.push(c),
                }
            },
            b'\\' => {
                let &n = s.get(i).ok_or(WordError::Unterminated)?;
                out.push(n);
                i += 1;
            }
            b'$' | b'`' => return Err(WordError::Expansion),
            b' ' | b'\t' => {
                let rest = s.get(i..).unwrap_or_default();
                let rest = rest
                    .iter()
                    .position(|&c| c != b' ' && c != b'\t')
                    .and_then(|p| rest.get(p..));
                return match rest {
                    None => Ok(out),
                    Some(r) if r.first() == Some(&b'#') => Ok(out),
                    Some(_) => Err(WordError::Trailing),
                };
            }
            b';' | b'&' | b'|' | b'<' | b'>' | b'(' | b')' => return Err(WordError::Trailing),
            _ => out.push(b),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_then_parse_round_trips() {
        for v in [
            "abc",
            "a'b",
            "'",
            "''",
            "a b",
            "$x`y`\"z\\",
            "{SSHA-512}AbC+/=",
            "ü é",
            "#x",
        ] {
            let q = single_quote(v);
            assert_eq!(&*parse_word(q.as_bytes()).unwrap(), v.as_bytes(), "{v}");
            let dq = escape_in_double_quotes(&q);
            assert_eq!(
                &*unescape_double_quoted(dq.as_bytes()).unwrap(),
                q.as_bytes()
            );
        }
    }

    #[test]
    fn parse_word_table() {
        let ok: &[(&str, &str)] = &[
            ("", ""),
            ("abc", "abc"),
            ("'a b'", "a b"),
            ("\"a b\"", "a b"),
            ("\"a\\$b\\\\c\\q\"", "a$b\\c\\q"),
            ("a\\ b", "a b"),
            ("'x'  # comment", "x"),
            ("x\t", "x"),
            ("a'b'\"c\"d", "abcd"),
            ("x#y", "x#y"),
            ("v\r", "v\r"),
        ];
        for (input, want) in ok {
            assert_eq!(
                &*parse_word(input.as_bytes()).unwrap(),
                want.as_bytes(),
                "{input:?}"
            );
        }
        let bad: &[(&str, WordError)] = &[
            ("'abc", WordError::Unterminated),
            ("\"abc", WordError::Unterminated),
            ("abc\\", WordError::Unterminated),
            ("$X", WordError::Expansion),
            ("\"$X\"", WordError::Expansion),
            ("`id`", WordError::Expansion),
            ("a; rm x", WordError::Trailing),
            ("a b", WordError::Trailing),
            ("a&", WordError::Trailing),
        ];
        for (input, want) in bad {
            assert_eq!(
                parse_word(input.as_bytes()).unwrap_err(),
                *want,
                "{input:?}"
            );
        }
    }
}
