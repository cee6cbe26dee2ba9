//! Tomcat `setenv.sh` target: the Java system property `password.<user>` (and AM's format
//! property) in `CATALINA_OPTS`, one marked block per user:
//!
//! ```sh
//! # BEGIN amhash password.amadmin (managed by amhash; do not edit)
//! CATALINA_OPTS="$CATALINA_OPTS -Dpassword.amadmin='VALUE' -Dorg.forgerock.openam.secrets.special.user.passwords.format=PLAIN"
//! export CATALINA_OPTS
//! # END amhash password.amadmin
//! ```
//!
//! # Quoting (two rounds of shell parsing)
//! `catalina.sh` (Tomcat 9/10, checked against Debian's tomcat10 10.1) sources setenv.sh and
//! starts Java with `eval exec "\"$_RUNJAVA\"" … "$JAVA_OPTS" "$CATALINA_OPTS" …`, so the value
//! is parsed once by the assignment above (double quotes) and once more by `eval`. amhash writes
//! VALUE single-quoted for the eval round (`'` as `'\''`), then escapes `\ $ ` "` of that for the
//! double-quoted assignment. Any value without control characters reaches Java intact (tested
//! with `$`, backquote, blanks, `"`, `\`, `'`).
//!
//! # Rules
//! - one block per user, replaced in place; later duplicate blocks of the same user are removed;
//!   a new block is appended at the end (so it comes after any plain `CATALINA_OPTS=` reset);
//! - every byte outside our block is kept;
//! - AM has ONE format for all special users: if another user's block, or a non-comment line
//!   outside the blocks, sets the format property to a different format, the edit is refused;
//! - a BEGIN without END (or the reverse, or nested blocks) is refused: the file needs a human.
//!
//! `catalina.sh` only sources setenv.sh if it is readable (`[ -r … ]`) by the user Tomcat runs
//! as, silently skipping it otherwise: a new file is 0600, so give it that user as owner.

use std::path::Path;

use zeroize::Zeroizing;

use super::shell::{escape_in_double_quotes, parse_word, single_quote, unescape_double_quoted};
use super::{
    EditChange, EditOptions, ReadValue, Result, SecretId, StoreError, append_line, apply_edit,
    check_shell_value, read_file_with,
};
use crate::am::{Format, PROP_PASSWORDS_FORMAT};

const BEGIN: &[u8] = b"# BEGIN amhash password.";
const END: &[u8] = b"# END amhash password.";

/// The block amhash writes for `id` (ends with `\n`).
///
/// # Errors
/// [`StoreError::InvalidValue`].
pub fn block(id: &SecretId, value: &str, format: Format) -> Result<Zeroizing<String>> {
    check_shell_value(value)?;
    let sid = id.secret_id();
    let dq = escape_in_double_quotes(&single_quote(value));
    let mut s = Zeroizing::new(String::with_capacity(dq.len() + 300));
    s.push_str(&format!(
        "# BEGIN amhash {sid} (managed by amhash; do not edit)\n"
    ));
    s.push_str(&format!("CATALINA_OPTS=\"$CATALINA_OPTS -D{sid}="));
    s.push_str(&dq);
    s.push_str(&format!(
        " -D{PROP_PASSWORDS_FORMAT}={format}\"\nexport CATALINA_OPTS\n# END amhash {sid}\n"
    ));
    Ok(s)
}

/// One block found in a file (0-based line indexes, `end` inclusive).
struct Block {
    user: String,
    begin: usize,
    end: usize,
    format: Option<Format>,
}

fn body(raw: &[u8]) -> &[u8] {
    raw.strip_suffix(b"\n").unwrap_or(raw)
}

/// The user named by a marker line, if `line` is one.
fn marker(line: &[u8], prefix: &[u8], path: &Path, idx: usize) -> Result<Option<String>> {
    let Some(rest) = body(line).strip_prefix(prefix) else {
        return Ok(None);
    };
    let rest = rest.strip_suffix(b"\r").unwrap_or(rest);
    let user = rest.split(|&b| b == b' ').next().unwrap_or_default();
    let bad = || StoreError::Malformed {
        path: path.to_path_buf(),
        line: idx + 1,
        reason: "an amhash marker names an invalid user",
    };
    let user = std::str::from_utf8(user).map_err(|_| bad())?;
    SecretId::new(user).map_err(|_| bad())?;
    Ok(Some(user.to_owned()))
}

/// Every `-D<format property>=X` on a line, with X parsed when it is a format name.
fn formats_on(line: &[u8]) -> Vec<Option<Format>> {
    let needle = format!("-D{PROP_PASSWORDS_FORMAT}=");
    let needle = needle.as_bytes();
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(pos) = rest.windows(needle.len()).position(|w| w == needle) {
        let after = rest.get(pos + needle.len()..).unwrap_or_default();
        let tok_len = after
            .iter()
            .position(|b| matches!(b, b'"' | b'\'' | b' ' | b'\t' | b'\r' | b'\n'))
            .unwrap_or(after.len());
        let tok = after.get(..tok_len).unwrap_or_default();
        found.push(std::str::from_utf8(tok).ok().and_then(|t| t.parse().ok()));
        rest = after;
    }
    found
}

/// Format settings outside amhash blocks: (1-based line, format).
type Outside = Vec<(usize, Format)>;

/// Finds the blocks and the format settings outside them.
fn scan(lines: &[&[u8]], path: &Path) -> Result<(Vec<Block>, Outside)> {
    let mut blocks: Vec<Block> = Vec::new();
    let mut outside = Vec::new();
    let mut open: Option<Block> = None;
    let malformed = |idx: usize, reason| StoreError::Malformed {
        path: path.to_path_buf(),
        line: idx + 1,
        reason,
    };
    for (idx, raw) in lines.iter().enumerate() {
        if let Some(user) = marker(raw, BEGIN, path, idx)? {
            if open.is_some() {
                return Err(malformed(
                    idx,
                    "an amhash BEGIN marker inside another amhash block",
                ));
            }
            open = Some(Block {
                user,
                begin: idx,
                end: idx,
                format: None,
            });
            continue;
        }
        if let Some(user) = marker(raw, END, path, idx)? {
            match open.take() {
                Some(mut b) if b.user == user => {
                    b.end = idx;
                    blocks.push(b);
                }
                Some(_) => {
                    return Err(malformed(
                        idx,
                        "an amhash END marker names another user than its BEGIN",
                    ));
                }
                None => return Err(malformed(idx, "an amhash END marker without BEGIN")),
            }
            continue;
        }
        match &mut open {
            Some(b) => {
                if let Some(f) = formats_on(raw).into_iter().flatten().last() {
                    b.format = Some(f);
                }
            }
            None => {
                let trimmed = raw
                    .iter()
                    .position(|c| !c.is_ascii_whitespace())
                    .and_then(|p| raw.get(p..));
                if trimmed.is_some_and(|t| t.first() != Some(&b'#')) {
                    outside.extend(formats_on(raw).into_iter().flatten().map(|f| (idx + 1, f)));
                }
            }
        }
    }
    if let Some(b) = open {
        return Err(malformed(b.begin, "an amhash BEGIN marker without END"));
    }
    Ok((blocks, outside))
}

/// Result of [`edit`]. No `Debug`: the content holds the secret.
pub struct SetenvEdit {
    /// The new file content.
    pub content: Zeroizing<Vec<u8>>,
    /// Whether it differs from the input.
    pub changed: bool,
    /// Later blocks of the same user that were removed.
    pub removed_duplicates: usize,
}

/// Puts the block of `id` in `content`; see the module doc. `path` is only used in messages.
///
/// # Errors
/// [`StoreError::InvalidValue`], [`StoreError::FormatConflict`],
/// [`StoreError::FormatConflictOutside`], [`StoreError::Malformed`].
pub fn edit(
    content: &[u8],
    id: &SecretId,
    value: &str,
    format: Format,
    path: &Path,
) -> Result<SetenvEdit> {
    let new_block = block(id, value, format)?;
    let lines: Vec<&[u8]> = content.split_inclusive(|&b| b == b'\n').collect();
    let (blocks, outside) = scan(&lines, path)?;
    for b in &blocks {
        if let Some(other) = b.format
            && b.user != id.user()
            && other != format
        {
            return Err(StoreError::FormatConflict {
                path: path.to_path_buf(),
                other_user: b.user.clone(),
                other_format: other,
                format,
            });
        }
    }
    if let Some(&(line, other)) = outside.iter().find(|(_, f)| *f != format) {
        return Err(StoreError::FormatConflictOutside {
            path: path.to_path_buf(),
            line,
            other_format: other,
            format,
        });
    }
    let mine: Vec<&Block> = blocks.iter().filter(|b| b.user == id.user()).collect();
    let mut out = Zeroizing::new(Vec::with_capacity(content.len() + new_block.len() + 1));
    let mut idx = 0;
    while let Some(raw) = lines.get(idx) {
        match mine.iter().position(|b| b.begin == idx) {
            Some(n) => {
                if n == 0 {
                    out.extend_from_slice(new_block.as_bytes());
                }
                idx = mine.get(n).map_or(idx, |b| b.end) + 1;
            }
            None => {
                out.extend_from_slice(raw);
                idx += 1;
            }
        }
    }
    if mine.is_empty() {
        append_line(&mut out, new_block.as_bytes());
    }
    let changed = *out != content;
    Ok(SetenvEdit {
        content: out,
        changed,
        removed_duplicates: mine.len().saturating_sub(1),
    })
}

/// A value read back from setenv.sh. No `Debug`: it is a secret.
pub struct SetenvValue {
    /// The value Java receives as `password.<user>`.
    pub value: ReadValue,
    /// The format recorded in the block.
    pub format: Format,
    /// 1-based line of the assignment.
    pub line: usize,
    /// Number of blocks of this user (more than 1 only if edited by hand).
    pub blocks: usize,
}

/// Reads the block of `id` from `content` (the last one, as the last `-D` wins in Java);
/// `None` if there is none. Only amhash's own line layout is understood.
///
/// # Errors
/// [`StoreError::Malformed`], [`StoreError::Unreadable`].
pub fn read(content: &[u8], id: &SecretId, path: &Path) -> Result<Option<SetenvValue>> {
    let lines: Vec<&[u8]> = content.split_inclusive(|&b| b == b'\n').collect();
    let (blocks, _) = scan(&lines, path)?;
    let mine: Vec<&Block> = blocks.iter().filter(|b| b.user == id.user()).collect();
    let Some(b) = mine.last() else {
        return Ok(None);
    };
    let sid = id.secret_id();
    let prefix = format!("CATALINA_OPTS=\"$CATALINA_OPTS -D{sid}=");
    let sep = format!(" -D{PROP_PASSWORDS_FORMAT}=");
    let unreadable = |line: usize, reason| StoreError::Unreadable {
        path: path.to_path_buf(),
        line,
        name: sid.clone(),
        reason,
    };
    let Some((idx, rest)) = (b.begin..=b.end)
        .filter_map(|i| Some((i, body(lines.get(i)?).strip_prefix(prefix.as_bytes())?)))
        .next()
    else {
        return Err(unreadable(
            b.begin + 1,
            "the amhash block has no CATALINA_OPTS line for this user (edited by hand?)",
        ));
    };
    let line = idx + 1;
    let rest = rest
        .strip_suffix(b"\"")
        .ok_or_else(|| unreadable(line, "the CATALINA_OPTS line does not end with '\"'"))?;
    let split = rest
        .windows(sep.len())
        .rposition(|w| w == sep.as_bytes())
        .ok_or_else(|| unreadable(line, "the CATALINA_OPTS line has no format property"))?;
    let (dq, fmt) = (
        rest.get(..split).unwrap_or_default(),
        rest.get(split + sep.len()..).unwrap_or_default(),
    );
    let format = std::str::from_utf8(fmt)
        .ok()
        .and_then(|f| f.parse::<Format>().ok())
        .ok_or_else(|| {
            unreadable(
                line,
                "the format in the block is not PLAIN, ENCRYPTED_PLAIN or GOOGLE_KMS_ENCRYPTED",
            )
        })?;
    let eval_word = unescape_double_quoted(dq).map_err(|e| unreadable(line, e.reason()))?;
    let bytes = parse_word(&eval_word).map_err(|e| unreadable(line, e.reason()))?;
    let value = ReadValue::new(bytes.to_vec(), path, line, &sid)?;
    Ok(Some(SetenvValue {
        value,
        format,
        line,
        blocks: mine.len(),
    }))
}

/// Edits setenv.sh at `path` in place (see the module doc and `store`'s for owner and mode).
///
/// # Errors
/// Those of [`edit`], plus [`StoreError::DirMissing`] (parent), [`Refusal::Symlink`],
/// [`StoreError::NotRegularFile`], [`StoreError::TooLarge`], [`StoreError::Io`].
pub fn apply(
    path: &Path,
    id: &SecretId,
    value: &str,
    format: Format,
    opts: &EditOptions,
) -> Result<EditChange> {
    block(id, value, format)?;
    apply_edit(path, opts, |old| {
        let e = edit(old, id, value, format, path)?;
        Ok((e.content, e.removed_duplicates))
    })
}

/// Reads the block of `id` from setenv.sh at `path`; `None` if the file or the block is absent.
///
/// # Errors
/// Those of [`read`], plus [`Refusal::Symlink`], [`StoreError::NotRegularFile`],
/// [`StoreError::DirMissing`], [`StoreError::Io`].
pub fn read_path(path: &Path, id: &SecretId) -> Result<Option<SetenvValue>> {
    read_file_with(path, |content| read(content, id, path))
}
