//! `vault:MOUNT/PATH#FIELD` against a loopback fake of Vault's HTTP API (v1): the mount
//! lookup `GET /v1/sys/internal/ui/mounts/PATH`, KV v2 `GET /v1/MOUNT/data/PATH`, KV v1
//! `GET /v1/MOUNT/PATH`, the `X-Vault-Token` and `X-Vault-Namespace` headers, and errors as
//! `{"errors": [...]}` with the HTTP status, as the API documentation describes them.

use std::time::Duration;

use serde_json::{Value, json};

use super::{HELD, assert_commands_work, assert_fails, assert_fetched};
use crate::support::fake_http::{FakeHttp, Req, Resp, closed_port_url};

pub(super) const TOKEN: &str = "hvs.amhash-test-token-0123456789";

/// A Vault with a KV v2 mount `secret/`, a KV v1 mount `kv1/`, a two-segment KV v2 mount
/// `team/kv/` and a transit mount; secrets `am/prod` in each KV mount.
fn vault(token: &'static str) -> FakeHttp {
    FakeHttp::start(move |req| answer(req, token))
}

fn mounts() -> [(&'static str, &'static str, Option<&'static str>); 4] {
    [
        ("secret/", "kv", Some("2")),
        ("kv1/", "kv", None),
        ("team/kv/", "kv", Some("2")),
        ("transit/", "transit", None),
    ]
}

fn fields() -> Value {
    json!({"password": HELD, "user": "amadmin", "port": 8443})
}

fn envelope(data: Value) -> Value {
    json!({"request_id": "7d9c2e33-6a2c-4f3a-9c0c-0e4a6f0b1a11", "lease_id": "",
           "renewable": false, "lease_duration": 0, "data": data, "wrap_info": null,
           "warnings": null, "auth": null})
}

fn errors(status: u16, messages: &[&str]) -> Resp {
    Resp::json(status, json!({"errors": messages}))
}

pub(super) fn answer(req: &Req, token: &str) -> Resp {
    if req.header("x-vault-token") != Some(token) {
        return errors(403, &["permission denied"]);
    }
    let Some(path) = req.path.strip_prefix("/v1/") else {
        return errors(404, &[]);
    };
    if let Some(p) = path.strip_prefix("sys/internal/ui/mounts/") {
        return match mounts().into_iter().find(|(m, _, _)| p.starts_with(m)) {
            Some((m, kind, version)) => Resp::json(
                200,
                envelope(json!({"path": m, "type": kind, "description": "",
                                "options": version.map(|v| json!({"version": v}))})),
            ),
            None => errors(403, &["preflight capability check returned 403"]),
        };
    }
    match path {
        "secret/data/am/prod" | "team/kv/data/am/prod" => Resp::json(
            200,
            envelope(json!({"data": fields(), "metadata": {
                "created_time": "2026-11-30T10:00:00.000000Z", "custom_metadata": null,
                "deletion_time": "", "destroyed": false, "version": 3}})),
        ),
        "kv1/am/prod" => {
            let mut body = envelope(fields());
            body["auth"] = Value::Null;
            Resp::json(200, body)
        }
        _ => errors(404, &[]),
    }
}

fn env<'a>(fake: &'a FakeHttp, token: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![("VAULT_ADDR", fake.endpoint()), ("VAULT_TOKEN", token)]
}

#[test]
fn kv2_field_is_read_after_the_mount_lookup() {
    let fake = vault(TOKEN);
    assert_fetched("vault:secret/am/prod#password", &env(&fake, TOKEN), HELD);
    assert_eq!(
        fake.calls(),
        [
            "GET /v1/sys/internal/ui/mounts/secret/am/prod",
            "GET /v1/secret/data/am/prod"
        ]
    );
    assert!(
        fake.requests()
            .iter()
            .all(|r| r.header("x-vault-token") == Some(TOKEN))
    );
}

#[test]
fn kv1_and_nested_mounts_take_the_path_vault_names() {
    let fake = vault(TOKEN);
    assert_fetched("vault:kv1/am/prod#user", &env(&fake, TOKEN), "amadmin");
    assert_fetched("vault:team/kv/am/prod#password", &env(&fake, TOKEN), HELD);
    let calls = fake.calls();
    assert!(
        calls.contains(&"GET /v1/kv1/am/prod".to_owned()),
        "{calls:?}"
    );
    assert!(
        calls.contains(&"GET /v1/team/kv/data/am/prod".to_owned()),
        "{calls:?}"
    );
}

#[test]
fn every_command_works_with_a_vault_key() {
    let fake = vault(TOKEN);
    assert_commands_work("vault:secret/am/prod#password", &env(&fake, TOKEN));
}

#[test]
fn token_helper_file_and_namespace_are_used() {
    let fake = vault(TOKEN);
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join(".vault-token"), format!("{TOKEN}\n")).unwrap();
    let home_dir = home.path().to_str().unwrap();
    let env = [
        ("VAULT_ADDR", fake.endpoint()),
        ("HOME", home_dir),
        ("VAULT_NAMESPACE", "admin/am"),
    ];
    assert_fetched("vault:secret/am/prod#password", &env, HELD);
    for r in fake.requests() {
        assert_eq!(r.header("x-vault-namespace"), Some("admin/am"), "{r:?}");
        assert_eq!(r.header("x-vault-token"), Some(TOKEN), "{r:?}");
    }
}

/// Every failure class: exit 3 (2 for a malformed reference), one line naming the
/// reference, the status and what to check, nothing on stdout, no secret anywhere.
#[test]
fn every_vault_failure_names_reference_status_and_fix() {
    let fake = vault(TOKEN);
    let e = env(&fake, TOKEN);
    let secrets = [HELD, TOKEN];
    // (reference, environment overrides, exit code, what the line says)
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], i32, &'a [&'a str]);
    let cases: &[Case] = &[
        (
            "vault:secret/am/prod#password",
            &[("VAULT_TOKEN", "hvs.wrong")],
            3,
            &["permission denied (HTTP 403)", "read capability"],
        ),
        (
            "vault:secret/am/missing#password",
            &[],
            3,
            &["not found (HTTP 404)", "MOUNT/PATH"],
        ),
        (
            "vault:secret/am/prod#pin",
            &[],
            3,
            &["wrong field", "no field \"pin\"", "password, port, user"],
        ),
        (
            "vault:secret/am/prod#port",
            &[],
            3,
            &["field \"port\"", "a number, not a string"],
        ),
        (
            "vault:transit/keys/am#k",
            &[],
            3,
            &["transit mount, not a KV"],
        ),
        (
            "vault:nothing/here#k",
            &[],
            3,
            &["permission denied (HTTP 403)"],
        ),
        ("vault:secret/am/prod", &[], 2, &["#FIELD"]),
        ("vault:secret/../sys/raw#k", &[], 2, &["'..'"]),
    ];
    for (reference, overrides, code, needles) in cases {
        let mut env = e.clone();
        env.extend(overrides.iter().copied());
        assert_fails(reference, &env, *code, needles, &secrets);
    }
}

#[test]
fn no_token_fails_before_any_request() {
    let fake = vault(TOKEN);
    let home = tempfile::tempdir().unwrap();
    let env = [
        ("VAULT_ADDR", fake.endpoint()),
        ("HOME", home.path().to_str().unwrap()),
    ];
    assert_fails(
        "vault:secret/am/prod#password",
        &env,
        3,
        &[
            "no usable credentials",
            "VAULT_TOKEN is not set",
            "vault login",
        ],
        &[],
    );
    assert!(fake.requests().is_empty());
}

#[test]
fn unreachable_vault_is_tried_three_times_then_reported() {
    let url = closed_port_url();
    assert_fails(
        "vault:secret/am/prod#password",
        &[("VAULT_ADDR", &url), ("VAULT_TOKEN", TOKEN)],
        3,
        &["cannot connect", "VAULT_ADDR"],
        &[TOKEN],
    );
}

#[test]
fn unavailable_vault_is_retried_then_reported() {
    // Sealed or overloaded: 503 every time; five attempts, then the status.
    let fake = FakeHttp::start(|_| errors(503, &["Vault is sealed"]));
    let out = super::fetch("vault:secret/am/prod#password", &env(&fake, TOKEN));
    crate::support::check_failure(
        "503",
        &out,
        "amhash-secrets: ",
        3,
        &[
            "the service is unavailable (HTTP 503)",
            "Vault is sealed",
            "try again later",
        ],
    );
    assert_eq!(fake.requests().len(), 5);
}

#[test]
fn slow_vault_is_cut_off_at_the_timeout() {
    let fake = FakeHttp::start(|_| {
        std::thread::sleep(Duration::from_secs(5));
        errors(503, &[])
    });
    let out = crate::support::Run::new(super::HELPER)
        .args(["fetch", "--timeout", "1", "vault:secret/am/prod#password"])
        .envs(env(&fake, TOKEN))
        .output();
    crate::support::check_failure(
        "timeout",
        &out,
        "amhash-secrets: ",
        3,
        &["timed out", "no answer within 1 s"],
    );
    // amhash passes --secrets-timeout to the helper.
    let out = crate::support::amhash(&["generate", "--encrypt", "am", "--secrets-timeout", "1"])
        .args(["--key", "vault:secret/am/prod#password"])
        .envs(env(&fake, TOKEN))
        .stdin(format!("{}\n", crate::support::CLI_PW))
        .output();
    crate::support::assert_error(&out, 3, &["timed out", "no answer within 1 s"]);
}

#[test]
fn managers_are_read_only_for_amhash() {
    for args in [
        &["key", "store", "vault:secret/am/prod#password"][..],
        &["key", "generate", "--out", "vault:secret/am/prod#password"][..],
    ] {
        let out = crate::support::run(args, format!("{HELD}\n"));
        crate::support::assert_error(&out, 2, &["only reads secrets managers"]);
        crate::support::assert_no_secret(&out, &[HELD]);
    }
}

/// The settings vaultrs would take loosely are checked, before any request: `VAULT_ADDR`
/// must be set and https (or loopback), `VAULT_SKIP_VERIFY` must be a boolean, and the token
/// helper file must be a regular file of root's (or the caller's), not a FIFO.
#[test]
fn loose_vault_settings_and_a_planted_token_file_are_refused() {
    let fake = vault(TOKEN);
    let reference = "vault:secret/am/prod#password";
    let cases: [(&[(&str, &str)], &str); 3] = [
        (&[("VAULT_TOKEN", TOKEN)], "VAULT_ADDR is not set"),
        (
            &[
                ("VAULT_TOKEN", TOKEN),
                ("VAULT_ADDR", "http://vault.example.invalid:8200"),
            ],
            "plain http would send the token unencrypted",
        ),
        (
            &[
                ("VAULT_TOKEN", TOKEN),
                ("VAULT_ADDR", fake.endpoint()),
                ("VAULT_SKIP_VERIFY", "maybe"),
            ],
            "VAULT_SKIP_VERIFY must be true or false",
        ),
    ];
    for (env, needle) in cases {
        assert_fails(reference, env, 3, &[needle], &[TOKEN]);
    }

    // ~/.vault-token owned by another account (it could have planted a token of its own,
    // pointing root at its own secret), and a FIFO in its place.
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join(".vault-token");
    std::fs::write(&file, TOKEN).unwrap();
    std::os::unix::fs::chown(&file, Some(crate::support::OTHER_UID), None).unwrap();
    let env = [
        ("VAULT_ADDR", fake.endpoint()),
        ("HOME", home.path().to_str().unwrap()),
    ];
    assert_fails(reference, &env, 3, &["not by root or you"], &[TOKEN]);
    std::fs::remove_file(&file).unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &file,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    assert_fails(
        reference,
        &env,
        3,
        &["is a fifo, not a regular file"],
        &[TOKEN],
    );
    assert!(fake.requests().is_empty());
}

/// With a proxy configured and no loopback entry in NO_PROXY (a corporate host), the token
/// for a loopback Vault (an agent) must not go in clear to the proxy: amhash adds the
/// loopback addresses to the helper's NO_PROXY. The proxy here is a closed port, so a
/// request that took it would fail.
#[test]
fn a_loopback_vault_is_never_reached_through_a_proxy() {
    let fake = vault(TOKEN);
    let proxy = closed_port_url();
    let mut env = env(&fake, TOKEN);
    for name in ["http_proxy", "HTTP_PROXY", "https_proxy", "ALL_PROXY"] {
        env.push((name, &proxy));
    }
    env.push(("NO_PROXY", "internal.example.com"));
    let out = crate::support::amhash(&["encrypt", "--encrypt", "am"])
        .args(["--key", "vault:secret/am/prod#password"])
        .envs(env.iter().copied())
        .stdin(format!("{}\n", crate::support::FORGEROCK_VALUE))
        .output();
    crate::support::assert_ok(&out);
    assert_eq!(
        fake.requests().len(),
        2,
        "{}",
        crate::support::describe(&out)
    );
}
