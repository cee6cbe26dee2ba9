//! `amhash install`: write one value to every target given, then say which AM settings go
//! with it. All flags, the user name, the owner and the value are checked before the first
//! byte is written.

use std::path::Path;

use secrecy::ExposeSecret;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::crypt::{self, Detected};
use crate::cli::InstallArgs;
use crate::failure::{Failure, Outcome};
use crate::output::Report;
use amhash::ssha::Salt;
use amhash::store::{
    self, Action, DEFAULT_REFRESH_SECONDS, DirOptions, EditOptions, Format, Owner,
    PROP_GOOGLE_KMS_DECRYPTION_KEY, PROP_PASSWORDS_DIR, PROP_PASSWORDS_FORMAT,
    PROP_REFRESH_SECONDS, SecretId, StoreError, atomic,
};

pub fn run(args: InstallArgs) -> Result<Report, Failure> {
    let id = SecretId::new(&args.user).map_err(store_failure)?;
    let owner = match &args.owner {
        Some(spec) => Some(Owner::resolve(spec).map_err(store_failure)?),
        None => None,
    };
    if let Some(name) = &args.targets.k8s_secret {
        // Validate the manifest's names now, not after the other targets were written.
        store::k8s::manifest(name, args.targets.namespace.as_deref(), &id, "x")
            .map_err(store_failure)?;
    }
    let mut report = Report::new(Outcome::Success);
    let (value, format, kms_key) = match &args.value_file {
        Some(path) => existing_value(path)?,
        None => new_value(&args, &mut report.warnings)?,
    };
    let mut written = Vec::new();
    let targets = &args.targets;
    if !args.dry_run {
        preflight(&args, &id, owner, &value, format)?;
    }

    if let Some(dir) = &targets.dir {
        let opts = DirOptions {
            owner,
            backup: !args.no_backup,
            dry_run: args.dry_run,
            ..DirOptions::default()
        };
        let change = store::dir::install_dir(dir, &id, &value, &opts).map_err(store_failure)?;
        let mut line = describe(&change.path, change.action, args.dry_run);
        if let Some(backup) = &change.backup {
            line.push_str(&format!(" (previous value kept in {})", backup.display()));
        }
        report.lines.push(line);
        written.push(
            json!({"target": "dir", "path": change.path, "action": action_name(change.action),
                            "backup": change.backup, "mode": format!("{:04o}", change.mode)}),
        );
    }
    let edit = EditOptions {
        owner,
        dry_run: args.dry_run,
        ..EditOptions::default()
    };
    if let Some(path) = &targets.env_file {
        let change = store::env_file::apply(path, &id, &value, &edit).map_err(store_failure)?;
        let var = id.shell_env_var().map_err(store_failure)?;
        report.lines.push(format!(
            "{} (export {var})",
            describe(&change.path, change.action, args.dry_run)
        ));
        written.push(
            json!({"target": "env-file", "path": change.path, "action": action_name(change.action),
                            "variable": var}),
        );
    }
    if let Some(path) = &targets.setenv {
        let Some(format) = format else {
            return Err(Failure::input(
                "AM cannot read this value, so it cannot go into setenv.sh",
            ));
        };
        let change =
            store::setenv::apply(path, &id, &value, format, &edit).map_err(store_failure)?;
        report.lines.push(format!(
            "{} (-D{} and -D{PROP_PASSWORDS_FORMAT}={format} in CATALINA_OPTS)",
            describe(&change.path, change.action, args.dry_run),
            id.java_property()
        ));
        written.push(
            json!({"target": "setenv", "path": change.path, "action": action_name(change.action),
                            "property": id.java_property()}),
        );
    }
    if let Some(name) = &targets.k8s_secret {
        let manifest = store::k8s::manifest(name, targets.namespace.as_deref(), &id, &value)
            .map_err(store_failure)?;
        match &targets.out {
            Some(path) => {
                if !args.dry_run {
                    let opts = atomic::WriteOptions { mode: 0o600, owner };
                    atomic::write_secret(path, manifest.as_bytes(), &opts)
                        .map_err(store_failure)?;
                }
                report.lines.push(format!(
                    "{} Kubernetes Secret {name} (key {})",
                    if args.dry_run {
                        format!("would write {}:", path.display())
                    } else {
                        format!("wrote {}:", path.display())
                    },
                    id.secret_id()
                ));
                written.push(json!({"target": "k8s-secret", "path": path, "name": name}));
            }
            None => {
                // The manifest is this command's output; everything else moves to stderr.
                report.value = Some(manifest.trim_end().to_string());
                written.push(json!({"target": "k8s-secret", "path": Value::Null, "name": name}));
            }
        }
    }

    // AM reads PASSWORD_<USER> and -Dpassword.<user> from its own process, which keeps the
    // environment and system properties it started with: those targets need a restart.
    let mut restart = Vec::new();
    if targets.env_file.is_some() {
        restart.push(id.env_var());
    }
    if targets.setenv.is_some() {
        restart.push(format!("-D{}", id.java_property()));
    }
    let cached = targets.dir.is_some() || targets.k8s_secret.is_some();
    let settings = am_settings(
        format,
        kms_key.as_deref(),
        targets.dir.as_deref(),
        &restart,
        cached,
    );
    report.lines.extend(settings.lines);
    if report.value.is_some() {
        report.notes.append(&mut report.lines);
    }
    if format.is_some_and(|f| f == Format::Plain) {
        report.warnings.push(
            "the value is not encrypted (PLAIN): anyone who reads it can brute-force the password offline \
             unless it is long and random; consider --encrypt am or kms"
                .into(),
        );
    }
    report.fields.insert("user".into(), id.user().into());
    report.fields.insert("dry_run".into(), args.dry_run.into());
    report
        .fields
        .insert("restart_required".into(), (!restart.is_empty()).into());
    report
        .fields
        .insert("written".into(), Value::Array(written));
    report
        .fields
        .insert("am_properties".into(), settings.properties);
    Ok(report)
}

/// Runs every target as a dry run before the first one is written, so that a refusal by a
/// later target (a format conflict in setenv.sh, a hand-broken profile, a symlink at --out)
/// leaves the earlier targets untouched too.
fn preflight(
    args: &InstallArgs,
    id: &SecretId,
    owner: Option<Owner>,
    value: &str,
    format: Option<Format>,
) -> Result<(), Failure> {
    let targets = &args.targets;
    if let Some(dir) = &targets.dir {
        let opts = DirOptions {
            owner,
            backup: !args.no_backup,
            dry_run: true,
            ..DirOptions::default()
        };
        store::dir::install_dir(dir, id, value, &opts).map_err(store_failure)?;
    }
    let edit = EditOptions {
        owner,
        dry_run: true,
        ..EditOptions::default()
    };
    if let Some(path) = &targets.env_file {
        store::env_file::apply(path, id, value, &edit).map_err(store_failure)?;
    }
    if let Some(path) = &targets.setenv {
        let Some(format) = format else {
            return Err(Failure::input(
                "AM cannot read this value, so it cannot go into setenv.sh",
            ));
        };
        store::setenv::apply(path, id, value, format, &edit).map_err(store_failure)?;
    }
    if let Some(path) = &targets.out {
        // The atomic writer refuses anything but a regular file or nothing at the path.
        match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(store_failure(StoreError::Symlink { path: path.clone() }));
            }
            Ok(meta) if !meta.is_file() => {
                return Err(store_failure(StoreError::NotRegularFile {
                    path: path.clone(),
                    kind: if meta.is_dir() {
                        "directory"
                    } else {
                        "special file"
                    },
                }));
            }
            _ => {}
        }
    }
    Ok(())
}

/// A value read from `--value-file`: checked, and its format detected.
fn existing_value(path: &Path) -> Result<(String, Option<Format>, Option<String>), Failure> {
    let text = super::verify::read_value_file(path)?;
    let detected =
        crypt::detect(&text).map_err(|e| e.context(format!("--value-file {}", path.display())))?;
    match detected {
        Detected::Plain => {
            // Strict parse: AM would reject a malformed hash at login time, too late.
            text.parse::<amhash::ssha::SshaHash>().map_err(|e| {
                Failure::from(e).context(format!("--value-file {}", path.display()))
            })?;
        }
        Detected::Encrypted(amhash::cipher::Scheme::AesGcm) => {
            return Err(Failure::input(
                "the value is an amhash AES-GCM envelope, which AM cannot read: decrypt it first \
                 (amhash decrypt) or encrypt with --encrypt am or kms",
            ));
        }
        Detected::Encrypted(_) | Detected::Opaque => {}
    }
    Ok((text, detected.format(), None))
}

/// A new value from a password: hash, then encrypt as the flags say.
fn new_value(
    args: &InstallArgs,
    warnings: &mut Vec<String>,
) -> Result<(String, Option<Format>, Option<String>), Failure> {
    let salt = match &args.salt_hex {
        Some(hex) => {
            Some(Salt::from_hex(hex).map_err(|e| Failure::input(e).context("--salt-hex"))?)
        }
        None => None,
    };
    let protection = crypt::protection(&args.encrypt)?;
    if matches!(protection, crypt::Protection::Gcm { .. }) {
        return Err(Failure::input(
            "AM cannot read an AES-GCM value: install with --encrypt am or kms, or without --encrypt",
        ));
    }
    let policy = if args.allow_weak {
        super::WeakPolicy::Allow
    } else {
        super::WeakPolicy::Refuse
    };
    let backend = args.encrypt.keys.keyring_backend;
    let password = super::new_password(
        &args.password,
        &args.new_password,
        backend,
        policy,
        warnings,
    )?;
    let hash = super::generate::hash_password(password.expose_secret().as_bytes(), salt)?;
    drop(password);
    let hash_text = Zeroizing::new(hash.to_string());
    let value = crypt::seal(&protection, args.encrypt.keys.keyring_backend, &hash_text)?;
    Ok((value, protection.format(), protection.kms_key()))
}

struct Settings {
    lines: Vec<String>,
    properties: Value,
}

/// The AM advanced server properties that go with the value.
fn am_settings(
    format: Option<Format>,
    kms_key: Option<&str>,
    dir: Option<&Path>,
    restart: &[String],
    cached: bool,
) -> Settings {
    let mut lines = Vec::new();
    let mut properties = serde_json::Map::new();
    match format {
        Some(format) => {
            lines.push(format!("AM setting: {PROP_PASSWORDS_FORMAT}={format}"));
            properties.insert(PROP_PASSWORDS_FORMAT.into(), format.as_str().into());
            if format == Format::GoogleKmsEncrypted {
                match kms_key {
                    Some(key) => {
                        lines.push(format!("AM setting: {PROP_GOOGLE_KMS_DECRYPTION_KEY}={key}"));
                        properties.insert(PROP_GOOGLE_KMS_DECRYPTION_KEY.into(), key.into());
                    }
                    None => lines.push(format!(
                        "AM setting: {PROP_GOOGLE_KMS_DECRYPTION_KEY} must name the KMS key that encrypted the value"
                    )),
                }
            }
        }
        None => lines.push("AM cannot read this value".into()),
    }
    if let Some(dir) = dir {
        // AM resolves the property against its own working directory, not ours: always
        // print an absolute path the administrator can paste as is.
        let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        lines.push(format!(
            "if {} is not AM's default .../openam/security/secrets/userpasswords, set {PROP_PASSWORDS_DIR}={}",
            absolute.display(),
            absolute.display()
        ));
    }
    if cached {
        lines.push(format!(
            "AM caches the secret for {DEFAULT_REFRESH_SECONDS} s by default ({PROP_REFRESH_SECONDS}): \
             the new password takes effect within that time"
        ));
    }
    if !restart.is_empty() {
        lines.push(format!(
            "restart AM (the Tomcat running it) to apply {}: a running JVM keeps the environment and \
             system properties it started with, whatever the {DEFAULT_REFRESH_SECONDS} s cache \
             ({PROP_REFRESH_SECONDS}) says",
            restart.join(" and ")
        ));
    }
    Settings {
        lines,
        properties: Value::Object(properties),
    }
}

fn describe(path: &Path, action: Action, dry_run: bool) -> String {
    let verb = match (action, dry_run) {
        (Action::Created, false) => "created",
        (Action::Created, true) => "would create",
        (Action::Replaced, false) => "replaced",
        (Action::Replaced, true) => "would replace",
        (Action::Unchanged, _) => "unchanged",
    };
    format!("{verb}: {}", path.display())
}

fn action_name(action: Action) -> &'static str {
    match action {
        Action::Created => "created",
        Action::Replaced => "replaced",
        Action::Unchanged => "unchanged",
    }
}

pub fn store_failure(e: StoreError) -> Failure {
    match e.class() {
        store::ErrorClass::Usage => Failure::input(e),
        store::ErrorClass::Operational => Failure::operational(e),
    }
}
