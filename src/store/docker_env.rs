//! Docker / Podman env-file target (`docker run --env-file FILE`, `podman run --env-file`):
//! one line `PASSWORD_<USER>=VALUE`.
//!
//! Docker's documented rules (`docker run --env-file`, `opts/envfile.go`), which [`read`]
//! follows:
//!
//! - one variable per line, `VAR=VALUE`, split at the first `=`; blanks before `VAR` are
//!   dropped, a name holding a blank is an error;
//! - nothing is unquoted, unescaped or expanded: the value is every byte after the `=` up to
//!   the end of the line (a `"` or `'` is part of it, so is a `#`);
//! - lines that are empty (after the leading blanks) or start with `#` are skipped;
//! - a line `VAR` without `=` takes the variable from the environment of `docker` itself;
//! - a value cannot hold a line break; a later line for the same variable wins.
//!
//! So amhash writes `VAR=VALUE\n` with no quotes and no `export`, and refuses a value that
//! cannot come back exactly: empty, a control character (a line break, `\r`, NUL, a tab),
//! and, because Podman and `docker compose`'s `env_file:` trim blanks and strip quotes
//! where Docker does not, a value with a blank at either end or a quote at its start, and
//! (compose expands `$VAR` and cuts ` #` comments in an unquoted value) a `$` or `#`
//! anywhere. No AM value has any of those.
//!
//! Editing ([`edit`]) is the profile target's: the first line for the variable (`VAR=...` or
//! a bare `VAR`) is replaced in place, later ones are removed, otherwise the line is appended;
//! every other byte is kept. [`apply`] writes it like the other edited files (atomically,
//! under the directory lock, a new file 0600, an existing one narrowed).

use std::path::Path;

use zeroize::Zeroizing;

use super::{
    EditChange, EditOptions, ReadValue, Result, SecretId, StoreError, append_line, apply_edit,
    read_file_with,
};

/// Whether Docker (and Podman, and Compose) read `value` back exactly from `VAR=value`.
///
/// # Errors
/// [`StoreError::InvalidValue`].
pub fn check_value(value: &str) -> Result<()> {
    let bad = |reason| Err(StoreError::InvalidValue { reason });
    if value.is_empty() {
        return bad("is empty");
    }
    if value.chars().any(char::is_control) {
        return bad(
            "contains a control character (newline, carriage return, tab, NUL...), which a Docker env-file line cannot carry",
        );
    }
    if value.starts_with(char::is_whitespace) || value.ends_with(char::is_whitespace) {
        return bad(
            "starts or ends with a blank, which Podman and compose's env_file would drop from a Docker env-file line",
        );
    }
    if value.starts_with(['"', '\'']) {
        return bad(
            "starts with a quote, which Podman and compose's env_file would strip from a Docker env-file line",
        );
    }
    if value.contains(['$', '#']) {
        return bad(
            "contains '$' or '#', which compose's env_file expands or cuts as a comment where Docker does not",
        );
    }
    Ok(())
}

/// The line amhash writes (with its `\n`).
///
/// # Errors
/// [`StoreError::InvalidValue`].
pub fn line(id: &SecretId, value: &str) -> Result<Zeroizing<String>> {
    check_value(value)?;
    let var = id.env_var();
    let mut s = Zeroizing::new(String::with_capacity(var.len() + value.len() + 2));
    s.push_str(&var);
    s.push('=');
    s.push_str(value);
    s.push('\n');
    Ok(s)
}

/// The variable a line sets (Docker's rules), and its value when it has one.
fn assignment(raw: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    let line = raw.strip_suffix(b"\n").unwrap_or(raw);
    let start = line.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let line = line.get(start..)?;
    if line.is_empty() || line.starts_with(b"#") {
        return None;
    }
    match line.iter().position(|&b| b == b'=') {
        Some(i) => Some((line.get(..i)?, line.get(i + 1..))),
        None => Some((line, None)),
    }
}

/// Sets the variable of `id` in `content` (see the module doc). Returns the new content and
/// the number of later lines removed.
///
/// # Errors
/// [`StoreError::InvalidValue`].
pub fn edit(content: &[u8], id: &SecretId, value: &str) -> Result<(Zeroizing<Vec<u8>>, usize)> {
    let new_line = line(id, value)?;
    let var = id.env_var();
    let mut out = Zeroizing::new(Vec::with_capacity(content.len() + new_line.len() + 1));
    let mut found = false;
    let mut removed = 0;
    for raw in content.split_inclusive(|&b| b == b'\n') {
        match assignment(raw) {
            Some((name, _)) if name == var.as_bytes() => {
                if found {
                    removed += 1;
                } else {
                    out.extend_from_slice(new_line.as_bytes());
                    found = true;
                }
            }
            _ => out.extend_from_slice(raw),
        }
    }
    if !found {
        append_line(&mut out, new_line.as_bytes());
    }
    Ok((out, removed))
}

/// The value Docker would give the variable of `id` from `content`: the last line that sets
/// it with `=`. `None` when no line does.
#[must_use]
pub fn read(content: &[u8], id: &SecretId) -> Option<Zeroizing<Vec<u8>>> {
    let var = id.env_var();
    let mut last = None;
    for raw in content.split_inclusive(|&b| b == b'\n') {
        if let Some((name, value)) = assignment(raw)
            && name == var.as_bytes()
        {
            last = value;
        }
    }
    last.map(|v| Zeroizing::new(v.to_vec()))
}

/// Edits the env-file at `path` in place (see the module doc).
///
/// # Errors
/// Those of [`edit`], and of the shared editor (a link, a directory others can write, a file
/// with two names, I/O).
pub fn apply(path: &Path, id: &SecretId, value: &str, opts: &EditOptions) -> Result<EditChange> {
    line(id, value)?;
    apply_edit(path, opts, |old| edit(old, id, value))
}

/// Reads the variable of `id` back from the env-file at `path`; `None` when the file or the
/// line is absent.
///
/// # Errors
/// The shared reader's, [`StoreError::Unreadable`] for a value that is not UTF-8.
pub fn read_path(path: &Path, id: &SecretId) -> Result<Option<ReadValue>> {
    read_file_with(path, |content| match read(content, id) {
        Some(v) => ReadValue::new(v.to_vec(), path, 0, &id.env_var()).map(Some),
        None => Ok(None),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> SecretId {
        SecretId::amadmin()
    }

    #[test]
    fn line_is_var_equals_value_without_quotes() {
        assert_eq!(
            line(&id(), "{SSHA-512}AB+/=").unwrap().as_str(),
            "PASSWORD_AMADMIN={SSHA-512}AB+/=\n"
        );
        let dashed = SecretId::new("am-admin.x").unwrap();
        assert_eq!(
            line(&dashed, "v").unwrap().as_str(),
            "PASSWORD_AM-ADMIN_X=v\n"
        );
    }

    #[test]
    fn values_docker_cannot_carry_are_refused() {
        for v in [
            "", "a\nb", "a\rb", "a\0b", "a\tb", " a", "a ", "\"a\"", "'a'", "a#b", "#a", "a #b",
            "$HOME", "a$b",
        ] {
            assert!(line(&id(), v).is_err(), "{v:?}");
        }
        for v in ["a b", "a\"", "ü", "{SSHA-512}ab+/=", "AhAA1DuQ+/=="] {
            assert!(line(&id(), v).is_ok(), "{v:?}");
        }
    }

    #[test]
    fn edit_replaces_first_removes_later_keeps_the_rest() {
        let old =
            b"# comment\nA=1\n  PASSWORD_AMADMIN=old\nB=2\nPASSWORD_AMADMIN\nPASSWORD_AMADMINX=3";
        let (new, removed) = edit(old, &id(), "new").unwrap();
        assert_eq!(
            new.as_slice(),
            b"# comment\nA=1\nPASSWORD_AMADMIN=new\nB=2\nPASSWORD_AMADMINX=3"
        );
        assert_eq!(removed, 1);
        assert_eq!(read(&new, &id()).unwrap().as_slice(), b"new");
        let (new, _) = edit(b"", &id(), "v").unwrap();
        assert_eq!(new.as_slice(), b"PASSWORD_AMADMIN=v\n");
    }

    proptest::proptest! {
        #[test]
        fn any_carried_value_round_trips(value in "[^\\p{Cc}\\s\"'$#][^\\p{Cc}$#]{0,40}[^\\p{Cc}\\s$#]", old in "[ -~\n]{0,120}") {
            let (new, _) = edit(old.as_bytes(), &id(), &value).unwrap();
            proptest::prop_assert_eq!(read(&new, &id()).map(|v| v.to_vec()), Some(value.into_bytes()));
        }

        #[test]
        fn any_input_reads_without_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = read(&bytes, &id());
            let _ = edit(&bytes, &id(), "v");
        }
    }

    #[test]
    fn read_follows_docker_rules() {
        assert_eq!(
            read(
                b"PASSWORD_AMADMIN=\"q\" # x \nPASSWORD_AMADMIN='a'=b\n",
                &id()
            )
            .unwrap()
            .as_slice(),
            b"'a'=b"
        );
        assert!(read(b"#PASSWORD_AMADMIN=x\n", &id()).is_none());
        assert_eq!(
            read(b"\t PASSWORD_AMADMIN=v", &id()).unwrap().as_slice(),
            b"v"
        );
    }
}
