//! `vault:MOUNT/PATH#FIELD` through `vaultrs`.
//!
//! Configured as the `vault` CLI is: `VAULT_ADDR` (default `http://127.0.0.1:8200`),
//! `VAULT_NAMESPACE`, `VAULT_CACERT`/`VAULT_CAPATH`, `VAULT_CLIENT_CERT`/`VAULT_CLIENT_KEY`,
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
use std::io;

use rustify_derive::Endpoint;
use serde::Deserialize;
use vaultrs::client::{VaultClient, VaultClientSettingsBuilder};
use vaultrs::error::ClientError;
use zeroize::Zeroizing;

use super::{Class, Failure, chain, with_retries};
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
    let token = token()?;
    let mut settings = VaultClientSettingsBuilder::default();
    settings.token(token.as_str());
    if let Some(ns) = std::env::var("VAULT_NAMESPACE")
        .ok()
        .filter(|n| !n.is_empty())
    {
        settings.set_namespace(ns);
    }
    let settings = settings
        .build()
        .map_err(|e| Failure::new(Class::Setup, "configuration", e))?;
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

/// `VAULT_TOKEN`, else `~/.vault-token` (what `vault login` writes with the default token
/// helper).
fn token() -> Result<Zeroizing<String>, Failure> {
    if let Some(t) = std::env::var_os("VAULT_TOKEN").filter(|t| !t.is_empty()) {
        return t.into_string().map(Zeroizing::new).map_err(|_| {
            Failure::new(
                Class::Credentials,
                "VAULT_TOKEN",
                "VAULT_TOKEN is not UTF-8",
            )
        });
    }
    let Some(home) = std::env::var_os("HOME") else {
        return Err(Failure::new(
            Class::Credentials,
            "no token",
            "VAULT_TOKEN is not set and HOME is unknown",
        ));
    };
    let file = std::path::Path::new(&home).join(".vault-token");
    match std::fs::read_to_string(&file) {
        Ok(t) if !t.trim().is_empty() => Ok(Zeroizing::new(t.trim().to_owned())),
        Ok(_) => Err(Failure::new(
            Class::Credentials,
            "no token",
            format!(
                "VAULT_TOKEN is not set and {} is empty",
                crate::escape::path(&file)
            ),
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(Failure::new(
            Class::Credentials,
            "no token",
            format!(
                "VAULT_TOKEN is not set and there is no {}",
                crate::escape::path(&file)
            ),
        )),
        Err(e) => Err(Failure::new(
            Class::Credentials,
            "no token",
            format!("cannot read {}: {e}", crate::escape::path(&file)),
        )),
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
