//! `amhash doctor`: inspect an installation and report each finding as ok, warning or
//! problem. Exit 0 with no problem, 1 with at least one.

use std::path::{Path, PathBuf};

use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::cli::DoctorArgs;
use crate::failure::{Failure, Outcome};
use crate::options;
use crate::output::Report;
use amhash::am::{Format, PROP_PASSWORDS_FORMAT};
use amhash::cipher::Scheme;
use amhash::error::{Error as _, Fault};
use amhash::store::{self, FileKind, Refusal, SecretId};
use amhash::value::{self, Form};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Ok,
    Warning,
    Problem,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Warning => "warning",
            Self::Problem => "problem",
        }
    }
}

#[derive(Default)]
struct Findings(Vec<(Level, String, String)>);

impl Findings {
    fn add(&mut self, level: Level, check: &str, message: impl Into<String>) {
        self.0.push((level, check.to_string(), message.into()));
    }
    fn ok(&mut self, check: &str, message: impl Into<String>) {
        self.add(Level::Ok, check, message);
    }
    fn warn(&mut self, check: &str, message: impl Into<String>) {
        self.add(Level::Warning, check, message);
    }
    fn problem(&mut self, check: &str, message: impl Into<String>) {
        self.add(Level::Problem, check, message);
    }
    /// A warning for each file an interrupted `run` (an amhash run, an install) left behind.
    fn leftovers(&mut self, check: &str, paths: &[PathBuf], run: &str) {
        for path in paths {
            self.warn(
                check,
                format!(
                    "{} is left by an interrupted {run}: the next install removes it",
                    amhash::escape::path(path)
                ),
            );
        }
    }
}

pub fn run(args: DoctorArgs) -> Result<Report, Failure> {
    let id = SecretId::new(&args.user)?;
    // Flags that cannot work are usage errors before anything is inspected.
    let keys = options::keys(&args.keys)?;
    let mut findings = Findings::default();
    let value_text = match (&args.dir, &args.systemd) {
        (_, Some(unit)) => inspect_systemd(unit, args.root.as_deref(), &id, &mut findings)?,
        (Some(dir), None) => inspect_dir(dir, &id, &mut findings)?,
        (None, None) => return Err(Failure::input("give --dir DIR or --systemd UNIT")),
    };
    if let Some(text) = &value_text {
        check_value(text, &args, &keys, &id, &mut findings)?;
    }

    let problems = findings
        .0
        .iter()
        .filter(|(l, _, _)| *l == Level::Problem)
        .count();
    let mut report = Report::new(if problems == 0 {
        Outcome::Success
    } else {
        Outcome::Negative
    });
    report.lines = findings
        .0
        .iter()
        .map(|(level, check, message)| format!("{:<8} {check}: {message}", level.name()))
        .collect();
    report.lines.push(if problems == 0 {
        "no problem found".into()
    } else {
        format!("{problems} problem(s) found")
    });
    let list: Vec<Value> = findings
        .0
        .iter()
        .map(|(level, check, message)| json!({"level": level.name(), "check": check, "message": message}))
        .collect();
    report.fields.insert("findings".into(), Value::Array(list));
    report.fields.insert("problems".into(), problems.into());
    Ok(report)
}

/// The store directory and `password.<user>` in it; the value when it can be read.
fn inspect_dir(
    dir: &Path,
    id: &SecretId,
    findings: &mut Findings,
) -> Result<Option<String>, Failure> {
    let id = id.clone();
    let facts = match store::dir::inspect_dir(dir, &id) {
        Ok(facts) => facts,
        // A link another account could have placed: the finding, not a failure of doctor.
        Err(
            e @ store::StoreError::Refused {
                why: Refusal::UntrustedSymlink { .. },
                ..
            },
        ) => {
            findings.problem("directory", e.to_string());
            store::DirFacts::default()
        }
        Err(e) => return Err(e.into()),
    };
    let dir_path = dir;
    let dir = amhash::escape::path(dir_path);

    match &facts.dir {
        None => findings.problem("directory", format!("{dir} does not exist")),
        Some(d) if d.kind != FileKind::Directory => {
            findings.problem("directory", format!("{dir} is not a directory"))
        }
        Some(d) => {
            if facts.dir_writable_by_others() {
                findings.problem(
                    "directory",
                    format!(
                        "{dir} is writable by group or others (mode {:04o}): chmod go-w {dir}",
                        d.mode
                    ),
                );
            } else {
                findings.ok(
                    "directory",
                    format!(
                        "{dir}: mode {:04o}, owner uid {} gid {}",
                        d.mode, d.uid, d.gid
                    ),
                );
            }
            if facts.dir_is_symlink {
                findings.warn(
                    "directory",
                    format!("{dir} is a symbolic link; AM follows it, check where it points"),
                );
            }
        }
    }

    let file_path = dir_path.join(id.file_name());
    let shown = amhash::escape::path(&file_path);
    let mut value_text = None;
    match &facts.file {
        None => findings.problem("file", format!("{shown} does not exist: run amhash install --dir {dir}")),
        Some(f) if f.kind == FileKind::Symlink => findings.problem(
            "file",
            format!("{shown} is a symbolic link: replace it with a regular file (amhash install refuses to write through it)"),
        ),
        Some(f) if f.kind != FileKind::Regular => {
            findings.problem("file", format!("{shown} is not a regular file"))
        }
        Some(f) => {
            if f.mode & 0o077 != 0 {
                findings.problem(
                    "permissions",
                    format!("{shown} is accessible to group or others (mode {:04o}): chmod 600 {shown}", f.mode),
                );
            } else {
                findings.ok("permissions", format!("{shown}: mode {:04o}", f.mode));
            }
            match facts.dir.as_ref() {
                Some(d) if d.uid != f.uid => findings.warn(
                    "owner",
                    format!(
                        "{shown} belongs to uid {} but the directory to uid {}: make sure the user AM runs as can read it",
                        f.uid, d.uid
                    ),
                ),
                _ => findings.ok("owner", format!("{shown}: uid {} gid {}", f.uid, f.gid)),
            }
            match store::dir::read_dir_value(dir_path, &id) {
                Ok(Some(found)) => {
                    let text = found.value().value().expose_secret();
                    if found.trailing_newline() {
                        findings.problem(
                            "value",
                            format!("{shown} ends with a newline: AM reads it byte for byte; reinstall with amhash install"),
                        );
                    } else if has_stray_whitespace(text) {
                        findings.problem(
                            "value",
                            format!("{shown} holds blanks or line breaks, which no AM value has: AM reads it byte for byte; \
                                     reinstall it with amhash install --value-file (which writes the one-line form)"),
                        );
                    }
                    value_text = Some(found.value().value().expose_secret().to_string());
                }
                Ok(None) => findings.problem("file", format!("{shown} disappeared while being inspected")),
                Err(e) => findings.problem("file", e.to_string()),
            }
        }
    }
    if let Some(previous) = &facts.previous {
        findings.warn(
            "previous",
            format!(
                "{} is left from the last rotation: delete it once the new password works",
                amhash::escape::path(&previous.path)
            ),
        );
    }
    findings.leftovers("temp", &facts.stale_temps, "amhash run");

    Ok(value_text)
}

/// `--systemd UNIT`: the unit, the drop-in, the secret file's owner and mode, leftovers, and
/// the value (decrypted through systemd-creds for a credential).
fn inspect_systemd(
    name: &str,
    root: Option<&Path>,
    id: &SecretId,
    findings: &mut Findings,
) -> Result<Option<String>, Failure> {
    use amhash::store::systemd::{self, Mode, Reference, Unit};
    let unit = Unit::new(name)?;
    let root = root.unwrap_or(Path::new("/"));
    let shown = amhash::escape::text(unit.name());
    let facts = match systemd::inspect(root, &unit, id) {
        Ok(facts) => facts,
        Err(e) if e.is_refusal() => {
            findings.problem("systemd", e.to_string());
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    };
    match &facts.unit_file {
        Some(path) => findings.ok("unit", format!("{shown}: {}", amhash::escape::path(path))),
        None => findings.problem(
            "unit",
            format!(
                "no unit file for {shown} under {}",
                amhash::escape::path(root)
            ),
        ),
    }
    let drop_in = amhash::escape::path(&facts.drop_in_path);
    let Some(info) = facts.drop_in else {
        findings.problem(
            "drop-in",
            format!("{drop_in} does not exist: run amhash install --systemd {shown}"),
        );
        return Ok(None);
    };
    if info.uid != 0 || info.mode & 0o022 != 0 {
        findings.problem(
            "drop-in",
            format!(
                "{drop_in}: mode {:04o} owner uid {}: it must be root's and writable by root only",
                info.mode, info.uid
            ),
        );
    } else {
        findings.ok(
            "drop-in",
            format!("{drop_in}: mode {:04o}, owner uid 0", info.mode),
        );
    }
    let Some(reference) = &facts.reference else {
        findings.problem(
            "drop-in",
            format!("{drop_in} does not name a file amhash wrote: run amhash install --systemd {shown} again"),
        );
        return Ok(None);
    };
    let kind = match reference {
        Reference::Credential(_) => "credential",
        Reference::EnvFile(_) => "EnvironmentFile",
    };
    match &facts.secret {
        None => {
            findings.problem(
                "secret",
                format!(
                    "{} (the {kind} the drop-in names) does not exist: run amhash install --systemd {shown} again",
                    amhash::escape::path(&root.join(reference.dir()).join(reference.name()))
                ),
            );
            return Ok(None);
        }
        Some((path, f)) => {
            let p = amhash::escape::path(path);
            if f.mode != 0o600 || f.uid != 0 || f.gid != 0 {
                findings.problem(
                    "secret",
                    format!(
                        "{p}: mode {:04o} owner uid {} gid {}: the {kind} must be 0600 root:root",
                        f.mode, f.uid, f.gid
                    ),
                );
            } else {
                findings.ok("secret", format!("{p}: {kind}, mode 0600, owner root:root"));
            }
        }
    }
    findings.leftovers("leftover", &facts.leftovers, "install");
    match systemd::read_value(root, &unit, id) {
        Ok(Some(found)) => {
            findings.ok(
                "value",
                match found.mode {
                    Mode::Credential => "the credential decrypts with systemd-creds",
                    Mode::EnvFile => "the EnvironmentFile assigns the variable",
                },
            );
            Ok(Some(found.value.value().expose_secret().to_string()))
        }
        Ok(None) => {
            findings.problem("value", "the value could not be found");
            Ok(None)
        }
        Err(e) if e.is_refusal() || e.fault() == Fault::Operational => {
            findings.problem("value", e.to_string());
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// Blanks or line breaks in what would otherwise be a value (a text that is garbage anyway
/// is the format check's to report).
fn has_stray_whitespace(text: &str) -> bool {
    let squeezed: zeroize::Zeroizing<String> =
        zeroize::Zeroizing::new(text.chars().filter(|c| !c.is_whitespace()).collect());
    squeezed.len() != text.len() && Form::detect(&squeezed).is_ok()
}

/// The value's format, the configured format, decryption and the password.
fn check_value(
    text: &str,
    args: &DoctorArgs,
    keys: &value::Keys,
    id: &SecretId,
    findings: &mut Findings,
) -> Result<(), Failure> {
    let detected = match Form::detect(text) {
        Ok(d) => d,
        Err(e) => {
            findings.problem("format", e.to_string());
            return Ok(());
        }
    };
    if detected == Form::Plain {
        match text.parse::<amhash::ssha::SshaHash>() {
            Ok(_) => findings.ok(
                "format",
                "the value is a well-formed {SSHA-512} hash (PLAIN)",
            ),
            Err(e) => {
                findings.problem("format", format!("the value is malformed: {e}"));
                return Ok(());
            }
        }
    } else {
        findings.ok("format", format!("the value is {}", detected.describe()));
    }

    let configured = configured_format(args, id, findings)?;
    match (detected.format(), configured) {
        (None, _) => findings.problem("format", "AM cannot read this value (amhash AES-GCM envelope): decrypt it first"),
        (Some(actual), Some(configured)) if actual != configured => findings.problem(
            "format",
            format!(
                "the value needs {}={actual} but {configured} is configured",
                PROP_PASSWORDS_FORMAT
            ),
        ),
        (Some(actual), Some(_)) => findings.ok("format", format!("the configured format {actual} matches the value")),
        (Some(actual), None) => findings.warn(
            "format",
            format!(
                "could not check the configured format: the value needs {}={actual}; give --format or --setenv",
                PROP_PASSWORDS_FORMAT
            ),
        ),
    }

    let has_key = args.keys.key.is_some() || args.keys.kms.kms_key.is_some();
    let hash = if detected == Form::Plain {
        text.parse::<amhash::ssha::SshaHash>().ok()
    } else if !has_key {
        findings.warn(
            "decrypt",
            "decryption not checked: give --key SOURCE (or --kms-key NAME)",
        );
        None
    } else {
        match value::open(text, keys) {
            Ok((hash, _)) => {
                findings.ok(
                    "decrypt",
                    "the value decrypts to a well-formed {SSHA-512} hash",
                );
                Some(hash)
            }
            Err(e) if e.fault() == Fault::Input => return Err(e.into()),
            Err(e) => {
                findings.problem("decrypt", e.to_string());
                None
            }
        }
    };
    if let Some(sample) = &args.am_sample {
        compare_with_sample(text, detected, sample, keys, findings)?;
    }
    if args.check_password {
        match hash {
            Some(hash) => {
                let password = options::read_password(&args.password, false)?;
                if hash.verify(password.expose_secret().as_bytes()) {
                    findings.ok("password", "the password matches the stored value");
                } else {
                    findings.problem("password", "the password does not match the stored value");
                }
            }
            None => findings.warn(
                "password",
                "password not checked: the value could not be read or decrypted",
            ),
        }
    }
    Ok(())
}

/// `--am-sample`: does the stored value use the encryptor and key wrap of the user's AM?
fn compare_with_sample(
    text: &str,
    detected: Form,
    sample: &std::path::Path,
    keys: &value::Keys,
    findings: &mut Findings,
) -> Result<(), Failure> {
    if !matches!(detected, Form::Encrypted(Scheme::AmJce | Scheme::AmAesWrap)) {
        findings.warn(
            "am-sample",
            "--am-sample not compared: the stored value is not encrypted with the AM encryption password",
        );
        return Ok(());
    }
    let Some(key) = &keys.key else {
        return Err(Failure::input("--am-sample needs --key SOURCE"));
    };
    let theirs = match options::sample_cipher(sample, key, keys.backend, &keys.kdf) {
        Ok(c) => c,
        Err(e) if e.fault == Fault::Input => return Err(e),
        Err(e) => {
            findings.problem("am-sample", e.message);
            return Ok(());
        }
    };
    match value::am_cipher_of_sample(text, key, keys.backend, &keys.kdf) {
        Ok(ours) if ours == theirs => findings.ok(
            "am-sample",
            format!(
                "the stored value uses {}, as your AM's sample does",
                ours.describe()
            ),
        ),
        Ok(ours) => findings.problem(
            "am-sample",
            format!(
                "the stored value uses {} but your AM's sample uses {}: reinstall it with \
                 amhash install --encrypt am --am-sample FILE",
                ours.describe(),
                theirs.describe()
            ),
        ),
        // The decrypt check above already reported why the value does not open.
        Err(_) => findings.warn(
            "am-sample",
            "--am-sample not compared: the stored value does not open with --key",
        ),
    }
    Ok(())
}

/// The format recorded in setenv.sh, or given with --format.
fn configured_format(
    args: &DoctorArgs,
    id: &SecretId,
    findings: &mut Findings,
) -> Result<Option<Format>, Failure> {
    let from_setenv = match &args.setenv {
        Some(path) => match store::setenv::read_path(path, id) {
            Ok(Some(block)) => {
                let shown = amhash::escape::path(path);
                findings.ok("setenv", format!("{shown} records format {}", block.format));
                match store::file_mode(path) {
                    Ok(Some(mode)) if mode & 0o007 != 0 => findings.problem(
                        "setenv",
                        format!(
                            "{shown} holds the secret and every local user can read or write it (mode {mode:04o}): \
                             chmod o-rwx {} once AM's account reads it as its owner or group",
                            amhash::escape::shell_word(&shown)
                        ),
                    ),
                    Ok(_) => {}
                    Err(e) => findings.problem("setenv", e.to_string()),
                }
                Some(block.format)
            }
            Ok(None) => {
                findings.warn(
                    "setenv",
                    format!(
                        "{} has no amhash block for {}",
                        amhash::escape::path(path),
                        id.java_property()
                    ),
                );
                None
            }
            Err(e) => {
                findings.problem("setenv", e.to_string());
                None
            }
        },
        None => None,
    };
    match (from_setenv, args.format) {
        (Some(a), Some(b)) if a != b => {
            findings.problem(
                "format",
                format!("setenv.sh records {a} but --format says {b}"),
            );
            Ok(Some(b))
        }
        (a, b) => Ok(b.or(a)),
    }
}
