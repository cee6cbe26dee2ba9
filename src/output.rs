//! How results and failures reach the user: text or `--json`, `--quiet`, and colour.
//!
//! Text mode: the value a command exists to print goes to stdout on one line; reports of
//! commands without a value (install, doctor) go to stdout; notes go to stderr and are
//! dropped by `--quiet`; warnings and errors always go to stderr. JSON mode: one object on
//! stdout for a result, one `{"error": ...}` object on stderr for a failure, same exit codes.
//!
//! The one module of `amhash` that prints (the `[lints]` table denies it elsewhere).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{IsTerminal, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::ExitCode;
use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use crate::failure::{Failure, Outcome};
use amhash::am::{self, Format};
use amhash::value::{Protection, Sealed};

/// Output settings from the global flags and the environment.
#[derive(Debug, Clone, Copy)]
pub struct Mode {
    pub json: bool,
    pub quiet: bool,
    /// Colour on stderr: only on a terminal and never with `NO_COLOR` set.
    pub color: bool,
}

/// The mode of this run, for the few messages printed while a command is still working.
static MODE: OnceLock<Mode> = OnceLock::new();

impl Mode {
    pub fn new(json: bool, quiet: bool) -> Self {
        let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::io::stderr().is_terminal();
        let mode = Self { json, quiet, color };
        let _ = MODE.set(mode);
        mode
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// What a successful command produced.
#[derive(Debug)]
pub struct Report {
    pub outcome: Outcome,
    /// The value the command exists to print (a hash, a ciphertext).
    pub value: Option<String>,
    /// Report lines for stdout (install, doctor) in text mode.
    pub lines: Vec<String>,
    /// Notes for stderr in text mode, dropped by --quiet.
    pub notes: Vec<String>,
    /// Warnings for stderr, always shown.
    pub warnings: Vec<String>,
    /// Fields of the JSON object besides `value` and `warnings`.
    pub fields: Map<String, Value>,
}

impl Report {
    pub fn new(outcome: Outcome) -> Self {
        Self {
            outcome,
            value: None,
            lines: Vec::new(),
            notes: Vec::new(),
            warnings: Vec::new(),
            fields: Map::new(),
        }
    }

    pub fn with_value(value: String) -> Self {
        let mut report = Self::new(Outcome::Success);
        report.value = Some(value);
        report
    }

    pub fn field(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.fields.insert(key.to_string(), value.into());
        self
    }

    pub fn note(mut self, line: impl Into<String>) -> Self {
        self.notes.push(line.into());
        self
    }

    /// Prints the report and returns the exit code.
    pub fn emit(self, mode: Mode) -> ExitCode {
        let mut stdout = std::io::stdout().lock();
        let written = if mode.json {
            let mut object = self.fields;
            if let Some(value) = self.value {
                object.insert("value".into(), Value::String(value));
            }
            if !self.warnings.is_empty() {
                object.insert("warnings".into(), json!(self.warnings));
            }
            writeln!(stdout, "{}", Value::Object(object))
        } else {
            // Report text can carry names from outside (file names in a directory the AM
            // account owns, a helper's message): printed escaped, whoever built it.
            for warning in &self.warnings {
                eprintln!(
                    "amhash: {}: {}",
                    mode.paint("33", "warning"),
                    amhash::escape::text(warning)
                );
            }
            if !mode.quiet {
                for note in &self.notes {
                    eprintln!("amhash: {}", amhash::escape::text(note));
                }
            }
            let mut result = Ok(());
            if let Some(value) = &self.value {
                result = writeln!(stdout, "{value}");
            }
            if !mode.quiet {
                for line in &self.lines {
                    if result.is_ok() {
                        result = writeln!(stdout, "{}", amhash::escape::text(line));
                    }
                }
            }
            result
        };
        if let Err(e) = written.and_then(|()| stdout.flush()) {
            // A closed pipe or full disk on stdout: the value did not get out.
            return report_failure(
                Failure::operational(format!("cannot write to stdout: {e}")),
                mode,
            );
        }
        self.outcome.into()
    }
}

/// A path in `--json` output: a string when it is UTF-8 (JSON escapes control characters
/// itself), else `{"hex": "..."}` with its bytes, so that no path is lost or mangled.
pub fn path_value(path: &Path) -> Value {
    match path.to_str() {
        Some(s) => Value::String(s.to_owned()),
        None => json!({"hex": hex::encode(path.as_os_str().as_bytes())}),
    }
}

/// Told by the store when a directory lock is held by another process: say what amhash waits
/// for (text mode, not with --quiet; JSON mode keeps stderr for the one error object).
pub fn lock_notice(dir: &Path, timeout: std::time::Duration) {
    if MODE.get().is_some_and(|m| !m.json && !m.quiet) {
        eprintln!(
            "amhash: waiting up to {} s for the lock on {}, which another process holds",
            timeout.as_secs(),
            amhash::escape::path(dir)
        );
    }
}

/// Prints a failure on stderr (one line, or one JSON object) and returns its exit code.
pub fn report_failure(failure: Failure, mode: Mode) -> ExitCode {
    // Messages are built from our own error types; keep them on one line whatever a lower
    // layer (an OS error, a server) put in them.
    let message = amhash::escape::text(&failure.message.replace(['\n', '\r'], " "));
    let code = failure.fault.exit_code();
    if mode.json {
        let object =
            json!({"error": {"code": code, "kind": failure.fault.name(), "message": message}});
        eprintln!("{object}");
    } else {
        eprintln!("amhash: {}: {message}", mode.paint("31", "error"));
    }
    ExitCode::from(code)
}

/// The report of a command that prints a value: the value, and the AM settings it needs.
pub fn value_report(sealed: &Sealed, protection: &Protection) -> Report {
    let mut report =
        Report::with_value(sealed.value.clone()).field("encryption", protection.describe());
    if let Some(note) = sealed.kms_note() {
        report = report.note(note);
    }
    if let Protection::Am { cipher, .. } = protection {
        report = report.field("am_cipher", cipher.as_str());
    }
    if let Some(note) = protection.sample_note() {
        report = report.note(note);
    }
    match protection.format() {
        Some(format) => {
            let kms_key = sealed.kms_decrypt_with.as_ref().map(ToString::to_string);
            report = report
                .field("format", format.to_string())
                .field("am_properties", properties_json(format, kms_key.as_deref()));
        }
        None => {
            report = report.field("format", Value::Null);
            report.warnings.push(
                "AM cannot read an AES-GCM value: decrypt it (amhash decrypt) before installing it"
                    .into(),
            );
        }
    }
    report
}

/// The AM properties a value in `format` needs, as a JSON object (a property whose value
/// amhash does not know is left out).
pub fn properties_json(format: Format, kms_key: Option<&str>) -> Value {
    let properties: Map<String, Value> = am::properties(format, kms_key)
        .into_iter()
        .filter_map(|p| Some((p.name.to_owned(), Value::String(p.value?))))
        .collect();
    Value::Object(properties)
}

/// A warning from before the arguments are parsed (so before `--json` is known): one plain
/// line on stderr.
pub fn early_warning(message: &str) {
    eprintln!("amhash: warning: {}", amhash::escape::text(message));
}
