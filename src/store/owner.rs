//! Owners of written files, and the local user database (`/etc/passwd`, `/etc/group`).

use std::path::Path;

use super::{Result, StoreError};

/// A numeric owner for written files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Owner {
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
}

impl Owner {
    /// Resolves `USER`, `USER:GROUP`, `UID`, `UID:GID` (names and numbers may be mixed) with
    /// `/etc/passwd` and `/etc/group`. `USER` alone takes the user's primary group.
    ///
    /// Only the local files are read (no NSS, so LDAP/SSSD users must be given as `UID:GID`).
    ///
    /// # Errors
    /// [`StoreError::Owner`] for an unknown name or a malformed spec, [`StoreError::Io`] if
    /// a database that is needed cannot be read.
    pub fn resolve(spec: &str) -> Result<Owner> {
        let read = |p: &str| {
            std::fs::read_to_string(p)
                .map_err(|e| StoreError::io("read user database", Path::new(p), e))
        };
        let (user, group) = split_owner_spec(spec)?;
        let passwd = if user.parse::<u32>().is_err() || group.is_none() {
            read("/etc/passwd")?
        } else {
            String::new()
        };
        let groups = match group {
            Some(g) if g.parse::<u32>().is_err() => read("/etc/group")?,
            _ => String::new(),
        };
        Self::resolve_with(spec, &passwd, &groups)
    }

    /// [`Owner::resolve`] against the given contents of `/etc/passwd` and `/etc/group`.
    ///
    /// # Errors
    /// [`StoreError::Owner`] for an unknown name or a malformed spec.
    pub fn resolve_with(spec: &str, passwd: &str, group_db: &str) -> Result<Owner> {
        let err = |reason: String| StoreError::Owner {
            spec: spec.to_owned(),
            reason,
        };
        let (user, group) = split_owner_spec(spec)?;
        // passwd: name:x:uid:gid:gecos:home:shell
        let pw_entry = |pred: &dyn Fn(&[&str]) -> bool| -> Option<(u32, u32)> {
            passwd
                .lines()
                .map(|l| l.split(':').collect::<Vec<_>>())
                .find(|f| f.len() >= 4 && pred(f))
                .and_then(|f| {
                    Some((
                        f.get(2)?.parse::<u32>().ok()?,
                        f.get(3)?.parse::<u32>().ok()?,
                    ))
                })
        };
        let (uid, primary_gid) = match user.parse::<u32>() {
            Ok(uid) => (
                uid,
                pw_entry(&|f| f.get(2).is_some_and(|u| u.parse() == Ok(uid))).map(|(_, g)| g),
            ),
            Err(_) => match pw_entry(&|f| f.first() == Some(&user)) {
                Some((uid, gid)) => (uid, Some(gid)),
                None => {
                    return Err(err(format!(
                        "no user {user:?} in /etc/passwd; give a numeric UID:GID"
                    )));
                }
            },
        };
        let gid = match group {
            None => primary_gid.ok_or_else(|| {
                err(format!(
                    "uid {uid} is not in /etc/passwd, so it has no primary group; give UID:GID"
                ))
            })?,
            Some(g) => match g.parse::<u32>() {
                Ok(gid) => gid,
                Err(_) => group_db
                    .lines()
                    .map(|l| l.split(':').collect::<Vec<_>>())
                    .find(|f| f.first() == Some(&g))
                    .and_then(|f| f.get(2)?.parse::<u32>().ok())
                    .ok_or_else(|| {
                        err(format!("no group {g:?} in /etc/group; give a numeric GID"))
                    })?,
            },
        };
        if uid == u32::MAX || gid == u32::MAX {
            return Err(err("id 4294967295 (-1) is not a valid owner".to_owned()));
        }
        Ok(Owner { uid, gid })
    }
}

fn split_owner_spec(spec: &str) -> Result<(&str, Option<&str>)> {
    let err = |reason: &str| StoreError::Owner {
        spec: spec.to_owned(),
        reason: reason.to_owned(),
    };
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    if user.is_empty() {
        return Err(err("the user part is empty; use USER[:GROUP] or UID:GID"));
    }
    if group.is_some_and(|g| g.is_empty() || g.contains(':')) {
        return Err(err(
            "the group part is empty or has a ':'; use USER[:GROUP] or UID:GID",
        ));
    }
    Ok((user, group))
}

/// True when the effective user is root (ownership can be set freely).
pub(crate) fn running_as_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Whether `who` is in group `gid`: its primary group, or a member in `/etc/group`.
pub(crate) fn in_group(who: Owner, gid: u32) -> bool {
    if who.gid == gid {
        return true;
    }
    let Some(name) = user_name(who.uid) else {
        return false;
    };
    std::fs::read_to_string("/etc/group").is_ok_and(|db| {
        db.lines().any(|l| {
            let f: Vec<&str> = l.split(':').collect();
            f.get(2).and_then(|g| g.parse::<u32>().ok()) == Some(gid)
                && f.get(3)
                    .is_some_and(|members| members.split(',').any(|m| m == name))
        })
    })
}

/// The user name of `uid` in `/etc/passwd`, for messages (printable, at most 32 characters),
/// or `None` when it is not there or unreadable.
#[must_use]
pub fn user_name(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    name_in_passwd(&passwd, uid)
}

/// The first `NAME:x:UID:...` line of `passwd` with that uid.
#[must_use]
pub fn name_in_passwd(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let _password = fields.next()?;
        let line_uid: u32 = fields.next()?.parse().ok()?;
        let printable = !name.is_empty()
            && name.chars().count() <= 32
            && name.chars().all(|c| c.is_ascii_graphic());
        (line_uid == uid && printable).then(|| name.to_owned())
    })
}
