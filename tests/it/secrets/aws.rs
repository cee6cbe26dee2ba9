//! `aws-sm:SECRET_ID[?stage=STAGE|?version=ID][#FIELD]` through the official AWS SDK.
//!
//! Against moto in server mode (the real JSON protocol and SigV4, reached through
//! `AWS_ENDPOINT_URL`, secrets seeded with boto3): names, ARNs, text, JSON and binary
//! secrets, stages and version ids, and the failures moto produces. Against a loopback fake
//! of the same protocol (`POST /`, `X-Amz-Target: secretsmanager.GetSecretValue`, errors as
//! `{"__type": CODE, "message": ...}`) for what moto does not: access denied, KMS refusing
//! the secret's key, rejected or expired credentials, throttling and server errors, and a
//! look at the request itself (target, body, signing region).
//!
//! Every run gets dummy credentials and nonexistent config files, and instance metadata is
//! off, so nothing on the machine is consulted.

use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::json;

use super::{HELD, assert_commands_work, assert_fails, assert_fetched, fetch};
use crate::support::fake_http::{FakeHttp, Req, Resp, closed_port_url};
use crate::support::moto::Moto;
use crate::support::{check_failure, describe};

/// Dummy credentials; the secret key must never appear in any output.
const ACCESS_KEY: &str = "AKIAAMHASHTEST000001";
const SECRET_KEY: &str = "amhashTest+Secret/AccessKey0123456789abcd";
/// The AWSPREVIOUS value of the rotated secret.
const OLD: &str = "Previous-Am-Key_2025";
/// Version ids of the rotated secret (client request tokens at creation, so known).
const V1: &str = "00000000-0000-4000-8000-000000000001";
const V2: &str = "00000000-0000-4000-8000-000000000002";
/// A binary secret that is not UTF-8.
const RAW: &[u8] = &[0x00, 0xff, 0x10, b'k', b'\n'];

/// The environment of a run against `endpoint`, with credentials.
fn env(endpoint: &str) -> Vec<(&str, &str)> {
    let mut e = no_credentials(endpoint);
    e.extend([
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
    ]);
    e
}

/// The environment of a run against `endpoint`, with no credentials anywhere.
pub(super) fn no_credentials(endpoint: &str) -> Vec<(&str, &str)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_REGION", "us-east-1"),
        ("AWS_CONFIG_FILE", "/nonexistent/amhash-test/aws-config"),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/amhash-test/aws-credentials",
        ),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ]
}

pub(super) fn without<'a>(env: &[(&'a str, &'a str)], name: &str) -> Vec<(&'a str, &'a str)> {
    env.iter().copied().filter(|(n, _)| *n != name).collect()
}

/// A Python string literal (JSON's is one, for these ASCII values).
fn py(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// moto with the secrets of these tests, and the ARNs moto gave two of them.
struct Aws {
    moto: Moto,
    /// `amhash/json`, in us-east-1.
    json_arn: String,
    /// `amhash/regional`, in eu-west-1 only.
    regional_arn: String,
}

fn moto() -> Aws {
    let moto = Moto::start();
    let (held, old) = (py(HELD), py(OLD));
    let out = moto.seed(&format!(
        "c = client()\n\
         c.create_secret(Name='amhash/plain', SecretString={plain})\n\
         out['json'] = c.create_secret(Name='amhash/json', SecretString=json.dumps(\
             {{'password': {held}, 'user': 'amadmin', 'port': 8443}}))['ARN']\n\
         c.create_secret(Name='amhash/binary', SecretBinary={held}.encode())\n\
         c.create_secret(Name='amhash/raw', SecretBinary=bytes({RAW:?}))\n\
         c.create_secret(Name='amhash/rotated', SecretString={old}, ClientRequestToken='{V1}')\n\
         c.put_secret_value(SecretId='amhash/rotated', SecretString={held}, \
             ClientRequestToken='{V2}')\n\
         c.create_secret(Name='amhash/deleted', SecretString={held})\n\
         c.delete_secret(SecretId='amhash/deleted', RecoveryWindowInDays=7)\n\
         out['regional'] = client('eu-west-1').create_secret(\
             Name='amhash/regional', SecretString={held})['ARN']\n",
        plain = py(&format!("{HELD}\n")),
    ));
    let arn = |k: &str| out[k].as_str().unwrap().to_owned();
    Aws {
        json_arn: arn("json"),
        regional_arn: arn("regional"),
        moto,
    }
}

#[test]
fn text_json_and_binary_secrets_are_read() {
    let aws = moto();
    let e = env(aws.moto.endpoint());
    // The helper hands over SecretString as stored; amhash drops the one trailing newline
    // (every_command_works_with_an_aws_key checks that end of it).
    assert_fetched("aws-sm:amhash/plain", &e, &format!("{HELD}\n"));
    assert_fetched("aws-sm:amhash/json#password", &e, HELD);
    assert_fetched("aws-sm:amhash/json#user", &e, "amadmin");
    assert_fetched("aws-sm:amhash/binary", &e, HELD);
    let out = fetch("aws-sm:amhash/raw", &e);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(out.stdout, RAW, "SecretBinary byte for byte");
}

#[test]
fn stage_and_version_id_choose_the_version() {
    let aws = moto();
    let e = env(aws.moto.endpoint());
    for (reference, want) in [
        ("aws-sm:amhash/rotated".to_owned(), HELD),
        ("aws-sm:amhash/rotated?stage=AWSCURRENT".to_owned(), HELD),
        ("aws-sm:amhash/rotated?stage=AWSPREVIOUS".to_owned(), OLD),
        (format!("aws-sm:amhash/rotated?version={V1}"), OLD),
        (format!("aws-sm:amhash/rotated?version={V2}"), HELD),
    ] {
        assert_fetched(&reference, &e, want);
    }
}

#[test]
fn an_arn_is_read_in_its_own_region() {
    let aws = moto();
    let e = env(aws.moto.endpoint());
    // The secret exists in eu-west-1 only, the configured region is us-east-1: the ARN's
    // region wins, and no configured region is needed at all.
    assert_fetched(&format!("aws-sm:{}", aws.regional_arn), &e, HELD);
    assert_fetched(
        &format!("aws-sm:{}", aws.regional_arn),
        &without(&e, "AWS_REGION"),
        HELD,
    );
    assert_fetched(&format!("aws-sm:{}#password", aws.json_arn), &e, HELD);
    // By name the configured region is asked, which does not have it.
    assert_fails(
        "aws-sm:amhash/regional",
        &e,
        3,
        &["not found (ResourceNotFoundException)", "AWS_REGION"],
        &[SECRET_KEY],
    );
}

#[test]
fn every_command_works_with_an_aws_key() {
    let aws = moto();
    let e = env(aws.moto.endpoint());
    // SecretString "HELD\n": only with its trailing newline dropped do the commands agree
    // with the key HELD in a file.
    assert_commands_work("aws-sm:amhash/plain", &e);
    assert_commands_work(&format!("aws-sm:{}#password", aws.json_arn), &e);
}

/// The failures moto produces: exit 3 (2 for a malformed reference), one line naming the
/// reference, the AWS error code and what to check, nothing on stdout, no secret anywhere.
#[test]
fn every_aws_failure_names_reference_status_and_fix() {
    let aws = moto();
    let e = env(aws.moto.endpoint());
    let cases: &[(&str, i32, &[&str])] = &[
        (
            "aws-sm:amhash/missing",
            3,
            &[
                "not found (ResourceNotFoundException)",
                "can't find the specified secret",
                "check the secret name or ARN",
            ],
        ),
        (
            "aws-sm:amhash/rotated?version=00000000-0000-4000-8000-000000000009",
            3,
            &["not found (ResourceNotFoundException)", "VersionId"],
        ),
        (
            "aws-sm:amhash/rotated?stage=AWSPENDING",
            3,
            &["(ResourceNotFoundException)"],
        ),
        (
            "aws-sm:amhash/json#pin",
            3,
            &[
                "wrong field",
                "no field \"pin\"",
                "password, user, port",
                "check #FIELD",
            ],
        ),
        (
            "aws-sm:amhash/json#port",
            3,
            &["field \"port\"", "a number, not a string"],
        ),
        (
            "aws-sm:amhash/plain#password",
            3,
            &["wrong field", "not a JSON object"],
        ),
        (
            "aws-sm:amhash/binary#password",
            3,
            &["wrong field", "not a JSON object"],
        ),
        (
            "aws-sm:amhash/deleted",
            3,
            &[
                "the request was refused (InvalidRequestException)",
                "marked deleted",
                "restore-secret",
            ],
        ),
        ("aws-sm:amhash/plain?stage=", 2, &["the stage is empty"]),
        (
            "aws-sm:amhash/plain?ver=1",
            2,
            &["stage=STAGE or version=ID"],
        ),
        ("aws-sm:amhash plain", 2, &["white space"]),
    ];
    for (reference, code, needles) in cases {
        assert_fails(reference, &e, *code, needles, &[OLD, SECRET_KEY]);
    }
}

// ---- a loopback fake of the JSON protocol, for what moto does not produce -----------------

/// The JSON protocol's error: HTTP `status`, `{"__type": code, "message": message}`.
fn aws_error(status: u16, code: &str, message: &str) -> Resp {
    Resp {
        status,
        headers: vec![
            ("Content-Type".into(), "application/x-amz-json-1.1".into()),
            (
                "x-amzn-RequestId".into(),
                "9b0c7f5e-2d6c-4c1e-8a7e-1f0e0f6d7c11".into(),
            ),
        ],
        body: json!({"__type": code, "message": message}).to_string(),
    }
}

/// A GetSecretValue answer holding `value`.
fn aws_value(id: &str, value: &str) -> Resp {
    Resp::json(
        200,
        json!({"ARN": format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:{id}-AbCdEf"),
               "Name": id, "VersionId": V2, "SecretString": value,
               "VersionStages": ["AWSCURRENT"], "CreatedDate": 1_764_496_800.0}),
    )
    .with_header("Content-Type", "application/x-amz-json-1.1")
}

fn secret_id(req: &Req) -> String {
    req.json()["SecretId"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// A Secrets Manager whose answer depends on the SecretId; `flaky` fails twice, then answers.
pub(super) fn fake_aws() -> FakeHttp {
    let flaky = AtomicU32::new(0);
    FakeHttp::start(move |req| {
        if req.header("x-amz-target") != Some("secretsmanager.GetSecretValue") {
            return aws_error(400, "UnknownOperationException", "");
        }
        let id = secret_id(req);
        match id.as_str() {
            "denied" => aws_error(
                400,
                "AccessDeniedException",
                "User: arn:aws:iam::123456789012:user/am is not authorized to perform: \
                 secretsmanager:GetSecretValue on resource: denied because no \
                 identity-based policy allows the secretsmanager:GetSecretValue action",
            ),
            "kms" => aws_error(
                400,
                "DecryptionFailure",
                "Secrets Manager can't decrypt the protected secret text using the provided KMS key.",
            ),
            "unknown-key" => aws_error(
                400,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ),
            "bad-signature" => aws_error(
                400,
                "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided.",
            ),
            "expired" => aws_error(
                400,
                "ExpiredTokenException",
                "The security token included in the request is expired",
            ),
            "throttled" => aws_error(400, "ThrottlingException", "Rate exceeded"),
            "failing" => aws_error(500, "InternalServiceError", "An internal error occurred."),
            "unavailable" => Resp {
                status: 503,
                headers: vec![],
                body: String::new(),
            },
            "flaky" if flaky.fetch_add(1, Ordering::SeqCst) < 2 => {
                aws_error(500, "InternalServiceError", "An internal error occurred.")
            }
            _ => aws_value(&id, HELD),
        }
    })
}

/// How many requests asked for `id`.
fn hits(fake: &FakeHttp, id: &str) -> usize {
    fake.requests()
        .iter()
        .filter(|r| secret_id(r) == id)
        .count()
}

#[test]
fn request_names_secret_and_version_and_is_signed_for_the_arns_region() {
    let fake = fake_aws();
    let e = env(fake.endpoint());
    let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:amhash/regional-AbCdEf";
    assert_fetched(&format!("aws-sm:{arn}?stage=AWSPREVIOUS"), &e, HELD);
    assert_fetched(&format!("aws-sm:amhash/rotated?version={V1}"), &e, HELD);
    assert_fetched("aws-sm:amhash/plain", &e, HELD);
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 3, "{reqs:?}");
    let bodies: Vec<_> = reqs.iter().map(Req::json).collect();
    assert_eq!(
        bodies,
        [
            json!({"SecretId": arn, "VersionStage": "AWSPREVIOUS"}),
            json!({"SecretId": "amhash/rotated", "VersionId": V1}),
            json!({"SecretId": "amhash/plain"}),
        ]
    );
    let scopes = [
        "/eu-west-1/secretsmanager/aws4_request",
        "/us-east-1/secretsmanager/aws4_request",
    ];
    for (req, scope) in reqs.iter().zip([scopes[0], scopes[1], scopes[1]]) {
        assert_eq!(req.method, "POST");
        let auth = req.header("authorization").unwrap_or_default();
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIAAMHASHTEST000001/"),
            "{auth}"
        );
        assert!(auth.contains(scope), "{auth}");
        assert!(
            !req.headers.iter().any(|(_, v)| v.contains(SECRET_KEY)),
            "{req:?}"
        );
    }
}

#[test]
fn denied_and_refused_credentials_fail_at_once() {
    let fake = fake_aws();
    let e = env(fake.endpoint());
    let cases: &[(&str, &[&str])] = &[
        (
            "denied",
            &[
                "permission denied (AccessDeniedException)",
                "is not authorized to perform: secretsmanager:GetSecretValue",
                "needs secretsmanager:GetSecretValue on the secret",
            ],
        ),
        (
            "kms",
            &["permission denied (DecryptionFailure)", "kms:Decrypt"],
        ),
        (
            "unknown-key",
            &[
                "no usable credentials (UnrecognizedClientException)",
                "security token included in the request is invalid",
                "AWS_ACCESS_KEY_ID",
            ],
        ),
        (
            "bad-signature",
            &["no usable credentials (InvalidSignatureException)"],
        ),
        (
            "expired",
            &["no usable credentials (ExpiredTokenException)", "expired"],
        ),
    ];
    for (id, needles) in cases {
        assert_fails(&format!("aws-sm:{id}"), &e, 3, needles, &[SECRET_KEY]);
        // One request by the helper, one by amhash's run of it: no retry.
        assert_eq!(hits(&fake, id), 2, "{id}");
    }
}

#[test]
fn throttling_and_server_errors_are_retried_then_reported() {
    let fake = fake_aws();
    let e = env(fake.endpoint());
    for (id, needles) in [
        (
            "throttled",
            [
                "the service is unavailable (ThrottlingException)",
                "Rate exceeded",
            ],
        ),
        (
            "failing",
            [
                "the service is unavailable (InternalServiceError)",
                "internal error",
            ],
        ),
        ("unavailable", ["the service is unavailable", "503"]),
    ] {
        let out = fetch(&format!("aws-sm:{id}"), &e);
        let line = check_failure(id, &out, "amhash-secrets: ", 3, &needles);
        assert!(line.contains("try again later"), "{line}");
        assert_eq!(hits(&fake, id), 5, "{id}: five attempts");
    }
}

#[test]
fn a_flaky_service_is_retried_until_it_answers() {
    let fake = fake_aws();
    assert_fetched("aws-sm:flaky", &env(fake.endpoint()), HELD);
    assert_eq!(hits(&fake, "flaky"), 3);
}

/// No credentials (none at all, or a key id without its secret key) and no region: each a
/// failure before any request.
#[test]
fn no_credentials_or_no_region_fail_before_any_request() {
    let fake = fake_aws();
    let none = no_credentials(fake.endpoint());
    let mut half = none.clone();
    half.push(("AWS_ACCESS_KEY_ID", ACCESS_KEY));
    let no_region = without(&env(fake.endpoint()), "AWS_REGION");
    // (environment, what the line says)
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str]);
    let cases: [Case; 3] = [
        (
            &none,
            &[
                "no usable credentials (credentials)",
                "no providers in chain provided credentials",
                "AWS_ACCESS_KEY_ID",
            ],
        ),
        (&half, &["no usable credentials"]),
        (
            &no_region,
            &[
                "cannot set up the client (no region)",
                "no region is configured",
                "AWS_REGION",
            ],
        ),
    ];
    for (env, needles) in cases {
        assert_fails("aws-sm:amhash/plain", env, 3, needles, &[SECRET_KEY]);
    }
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
}

#[test]
fn unreachable_endpoint_is_tried_then_reported() {
    let url = closed_port_url();
    assert_fails(
        "aws-sm:amhash/plain",
        &env(&url),
        3,
        &[
            "cannot connect (no response)",
            "Connection refused",
            "AWS_ENDPOINT_URL",
        ],
        &[SECRET_KEY],
    );
}

/// A host that never resolves (RFC 6761), so a request that did go out would find nothing.
const REMOTE_HTTP: &str = "http://secretsmanager.example.invalid";

#[test]
fn plain_http_endpoint_off_loopback_is_refused_before_any_request() {
    let fake = fake_aws();
    // AWS_ENDPOINT_URL itself.
    let mut e = env(REMOTE_HTTP);
    assert_fails(
        "aws-sm:amhash/plain",
        &e,
        3,
        &[
            "cannot set up the client (AWS_ENDPOINT_URL)",
            REMOTE_HTTP,
            "unencrypted",
            "use https://",
        ],
        &[SECRET_KEY, ACCESS_KEY],
    );
    // The service-specific variable wins over AWS_ENDPOINT_URL in the SDK, so it is checked
    // too: the loopback fake named by AWS_ENDPOINT_URL is never asked.
    e = env(fake.endpoint());
    e.push(("AWS_ENDPOINT_URL_SECRETS_MANAGER", REMOTE_HTTP));
    assert_fails(
        "aws-sm:amhash/plain",
        &e,
        3,
        &[
            "cannot set up the client (AWS_ENDPOINT_URL_SECRETS_MANAGER)",
            "unencrypted",
        ],
        &[SECRET_KEY, ACCESS_KEY],
    );
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
}

#[test]
fn plain_http_endpoint_from_the_profile_is_refused_before_it_is_sent() {
    // No variable names the endpoint: the profile's endpoint_url does. Only the check of the
    // request the SDK is about to send sees it, and refuses it: a set-up failure at once, not
    // three attempts at a host that does not resolve.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        format!("[default]\nregion = us-east-1\nendpoint_url = {REMOTE_HTTP}\n"),
    )
    .unwrap();
    let mut e: Vec<(&str, &str)> = env("")
        .into_iter()
        .filter(|(n, _)| !matches!(*n, "AWS_ENDPOINT_URL" | "AWS_CONFIG_FILE"))
        .collect();
    e.push(("AWS_CONFIG_FILE", config.to_str().unwrap()));
    assert_fails(
        "aws-sm:amhash/plain",
        &e,
        3,
        &[
            "cannot set up the client (insecure endpoint)",
            "endpoint http://secretsmanager.example.invalid:",
            "unencrypted",
            "endpoint_url",
        ],
        &[SECRET_KEY, ACCESS_KEY],
    );
    // The same profile naming a loopback endpoint over plain http is fine.
    let fake = fake_aws();
    std::fs::write(
        &config,
        format!(
            "[default]\nregion = us-east-1\nendpoint_url = {}\n",
            fake.endpoint()
        ),
    )
    .unwrap();
    assert_fetched("aws-sm:amhash/plain", &e, HELD);
    assert_eq!(fake.requests().len(), 1);
}
