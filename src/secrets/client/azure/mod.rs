//! `azure-kv:https://VAULT.vault.azure.net/secrets/NAME[/VERSION][#FIELD]` through
//! `azure_security_keyvault_secrets` (`SecretClient::get_secret`, which is
//! `GET /secrets/NAME/VERSION?api-version=...`) and `azure_identity`.
//!
//! # Credentials
//!
//! `azure_identity` 1.0 has no `DefaultAzureCredential`, so this module builds the usual
//! chain itself. It takes the first source the environment configures, and uses that one
//! alone (a configured source that fails is reported, not skipped):
//!
//! | order | configured by | credential |
//! |-------|---------------|------------|
//! | 1 | `AZURE_TENANT_ID` + `AZURE_CLIENT_ID` + `AZURE_CLIENT_SECRET` | service principal (`ClientSecretCredential`) |
//! | 2 | `AZURE_FEDERATED_TOKEN_FILE` + `AZURE_TENANT_ID` + `AZURE_CLIENT_ID` | workload identity, e.g. AKS (`WorkloadIdentityCredential`; the token file must be root's or the caller's, in a directory no other account can write) |
//! | 3 | `IDENTITY_ENDPOINT` + `IDENTITY_HEADER` | App Service / Functions / Container Apps managed identity (`ManagedIdentityCredential`) |
//! | 4 | nothing of the above | the VM's managed identity through IMDS, if IMDS is there; else (or if it has no identity) the Azure CLI (`az login`), then the Azure Developer CLI (`azd auth login`) |
//!
//! With a managed identity, `AZURE_CLIENT_ID` selects a user-assigned identity.
//! `AZURE_AUTHORITY_HOST` names another Entra ID authority (a sovereign cloud). Half a
//! configuration (say `AZURE_CLIENT_SECRET` without `AZURE_TENANT_ID`) is an error, not a
//! reason to try the next source: it is a mistake to report, not a choice.
//!
//! Row 4 first probes IMDS (`169.254.169.254`) for at most [`IMDS_PROBE`], as the other Azure
//! SDKs' default chains do: off Azure nothing answers there (or another cloud's metadata
//! server does, which is not Azure's unless it answers the probe the Azure way), and the SDK's
//! own IMDS client would retry for over a minute.
//!
//! `IDENTITY_ENDPOINT` (row 3) receives `IDENTITY_HEADER` with every token request, so it must
//! be `https://`, or plain `http://` to a loopback host (where App Service and Container Apps
//! put it); any other value is a set-up failure before any request.
//!
//! The Azure CLI and the Azure Developer CLI (row 4, the SDK's `DeveloperToolsCredential`)
//! are run as `/bin/sh -c "cd /bin && az account get-access-token -o json --scope SCOPE"` and
//! `... && azd auth token -o json --no-prompt --scope SCOPE`, with `az` and `azd` looked up
//! only in the directories of the inherited `PATH` that no other account can change
//! ([`tools`]), and amhash's environment otherwise (as root under sudo, `HOME`, hence root's
//! `~/.azure` login, or `AZURE_CONFIG_DIR`) and its user. Whoever can write that `HOME` or
//! `AZURE_CONFIG_DIR` chooses the token. On a host with a configured identity (rows 1-3) or
//! IMDS, no tool is run.
//!
//! # Challenge authentication
//!
//! Key Vault tells the client which token it wants: the first request goes without one and
//! gets `401` with `WWW-Authenticate: Bearer authorization="https://login.microsoftonline.com/TENANT",
//! resource="https://vault.azure.net"` (or `scope="..."`). The SDK then gets a token for that
//! scope, checks that the vault's host is under the resource's domain, and sends the request
//! again. So no credential is asked for before the vault has answered, and the scope follows
//! the vault's cloud.
//!
//! The vault chooses the scope, so the credential is wrapped ([`KeyVaultOnly`]): it issues
//! tokens for Key Vault's scopes only ([`KEY_VAULT_SCOPES`]: the public cloud, China, US
//! Government, Germany), and refuses any other (say `https://management.azure.com/.default`,
//! or Microsoft Graph) without asking the credential. A vault cannot use its challenge to get a
//! token that is good anywhere but at Key Vault.
//!
//! # Plain http on loopback
//!
//! The SDK sends no token over plain http (the bearer policy refuses non-`https` URLs) and
//! takes no `http://` authority host. The reference parser allows `http://` only for a
//! loopback vault (an emulator, a test), and this module allows the same for
//! `AZURE_AUTHORITY_HOST`: the SDK is given `https://` for those loopback authorities, and the
//! HTTP transport ([`LoopbackHttp`]) sends their requests as `http://`, the only supported hook
//! for it. Nothing else is ever downgraded, so a token leaves the host only over TLS. For a
//! loopback vault the challenge's resource cannot be under the vault's host, so the SDK's check
//! of it is off there; [`KeyVaultOnly`] still holds, so whoever holds that loopback port gets at
//! most a Key Vault token, never one for another resource.
//!
//! # Retries
//!
//! The SDK's own retries are off ([`RetryOptions::none`]): [`with_retries`] retries, with the
//! same rules as every service. (The SDK's IMDS client keeps its own, which the IMDS probe
//! keeps off hosts that have no IMDS.)

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_core::error::ErrorKind;
use azure_core::http::{
    AsyncRawResponse, ClientOptions, HttpClient, Method, Request, RetryOptions, Transport, Url,
    new_http_client,
};
use azure_identity::{
    ClientAssertionCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions,
    DeveloperToolsCredential, DeveloperToolsCredentialOptions, ManagedIdentityCredential,
    ManagedIdentityCredentialOptions, UserAssignedId, WorkloadIdentityCredential,
    WorkloadIdentityCredentialOptions,
};
use azure_security_keyvault_secrets::models::SecretClientGetSecretOptions;
use azure_security_keyvault_secrets::{SecretClient, SecretClientOptions};
use zeroize::Zeroizing;

use super::{Class, Failure, fd_path, open_credential, with_retries};
use crate::secrets::AzureRef;

/// How long the IMDS probe waits for an answer.
pub(crate) const IMDS_PROBE: Duration = Duration::from_secs(1);

/// The IMDS token endpoint (fixed in the SDK too).
const IMDS_TOKEN_URL: &str = "http://169.254.169.254/metadata/identity/oauth2/token";

pub(super) async fn fetch(r: &AzureRef) -> Result<Zeroizing<Vec<u8>>, Failure> {
    let mut plain = HashSet::new();
    let vault_url = match r.vault_url.strip_prefix("http://") {
        // The parser allowed http only for a loopback host.
        Some(authority) => {
            plain.insert(authority.to_owned());
            format!("https://{authority}")
        }
        None => r.vault_url.clone(),
    };
    let cloud = authority_host(&mut plain)?;
    let http: Arc<dyn HttpClient> = Arc::new(LoopbackHttp {
        inner: new_http_client(None),
        plain,
    });
    let options = |cloud: Option<Arc<CloudConfiguration>>| ClientOptions {
        retry: RetryOptions::none(),
        transport: Some(Transport::new(Arc::clone(&http))),
        cloud,
        ..ClientOptions::default()
    };
    let credential: Arc<dyn TokenCredential> = Arc::new(KeyVaultOnly {
        inner: credential(options(cloud.clone()), Arc::clone(&http))?,
    });
    let client = SecretClient::new(
        &vault_url,
        credential,
        Some(SecretClientOptions {
            client_options: options(None),
            verify_challenge_resource: Some(!is_loopback(&vault_url)),
            ..SecretClientOptions::default()
        }),
    )
    .map_err(|e| Failure::new(Class::Setup, "vault URL", first_line(&e.to_string())))?;

    let secret = with_retries(|| async {
        let response = client
            .get_secret(
                &r.name,
                Some(SecretClientGetSecretOptions {
                    secret_version: r.version.clone(),
                    ..SecretClientGetSecretOptions::default()
                }),
            )
            .await
            .map_err(|e| classify(&e))?;
        response.into_model().map_err(|e| {
            Failure::new(
                Class::BadAnswer,
                "secret bundle",
                first_line(&e.to_string()),
            )
        })
    })
    .await?;
    match secret.value {
        Some(value) => Ok(Zeroizing::new(value.into_bytes())),
        None => Err(Failure::new(
            Class::BadAnswer,
            "no value",
            "Key Vault answered a secret bundle without a value",
        )),
    }
}

/// `AZURE_AUTHORITY_HOST`, when it is a plain-http loopback authority (the SDK takes only
/// https): the cloud configuration that names it as https, its authority added to `plain`.
/// Any other value is left to the SDK, which reads the variable itself.
fn authority_host(plain: &mut HashSet<String>) -> Result<Option<Arc<CloudConfiguration>>, Failure> {
    let Some(host) = env("AZURE_AUTHORITY_HOST") else {
        return Ok(None);
    };
    let Some(rest) = host.strip_prefix("http://") else {
        return Ok(None);
    };
    let authority = rest.trim_end_matches('/');
    if !is_loopback(&host) || authority.contains('/') {
        return Err(Failure::new(
            Class::Setup,
            "AZURE_AUTHORITY_HOST",
            "plain http would send the client credentials unencrypted; use https://",
        ));
    }
    plain.insert(authority.to_owned());
    let mut custom = CustomConfiguration::default();
    custom.authority_host = format!("https://{authority}");
    Ok(Some(Arc::new(CloudConfiguration::Custom(custom))))
}

/// Whether `url` (`scheme://HOST[:PORT]...`) is on a loopback host.
fn is_loopback(url: &str) -> bool {
    crate::endpoint::parse(url).is_ok_and(|e| e.is_loopback())
}

/// `IDENTITY_ENDPOINT`, checked: https, or http to a loopback host only (the endpoint gets
/// `IDENTITY_HEADER` with each request, and answers a token).
fn check_identity_endpoint(url: &str) -> Result<(), Failure> {
    let bad = |why: &str| {
        Failure::new(
            Class::Setup,
            "IDENTITY_ENDPOINT",
            format!("{}: {why}", crate::escape::text(url)),
        )
    };
    let endpoint = crate::endpoint::parse(url).map_err(bad)?;
    if !endpoint.carries_credentials() {
        return Err(bad(
            "plain http to a host that is not loopback would send IDENTITY_HEADER and the token unencrypted; use https://",
        ));
    }
    Ok(())
}

/// A non-empty environment variable.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The credential of the chain in the module documentation.
fn credential(options: ClientOptions, http: Arc<dyn HttpClient>) -> Result<Source, Failure> {
    let setup = |e: azure_core::Error| {
        Failure::new(
            Class::Credentials,
            "credential set-up",
            first_line(&e.to_string()),
        )
    };
    let missing = |source: &str, names: &[&str]| {
        let unset: Vec<&str> = names.iter().copied().filter(|n| env(n).is_none()).collect();
        Failure::new(
            Class::Credentials,
            "incomplete configuration",
            format!("{source} is set but not {}", unset.join(" and ")),
        )
    };
    let (tenant, client) = (env("AZURE_TENANT_ID"), env("AZURE_CLIENT_ID"));

    // 1. Service principal with a client secret.
    if let Some(secret) = env("AZURE_CLIENT_SECRET") {
        let (Some(tenant), Some(client)) = (tenant, client) else {
            return Err(missing(
                "AZURE_CLIENT_SECRET",
                &["AZURE_TENANT_ID", "AZURE_CLIENT_ID"],
            ));
        };
        let credential = ClientSecretCredential::new(
            &tenant,
            client,
            secret.into(),
            Some(ClientSecretCredentialOptions {
                client_options: options,
            }),
        )
        .map_err(setup)?;
        return Ok(Source::Sdk(credential));
    }

    // 2. Workload identity (a federated token in a file). The file's owner chooses the
    // assertion, so it is opened by `open_credential` (root's or the caller's, in a directory
    // no other account can write) and the SDK reads that very file through /proc/self/fd/N.
    if let Some(path) = env("AZURE_FEDERATED_TOKEN_FILE") {
        if tenant.is_none() || client.is_none() {
            return Err(missing(
                "AZURE_FEDERATED_TOKEN_FILE",
                &["AZURE_TENANT_ID", "AZURE_CLIENT_ID"],
            ));
        }
        let path = std::path::Path::new(&path);
        let file = open_credential(path, "AZURE_FEDERATED_TOKEN_FILE", Class::Credentials)?
            .ok_or_else(|| {
                Failure::new(
                    Class::Credentials,
                    "no token file",
                    format!(
                        "AZURE_FEDERATED_TOKEN_FILE {}: no such file",
                        crate::escape::path(path)
                    ),
                )
            })?;
        let credential = WorkloadIdentityCredential::new(Some(WorkloadIdentityCredentialOptions {
            credential_options: ClientAssertionCredentialOptions {
                client_options: options,
            },
            token_file_path: Some(fd_path(&file).into()),
            ..WorkloadIdentityCredentialOptions::default()
        }))
        .map_err(setup)?;
        return Ok(Source::Workload {
            credential,
            _token_file: file,
        });
    }

    let managed = |options: ClientOptions| {
        ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
            user_assigned_id: client.clone().map(UserAssignedId::ClientId),
            client_options: options,
        }))
    };

    // 3. Managed identity, App Service style.
    if let Some(endpoint) = env("IDENTITY_ENDPOINT") {
        if env("IDENTITY_HEADER").is_none() {
            return Err(missing("IDENTITY_ENDPOINT", &["IDENTITY_HEADER"]));
        }
        check_identity_endpoint(&endpoint)?;
        return Ok(Source::Sdk(managed(options).map_err(setup)?));
    }

    // 4. Nothing configured: the VM's managed identity if IMDS is there, then the CLIs. No
    // IDENTITY_ENDPOINT here, so the SDK's managed identity is the IMDS one.
    let imds: Arc<dyn TokenCredential> = managed(options).map_err(setup)?;
    let tools: Arc<dyn TokenCredential> =
        DeveloperToolsCredential::new(Some(DeveloperToolsCredentialOptions {
            executor: Some(Arc::new(tools::TrustedPathExecutor::from_env())),
        }))
        .map_err(setup)?;
    Ok(Source::Unconfigured(Unconfigured { http, imds, tools }))
}

/// The scopes of Key Vault's data plane, one a cloud (public, China, US Government,
/// Germany): the only tokens [`KeyVaultOnly`] lets the credential issue.
pub(crate) const KEY_VAULT_SCOPES: [&str; 4] = [
    "https://vault.azure.net/.default",
    "https://vault.azure.cn/.default",
    "https://vault.usgovcloudapi.net/.default",
    "https://vault.microsoftazure.de/.default",
];

/// A credential that issues tokens for [`KEY_VAULT_SCOPES`] only (see the module
/// documentation): the vault's challenge names the scope, and a vault (or whoever answers for
/// it) must not get a token for another resource.
struct KeyVaultOnly {
    inner: Source,
}

impl fmt::Debug for KeyVaultOnly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyVaultOnly").finish_non_exhaustive()
    }
}

/// What [`KeyVaultOnly`] refuses: a scope that is not Key Vault's.
#[derive(Debug)]
struct ForeignScope(String);

impl fmt::Display for ForeignScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the vault's challenge asks for a token for {}, which is not Key Vault's (https://vault.azure.net and its sovereign clouds); none was asked for",
            crate::escape::text(&self.0)
        )
    }
}

impl std::error::Error for ForeignScope {}

/// Where [`KeyVaultOnly`] gets its tokens: a credential of the SDK (rows 1 to 3 of the chain),
/// or row 4, which tries two of them in turn.
enum Source {
    Sdk(Arc<dyn TokenCredential>),
    /// Workload identity, with the federated token file it reads through /proc/self/fd/N
    /// (kept open as long as the credential).
    Workload {
        credential: Arc<dyn TokenCredential>,
        _token_file: std::fs::File,
    },
    Unconfigured(Unconfigured),
}

/// `Ok` if every one of `scopes` (at least one) is Key Vault's.
fn key_vault_scopes_only(scopes: &[&str]) -> azure_core::Result<()> {
    let foreign = match scopes.iter().find(|s| !KEY_VAULT_SCOPES.contains(s)) {
        Some(foreign) => *foreign,
        None if scopes.is_empty() => "no scope",
        None => return Ok(()),
    };
    Err(azure_core::Error::new(
        ErrorKind::Other,
        ForeignScope(foreign.to_owned()),
    ))
}

#[async_trait::async_trait]
impl TokenCredential for KeyVaultOnly {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        key_vault_scopes_only(scopes)?;
        match &self.inner {
            Source::Sdk(credential) | Source::Workload { credential, .. } => {
                credential.get_token(scopes, options).await
            }
            Source::Unconfigured(chain) => chain.token(scopes, options).await,
        }
    }
}

/// Row 4 of the chain: IMDS if it answers the probe, then the developer tools.
struct Unconfigured {
    http: Arc<dyn HttpClient>,
    imds: Arc<dyn TokenCredential>,
    tools: Arc<dyn TokenCredential>,
}

impl fmt::Debug for Unconfigured {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unconfigured").finish_non_exhaustive()
    }
}

impl Unconfigured {
    /// Whether Azure's IMDS is there: it answers a token request without the `Metadata`
    /// header with 400 (other clouds' metadata servers answer 404, or nothing does).
    async fn imds_present(&self) -> bool {
        let Ok(url) = Url::parse(IMDS_TOKEN_URL) else {
            return false;
        };
        let probe = Request::new(url, Method::Get);
        matches!(
            tokio::time::timeout(IMDS_PROBE, self.http.execute_request(&probe)).await,
            Ok(Ok(response)) if u16::from(response.status()) == 400
        )
    }

    async fn token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let imds = if self.imds_present().await {
            match self.imds.get_token(scopes, options.clone()).await {
                Ok(token) => return Ok(token),
                Err(e) => tools_failure(&e.to_string()),
            }
        } else {
            "IMDS (169.254.169.254) did not answer".to_owned()
        };
        match self.tools.get_token(scopes, options).await {
            Ok(token) => Ok(token),
            Err(e) => Err(azure_core::Error::with_message(
                ErrorKind::Credential,
                format!(
                    "no Azure credentials: AZURE_CLIENT_SECRET, AZURE_FEDERATED_TOKEN_FILE and \
                     IDENTITY_ENDPOINT are unset; managed identity: {imds}; {}",
                    tools_failure(&e.to_string())
                ),
            )),
        }
    }
}

/// The SDK's HTTP client, sending requests to the listed loopback authorities as plain
/// http (see the module documentation).
#[derive(Debug)]
struct LoopbackHttp {
    inner: Arc<dyn HttpClient>,
    /// `HOST:PORT` of the loopback authorities named with `http://`.
    plain: HashSet<String>,
}

impl LoopbackHttp {
    fn downgrade(&self, request: &Request) -> Option<Request> {
        let url = request.url();
        if url.scheme() != "https" {
            return None;
        }
        let authority = match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            _ => return None,
        };
        if !self.plain.contains(&authority) {
            return None;
        }
        let mut plain = request.clone();
        // An authority without a port was written `http://HOST`: port 80 is what was meant.
        plain.url_mut().set_scheme("http").ok()?;
        Some(plain)
    }
}

impl HttpClient for LoopbackHttp {
    fn execute_request<'s, 'r, 'f>(
        &'s self,
        request: &'r Request,
    ) -> Pin<Box<dyn Future<Output = azure_core::Result<AsyncRawResponse>> + Send + 'f>>
    where
        's: 'f,
        'r: 'f,
        Self: 'f,
    {
        Box::pin(async move {
            match self.downgrade(request) {
                Some(plain) => self.inner.execute_request(&plain).await,
                None => self.inner.execute_request(request).await,
            }
        })
    }
}

/// Sorts an SDK error into a [`Failure`].
fn classify(e: &azure_core::Error) -> Failure {
    if let Some(foreign) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<ForeignScope>())
    {
        return Failure::new(Class::Setup, "challenge", foreign);
    }
    match e.kind() {
        ErrorKind::HttpResponse {
            status,
            error_code,
            raw_response,
        } => {
            let code = u16::from(*status);
            let body = raw_response
                .as_ref()
                .and_then(|r| serde_json::from_slice::<serde_json::Value>(r.body().as_ref()).ok());
            let error = body.as_ref().map(|b| &b["error"]);
            let service_code = error
                .and_then(|e| e["code"].as_str())
                .or(error_code.as_deref())
                .unwrap_or_default();
            let inner = error.and_then(|e| e["innererror"]["code"].as_str());
            let message = error
                .and_then(|e| e["message"].as_str())
                .map(str::to_owned)
                .unwrap_or_else(|| first_line(&e.to_string()));
            let detail = match inner {
                Some(inner) => format!("{message} ({inner})"),
                None => message,
            };
            let status = format!("HTTP {code} {service_code}");
            Failure::new(Failure::class_of_http(code), status.trim_end(), detail)
        }
        ErrorKind::Credential => credential_failure(e),
        ErrorKind::Connection => {
            Failure::new(Class::Unreachable, "no connection", squash(&chain(e)))
        }
        // A connection cut mid-request, a body that stopped.
        ErrorKind::Io => Failure::new(Class::Transient, "connection", squash(&chain(e))),
        ErrorKind::DataConversion => {
            Failure::new(Class::BadAnswer, "response", first_line(&e.to_string()))
        }
        // The SDK's own checks of URLs and challenges.
        _ => Failure::new(Class::Setup, "client", first_line(&e.to_string())),
    }
}

/// A credential that could not get a token: its HTTP status and error code if the token
/// endpoint answered one (429 and 5xx are worth retrying), else what it said.
fn credential_failure(e: &azure_core::Error) -> Failure {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(ErrorKind::HttpResponse {
            status,
            raw_response,
            ..
        }) = c
            .downcast_ref::<azure_core::Error>()
            .map(azure_core::Error::kind)
        {
            let code = u16::from(*status);
            // Entra ID's errors are `{"error": "invalid_client", "error_description": ...}`.
            let entra = raw_response
                .as_ref()
                .and_then(|r| serde_json::from_slice::<serde_json::Value>(r.body().as_ref()).ok())
                .and_then(|b| b["error"].as_str().map(str::to_owned));
            let status = match entra {
                Some(error) => format!("token endpoint HTTP {code} {error}"),
                None => format!("token endpoint HTTP {code}"),
            };
            let class = match Failure::class_of_http(code) {
                Class::Transient => Class::Transient,
                _ => Class::Credentials,
            };
            return Failure::new(class, status, first_line(&e.to_string()));
        }
        cause = c.source();
    }
    Failure::new(Class::Credentials, "no token", squash(&chain(e)))
}

/// The first line of an SDK message (the credentials add a troubleshooting link below).
fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().trim().to_owned()
}

/// `text` on one line.
fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An error and its causes, joined, skipping a cause the text already ends with (the SDK
/// wraps an error in one that repeats it).
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = first_line(&e.to_string());
    let mut cause = e.source();
    while let Some(c) = cause {
        let part = first_line(&c.to_string());
        if !part.is_empty() && !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cause = c.source();
    }
    text
}

/// A chained credential's message, one line: `Multiple errors were encountered ...`, then
/// for each credential `XCredential authentication failed. REASON` and a troubleshooting
/// link; kept: `XCredential: REASON; ...`.
fn tools_failure(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty() && !l.starts_with("To troubleshoot") && !l.starts_with("Multiple errors")
        })
        .map(|l| l.replacen(" authentication failed.", ":", 1))
        .collect::<Vec<_>>()
        .join("; ")
}

mod tools;

#[cfg(test)]
mod tests;
