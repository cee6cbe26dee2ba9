//! systemd target: the value as an encrypted credential of a service unit, loaded by a
//! drop-in, or (where `systemd-creds` cannot be used) an `EnvironmentFile=`.
//!
//! # Files (all under `ROOT`, `/` unless `--root`)
//!
//! | file | mode | content |
//! |---|---|---|
//! | `/etc/credstore.encrypted/UNIT+password.<user>+<16 hex>` | 0600 root:root, directory 0700 | the output of `systemd-creds encrypt --name=password.<user> --with-key=host[+tpm2] - -` (systemd's base64 text, as it wrote it) |
//! | `/etc/credstore/UNIT+password.<user>+<16 hex>.env` (fallback) | 0600 root:root, directory 0700 | one line `PASSWORD_<USER>='VALUE'` ([`env`]) |
//! | `/etc/systemd/system/UNIT.d/amhash-<user>.conf` | 0644 root:root, directory 0755 | the drop-in ([`render_drop_in`]); no secret |
//!
//! The drop-in, byte for byte (`\n` line ends):
//!
//! ```text
//! # Written by amhash: AM's special secret password.<user> for UNIT. Run amhash install --systemd UNIT again to change it.
//! [Service]
//! LoadCredentialEncrypted=password.<user>:/etc/credstore.encrypted/UNIT+password.<user>+<16 hex>
//! ```
//!
//! or, in the fallback, `EnvironmentFile=/etc/credstore/UNIT+password.<user>+<16 hex>.env`
//! as its last line. systemd decrypts the credential at service start into
//! `/run/credentials/UNIT/password.<user>` (the service's private, read-only credentials
//! directory), which AM reads as a store directory
//! (`org.forgerock.openam.secrets.special.user.passwords.dir=/run/credentials/UNIT`).
//!
//! # Order of a re-install
//!
//! Every install writes the secret under a **new** name (`+<16 hex>`, random), then the
//! drop-in pointing at it, then removes the files the old drop-in pointed at (and any other
//! file of this unit and user left by an interrupted run). Each file is written by the
//! atomic [`Writer`](super::Writer). So at every moment the drop-in names a complete file that
//! holds the value it was written with: a failure before the drop-in's rename leaves the old
//! pair (and the new secret file is removed again); a failure after it leaves the new pair
//! and, at worst, an unreferenced old file that the next install removes. An unchanged
//! value (the credential decrypts to it, the drop-in is as amhash writes it) writes nothing.
//!
//! # Names
//!
//! A unit name ([`Unit`]) is 1 to 100 characters of `A-Z a-z 0-9 : _ . @ -`, not starting
//! with `-` or `.`, at most one `@` with a non-empty instance, ending in `.service` (added
//! when the name has no suffix; another unit type is refused). systemd's `\x2d` escapes are
//! refused: such a name would be unescaped again in the drop-in. `+` occurs in neither a unit
//! nor a user name, so it separates them in file names without ambiguity.

pub mod creds;
mod dirs;
pub mod env;
mod install;

use std::path::{Path, PathBuf};

use super::{Result, SecretId, StoreError, check_name};

pub use install::{
    Mode, ModeChoice, SystemdChange, SystemdFacts, SystemdOptions, SystemdValue, inspect, install,
    read_value,
};

/// Longest unit name accepted (systemd allows 255; real service names are far shorter, and
/// the credential's file name must stay under 255 bytes with the user name in it).
pub const MAX_UNIT_LEN: usize = 100;

/// Where systemd's encrypted credentials live, relative to the root.
pub const CREDSTORE_ENCRYPTED: &str = "etc/credstore.encrypted";
/// Where the `EnvironmentFile=` fallback lives (systemd's directory for plain credentials,
/// 0700 root), relative to the root.
pub const CREDSTORE: &str = "etc/credstore";
/// Where the drop-in directory lives, relative to the root.
pub const UNIT_DIR: &str = "etc/systemd/system";

/// Unit types that are not services: refused rather than given a `.service` suffix.
const OTHER_SUFFIXES: &[&str] = &[
    ".socket",
    ".mount",
    ".swap",
    ".timer",
    ".target",
    ".path",
    ".slice",
    ".scope",
    ".device",
    ".automount",
];

/// A validated service unit name (see the module doc).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit(String);

impl Unit {
    /// Validates `name`, adding `.service` when it has no suffix.
    ///
    /// # Errors
    /// [`StoreError::InvalidUnitName`].
    pub fn new(name: &str) -> Result<Unit> {
        let bad = |reason| StoreError::InvalidUnitName {
            name: name.to_owned(),
            reason,
        };
        check_name(
            name,
            b":_.@-",
            "it contains a character other than a letter, digit, ':', '_', '.', '@' or '-' (escaped names are not supported)",
        )
        .map_err(bad)?;
        if name.starts_with('-') || name.starts_with('.') {
            return Err(bad("it starts with '-' or '.'"));
        }
        if OTHER_SUFFIXES.iter().any(|s| name.ends_with(s)) {
            return Err(bad(
                "it is not a service unit (credentials and environment files are for services)",
            ));
        }
        let full = if name.ends_with(".service") {
            name.to_owned()
        } else {
            format!("{name}.service")
        };
        if full.len() > MAX_UNIT_LEN {
            return Err(bad("it is longer than 100 characters"));
        }
        let stem = full.strip_suffix(".service").unwrap_or(&full);
        if stem.is_empty() {
            return Err(bad("it has no name before .service"));
        }
        if let Some((prefix, instance)) = stem.split_once('@')
            && (prefix.is_empty() || instance.is_empty() || instance.contains('@'))
        {
            return Err(bad(
                "a template needs a name and one instance (name@instance.service)",
            ));
        }
        Ok(Unit(full))
    }

    /// The full name, with `.service`.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.0
    }

    /// For an instance `a@b.service`, its template `a@.service`.
    #[must_use]
    pub fn template(&self) -> Option<String> {
        let (prefix, _) = self.0.split_once('@')?;
        Some(format!("{prefix}@.service"))
    }

    /// The service's private credentials directory, as AM sees it:
    /// `/run/credentials/UNIT`.
    #[must_use]
    pub fn credentials_dir(&self) -> String {
        format!("/run/credentials/{}", self.0)
    }
}

/// The secret file of a unit and user: which kind, and its file name in its directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reference {
    /// `LoadCredentialEncrypted=` of a file in `/etc/credstore.encrypted`.
    Credential(String),
    /// `EnvironmentFile=` of a file in `/etc/credstore`.
    EnvFile(String),
}

impl Reference {
    /// The file name.
    #[must_use]
    pub fn name(&self) -> &str {
        match self {
            Reference::Credential(n) | Reference::EnvFile(n) => n,
        }
    }

    /// Its directory relative to the root.
    #[must_use]
    pub fn dir(&self) -> &'static str {
        match self {
            Reference::Credential(_) => CREDSTORE_ENCRYPTED,
            Reference::EnvFile(_) => CREDSTORE,
        }
    }

    /// The path systemd opens (on the host, or in the image).
    #[must_use]
    pub fn host_path(&self) -> PathBuf {
        Path::new("/").join(self.dir()).join(self.name())
    }
}

/// The start of every secret file name of `unit` and `id`: `UNIT+password.<user>+`.
#[must_use]
pub fn file_prefix(unit: &Unit, id: &SecretId) -> String {
    format!("{}+{}+", unit.name(), id.secret_id())
}

/// Whether `name` is one of amhash's secret files for `unit` and `id` (in either directory).
#[must_use]
pub fn is_ours(name: &str, unit: &Unit, id: &SecretId) -> bool {
    let Some(rest) = name.strip_prefix(&file_prefix(unit, id)) else {
        return false;
    };
    let hex = rest.strip_suffix(".env").unwrap_or(rest);
    hex.len() == 16
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A new secret file name for `unit` and `id`.
///
/// # Errors
/// [`StoreError::Io`] when the random source fails; [`StoreError::InvalidUnitName`] when the
/// unit and user names are too long together for a file name.
pub fn new_reference(unit: &Unit, id: &SecretId, credential: bool) -> Result<Reference> {
    let mut rnd = [0u8; 8];
    getrandom::getrandom(&mut rnd).map_err(|e| {
        StoreError::io(
            "get random bytes for a file name",
            Path::new(CREDSTORE_ENCRYPTED),
            std::io::Error::other(e),
        )
    })?;
    let mut name = file_prefix(unit, id);
    name.push_str(&hex::encode(rnd));
    if !credential {
        name.push_str(".env");
    }
    // Room for the writer's temp name: "." + name + ".tmp-" + 16 hex.
    if name.len() + 22 > 255 {
        return Err(StoreError::InvalidUnitName {
            name: unit.name().to_owned(),
            reason: "together with the user name it is too long for a file name",
        });
    }
    Ok(if credential {
        Reference::Credential(name)
    } else {
        Reference::EnvFile(name)
    })
}

/// The drop-in's file name: `amhash-<user>.conf`.
#[must_use]
pub fn drop_in_name(id: &SecretId) -> String {
    format!("amhash-{}.conf", id.user())
}

/// The drop-in directory relative to the root: `etc/systemd/system/UNIT.d`.
#[must_use]
pub fn drop_in_dir(unit: &Unit) -> String {
    format!("{UNIT_DIR}/{}.d", unit.name())
}

/// The drop-in amhash writes (see the module doc for the bytes).
#[must_use]
pub fn render_drop_in(unit: &Unit, id: &SecretId, reference: &Reference) -> String {
    let path = reference.host_path();
    let line = match reference {
        Reference::Credential(_) => {
            format!(
                "LoadCredentialEncrypted={}:{}",
                id.secret_id(),
                path.display()
            )
        }
        Reference::EnvFile(_) => format!("EnvironmentFile={}", path.display()),
    };
    format!(
        "# Written by amhash: AM's special secret {} for {}. Run amhash install --systemd {} again to change it.\n[Service]\n{line}\n",
        id.secret_id(),
        unit.name(),
        unit.name()
    )
}

/// The secret file a drop-in refers to, if it is exactly one of amhash's (anything else:
/// `None`, and the drop-in is rewritten by the next install).
#[must_use]
pub fn parse_drop_in(content: &[u8], unit: &Unit, id: &SecretId) -> Option<Reference> {
    let text = std::str::from_utf8(content).ok()?;
    let mut found = None;
    for line in text.lines() {
        let reference = if let Some(v) = line.strip_prefix("LoadCredentialEncrypted=") {
            let (cred, path) = v.split_once(':')?;
            let name = path.strip_prefix(&format!("/{CREDSTORE_ENCRYPTED}/"))?;
            (cred == id.secret_id()).then(|| Reference::Credential(name.to_owned()))?
        } else if let Some(path) = line.strip_prefix("EnvironmentFile=") {
            let name = path.strip_prefix(&format!("/{CREDSTORE}/"))?;
            Reference::EnvFile(name.to_owned())
        } else {
            continue;
        };
        if found.is_some() || !is_ours(reference.name(), unit, id) {
            return None;
        }
        found = Some(reference);
    }
    found
}

/// The unit's file under `root`, if any: `/etc`, `/run`, `/usr/local/lib`, `/usr/lib` and
/// `/lib` `systemd/system/`, the unit or (for an instance) its template. A link is reported
/// as found, not followed (a masked unit is a link to `/dev/null`).
#[must_use]
pub fn find_unit(root: &Path, unit: &Unit) -> Option<PathBuf> {
    let dirs = [
        "etc/systemd/system",
        "run/systemd/system",
        "usr/local/lib/systemd/system",
        "usr/lib/systemd/system",
        "lib/systemd/system",
    ];
    let names: Vec<String> = std::iter::once(unit.name().to_owned())
        .chain(unit.template())
        .collect();
    dirs.iter().find_map(|d| {
        names.iter().find_map(|n| {
            let p = root.join(d).join(n);
            std::fs::symlink_metadata(&p).ok().map(|_| p)
        })
    })
}

#[cfg(test)]
mod tests;
