//! `azure-kv:URL/secrets/NAME[/VERSION][#FIELD]` against loopback fakes of the services, as
//! their REST APIs are documented:
//!
//! - Key Vault: `GET /secrets/{name}/{version}?api-version=...` (no version: the current one)
//!   answering the secret bundle `{"value", "id", "attributes"}`; errors
//!   `{"error": {"code", "message"}}` with the HTTP status; challenge authentication (a
//!   request without a bearer token gets 401 with `WWW-Authenticate: Bearer
//!   authorization="https://login.microsoftonline.com/TENANT", resource="https://vault.azure.net"`),
//!   and every other request must carry the bearer token the fake expects.
//! - Microsoft Entra ID: `POST /{tenant}/oauth2/v2.0/token` with a form body (client
//!   credentials: `client_id`, `client_secret`, `scope`; workload identity: a
//!   `client_assertion`), answering `{"token_type", "expires_in", "access_token"}`, errors
//!   `{"error": "invalid_client", "error_description": "AADSTS..."}`. Reached through
//!   `AZURE_AUTHORITY_HOST=http://127.0.0.1:PORT`.
//! - The App Service managed identity endpoint: `GET IDENTITY_ENDPOINT?resource=...&api-version=2019-08-01`
//!   with the `X-IDENTITY-HEADER` header.
//! - The Azure CLI: an `az` script on PATH answering `az account get-access-token -o json`.

use serde_json::{Value, json};

use super::{HELD, assert_commands_work, assert_fails, assert_fetched};
use crate::support::fake_http::{FakeHttp, Req, Resp, closed_port_url};
use crate::support::{check_failure, describe};

pub(super) const TENANT: &str = "0b7f6c4e-3c1d-4a8e-9f55-2a9b1c3d4e5f";
pub(super) const CLIENT_ID: &str = "5d2c8a71-93e4-4f0b-b6a2-7c1e0d9f3a48";
pub(super) const CLIENT_SECRET: &str = "Xq~8Q~amhash.client-secret_0123456789ab";
pub(super) const TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.amhash-test-access-token.c2ln";
const MI_TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.amhash-managed-identity.c2ln";
const IDENTITY_HEADER: &str = "b2f8e3a4-6c1d-4e7f-9a0b-1c2d3e4f5a6b";
pub(super) const ASSERTION: &str =
    "eyJhbGciOiJSUzI1NiJ9.amhash-federated-service-account-token.c2ln";
/// The older version of `am-enc` (a key rotated away from).
const OLD: &str = "Previous-Am-Encryption-Pwd_2025";
const OLD_VERSION: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
const CURRENT_VERSION: &str = "5b6d1c0e9f8a47b3a2c1d0e9f8a7b6c5";
const SCOPE: &str = "https://vault.azure.net/.default";

const SECRETS: [&str; 6] = [HELD, CLIENT_SECRET, TOKEN, MI_TOKEN, ASSERTION, OLD];

/// A Key Vault holding `am-enc` (two versions, text), `am-json` (a JSON object) and
/// `am-locked` (which the caller may not read), accepting the bearer token `token` only.
pub(super) fn key_vault(token: &'static str) -> FakeHttp {
    FakeHttp::start(move |req| key_vault_answer(req, token))
}

fn kv_error(status: u16, code: &str, message: &str) -> Resp {
    Resp::json(status, json!({"error": {"code": code, "message": message}}))
}

fn challenge(message: &str) -> Resp {
    kv_error(401, "Unauthorized", message).with_header(
        "WWW-Authenticate",
        &format!(
            "Bearer authorization=\"https://login.microsoftonline.com/{TENANT}\", resource=\"https://vault.azure.net\""
        ),
    )
}

fn key_vault_answer(req: &Req, token: &str) -> Resp {
    let Some(bearer) = req.header("authorization") else {
        return challenge("AKV10000: Request is missing a Bearer or PoP token.");
    };
    if bearer != format!("Bearer {token}") {
        return challenge(
            "AKV10032: Invalid issuer. Expected one of https://sts.windows.net/..., found ...",
        );
    }
    if req.method != "GET"
        || !query(req)
            .iter()
            .any(|(k, v)| k == "api-version" && !v.is_empty())
    {
        return kv_error(
            400,
            "BadParameter",
            "The request URI is missing the api-version",
        );
    }
    let endpoint = format!("http://{}", req.header("host").unwrap_or_default());
    let path = req.path.trim_end_matches('/');
    let Some(rest) = path.strip_prefix("/secrets/") else {
        return kv_error(404, "NotFound", "unknown path");
    };
    let (name, version) = rest.split_once('/').unwrap_or((rest, ""));
    let value = match (name, version) {
        ("am-enc", "" | CURRENT_VERSION) => HELD.to_owned(),
        ("am-enc", OLD_VERSION) => OLD.to_owned(),
        ("am-json", "") => json!({"password": HELD, "user": "amadmin", "port": 8443}).to_string(),
        ("am-locked", _) => {
            return Resp::json(
                403,
                json!({"error": {"code": "Forbidden",
                    "message": "Caller is not authorized to perform action on resource. Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'",
                    "innererror": {"code": "ForbiddenByRbac"}}}),
            );
        }
        _ => {
            return kv_error(
                404,
                "SecretNotFound",
                &format!("A secret with (name/id) {name} was not found in this key vault."),
            );
        }
    };
    let version = if version.is_empty() {
        CURRENT_VERSION
    } else {
        version
    };
    Resp::json(
        200,
        json!({"value": value, "id": format!("{endpoint}/secrets/{name}/{version}"),
               "attributes": {"enabled": true, "created": 1764496800, "updated": 1764496800,
                              "recoveryLevel": "Recoverable+Purgeable", "recoverableDays": 90},
               "tags": {}}),
    )
}

/// Microsoft Entra ID for tenant [`TENANT`]: the app [`CLIENT_ID`] with the secret
/// `secret`, or with the federated assertion [`ASSERTION`], gets [`TOKEN`].
pub(super) fn entra(secret: &'static str) -> FakeHttp {
    FakeHttp::start(move |req| {
        let entra_error = |status: u16, error: &str, description: &str| {
            Resp::json(
                status,
                json!({"error": error, "error_description": description,
                       "error_codes": [7000215], "timestamp": "2026-11-30 10:00:00Z",
                       "trace_id": "0a1b2c3d-0000-0000-0000-000000000000",
                       "correlation_id": "0a1b2c3d-1111-1111-1111-111111111111"}),
            )
        };
        if req.method != "POST" || req.path != format!("/{TENANT}/oauth2/v2.0/token") {
            return entra_error(
                400,
                "invalid_request",
                "AADSTS90002: Tenant not found. Check to make sure you have the correct tenant ID.",
            );
        }
        let form = form(&req.body);
        let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        if get("client_id") != Some(CLIENT_ID) || get("scope") != Some(SCOPE) {
            return entra_error(
                400,
                "invalid_request",
                "AADSTS700016: Application not found.",
            );
        }
        let authenticated = match get("grant_type") {
            Some("client_credentials") => {
                get("client_secret") == Some(secret)
                    || (get("client_assertion_type")
                        == Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
                        && get("client_assertion") == Some(ASSERTION))
            }
            _ => false,
        };
        if !authenticated {
            return entra_error(
                401,
                "invalid_client",
                "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value.",
            );
        }
        Resp::json(
            200,
            json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                   "access_token": TOKEN}),
        )
    })
}

/// The App Service managed identity endpoint, answering [`MI_TOKEN`] for `X-IDENTITY-HEADER:
/// IDENTITY_HEADER`.
fn app_service_identity() -> FakeHttp {
    FakeHttp::start(|req| {
        let q = query(req);
        let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        if req.header("x-identity-header") != Some(IDENTITY_HEADER) {
            return Resp::json(401, json!({"statusCode": 401, "message": "Unauthorized"}));
        }
        if req.path != "/msi/token"
            || get("api-version") != Some("2019-08-01")
            || get("resource") != Some("https://vault.azure.net")
        {
            return Resp::json(400, json!({"statusCode": 400, "message": "bad request"}));
        }
        Resp::json(
            200,
            json!({"access_token": MI_TOKEN, "expires_on": "4102444800",
                   "resource": "https://vault.azure.net", "token_type": "Bearer",
                   "client_id": CLIENT_ID}),
        )
    })
}

/// `application/x-www-form-urlencoded` pairs, decoded.
fn form(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn query(req: &Req) -> Vec<(String, String)> {
    form(&req.query)
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

/// The reference of secret `path` (`NAME[/VERSION][#FIELD]`) in the fake vault.
pub(super) fn reference(vault: &FakeHttp, path: &str) -> String {
    format!("azure-kv:{}/secrets/{path}", vault.endpoint())
}

/// A service principal with `secret`, authenticating at the fake Entra ID.
fn principal<'a>(entra: &'a FakeHttp, secret: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("AZURE_AUTHORITY_HOST", entra.endpoint()),
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_CLIENT_ID", CLIENT_ID),
        ("AZURE_CLIENT_SECRET", secret),
    ]
}

#[test]
fn current_version_is_read_after_the_challenge_with_a_service_principal() {
    let (vault, entra) = (key_vault(TOKEN), entra(CLIENT_SECRET));
    assert_fetched(
        &reference(&vault, "am-enc"),
        &principal(&entra, CLIENT_SECRET),
        HELD,
    );

    // The challenge first (no token), then the request with the bearer token.
    let requests = vault.requests();
    assert_eq!(requests.len(), 2, "{:?}", vault.calls());
    assert_eq!(requests[0].header("authorization"), None);
    assert_eq!(
        requests[1].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    for r in &requests {
        assert_eq!(
            (r.method.as_str(), r.path.trim_end_matches('/')),
            ("GET", "/secrets/am-enc")
        );
        assert!(r.query.starts_with("api-version="), "{r:?}");
    }
    // One token request, with the client credentials and the scope the challenge named.
    let token_requests = entra.requests();
    assert_eq!(entra.calls(), [format!("POST /{TENANT}/oauth2/v2.0/token")]);
    let form = form(&token_requests[0].body);
    for pair in [
        ("grant_type", "client_credentials"),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("scope", SCOPE),
    ] {
        assert!(
            form.contains(&(pair.0.to_owned(), pair.1.to_owned())),
            "{pair:?} in {form:?}"
        );
    }
    // And every command with it.
    assert_commands_work(
        &reference(&vault, "am-enc"),
        &principal(&entra, CLIENT_SECRET),
    );
}

#[test]
fn json_field_and_explicit_version_are_read() {
    let (vault, entra) = (key_vault(TOKEN), entra(CLIENT_SECRET));
    let env = principal(&entra, CLIENT_SECRET);
    assert_fetched(&reference(&vault, "am-json#password"), &env, HELD);
    assert_fetched(&reference(&vault, "am-json#user"), &env, "amadmin");
    assert_fetched(
        &reference(&vault, &format!("am-enc/{OLD_VERSION}")),
        &env,
        OLD,
    );
    assert_fetched(
        &reference(&vault, &format!("am-enc/{CURRENT_VERSION}")),
        &env,
        HELD,
    );
    let paths = vault.calls();
    assert!(
        paths.contains(&format!("GET /secrets/am-enc/{OLD_VERSION}")),
        "{paths:?}"
    );
}

#[test]
fn workload_identity_exchanges_the_federated_token() {
    let (vault, entra) = (key_vault(TOKEN), entra(CLIENT_SECRET));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("azure-identity-token");
    std::fs::write(&file, ASSERTION).unwrap();
    let env = [
        ("AZURE_AUTHORITY_HOST", entra.endpoint()),
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_CLIENT_ID", CLIENT_ID),
        ("AZURE_FEDERATED_TOKEN_FILE", file.to_str().unwrap()),
    ];
    assert_fetched(&reference(&vault, "am-enc"), &env, HELD);
    let form = form(&entra.requests()[0].body);
    assert!(
        form.contains(&("client_assertion".to_owned(), ASSERTION.to_owned())),
        "{form:?}"
    );
    assert!(!form.iter().any(|(k, _)| k == "client_secret"), "{form:?}");
}

#[test]
fn app_service_managed_identity_is_used() {
    let (vault, identity) = (key_vault(MI_TOKEN), app_service_identity());
    let endpoint = format!("{}/msi/token", identity.endpoint());
    let env = [
        ("IDENTITY_ENDPOINT", endpoint.as_str()),
        ("IDENTITY_HEADER", IDENTITY_HEADER),
    ];
    assert_fetched(&reference(&vault, "am-json#password"), &env, HELD);
    let requests = identity.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(
        requests[0].header("x-identity-header"),
        Some(IDENTITY_HEADER)
    );
}

/// A directory holding an `az` that answers `az account get-access-token -o json --scope
/// SCOPE` with `token`, as Azure CLI 2.54+ does (and fails otherwise), after touching `ran`
/// beside itself.
fn fake_az(token: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let az = dir.path().join("az");
    crate::support::write_executable(
        &az,
        format!(
            "#!/bin/sh\n\
             touch \"$(dirname \"$0\")/ran\"\n\
             if [ \"$*\" != \"account get-access-token -o json --scope {SCOPE}\" ]; then\n\
             echo \"ERROR: unexpected arguments\" >&2; exit 2; fi\n\
             printf '%s' '{{\"accessToken\": \"{token}\", \"expiresOn\": \"2100-01-01 00:00:00.000000\", \
             \"expires_on\": 4102444800, \"subscription\": \"00000000-0000-0000-0000-000000000000\", \
             \"tenant\": \"{TENANT}\", \"tokenType\": \"Bearer\"}}'\n"
        ),
    );
    dir
}

#[test]
fn azure_cli_login_is_used_when_nothing_is_configured() {
    // No AZURE_* or IDENTITY_* variable: IMDS is probed (nothing answers on a test host; on
    // an Azure VM without an identity it fails), then `az` gives the token.
    let vault = key_vault(TOKEN);
    let az = fake_az(TOKEN);
    let path = format!("{}:/usr/bin:/bin", az.path().display());
    assert_fetched(&reference(&vault, "am-enc"), &[("PATH", &path)], HELD);
    assert!(az.path().join("ran").exists());
}

#[test]
fn an_az_another_account_could_place_is_not_run() {
    // The AM account (uid 65534) owns a directory early on root's PATH and puts its own `az`
    // there, which would hand out a token of its choosing (and run as root). amhash looks
    // `az` up only in directories no other account can change: root's `az` answers.
    crate::support::require_root();
    let vault = key_vault(TOKEN);
    let theirs = fake_az("ATTACKER-TOKEN");
    crate::support::chown(theirs.path(), 65534, 65534);
    // Or an `az` of its own in a directory of root's.
    let planted = fake_az("ATTACKER-TOKEN");
    crate::support::chown(&planted.path().join("az"), 65534, 65534);
    let ours = fake_az(TOKEN);
    let path = format!(
        "{}:{}:{}:/usr/bin:/bin",
        theirs.path().display(),
        planted.path().display(),
        ours.path().display()
    );
    assert_fetched(&reference(&vault, "am-enc"), &[("PATH", &path)], HELD);
    for dir in [&theirs, &planted] {
        assert!(!dir.path().join("ran").exists(), "the AM account's az ran");
    }
    assert!(ours.path().join("ran").exists());
    assert!(vault.requests().iter().all(|r| {
        !r.header("authorization")
            .is_some_and(|a| a.contains("ATTACKER"))
    }));
}

/// Every failure class: exit 3 (2 for a malformed reference), one line naming the
/// reference, the status and what to check, nothing on stdout, no secret anywhere.
#[test]
fn every_azure_failure_names_reference_status_and_fix() {
    let (vault, entra, identity) = (
        key_vault(TOKEN),
        entra(CLIENT_SECRET),
        app_service_identity(),
    );
    let sp = principal(&entra, CLIENT_SECRET);
    let mi_endpoint = format!("{}/msi/token", identity.endpoint());
    let mi = vec![
        ("IDENTITY_ENDPOINT", mi_endpoint.as_str()),
        ("IDENTITY_HEADER", IDENTITY_HEADER),
    ];
    let r = |path: &str| reference(&vault, path);
    // (reference, environment, exit code, what the line says)
    type Case<'a> = (String, Vec<(&'a str, &'a str)>, i32, Vec<&'a str>);
    let cases: Vec<Case> = vec![
        (
            r("am-missing"),
            sp.clone(),
            3,
            vec![
                "not found (HTTP 404 SecretNotFound)",
                "am-missing was not found",
                "the secret name",
            ],
        ),
        (
            r(&format!("am-enc/{}", "00112233445566778899aabbccddeeff")),
            sp.clone(),
            3,
            vec!["not found (HTTP 404 SecretNotFound)", "the version"],
        ),
        (
            r("am-locked"),
            sp.clone(),
            3,
            vec![
                "permission denied (HTTP 403 Forbidden)",
                "Caller is not authorized",
                "ForbiddenByRbac",
                "Key Vault Secrets User",
            ],
        ),
        (
            r("am-json#pin"),
            sp.clone(),
            3,
            vec!["wrong field", "no field \"pin\"", "check #FIELD"],
        ),
        (
            r("am-json#port"),
            sp.clone(),
            3,
            vec!["wrong field", "field \"port\""],
        ),
        (
            r("am-enc#password"),
            sp.clone(),
            3,
            vec!["wrong field", "not a JSON object"],
        ),
        // The token endpoint refuses the client secret.
        (
            r("am-enc"),
            principal(&entra, "Wrong~client-secret"),
            3,
            vec![
                "no usable credentials (token endpoint HTTP 401 invalid_client)",
                "AADSTS7000215",
                "AZURE_CLIENT_SECRET",
            ],
        ),
        // An unknown tenant.
        (
            r("am-enc"),
            vec![
                ("AZURE_AUTHORITY_HOST", entra.endpoint()),
                ("AZURE_TENANT_ID", "no-such-tenant"),
                ("AZURE_CLIENT_ID", CLIENT_ID),
                ("AZURE_CLIENT_SECRET", CLIENT_SECRET),
            ],
            3,
            vec![
                "no usable credentials (token endpoint HTTP 400 invalid_request)",
                "AADSTS90002",
            ],
        ),
        // The managed identity's token is not one the vault takes.
        (
            r("am-enc"),
            mi.clone(),
            3,
            vec!["no usable credentials (HTTP 401 Unauthorized)", "AKV10032"],
        ),
        // The managed identity endpoint refuses the header.
        (
            r("am-enc"),
            vec![
                ("IDENTITY_ENDPOINT", mi_endpoint.as_str()),
                ("IDENTITY_HEADER", "wrong"),
            ],
            3,
            vec![
                "no usable credentials (token endpoint HTTP 401)",
                "ManagedIdentityCredential",
            ],
        ),
        // Half a configuration, reported before any request.
        (
            r("am-enc"),
            vec![("AZURE_CLIENT_SECRET", CLIENT_SECRET)],
            3,
            vec![
                "no usable credentials (incomplete configuration)",
                "AZURE_CLIENT_SECRET is set but not AZURE_TENANT_ID and AZURE_CLIENT_ID",
            ],
        ),
        // A plain-http authority off loopback would send the client secret in the clear.
        (
            r("am-enc"),
            vec![
                ("AZURE_AUTHORITY_HOST", "http://login.example.com"),
                ("AZURE_TENANT_ID", TENANT),
                ("AZURE_CLIENT_ID", CLIENT_ID),
                ("AZURE_CLIENT_SECRET", CLIENT_SECRET),
            ],
            3,
            vec![
                "cannot set up the client (AZURE_AUTHORITY_HOST)",
                "unencrypted",
            ],
        ),
        (
            "azure-kv:http://am.vault.azure.net/secrets/am-enc".to_owned(),
            sp.clone(),
            2,
            vec!["unencrypted"],
        ),
        (r("am_enc"), sp.clone(), 2, vec!["secret name"]),
    ];
    for (reference, env, code, needles) in &cases {
        assert_fails(reference, env, *code, needles, &SECRETS);
    }
}

#[test]
fn no_credentials_at_all_is_a_clear_credentials_error() {
    // Nothing configured, no `az` or `azd` on PATH (an empty directory), and IMDS probed for
    // at most a second: the fetch fails at once, naming every source it tried.
    let vault = key_vault(TOKEN);
    let empty = tempfile::tempdir().unwrap();
    let env = [("PATH", empty.path().to_str().unwrap())];
    assert_fails(
        &reference(&vault, "am-enc"),
        &env,
        3,
        &[
            "no usable credentials (no token)",
            "no Azure credentials",
            "AZURE_CLIENT_SECRET",
            "IDENTITY_ENDPOINT",
            "AzureCliCredential: az not found on PATH",
            "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET",
        ],
        &SECRETS,
    );
    // The vault saw only unauthenticated requests (the challenge).
    assert!(
        vault
            .requests()
            .iter()
            .all(|r| r.header("authorization").is_none())
    );
}

#[test]
fn unavailable_vault_is_retried_then_reported() {
    // Throttled or down: 503 every time; five attempts, then the status.
    let vault = FakeHttp::start(|_| {
        kv_error(
            503,
            "ServiceUnavailable",
            "The service is temporarily unavailable.",
        )
    });
    let entra = entra(CLIENT_SECRET);
    let out = super::fetch(
        &reference(&vault, "am-enc"),
        &principal(&entra, CLIENT_SECRET),
    );
    check_failure(
        "503",
        &out,
        "amhash-secrets: ",
        3,
        &[
            "the service is unavailable (HTTP 503 ServiceUnavailable)",
            "temporarily unavailable",
            "try again later",
        ],
    );
    assert_eq!(vault.requests().len(), 5, "{}", describe(&out));
}

#[test]
fn unreachable_vault_is_tried_three_times_then_reported() {
    let url = closed_port_url();
    let entra = entra(CLIENT_SECRET);
    assert_fails(
        &format!("azure-kv:{url}/secrets/am-enc"),
        &principal(&entra, CLIENT_SECRET),
        3,
        &["cannot connect (no connection)", "check the vault URL"],
        &SECRETS,
    );
    // No token was asked for: the vault never sent its challenge.
    assert!(entra.requests().is_empty());
}

#[test]
fn secret_bundle_without_value_is_an_unexpected_answer() {
    let vault = FakeHttp::start(|req| {
        if req.header("authorization").is_none() {
            return challenge("AKV10000: Request is missing a Bearer or PoP token.");
        }
        Resp::json(
            200,
            json!({"id": "x", "attributes": {"enabled": true}, "contentType": Value::Null}),
        )
    });
    let entra = entra(CLIENT_SECRET);
    assert_fails(
        &reference(&vault, "am-enc"),
        &principal(&entra, CLIENT_SECRET),
        3,
        &["unexpected answer (no value)"],
        &SECRETS,
    );
}

#[test]
fn plain_http_identity_endpoint_off_loopback_is_refused_before_any_request() {
    // IDENTITY_HEADER would go with the token request, in the clear. The host never resolves
    // (RFC 6761), so nothing could leave even without the check.
    let vault = key_vault(MI_TOKEN);
    let env = [
        (
            "IDENTITY_ENDPOINT",
            "http://identity.example.invalid/msi/token",
        ),
        ("IDENTITY_HEADER", IDENTITY_HEADER),
    ];
    assert_fails(
        &reference(&vault, "am-enc"),
        &env,
        3,
        &[
            "cannot set up the client (IDENTITY_ENDPOINT)",
            "http://identity.example.invalid/msi/token",
            "IDENTITY_HEADER",
            "unencrypted",
            "use https://",
        ],
        &SECRETS,
    );
    assert!(vault.requests().is_empty(), "{:?}", vault.calls());
}

/// A vault on loopback whose challenge names Azure Resource Manager, not Key Vault.
fn foreign_challenge_vault() -> FakeHttp {
    FakeHttp::start(|req| {
        if req.header("authorization").is_some() {
            return Resp::json(
                200,
                json!({"value": "x", "id": "x", "attributes": {"enabled": true}}),
            );
        }
        kv_error(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.")
            .with_header(
                "WWW-Authenticate",
                &format!(
                    "Bearer authorization=\"https://login.microsoftonline.com/{TENANT}\", resource=\"https://management.azure.com\""
                ),
            )
    })
}

#[test]
fn a_challenge_for_another_resource_gets_no_token() {
    // Whoever holds a loopback vault's port must not get a token for Azure Resource Manager
    // (or Graph) by naming it in the challenge: no credential is asked for one.
    let (vault, entra, identity) = (
        foreign_challenge_vault(),
        entra(CLIENT_SECRET),
        app_service_identity(),
    );
    let mi_endpoint = format!("{}/msi/token", identity.endpoint());
    let mi = [
        ("IDENTITY_ENDPOINT", mi_endpoint.as_str()),
        ("IDENTITY_HEADER", IDENTITY_HEADER),
    ];
    for env in [&principal(&entra, CLIENT_SECRET)[..], &mi[..]] {
        assert_fails(
            &reference(&vault, "am-enc"),
            env,
            3,
            &[
                "cannot set up the client (challenge)",
                "https://management.azure.com/.default",
                "not Key Vault's",
            ],
            &SECRETS,
        );
    }
    assert!(entra.requests().is_empty(), "{:?}", entra.calls());
    assert!(identity.requests().is_empty(), "{:?}", identity.calls());
    // The vault saw the unauthenticated requests only: one a run, four runs.
    let requests = vault.requests();
    assert_eq!(requests.len(), 4, "{:?}", vault.calls());
    assert!(requests.iter().all(|r| r.header("authorization").is_none()));
}
