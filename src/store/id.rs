//! Which secret a file, variable or property holds: `password.<user>`.

use std::fmt;
use std::str::FromStr;

use super::{MAX_USER_NAME_LEN, Result, StoreError};

/// The secret id of one AM special user: `password.<user>`.
///
/// The user name is kept as given (AM's default is `amadmin`, lower case). Names are limited to
/// ASCII letters, digits, `.`, `_`, `-` so that the id is a safe file name, Java property name and
/// Kubernetes data key. A user named `X.previous` would collide with the backup of user `X`
/// (`password.X.previous`); AM has no such user by default.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SecretId {
    user: String,
}

/// What user names and systemd unit names share: not empty, and only ASCII letters, digits and
/// the `punctuation` given. The problem as the reason for the caller's error; `other` is the
/// one for any other character.
pub(crate) fn check_name(
    name: &str,
    punctuation: &[u8],
    other: &'static str,
) -> std::result::Result<(), &'static str> {
    if name.is_empty() {
        return Err("it is empty");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || punctuation.contains(&b))
    {
        return Err(other);
    }
    Ok(())
}

impl SecretId {
    /// AM's built-in administrator.
    pub const DEFAULT_USER: &'static str = "amadmin";

    /// Validates a user name.
    ///
    /// # Errors
    /// [`StoreError::InvalidUserName`] if it is empty, too long or has other characters.
    pub fn new(user: &str) -> Result<Self> {
        let bad = |reason| StoreError::InvalidUserName {
            name: user.to_owned(),
            reason,
        };
        if user.len() > MAX_USER_NAME_LEN {
            return Err(bad("it is too long"));
        }
        check_name(
            user,
            b"._-",
            "it contains a character other than a letter, digit, '.', '_' or '-'",
        )
        .map_err(bad)?;
        Ok(SecretId {
            user: user.to_owned(),
        })
    }

    /// The default id, `password.amadmin`.
    #[must_use]
    pub fn amadmin() -> Self {
        SecretId {
            user: Self::DEFAULT_USER.to_owned(),
        }
    }

    /// The user name.
    #[must_use]
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The secret id, which is also the file name in the secret directory: `password.<user>`.
    #[must_use]
    pub fn secret_id(&self) -> String {
        format!("password.{}", self.user)
    }

    /// File name in the secret directory (same as [`SecretId::secret_id`]).
    #[must_use]
    pub fn file_name(&self) -> String {
        self.secret_id()
    }

    /// File name of the backup of the replaced value: `password.<user>.previous`.
    #[must_use]
    pub fn backup_file_name(&self) -> String {
        format!("password.{}.previous", self.user)
    }

    /// Java system property: `password.<user>`.
    #[must_use]
    pub fn java_property(&self) -> String {
        self.secret_id()
    }

    /// The environment variable AM reads: `PASSWORD_` + user upper-cased with `.` mapped to `_`
    /// (`amadmin` → `PASSWORD_AMADMIN`). A `-` stays a `-`: such a variable can be set by
    /// systemd or a container runtime but not by a shell; see [`SecretId::shell_env_var`].
    #[must_use]
    pub fn env_var(&self) -> String {
        let mut v = String::from("PASSWORD_");
        v.extend(self.user.chars().map(|c| {
            if c == '.' {
                '_'
            } else {
                c.to_ascii_uppercase()
            }
        }));
        v
    }

    /// [`SecretId::env_var`] for a shell profile.
    ///
    /// # Errors
    /// [`StoreError::EnvVarNotExportable`] if the user name contains `-`: POSIX shells cannot
    /// `export` such a name, and mapping `-` to `_` would name a variable AM never reads.
    pub fn shell_env_var(&self) -> Result<String> {
        let var = self.env_var();
        if var.contains('-') {
            return Err(StoreError::EnvVarNotExportable {
                var,
                user: self.user.clone(),
            });
        }
        Ok(var)
    }
}

impl Default for SecretId {
    fn default() -> Self {
        Self::amadmin()
    }
}

impl FromStr for SecretId {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self> {
        Self::new(s)
    }
}

impl fmt::Display for SecretId {
    /// Writes the secret id, `password.<user>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "password.{}", self.user)
    }
}
