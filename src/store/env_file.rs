//! Shell profile target: one `export PASSWORD_<USER>='…'` line in the profile of the user AM runs
//! as (AM reads the variable from its environment).
//!
//! Editing rules ([`edit`], pure):
//! - a line assigns the variable if, after optional blanks, it reads `export VAR=` or `VAR=`;
//! - the FIRST such line is replaced in place by `export VAR='VALUE'` (its indentation kept, ended
//!   by `\n`); every LATER such line is removed, because in a shell the last assignment wins and
//!   a stale later line would silently override the new value;
//! - with no such line, the line is appended (after a `\n` if the file does not end with one);
//! - every other byte is kept as it was (CRLF lines included; only our line is rewritten);
//! - a line we would replace or remove whose value is not one complete shell word (an unclosed
//!   quote, a continuation, more commands after it) is refused: the file needs a human.
//!
//! The value is single-quoted (`'` as `'\''`), so any value without control characters is read
//! by the shell exactly. A user name with `-` is refused ([`SecretId::shell_env_var`]).
//!
//! [`apply`] does the read-modify-write under the directory lock (so concurrent editors never
//! lose a line), atomically; a new file is 0600, a replaced one keeps its mode and owner; a
//! symlink is refused.

use std::path::Path;

use zeroize::Zeroizing;

use super::shell::{WordError, parse_word, single_quote};
use super::{
    EditChange, EditOptions, ReadValue, Result, SecretId, StoreError, append_line, apply_edit,
    check_shell_value, read_file_with,
};

/// Result of [`edit`]. No `Debug`: the content holds the secret.
pub struct EnvEdit {
    /// The new file content.
    pub content: Zeroizing<Vec<u8>>,
    /// Whether it differs from the input.
    pub changed: bool,
    /// Later assignments of the same variable that were removed.
    pub removed_duplicates: usize,
}

/// The line amhash writes (with its `\n`).
///
/// # Errors
/// [`StoreError::EnvVarNotExportable`], [`StoreError::InvalidValue`].
pub fn line(id: &SecretId, value: &str) -> Result<Zeroizing<String>> {
    let var = id.shell_env_var()?;
    check_shell_value(value)?;
    let q = single_quote(value);
    let mut s = Zeroizing::new(String::with_capacity(q.len() + var.len() + 9));
    s.push_str("export ");
    s.push_str(&var);
    s.push('=');
    s.push_str(&q);
    s.push('\n');
    Ok(s)
}

/// Where an assignment to `var` starts on a line (without `\n`): (end of indentation, start of
/// the value).
fn assignment(line: &[u8], var: &[u8]) -> Option<(usize, usize, bool)> {
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let indent = line.iter().take_while(|b| blank(b)).count();
    let mut i = indent;
    let rest = line.get(i..)?;
    let mut exported = false;
    if rest.starts_with(b"export") && rest.get(6).is_some_and(blank) {
        i += 6;
        i += line.get(i..)?.iter().take_while(|b| blank(b)).count();
        exported = true;
    }
    let rest = line.get(i..)?;
    (rest.starts_with(var) && rest.get(var.len()) == Some(&b'=')).then_some((
        indent,
        i + var.len() + 1,
        exported,
    ))
}

fn body(raw: &[u8]) -> &[u8] {
    raw.strip_suffix(b"\n").unwrap_or(raw)
}

/// Sets the variable of `id` to `value` in `content`; see the module doc. `path` is only used
/// in error messages.
///
/// # Errors
/// [`StoreError::EnvVarNotExportable`], [`StoreError::InvalidValue`], [`StoreError::Malformed`].
pub fn edit(content: &[u8], id: &SecretId, value: &str, path: &Path) -> Result<EnvEdit> {
    let new_line = line(id, value)?;
    let var = id.shell_env_var()?;
    let mut out = Zeroizing::new(Vec::with_capacity(content.len() + new_line.len() + 1));
    let mut found = false;
    let mut removed_duplicates = 0;
    for (idx, raw) in content.split_inclusive(|&b| b == b'\n').enumerate() {
        let b = body(raw);
        let Some((indent, value_start, _)) = assignment(b, var.as_bytes()) else {
            out.extend_from_slice(raw);
            continue;
        };
        if let Err(e @ (WordError::Unterminated | WordError::Trailing)) =
            parse_word(b.get(value_start..).unwrap_or_default())
        {
            return Err(StoreError::Malformed {
                path: path.to_path_buf(),
                line: idx + 1,
                reason: e.reason(),
            });
        }
        if found {
            removed_duplicates += 1;
        } else {
            out.extend_from_slice(b.get(..indent).unwrap_or_default());
            out.extend_from_slice(new_line.as_bytes());
            found = true;
        }
    }
    if !found {
        append_line(&mut out, new_line.as_bytes());
    }
    let changed = *out != content;
    Ok(EnvEdit {
        content: out,
        changed,
        removed_duplicates,
    })
}

/// A value read back from a profile. No `Debug`: it is a secret.
pub struct EnvValue {
    /// The value of the last assignment (the one a shell keeps).
    pub value: ReadValue,
    /// 1-based line of that assignment.
    pub line: usize,
    /// Whether that line exports the variable (`export VAR=`); a bare `VAR=` does not reach AM
    /// unless exported elsewhere.
    pub exported: bool,
    /// Number of assignments of the variable in the file.
    pub assignments: usize,
}

/// Reads the variable of `id` from `content` (`path` for messages); `None` if it is not assigned.
///
/// # Errors
/// [`StoreError::EnvVarNotExportable`], [`StoreError::Unreadable`].
pub fn read(content: &[u8], id: &SecretId, path: &Path) -> Result<Option<EnvValue>> {
    let var = id.shell_env_var()?;
    let mut last = None;
    let mut assignments = 0;
    for (idx, raw) in content.split_inclusive(|&b| b == b'\n').enumerate() {
        let b = body(raw);
        if let Some((_, start, exported)) = assignment(b, var.as_bytes()) {
            assignments += 1;
            last = Some((idx + 1, b.get(start..).unwrap_or_default(), exported));
        }
    }
    let Some((line, word, exported)) = last else {
        return Ok(None);
    };
    let unreadable = |reason| StoreError::Unreadable {
        path: path.to_path_buf(),
        line,
        name: var.clone(),
        reason,
    };
    let bytes = parse_word(word).map_err(|e| unreadable(e.reason()))?;
    let value = ReadValue::new(bytes.to_vec(), path, line, &var)?;
    Ok(Some(EnvValue {
        value,
        line,
        exported,
        assignments,
    }))
}

/// Edits the profile at `path` in place (see the module doc).
///
/// # Errors
/// Those of [`edit`], plus [`StoreError::DirMissing`] (parent), [`Refusal::Symlink`],
/// [`StoreError::NotRegularFile`], [`StoreError::TooLarge`], [`StoreError::Io`].
pub fn apply(path: &Path, id: &SecretId, value: &str, opts: &EditOptions) -> Result<EditChange> {
    // Validate before touching the file system.
    line(id, value)?;
    apply_edit(path, opts, |old| {
        let e = edit(old, id, value, path)?;
        Ok((e.content, e.removed_duplicates))
    })
}

/// Reads the variable of `id` from the profile at `path`; `None` if the file or the assignment
/// is absent. A symlink is refused.
///
/// # Errors
/// Those of [`read`], plus [`Refusal::Symlink`], [`StoreError::NotRegularFile`],
/// [`StoreError::DirMissing`], [`StoreError::Io`].
pub fn read_path(path: &Path, id: &SecretId) -> Result<Option<EnvValue>> {
    read_file_with(path, |content| read(content, id, path))
}
