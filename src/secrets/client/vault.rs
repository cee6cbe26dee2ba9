//! `vault:MOUNT/PATH#FIELD` through `vaultrs`.
//!
//! Configured as the `vault` CLI is: `VAULT_ADDR` (required here: https, or plain http to a
//! loopback Vault Agent; see [`settings`]), `VAULT_NAMESPACE`, `VAULT_CACERT`/`VAULT_CAPATH`, `VAULT_CLIENT_CERT`/`VAULT_CLIENT_KEY`,
//! `VAULT_SKIP_VERIFY`; the token from `VAULT_TOKEN`, else the token helper file
//! `~/.vault-token` that `vault login` writes. No token: a failure before any request.
//!
//! Which part of MOUNT/PATH is the mount, and whether it is KV v1 or v2, is asked of Vault
//! as the `vault kv get` command does: `GET /v1/sys/internal/ui/mounts/MOUNT/PATH` answers the
//! mount's path and `options.version`. Then:
//!
//! | mount | request |
//! |-------|---------|
//! | KV v2 | `GET /v1/MOUNT/data/PATH`, the fields are `data.data` |
//! | KV v1 | `GET /v1/MOUNT/PATH`, the fields are `data` |
//! | lookup answers 404 (a Vault before 0.10.2) | as KV v1, as the CLI does |
//! | lookup answers 403 | permission denied (the token may not see the path at all) |

use std::collections::HashMap;
use std::io::Read as _;

use rustify_derive::Endpoint;
use serde::Deserialize;
use vaultrs::client::{VaultClient, VaultClientSettingsBuilder};
use vaultrs::error::ClientError;
use zeroize::Zeroizing;

use super::{Class, Failure, chain, fd_path, open_credential, with_retries};
use crate::secrets::VaultRef;

/// `GET /v1/sys/internal/ui/mounts/:path`: the mount a path is under.
#[derive(Debug, Endpoint)]
#[endpoint(path = "sys/internal/ui/mounts/{self.path}", response = "MountInfo")]
struct MountLookup {
    #[endpoint(skip)]
    path: String,
}

#[derive(Debug, Deserialize)]
struct MountInfo {
    path: String,
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    options: Option<HashMap<String, String>>,
}

/// The KV version of a mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kv {
    V1,
    V2,
}

pub(super) async fn fetch(r: &VaultRef) -> Result<Zeroizing<Vec<u8>>, Failure> {
    // The CA files stay open until the client has read them through /proc/self/fd.
    let (settings, _ca_files) = settings()?;
    let client = VaultClient::new(settings).map_err(|e| classify(&e))?;

    let lookup = with_retries(|| async {
        vaultrs::api::exec_with_result(
            &client,
            MountLookup {
                path: r.path.clone(),
            },
        )
        .await
        .map_err(|e| classify(&e))
    })
    .await;
    let (mount, path, kv) = match lookup {
        Ok(info) => {
            if info.kind != "kv" && info.kind != "generic" {
                return Err(Failure::new(
                    Class::Rejected,
                    "not KV",
                    format!(
                        "the mount {} is a {} mount, not a KV secrets engine",
                        crate::escape::text(&info.path),
                        crate::escape::text(&info.kind)
                    ),
                ));
            }
            let mount = info.path.trim_end_matches('/').to_owned();
            let Some(path) = r
                .path
                .strip_prefix(&mount)
                .and_then(|p| p.strip_prefix('/'))
                .filter(|p| !p.is_empty())
            else {
                return Err(Failure::new(
                    Class::NotFound,
                    "no path",
                    "the reference names the mount itself, not a secret under it",
                ));
            };
            let v2 = info
                .options
                .as_ref()
                .and_then(|o| o.get("version"))
                .is_some_and(|v| v == "2");
            (mount, path.to_owned(), if v2 { Kv::V2 } else { Kv::V1 })
        }
        Err(f) if f.class == Class::NotFound => {
            let (mount, path) = r.path.split_once('/').unwrap_or((&r.path, ""));
            (mount.to_owned(), path.to_owned(), Kv::V1)
        }
        Err(f) => return Err(f),
    };

    let data: serde_json::Value = with_retries(|| async {
        match kv {
            Kv::V2 => vaultrs::kv2::read(&client, &mount, &path).await,
            Kv::V1 => vaultrs::kv1::get_raw(&client, &mount, &path)
                .await
                .map(|resp| resp.data),
        }
        .map_err(|e| classify(&e))
    })
    .await?;
    // The fields as JSON text, for the one #FIELD selector every service shares.
    serde_json::to_vec(&data)
        .map(Zeroizing::new)
        .map_err(|e| Failure::new(Class::BadAnswer, "JSON", e))
}

/// The client's settings, from the environment as the `vault` CLI reads it, with the
/// checks vaultrs leaves out:
///
/// - `VAULT_ADDR` must be set (vaultrs would fall back to `http://127.0.0.1:8200`, where any
///   local account can listen when no agent runs) and must be https, or plain http to a
///   loopback address (a Vault Agent);
/// - `VAULT_SKIP_VERIFY` is read as the CLI reads it (Go's `ParseBool`: empty means verify,
///   anything unparsable is an error), where vaultrs turns verification off for any value
///   but `0`, `f` or `false`;
/// - the CA files of `VAULT_CACERT` and `VAULT_CAPATH` are opened here (see [`ca_files`]),
///   so vaultrs' own listing (which panics on a file name that is not UTF-8) never runs, and
///   vaultrs reads the very files that were checked; they are returned with the settings and
///   must stay open until the client is built.
fn settings() -> Result<(vaultrs::client::VaultClientSettings, Vec<std::fs::File>), Failure> {
    let setup = |what: &str, why: String| Failure::new(Class::Setup, what, why);
    let addr = env("VAULT_ADDR").ok_or_else(|| {
        setup(
            "VAULT_ADDR",
            "VAULT_ADDR is not set; set it to the Vault server's https:// URL".to_owned(),
        )
    })?;
    let endpoint = crate::endpoint::parse(&addr).map_err(|why| {
        setup(
            "VAULT_ADDR",
            format!("{}: {why}", crate::escape::text(&addr)),
        )
    })?;
    if !endpoint.carries_credentials() {
        return Err(setup(
            "VAULT_ADDR",
            "plain http would send the token unencrypted; use https:// (http only to a loopback Vault Agent)".to_owned(),
        ));
    }
    let verify = match env("VAULT_SKIP_VERIFY").as_deref() {
        None | Some("0" | "f" | "F" | "false" | "FALSE" | "False") => true,
        Some("1" | "t" | "T" | "true" | "TRUE" | "True") => false,
        Some(_) => {
            return Err(setup(
                "VAULT_SKIP_VERIFY",
                "VAULT_SKIP_VERIFY must be true or false".to_owned(),
            ));
        }
    };
    let ca = ca_files()?;
    let mut builder = VaultClientSettingsBuilder::default();
    builder
        .token(token()?.as_str())
        .verify(verify)
        .ca_certs(ca.iter().map(fd_path).collect());
    if let Some(ns) = env("VAULT_NAMESPACE") {
        builder.set_namespace(ns);
    }
    builder
        .build()
        .map(|s| (s, ca))
        .map_err(|e| setup("configuration", e.to_string()))
}

/// The CA bundle files, opened: `VAULT_CACERT`, and the regular files in `VAULT_CAPATH`.
/// Whoever chooses a CA can stand in for Vault (and take the token, and answer any key), so
/// each file must pass [`open_credential`]: root's or the caller's, in a directory no other
/// account can write.
fn ca_files() -> Result<Vec<std::fs::File>, Failure> {
    let bad = |why: String| Failure::new(Class::Setup, "CA bundle", why);
    let open = |path: &std::path::Path, what: &str| {
        open_credential(path, what, Class::Setup)?.ok_or_else(|| {
            bad(format!(
                "{what} {}: no such file",
                crate::escape::path(path)
            ))
        })
    };
    let mut files = Vec::new();
    if let Some(file) = env("VAULT_CACERT") {
        files.push(open(std::path::Path::new(&file), "VAULT_CACERT")?);
    }
    if let Some(dir) = env("VAULT_CAPATH") {
        let entries = std::fs::read_dir(&dir).map_err(|e| {
            bad(format!(
                "cannot list VAULT_CAPATH {}: {e}",
                crate::escape::text(&dir)
            ))
        })?;
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_file()) {
                files.push(open(&entry.path(), "a file of VAULT_CAPATH")?);
            }
        }
    }
    Ok(files)
}

/// A non-empty environment variable.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `VAULT_TOKEN`, else `~/.vault-token` (what `vault login` writes with the default token
/// helper), opened by [`open_credential`]: a regular file of this user or root, not behind
/// another account's link, in a directory no other account can write (a `HOME` the AM
/// account owns is refused, whatever it puts there), at most 4 KiB. A FIFO cannot hang the
/// fetch (it is opened without blocking and refused).
fn token() -> Result<Zeroizing<String>, Failure> {
    let none = |why: String| Failure::new(Class::Credentials, "no token", why);
    if let Some(t) = std::env::var_os("VAULT_TOKEN").filter(|t| !t.is_empty()) {
        return t
            .into_string()
            .map(Zeroizing::new)
            .map_err(|_| none("VAULT_TOKEN is not UTF-8".to_owned()));
    }
    let Some(home) = std::env::var_os("HOME") else {
        return Err(none(
            "VAULT_TOKEN is not set and HOME is unknown".to_owned(),
        ));
    };
    let file = std::path::Path::new(&home).join(".vault-token");
    let shown = crate::escape::path(&file);
    let Some(f) = open_credential(&file, "the token file", Class::Credentials)? else {
        return Err(none(format!(
            "VAULT_TOKEN is not set and there is no {shown}"
        )));
    };
    let mut text = Zeroizing::new(String::new());
    f.take(4097)
        .read_to_string(&mut text)
        .map_err(|e| none(format!("cannot read {shown}: {e}")))?;
    if text.len() > 4096 {
        return Err(none(format!("{shown} is larger than 4 KiB")));
    }
    match text.trim() {
        "" => Err(none(format!("VAULT_TOKEN is not set and {shown} is empty"))),
        t => Ok(Zeroizing::new(t.to_owned())),
    }
}

/// Sorts a `vaultrs` error into a [`Failure`].
fn classify(e: &ClientError) -> Failure {
    match e {
        ClientError::APIError { code, errors } => {
            let detail = if errors.is_empty() {
                "no detail from Vault".to_owned()
            } else {
                errors.join("; ")
            };
            Failure::new(
                Failure::class_of_http(*code),
                format!("HTTP {code}"),
                detail,
            )
        }
        ClientError::RestClientError { source } => match source {
            rustify::errors::ClientError::RequestError { source, url, .. } => {
                let reqwest = source.downcast_ref::<reqwest::Error>();
                let class = match reqwest {
                    Some(r) if r.is_connect() => Class::Unreachable,
                    Some(r) if r.is_timeout() => Class::Transient,
                    _ => Class::Transient,
                };
                let url = url.split('?').next().unwrap_or_default();
                Failure::new(
                    class,
                    "no response",
                    format!("{url}: {}", chain(source.as_ref())),
                )
            }
            rustify::errors::ClientError::ServerResponseError { code, .. } => Failure::new(
                Failure::class_of_http(*code),
                format!("HTTP {code}"),
                "Vault answered with an error",
            ),
            other => Failure::new(Class::BadAnswer, "response", chain(other)),
        },
        ClientError::RestClientBuildError { source } => {
            Failure::new(Class::Setup, "TLS or proxy settings", chain(source))
        }
        ClientError::ParseCertificateError { path, .. }
        | ClientError::FileNotFoundError { path }
        | ClientError::FileReadError { path, .. } => Failure::new(
            Class::Setup,
            "CA bundle",
            format!(
                "cannot use the certificate file {}",
                crate::escape::text(path)
            ),
        ),
        ClientError::ResponseEmptyError | ClientError::ResponseDataEmptyError => Failure::new(
            Class::NotFound,
            "no data",
            "Vault answered without data (a deleted or destroyed version?)",
        ),
        other => Failure::new(Class::BadAnswer, "response", chain(other)),
    }
}
