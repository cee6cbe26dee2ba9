//! `amhash verify`: check a password against a stored value, decrypting it first when it is
//! encrypted.

use std::path::Path;

use secrecy::ExposeSecret;
use zeroize::Zeroizing;

use crate::cli::{ValueArgs, VerifyArgs};
use crate::failure::{Failure, Outcome};
use crate::options;
use crate::output::Report;
use amhash::store::{self, SecretId};
use amhash::value;

pub fn run(args: VerifyArgs) -> Result<Report, Failure> {
    // Open the value before asking for the password: a malformed value or a wrong key is
    // reported without a prompt.
    let mut warnings = Vec::new();
    let text = read_value(&args.value, &args.user, args.root.as_deref(), &mut warnings)?;
    let (hash, form) = value::open(&text, &options::keys(&args.keys)?)?;
    drop(text);
    let password = options::read_password(&args.password, false)?;
    let matches = hash.verify(password.expose_secret().as_bytes());
    let (outcome, note) = if matches {
        (Outcome::Success, "the password matches")
    } else {
        (Outcome::Negative, "the password does not match")
    };
    let mut report = Report::new(outcome)
        .field("match", matches)
        .field("detected", form.describe())
        .note(note);
    report.warnings = warnings;
    Ok(report)
}

/// The stored value named by `--hash`, `--hash-file`, `--dir`, `--env-file` or `--setenv`.
fn read_value(
    value: &ValueArgs,
    user: &str,
    root: Option<&Path>,
    warnings: &mut Vec<String>,
) -> Result<Zeroizing<String>, Failure> {
    if let Some(text) = &value.hash {
        return Ok(Zeroizing::new(text.clone()));
    }
    if let Some(path) = &value.hash_file {
        return Ok(Zeroizing::new(value::read_value_file(path)?));
    }
    let id = SecretId::new(user)?;
    let missing = |place: &Path, what: String| {
        Failure::operational(format!(
            "{} has no {what}: nothing to verify",
            amhash::escape::path(place)
        ))
    };
    if let Some(dir) = &value.places.dir {
        let found = store::dir::read_dir_value(dir, &id)?;
        let found = found.ok_or_else(|| missing(dir, id.file_name()))?;
        if found.trailing_newline() {
            warnings.push(format!(
                "{} ends with a newline, which AM may read as part of the value: reinstall it with amhash install",
                amhash::escape::path(&dir.join(id.file_name()))
            ));
        }
        return Ok(Zeroizing::new(
            found.value().value().expose_secret().to_string(),
        ));
    }
    if let Some(path) = &value.places.env_file {
        let found = store::env_file::read_path(path, &id)?;
        let var = id.env_var();
        let found = found.ok_or_else(|| missing(path, format!("{var} assignment")))?;
        return Ok(Zeroizing::new(
            found.value.value().expose_secret().to_string(),
        ));
    }
    if let Some(path) = &value.places.setenv {
        let found = store::setenv::read_path(path, &id)?;
        let found = found
            .ok_or_else(|| missing(path, format!("amhash block for {}", id.java_property())))?;
        return Ok(Zeroizing::new(
            found.value.value().expose_secret().to_string(),
        ));
    }
    if let Some(path) = &value.places.docker_env_file {
        let found = store::docker_env::read_path(path, &id)?;
        let found = found.ok_or_else(|| missing(path, format!("{}= line", id.env_var())))?;
        return Ok(Zeroizing::new(found.value().expose_secret().to_string()));
    }
    if let Some(unit) = &value.places.systemd {
        let unit = store::systemd::Unit::new(unit)?;
        let root = root.unwrap_or(Path::new("/"));
        let found = store::systemd::read_value(root, &unit, &id)?;
        let drop_in = root
            .join(store::systemd::drop_in_dir(&unit))
            .join(store::systemd::drop_in_name(&id));
        let found = found.ok_or_else(|| {
            Failure::operational(format!(
                "{}: no value amhash installed for {} (no amhash drop-in, or the file it names is missing): nothing to verify",
                amhash::escape::path(&drop_in),
                amhash::escape::text(unit.name())
            ))
        })?;
        return Ok(Zeroizing::new(
            found.value.value().expose_secret().to_string(),
        ));
    }
    Err(Failure::input(
        "give --hash-file, --hash, --dir, --env-file, --setenv, --docker-env-file or --systemd",
    ))
}
