//! `gcp-sm:projects/P/secrets/S[/versions/V][#FIELD]` against a loopback fake of Secret
//! Manager's REST API (`GET /v1/{name}:access`, answers `{"name", "payload": {"data",
//! "dataCrc32c"}}`, errors `{"error": {"code", "message", "status"}}`), reached with real
//! Application Default Credentials: an `authorized_user` file whose `token_uri` is the same
//! fake's OAuth 2.0 token endpoint (`POST /token`, a refresh-token grant).

use base64::Engine as _;
use serde_json::json;

use super::{HELD, assert_commands_work, assert_fails, assert_fetched};
use crate::support::fake_http::{FakeHttp, Req, Resp, closed_port_url};

const ACCESS_TOKEN: &str = "ya29.amhash-test-access-token";
pub(super) const REFRESH_TOKEN: &str = "1//amhash-test-refresh-token";
pub(super) const CLIENT_SECRET: &str = "amhash-test-client-secret";
pub(super) const SECRET: &str = "projects/am-prod/secrets/am-encryption";

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

fn error(code: u16, status: &str, message: &str) -> Resp {
    Resp::json(
        code,
        json!({"error": {"code": code, "message": message, "status": status}}),
    )
}

/// The version's payload, as the service answers it (`dataCrc32c` an int64 as a string).
fn payload(name: &str, data: &[u8]) -> Resp {
    Resp::json(
        200,
        json!({"name": name, "payload": {"data": b64(data),
               "dataCrc32c": crc32c::crc32c(data).to_string()}}),
    )
}

/// The OAuth 2.0 token endpoint: a refresh-token grant for our client, else `invalid_grant`.
pub(super) fn token(req: &Req) -> Resp {
    let body = &req.body;
    if body.contains("refresh_token")
        && body.contains(REFRESH_TOKEN.trim_start_matches("1//"))
        && body.contains(CLIENT_SECRET)
    {
        Resp::json(
            200,
            json!({"access_token": ACCESS_TOKEN, "expires_in": 3600, "token_type": "Bearer"}),
        )
    } else {
        refuse_token(req)
    }
}

fn refuse_token(_: &Req) -> Resp {
    Resp::json(
        400,
        json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."}),
    )
}

/// One server for both: `/token` goes to `token`, the rest to `api`.
pub(super) fn fake(
    token: impl Fn(&Req) -> Resp + Send + Sync + 'static,
    api: impl Fn(&Req) -> Resp + Send + Sync + 'static,
) -> FakeHttp {
    FakeHttp::start(move |req| {
        if req.path == "/token" {
            token(req)
        } else {
            api(req)
        }
    })
}

/// Secret Manager's `:access`, with the bearer token checked.
pub(super) fn answer(req: &Req) -> Resp {
    if req.header("authorization") != Some(&format!("Bearer {ACCESS_TOKEN}")) {
        return error(
            401,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials.",
        );
    }
    let Some(name) = req
        .path
        .strip_prefix("/v1/")
        .and_then(|p| p.strip_suffix(":access"))
    else {
        return error(404, "NOT_FOUND", "no such method");
    };
    let full = |v: &str| format!("projects/123456789/secrets/am-encryption/versions/{v}");
    match name {
        n if n == format!("{SECRET}/versions/latest") => {
            payload(&full("2"), format!("{HELD}\n").as_bytes())
        }
        n if n == format!("{SECRET}/versions/1") => payload(
            &full("1"),
            json!({"password": HELD, "rotation": 1})
                .to_string()
                .as_bytes(),
        ),
        "projects/am-prod/secrets/denied/versions/latest" => error(
            403,
            "PERMISSION_DENIED",
            "Permission 'secretmanager.versions.access' denied for resource 'projects/am-prod/secrets/denied/versions/latest' (or it may not exist).",
        ),
        "projects/am-prod/secrets/corrupt/versions/latest" => Resp::json(
            200,
            json!({"name": full("7"), "payload": {"data": b64(HELD.as_bytes()), "dataCrc32c": "12345"}}),
        ),
        "projects/am-prod/secrets/disabled/versions/latest" => error(
            400,
            "FAILED_PRECONDITION",
            "SecretVersion [projects/123456789/secrets/disabled/versions/1] is in DISABLED state.",
        ),
        _ => error(
            404,
            "NOT_FOUND",
            &format!("Secret [{name}] not found or has no versions."),
        ),
    }
}

/// A fake and the directory holding its ADC file.
struct Google {
    fake: FakeHttp,
    dir: tempfile::TempDir,
}

impl Google {
    fn start() -> Google {
        Google::with(fake(token, answer))
    }

    fn with(fake: FakeHttp) -> Google {
        let dir = tempfile::tempdir().unwrap();
        let adc = json!({"type": "authorized_user", "client_id": "amhash-test.apps.googleusercontent.com",
                         "client_secret": CLIENT_SECRET, "refresh_token": REFRESH_TOKEN,
                         "token_uri": format!("{}/token", fake.endpoint())});
        std::fs::write(dir.path().join("adc.json"), adc.to_string()).unwrap();
        Google { fake, dir }
    }

    fn adc(&self) -> String {
        self.dir.path().join("adc.json").display().to_string()
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GOOGLE_APPLICATION_CREDENTIALS", self.adc()),
            (
                "CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER",
                format!("{}/", self.fake.endpoint()),
            ),
        ]
    }
}

fn borrow<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

const SECRETS: [&str; 4] = [HELD, ACCESS_TOKEN, REFRESH_TOKEN, CLIENT_SECRET];

/// The latest version (its trailing newline given as it is by the helper, dropped by
/// amhash), and a numbered version with a JSON field: read with ADC, and every command works
/// with them.
#[test]
fn versions_and_fields_are_read_with_adc_and_every_command_works() {
    let g = Google::start();
    let env = g.env();
    let latest = format!("gcp-sm:{SECRET}");
    assert_fetched(&latest, &borrow(&env), &format!("{HELD}\n"));
    assert_eq!(
        g.fake.calls(),
        [
            "POST /token",
            &format!("GET /v1/{SECRET}/versions/latest:access")
        ]
    );
    let field = format!("gcp-sm:{SECRET}/versions/1#password");
    assert_fetched(&field, &borrow(&env), HELD);
    for reference in [latest, field] {
        assert_commands_work(&reference, &borrow(&env));
    }
}

#[test]
fn every_google_failure_names_reference_status_and_fix() {
    let g = Google::start();
    let env = g.env();
    let cases: &[(&str, i32, &[&str])] = &[
        (
            "gcp-sm:projects/am-prod/secrets/missing",
            3,
            &["not found (NOT_FOUND)", "check the project"],
        ),
        (
            "gcp-sm:projects/am-prod/secrets/denied",
            3,
            &[
                "permission denied (PERMISSION_DENIED)",
                "roles/secretmanager.secretAccessor",
            ],
        ),
        (
            "gcp-sm:projects/am-prod/secrets/disabled",
            3,
            &["refused (FAILED_PRECONDITION)", "DISABLED"],
        ),
        (
            "gcp-sm:projects/am-prod/secrets/corrupt",
            3,
            &["unexpected answer (CRC32C)"],
        ),
        (
            &format!("gcp-sm:{SECRET}#password"),
            3,
            &["not a JSON object", "drop #password"],
        ),
        (
            &format!("gcp-sm:{SECRET}/versions/1#rotation"),
            3,
            &["a number, not a string"],
        ),
        ("gcp-sm:projects/am-prod/secrets/a.b", 2, &["secret id"]),
        (
            "gcp-sm:projects/am-prod/secrets/s/versions/newest",
            2,
            &["`latest` or a number"],
        ),
    ];
    for (reference, code, needles) in cases {
        assert_fails(reference, &borrow(&env), *code, needles, &SECRETS);
    }
}

#[test]
fn refused_or_missing_credentials_are_reported_as_credentials() {
    let g = Google::start();
    // The token endpoint refuses the refresh token.
    let bad = Google::with(fake(refuse_token, answer));
    assert_fails(
        &format!("gcp-sm:{SECRET}"),
        &borrow(&bad.env()),
        3,
        &[
            "no usable credentials",
            "gcloud auth application-default login",
        ],
        &SECRETS,
    );
    assert!(bad.fake.requests().iter().all(|r| r.path == "/token"));
    // No credentials file at all: nothing is sent anywhere.
    let env = [
        (
            "GOOGLE_APPLICATION_CREDENTIALS",
            "/nonexistent/amhash-test-adc.json",
        ),
        (
            "CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER",
            g.fake.endpoint(),
        ),
    ];
    assert_fails(
        &format!("gcp-sm:{SECRET}"),
        &env,
        3,
        &["GOOGLE_APPLICATION_CREDENTIALS"],
        &[],
    );
    assert!(g.fake.requests().is_empty());
}

#[test]
fn unavailable_service_is_retried_and_unreachable_is_reported() {
    let g = Google::with(fake(token, |_| {
        error(503, "UNAVAILABLE", "The service is currently unavailable.")
    }));
    assert_fails(
        &format!("gcp-sm:{SECRET}"),
        &borrow(&g.env()),
        3,
        &[
            "the service is unavailable (UNAVAILABLE)",
            "try again later",
        ],
        &SECRETS,
    );
    // Five attempts for the helper, five for amhash's run of it.
    let accesses = g
        .fake
        .calls()
        .iter()
        .filter(|c| c.starts_with("GET "))
        .count();
    assert_eq!(accesses, 10);

    let g = Google::start();
    let closed = closed_port_url();
    let env = [
        ("GOOGLE_APPLICATION_CREDENTIALS", g.adc()),
        ("CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER", closed),
    ];
    assert_fails(
        &format!("gcp-sm:{SECRET}"),
        &borrow(&env),
        3,
        &["cannot connect"],
        &SECRETS,
    );
}

#[test]
fn a_plain_http_endpoint_off_loopback_is_refused_before_any_request() {
    let g = Google::start();
    let env = [
        ("GOOGLE_APPLICATION_CREDENTIALS", g.adc()),
        (
            "CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER",
            "http://secretmanager.example.com".to_owned(),
        ),
    ];
    assert_fails(
        &format!("gcp-sm:{SECRET}"),
        &borrow(&env),
        3,
        &["unencrypted"],
        &SECRETS,
    );
    assert!(g.fake.requests().is_empty());
}
