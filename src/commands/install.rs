//! `amhash install`: write one value to every target given, then say which AM settings go
//! with it.
//!
//! Order, so that a refusal changes nothing: every flag, the user name, the owner and the
//! value are checked; then every target is checked by a dry run of the same code that writes
//! it ([`apply_targets`]); only then is a `--random` password stored or shown, and the
//! targets written.

use std::path::Path;
use std::time::Duration;

use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::cli::{InstallArgs, SystemdMode};
use crate::failure::{Failure, Outcome};
use crate::options::{self, WeakPolicy};
use crate::output::{Report, path_value, properties_json};
use amhash::am::{
    self, DEFAULT_REFRESH_SECONDS, Format, PROP_PASSWORDS_DIR, PROP_PASSWORDS_FORMAT,
    PROP_REFRESH_SECONDS,
};
use amhash::cipher::Scheme;
use amhash::escape;
use amhash::ssha::SshaHash;
use amhash::store::systemd::{self, Mode, ModeChoice, SystemdOptions, Unit};
use amhash::store::{
    self, Action, DirOptions, EditChange, EditOptions, LockWait, Owner, SecretId, Writer, atomic,
};
use amhash::value::{self, Form, Protection, StoredValue};

/// What the targets are written with.
struct Install<'a> {
    args: &'a InstallArgs,
    id: SecretId,
    owner: Option<Owner>,
    value: &'a str,
    format: Option<Format>,
    writer: Writer,
}

/// What writing (or checking) the targets produced.
#[derive(Default)]
struct Written {
    lines: Vec<String>,
    warnings: Vec<String>,
    json: Vec<Value>,
    /// The Kubernetes manifest, when it is the command's output (no --out).
    manifest: Option<String>,
    /// The systemd unit and the mode it got.
    systemd: Option<(Unit, Mode)>,
}

impl Written {
    /// Reports an edited file: what was done to it and what it now `holds` (after its
    /// path), what its owner and mode call for (a note when the mode was narrowed, a warning
    /// when `--owner` did not apply or every local user can still read the value), and its
    /// JSON entry: `target`, and the `key` (variable or property) it sets to `name`.
    fn edited(
        &mut self,
        change: &EditChange,
        owner: Option<Owner>,
        (target, key, name): (&str, &str, &str),
        holds: &str,
    ) {
        self.lines.push(format!(
            "{} ({holds})",
            describe(&change.path, change.action, change.dry_run)
        ));
        let shown = escape::path(&change.path);
        if let Some(before) = change.mode_before
            && before & 0o777 != change.mode
        {
            let verb = if change.dry_run {
                "would narrow"
            } else {
                "narrowed"
            };
            self.lines.push(format!(
                "{verb} mode of {shown}: {before:04o} -> {:04o} (it now holds the secret)",
                change.mode
            ));
        }
        if change.owner_kept
            && let Some(o) = change.owner
        {
            self.warnings.push(format!(
                "--owner does not apply to {shown}: an existing file keeps its owner (uid {} gid {}); \
                 amhash never hands an existing script to another account",
                o.uid, o.gid
            ));
        }
        if change.other_readable {
            // Group read for AM's group; never group write (AM could then add a command that
            // whoever sources the file runs), nothing for others.
            let mode = (change.mode & 0o750) | 0o040;
            let quoted = escape::shell_word(&shown);
            let fix = match owner {
                Some(o) => format!("chgrp {} {quoted} && chmod {mode:04o} {quoted}", o.gid),
                None => format!(
                    "chmod o-rwx {quoted} (first make sure AM's account reads it as its owner or group)"
                ),
            };
            self.warnings.push(format!(
                "{shown} holds the secret and every local user can read it (mode {:04o}); amhash left \
                 that because AM's account might read it only through those bits: run {fix}",
                change.mode
            ));
        }
        self.json
            .push(json!({"target": target, "path": path_value(&change.path),
            "action": action_name(change.action), key: name, "mode": format!("{:04o}", change.mode),
            "mode_before": change.mode_before.map(|m| format!("{m:04o}")),
            "other_readable": change.other_readable, "owner": owner_value(change.owner),
            "owner_kept": change.owner_kept}));
    }
}

pub fn run(args: InstallArgs) -> Result<Report, Failure> {
    let id = SecretId::new(&args.user)?;
    let owner = match &args.owner {
        Some(spec) => Some(Owner::resolve(spec)?),
        None => None,
    };
    if let Some(name) = &args.targets.k8s_secret {
        // Validate the manifest's names now, not after the other targets were written.
        store::k8s::manifest(name, args.targets.namespace.as_deref(), &id, "x")?;
    }
    if let Some(unit) = &args.targets.places.systemd {
        Unit::new(unit)?;
    }
    let mut report = Report::new(Outcome::Success);
    let (value, format, kms_key, random) = match &args.value_file {
        Some(path) => {
            let (value, format) = existing_value(path)?;
            (value, format, None, None)
        }
        None => new_value(&args, &mut report.warnings, &mut report.lines)?,
    };
    let writer = Writer::default().with_lock_wait(LockWait {
        timeout: Duration::from_secs(args.lock_timeout),
        on_wait: Some(crate::output::lock_notice),
    });
    let install = Install {
        args: &args,
        id,
        owner,
        value: &value,
        format,
        writer,
    };
    // Every target, checked by a dry run of the very code that writes it. A refusal by any
    // target leaves every target, and the password store, untouched.
    let checked = apply_targets(&install, true)?;
    let written = if args.dry_run {
        if let Some(out) = &args.new_password.password_out {
            report.lines.push(format!(
                "would store the new random password in {}",
                escape::text(&out.to_string())
            ));
        }
        checked
    } else {
        if let Some(password) = &random {
            options::hand_over_random(
                password,
                args.new_password.password_out.as_ref(),
                args.encrypt.keys.keyring_backend,
            )?;
        }
        apply_targets(&install, false)?
    };
    drop(random);
    let id = &install.id;
    let targets = &args.targets;
    report.lines.extend(written.lines);
    report.warnings.extend(written.warnings);
    report.value = written.manifest;

    // AM reads PASSWORD_<USER> and -Dpassword.<user> from its own process, which keeps the
    // environment and system properties it started with: those targets need a restart.
    let mut restart = Vec::new();
    if targets.places.env_file.is_some() {
        restart.push(id.env_var());
    }
    if targets.places.setenv.is_some() {
        restart.push(format!("-D{}", id.java_property()));
    }
    if targets.places.docker_env_file.is_some() {
        restart.push(format!("{} (recreate the container)", id.env_var()));
    }
    let cached = targets.places.dir.is_some() || targets.k8s_secret.is_some();
    let mut settings = am_settings(
        format,
        kms_key.as_deref(),
        targets.places.dir.as_deref(),
        &restart,
        cached,
    );
    report.lines.extend(settings.lines);
    // The store directory AM must be told about, in --json too.
    let store_dir = match &written.systemd {
        Some((unit, Mode::Credential)) => Some(unit.credentials_dir()),
        _ if args.targets.compose_snippet => Some(store::compose::RUN_SECRETS.to_owned()),
        _ => None,
    };
    if let (Some(dir), Value::Object(map)) = (store_dir, &mut settings.properties) {
        map.insert(PROP_PASSWORDS_DIR.into(), dir.into());
    }
    if let Some((unit, mode)) = &written.systemd {
        let name = escape::text(unit.name());
        if *mode == Mode::Credential {
            report.lines.push(format!(
                "AM setting for {name}: {PROP_PASSWORDS_DIR}={} (systemd decrypts {} there at service start)",
                escape::text(&unit.credentials_dir()),
                id.secret_id()
            ));
        } else {
            report.lines.push(format!(
                "{name} gets {} from its EnvironmentFile= at start",
                id.env_var()
            ));
        }
        report.lines.push(format!(
            "systemd reads the drop-in and the value when the service starts: run systemctl daemon-reload && systemctl restart {}",
            escape::shell_word(unit.name())
        ));
    }
    if args.targets.compose_snippet {
        report.lines.push(format!(
            "AM setting in the container: {PROP_PASSWORDS_DIR}={}",
            store::compose::RUN_SECRETS
        ));
    }
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
    report.fields.insert(
        "restart_required".into(),
        (!restart.is_empty() || written.systemd.is_some()).into(),
    );
    report
        .fields
        .insert("written".into(), Value::Array(written.json));
    report
        .fields
        .insert("am_properties".into(), settings.properties);
    Ok(report)
}

/// Writes the value to every target, or (`dry_run`) checks every target and says what would
/// change. The one place that knows the targets: the check before writing and the dry run
/// are this same code with `dry_run` set.
fn apply_targets(install: &Install<'_>, dry_run: bool) -> Result<Written, Failure> {
    let Install {
        args,
        id,
        owner,
        value,
        format,
        writer,
    } = install;
    let (id, owner, value, format) = (id, *owner, *value, *format);
    let targets = &args.targets;
    let mut out = Written::default();
    if let Some(dir) = &targets.places.dir {
        let opts = DirOptions {
            owner,
            backup: !args.no_backup,
            dry_run,
            writer: writer.clone(),
        };
        let change = store::dir::install_dir(dir, id, value, &opts)?;
        let mut line = describe(&change.path, change.action, dry_run);
        if let Some(backup) = &change.backup {
            line.push_str(&format!(
                " (previous value kept in {})",
                escape::path(backup)
            ));
        }
        if change.owner_changed
            && let Some(o) = change.owner
        {
            line.push_str(&format!(
                " ({} owner uid {} gid {})",
                if dry_run { "would set" } else { "set" },
                o.uid,
                o.gid
            ));
        }
        if let Some(before) = change.mode_before.filter(|m| *m != change.mode) {
            line.push_str(&format!(" (mode {before:04o} -> {:04o})", change.mode));
        }
        out.lines.push(line);
        if targets.compose_snippet {
            let absolute =
                std::path::absolute(&change.path).unwrap_or_else(|_| change.path.clone());
            let snippet = store::compose::snippet(id, &absolute)?;
            out.lines
                .push("docker compose (the file as a secret at /run/secrets):".into());
            out.lines.extend(snippet.lines().map(str::to_owned));
        }
        out.json.push(json!({"target": "dir", "path": path_value(&change.path),
            "action": action_name(change.action), "backup": change.backup.as_deref().map(path_value),
            "mode": format!("{:04o}", change.mode),
            "mode_before": change.mode_before.map(|m| format!("{m:04o}")),
            "owner": owner_value(change.owner), "owner_changed": change.owner_changed}));
    }
    let edit = EditOptions {
        owner,
        dry_run,
        writer: writer.clone(),
    };
    if let Some(path) = &targets.places.env_file {
        let change = store::env_file::apply(path, id, value, &edit)?;
        let var = id.shell_env_var()?;
        let holds = format!("export {var}");
        out.edited(&change, owner, ("env-file", "variable", &var), &holds);
    }
    if let Some(path) = &targets.places.setenv {
        let Some(format) = format else {
            return Err(Failure::input(
                "AM cannot read this value, so it cannot go into setenv.sh",
            ));
        };
        let change = store::setenv::apply(path, id, value, format, &edit)?;
        let property = id.java_property();
        let holds = format!("-D{property} and -D{PROP_PASSWORDS_FORMAT}={format} in CATALINA_OPTS");
        out.edited(&change, owner, ("setenv", "property", &property), &holds);
        out.warnings.push(format!(
            "setenv.sh puts the value on the java command line, where every local user can read \
             it (ps, /proc/PID/cmdline) while AM runs{}: prefer --dir (the special secret store \
             directory, 0600){}",
            if format == Format::Plain {
                ", and a PLAIN value can be brute-forced offline"
            } else {
                ""
            },
            if format == Format::Plain {
                " or an encrypted format (--encrypt am or kms)"
            } else {
                ""
            }
        ));
    }
    if let Some(path) = &targets.places.docker_env_file {
        let change = store::docker_env::apply(path, id, value, &edit)?;
        let var = id.env_var();
        let holds = format!("{var}=..., Docker env-file syntax");
        out.edited(
            &change,
            owner,
            ("docker-env-file", "variable", &var),
            &holds,
        );
    }
    if let Some(name) = &targets.places.systemd {
        systemd_target(name, install, dry_run, &mut out)?;
    }
    if let Some(name) = &targets.k8s_secret {
        let manifest = store::k8s::manifest(name, targets.namespace.as_deref(), id, value)?;
        match &targets.out {
            Some(path) => {
                if dry_run {
                    // The atomic writer refuses anything but a regular file or nothing at
                    // the path; check it the same way it will be written.
                    store::check_writable_file(path)?;
                } else {
                    let opts = atomic::WriteOptions { mode: 0o600, owner };
                    writer.write_secret(path, manifest.as_bytes(), &opts)?;
                }
                out.lines.push(format!(
                    "{} {}: Kubernetes Secret {name} (key {})",
                    if dry_run { "would write" } else { "wrote" },
                    escape::path(path),
                    id.secret_id()
                ));
                out.json
                    .push(json!({"target": "k8s-secret", "path": path_value(path), "name": name}));
            }
            None => {
                // The manifest is this command's output; everything else moves to stderr.
                out.manifest = Some(manifest.trim_end().to_string());
                out.json
                    .push(json!({"target": "k8s-secret", "path": Value::Null, "name": name}));
            }
        }
    }
    Ok(out)
}

/// `--systemd UNIT`: the credential (or EnvironmentFile) and the drop-in.
fn systemd_target(
    name: &str,
    install: &Install<'_>,
    dry_run: bool,
    out: &mut Written,
) -> Result<(), Failure> {
    let targets = &install.args.targets;
    let unit = Unit::new(name)?;
    let opts = SystemdOptions {
        root: targets.root.clone().unwrap_or_else(|| "/".into()),
        choice: match targets.systemd_mode {
            SystemdMode::Auto => ModeChoice::Auto,
            SystemdMode::Credential => ModeChoice::Credential,
            SystemdMode::EnvFile => ModeChoice::EnvFile,
        },
        dry_run,
        writer: install.writer.clone(),
    };
    let change = systemd::install(&unit, &install.id, install.value, &opts)?;
    let shown = escape::text(unit.name());
    let what = match (change.mode, change.key) {
        (Mode::Credential, Some(key)) => format!(
            "encrypted credential {} ({} key)",
            install.id.secret_id(),
            key.name()
        ),
        _ => format!("EnvironmentFile with {}", install.id.env_var()),
    };
    if let Some(why) = &change.fallback {
        out.warnings.push(format!(
            "{shown}: fell back to an EnvironmentFile= (root-only file; the value is in the service's environment): {why}"
        ));
    }
    for dir in &change.created_dirs {
        out.lines.push(format!(
            "{} directory {}",
            if dry_run { "would create" } else { "created" },
            escape::path(dir)
        ));
    }
    out.lines.push(format!(
        "{} ({what} for {shown}, mode {})",
        describe(&change.secret_path, change.action, dry_run),
        change.mode.name()
    ));
    out.lines.push(format!(
        "{} (drop-in: {} {})",
        describe(&change.drop_in_path, change.action, dry_run),
        match change.mode {
            Mode::Credential => "LoadCredentialEncrypted=",
            Mode::EnvFile => "EnvironmentFile=",
        },
        escape::path(&change.host_secret_path)
    ));
    for removed in &change.removed {
        out.lines
            .push(format!("removed the old {}", escape::path(removed)));
    }
    for (path, why) in &change.leftover {
        out.warnings.push(format!(
            "could not remove the old {}: {}; the next install tries again",
            escape::path(path),
            escape::text(why)
        ));
    }
    if change.unit_file.is_none() {
        out.warnings.push(format!(
            "no unit file for {shown} was found under {}: check the name (systemctl cat {})",
            escape::path(&opts.root),
            escape::shell_word(unit.name())
        ));
    }
    out.json
        .push(json!({"target": "systemd", "unit": unit.name(),
        "mode": change.mode.name(), "key": change.key.map(|k| k.name()),
        "fallback": change.fallback, "action": action_name(change.action),
        "path": path_value(&change.secret_path), "drop_in": path_value(&change.drop_in_path),
        "systemd_path": path_value(&change.host_secret_path),
        "removed": change.removed.iter().map(|p| path_value(p)).collect::<Vec<_>>(),
        "credentials_dir": (change.mode == Mode::Credential).then(|| unit.credentials_dir())}));
    out.systemd = Some((unit, change.mode));
    Ok(())
}

fn owner_value(owner: Option<Owner>) -> Value {
    match owner {
        Some(o) => json!({"uid": o.uid, "gid": o.gid}),
        None => Value::Null,
    }
}

/// A value read from `--value-file`: its canonical one-line form and its format.
fn existing_value(path: &Path) -> Result<(String, Option<Format>), Failure> {
    let text = value::read_value_file(path)?;
    let stored = StoredValue::canonical(&text)
        .map_err(|e| Failure::from(e).context(format!("--value-file {}", escape::path(path))))?;
    if let Form::Encrypted(Scheme::AesGcm) = stored.form() {
        return Err(Failure::input(
            "the value is an amhash AES-GCM envelope, which AM cannot read: decrypt it first \
             (amhash decrypt) or encrypt with --encrypt am or kms",
        ));
    }
    let format = stored.form().format();
    Ok((stored.to_string(), format))
}

/// A new value from a password: hash, then encrypt as the flags say. A `--random` password
/// comes back too, still to be handed over.
#[allow(clippy::type_complexity)]
fn new_value(
    args: &InstallArgs,
    warnings: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> Result<
    (
        String,
        Option<Format>,
        Option<String>,
        Option<secrecy::SecretString>,
    ),
    Failure,
> {
    let salt = options::salt(args.salt_hex.as_deref())?;
    let protection = options::protection(&args.encrypt)?;
    if matches!(protection, Protection::Gcm { .. }) {
        return Err(Failure::input(
            "AM cannot read an AES-GCM value: install with --encrypt am or kms, or without --encrypt",
        ));
    }
    let policy = if args.allow_weak {
        WeakPolicy::Allow
    } else {
        WeakPolicy::Refuse
    };
    let password = options::new_password(&args.password, &args.new_password, policy, warnings)?;
    let hash = SshaHash::new(password.expose_secret().as_bytes(), salt)?;
    let random = args.new_password.random.then_some(password);
    let sealed = protection.seal(&hash, args.encrypt.keys.keyring_backend)?;
    notes.extend(protection.sample_note());
    notes.extend(sealed.kms_note());
    let kms_key = sealed.kms_decrypt_with.as_ref().map(ToString::to_string);
    Ok((sealed.value, protection.format(), kms_key, random))
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
    let properties = match format {
        Some(format) => {
            for property in am::properties(format, kms_key) {
                let name = property.name;
                lines.push(match property.value {
                    Some(value) => format!("AM setting: {name}={value}"),
                    None => {
                        format!("AM setting: {name} must name the KMS key that encrypted the value")
                    }
                });
            }
            properties_json(format, kms_key)
        }
        None => {
            lines.push("AM cannot read this value".into());
            Value::Object(serde_json::Map::new())
        }
    };
    if let Some(dir) = dir {
        // AM resolves the property against its own working directory, not ours: always
        // print an absolute path the administrator can paste as is.
        let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        let shown = escape::path(&absolute);
        lines.push(format!(
            "if {shown} is not AM's default .../openam/security/secrets/userpasswords, set {PROP_PASSWORDS_DIR}={shown}"
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
    Settings { lines, properties }
}

fn describe(path: &Path, action: Action, dry_run: bool) -> String {
    let verb = match (action, dry_run) {
        (Action::Created, false) => "created",
        (Action::Created, true) => "would create",
        (Action::Replaced, false) => "replaced",
        (Action::Replaced, true) => "would replace",
        (Action::Unchanged, _) => "unchanged",
    };
    format!("{verb}: {}", escape::path(path))
}

fn action_name(action: Action) -> &'static str {
    match action {
        Action::Created => "created",
        Action::Replaced => "replaced",
        Action::Unchanged => "unchanged",
    }
}
