//! `aws-sm:SECRET_ID[?stage=STAGE|?version=ID][#FIELD]` through the official SDK
//! (`aws-sdk-secretsmanager`, configured by `aws-config`).
//!
//! Configured as the `aws` CLI is, by the SDK's own providers:
//!
//! | setting | from |
//! |---------|------|
//! | region | the ARN when SECRET_ID is one (`arn:PARTITION:secretsmanager:REGION:...`), else `AWS_REGION`/`AWS_DEFAULT_REGION`, the profile, the instance metadata; none: a failure before any request |
//! | credentials | the default chain: environment, profile files (`AWS_PROFILE`, SSO, `credential_process`, assume-role), web identity, ECS task role, EC2 instance role |
//! | endpoint | the regional one, or `AWS_ENDPOINT_URL_SECRETS_MANAGER` / `AWS_ENDPOINT_URL` / the profile's `endpoint_url` (VPC endpoints, emulators, tests) |
//!
//! An endpoint must be `https://`, or plain `http://` to a loopback host only (an emulator,
//! a test): the request carries the access key id (and any session token) and the answer the
//! secret, and neither may cross a network in the clear. The two variables are checked before
//! anything else is done, so the message names the one at fault; and every request's actual
//! URI is checked again just before it is sent ([`SecureEndpoint`], an SDK interceptor), which
//! covers an `endpoint_url` from the profile files too. Either way the failure is a set-up
//! failure, reported at once, and no request leaves.
//!
//! One `GetSecretValue` call, with `VersionStage` or `VersionId` when the reference has one.
//! The SDK's own retries are off: [`with_retries`] retries by the [`Class`] this module
//! gives each failure, as for every service, so attempts and messages are the same
//! everywhere. Credentials are resolved once, before the first request, so a missing or
//! broken credential source is reported as such, and never reaches the network.

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_secretsmanager::config::http::HttpResponse;
use aws_sdk_secretsmanager::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_secretsmanager::config::{
    ConfigBag, Intercept, ProvideCredentials as _, Region, RuntimeComponents,
};
use aws_sdk_secretsmanager::error::{BoxError, ProvideErrorMetadata as _, SdkError};
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;
use zeroize::Zeroizing;

use super::{Class, Failure, chain, open_credential, with_retries};
use crate::secrets::AwsRef;
use crate::secrets::reference::AwsVersion;

/// Largest shared config or credentials file read.
const MAX_PROFILE_FILE: u64 = 1024 * 1024;

/// The shared config and credentials files (`AWS_CONFIG_FILE`, else `~/.aws/config`;
/// `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`), read here and given to the SDK
/// as contents, where the SDK would read them by path whoever owns them. They choose the keys,
/// the role, the endpoint, and `credential_process` (a command the SDK runs), so each must
/// pass [`open_credential`]: root's or the caller's, in a directory no other account can write.
/// A missing file is an empty one, as for the SDK.
#[allow(deprecated)] // aws-config's names for aws-runtime's `EnvConfigFiles`, not a direct dependency
fn profile_files() -> Result<aws_config::profile::profile_file::ProfileFiles, Failure> {
    use aws_config::profile::profile_file::{ProfileFileKind, ProfileFiles};
    use std::io::Read as _;
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty());
    let mut files = ProfileFiles::builder();
    for (kind, var, default, what) in [
        (
            ProfileFileKind::Config,
            "AWS_CONFIG_FILE",
            ".aws/config",
            "the AWS config file",
        ),
        (
            ProfileFileKind::Credentials,
            "AWS_SHARED_CREDENTIALS_FILE",
            ".aws/credentials",
            "the AWS credentials file",
        ),
    ] {
        // `~/` at the start of an override is the home directory, as for the SDK.
        let path = match std::env::var(var).ok().filter(|v| !v.is_empty()) {
            Some(p) => match (p.strip_prefix("~/"), &home) {
                (Some(rest), Some(h)) => Some(std::path::Path::new(h).join(rest)),
                _ => Some(std::path::PathBuf::from(p)),
            },
            None => home.as_ref().map(|h| std::path::Path::new(h).join(default)),
        };
        let mut text = String::new();
        if let Some(file) = path
            .map(|p| open_credential(&p, what, Class::Credentials))
            .transpose()?
            .flatten()
        {
            file.take(MAX_PROFILE_FILE + 1)
                .read_to_string(&mut text)
                .map_err(|e| {
                    Failure::new(
                        Class::Credentials,
                        "profile",
                        format!("cannot read {what}: {e}"),
                    )
                })?;
            if u64::try_from(text.len()).unwrap_or(u64::MAX) > MAX_PROFILE_FILE {
                return Err(Failure::new(
                    Class::Credentials,
                    "profile",
                    format!("{what} is over 1 MiB"),
                ));
            }
        }
        files = files.with_contents(kind, text);
    }
    Ok(files.build())
}

/// The endpoint variables the SDK reads for Secrets Manager, the specific one first.
const ENDPOINT_VARS: [&str; 2] = ["AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL"];

pub(super) async fn fetch(r: &AwsRef) -> Result<Zeroizing<Vec<u8>>, Failure> {
    check_endpoint_vars()?;
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        // One attempt a call: with_retries decides, by class.
        .retry_config(RetryConfig::disabled())
        .profile_files(profile_files()?);
    // An ARN says where the secret lives; asking another region could only fail (or, with
    // a same-named secret there, read the wrong one).
    if let Some(region) = arn_region(&r.id) {
        loader = loader.region(Region::new(region.to_owned()));
    }
    let shared = loader.load().await;
    if shared.region().is_none() {
        return Err(Failure::new(
            Class::Setup,
            "no region",
            "the secret is named, not given by ARN, and no region is configured (AWS_REGION, the profile's region, instance metadata)",
        ));
    }
    let Some(provider) = shared.credentials_provider() else {
        return Err(Failure::new(
            Class::Credentials,
            "credentials",
            "no credentials provider is configured",
        ));
    };
    let credentials = provider.provide_credentials().await.map_err(|e| {
        Failure::new(
            Class::Credentials,
            "credentials",
            format!("no credentials from the default chain: {}", chain(&e)),
        )
    })?;
    let config = aws_sdk_secretsmanager::config::Builder::from(&shared)
        .credentials_provider(credentials)
        .interceptor(SecureEndpoint)
        .build();
    let client = aws_sdk_secretsmanager::Client::from_conf(config);

    let mut output = with_retries(|| async {
        let request = client.get_secret_value().secret_id(&r.id);
        let request = match &r.version {
            Some(AwsVersion::Stage(stage)) => request.version_stage(stage),
            Some(AwsVersion::Id(id)) => request.version_id(id),
            None => request,
        };
        request.send().await.map_err(|e| classify(&e))
    })
    .await?;
    // Taken out of the output rather than copied, so the one copy is the zeroized one.
    if let Some(text) = output.secret_string.take() {
        return Ok(Zeroizing::new(text.into_bytes()));
    }
    if let Some(blob) = output.secret_binary.take() {
        return Ok(Zeroizing::new(blob.into_inner()));
    }
    Err(Failure::new(
        Class::BadAnswer,
        "no value",
        "the secret version has neither SecretString nor SecretBinary",
    ))
}

/// `AWS_ENDPOINT_URL_SECRETS_MANAGER` and `AWS_ENDPOINT_URL`, when set: https, or http to a
/// loopback host only. (With `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true` the SDK ignores them,
/// and so does this check; [`SecureEndpoint`] still sees every request.)
fn check_endpoint_vars() -> Result<(), Failure> {
    let ignored = std::env::var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .is_ok_and(|v| v.trim().eq_ignore_ascii_case("true"));
    if ignored {
        return Ok(());
    }
    for name in ENDPOINT_VARS {
        let Some(url) = std::env::var(name).ok().filter(|v| !v.is_empty()) else {
            continue;
        };
        if let Err(why) = endpoint_carries_credentials(&url) {
            return Err(Failure::new(
                Class::Setup,
                name,
                format!("{}: {why}", crate::escape::text(&url)),
            ));
        }
    }
    Ok(())
}

/// Whether a request may go to `url`: https, or plain http to a loopback host (the rule of
/// [`crate::endpoint`]); else why not, as a phrase.
fn endpoint_carries_credentials(url: &str) -> Result<(), &'static str> {
    let endpoint = crate::endpoint::parse(url)?;
    if endpoint.carries_credentials() {
        Ok(())
    } else {
        Err(
            "plain http to a host that is not loopback would send the credentials and the secret unencrypted; use https://",
        )
    }
}

/// The interceptor that refuses to send a request anywhere but https or a loopback host,
/// whichever setting named the endpoint (variables, profile `endpoint_url`, the SDK's own
/// resolution). It reads the request as it is about to go out, signed.
#[derive(Debug)]
struct SecureEndpoint;

/// The failure [`SecureEndpoint`] reports; [`classify`] finds it among an error's causes.
#[derive(Debug)]
struct InsecureEndpoint {
    /// The request's URI, without its path and query.
    endpoint: String,
    why: &'static str,
}

impl std::fmt::Display for InsecureEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "endpoint {}: {} (check AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL and the profile's endpoint_url)",
            crate::escape::text(&self.endpoint),
            self.why
        )
    }
}

impl std::error::Error for InsecureEndpoint {}

impl Intercept for SecureEndpoint {
    fn name(&self) -> &'static str {
        "amhash::SecureEndpoint"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let uri = context.request().uri();
        endpoint_carries_credentials(uri).map_err(|why| {
            // scheme://authority only: the path and query say nothing more.
            let endpoint = match uri.split_once("://") {
                Some((scheme, rest)) => format!(
                    "{scheme}://{}",
                    rest.split(['/', '?', '#']).next().unwrap_or_default()
                ),
                None => uri.to_owned(),
            };
            Box::new(InsecureEndpoint { endpoint, why }) as BoxError
        })
    }
}

/// The region of a Secrets Manager ARN (`arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME`);
/// `None` for a name (secret names cannot hold `:`) or another shape, left to the service.
fn arn_region(id: &str) -> Option<&str> {
    let mut parts = id.splitn(7, ':');
    let (arn, _partition, service, region) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    (arn == "arn" && service == "secretsmanager" && !region.is_empty() && parts.count() == 3)
        .then_some(region)
}

/// Sorts an SDK error into a [`Failure`]: the AWS error code as the status, the service's
/// message as the detail.
fn classify(e: &SdkError<GetSecretValueError, HttpResponse>) -> Failure {
    let refused = std::iter::successors(Some(e as &(dyn std::error::Error + 'static)), |e| {
        e.source()
    })
    .find_map(|e| e.downcast_ref::<InsecureEndpoint>());
    if let Some(refused) = refused {
        return Failure::new(Class::Setup, "insecure endpoint", refused);
    }
    match e {
        SdkError::ServiceError(ctx) => {
            let err = ctx.err();
            let http = ctx.raw().status().as_u16();
            // Runs of spaces collapsed: some services wrap their messages in the source.
            let detail = err
                .message()
                .map(|m| m.split_whitespace().collect::<Vec<_>>().join(" "))
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| format!("no detail from AWS (HTTP {http})"));
            match err.code().filter(|c| !c.is_empty()) {
                Some(code) => Failure::new(class_of_code(code, http), code, detail),
                None => Failure::new(Failure::class_of_http(http), format!("HTTP {http}"), detail),
            }
        }
        SdkError::DispatchFailure(d) => {
            // A connection that was made and then cut is worth the longer retry; one that
            // could not be made (refused, DNS, TLS, the SDK's connect timeout) is not.
            let cut = io_kinds(e).any(|k| {
                use std::io::ErrorKind::*;
                matches!(
                    k,
                    ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof
                )
            });
            let class = if cut && !d.is_timeout() {
                Class::Transient
            } else {
                Class::Unreachable
            };
            Failure::new(class, "no response", chain(e))
        }
        SdkError::TimeoutError(_) => Failure::new(Class::Transient, "timeout", chain(e)),
        SdkError::ResponseError(ctx) => {
            let http = ctx.raw().status().as_u16();
            let class = match Failure::class_of_http(http) {
                Class::Transient => Class::Transient,
                _ => Class::BadAnswer,
            };
            Failure::new(class, format!("HTTP {http}"), chain(e))
        }
        SdkError::ConstructionFailure(_) => Failure::new(Class::Setup, "request", chain(e)),
        _ => Failure::new(Class::BadAnswer, "response", chain(e)),
    }
}

/// The class of an AWS error code (the JSON protocol's `__type`, as the SDK parsed it).
fn class_of_code(code: &str, http: u16) -> Class {
    match code {
        // The credentials themselves: unknown key id, wrong secret key, expired session.
        "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "SignatureDoesNotMatch"
        | "IncompleteSignature"
        | "InvalidClientTokenId"
        | "MissingAuthenticationToken"
        | "ExpiredTokenException"
        | "ExpiredToken" => Class::Credentials,
        // Valid credentials without the permission; DecryptionFailure is KMS refusing the
        // secret's key (kms:Decrypt), which the Denied hint names.
        "AccessDeniedException" | "AccessDenied" | "DecryptionFailure" => Class::Denied,
        "ResourceNotFoundException" => Class::NotFound,
        // A secret scheduled for deletion, a bad version id or stage.
        "InvalidRequestException" | "InvalidParameterException" | "ValidationException" => {
            Class::Rejected
        }
        "ThrottlingException"
        | "Throttling"
        | "TooManyRequestsException"
        | "RequestLimitExceeded"
        | "InternalServiceError"
        | "InternalFailure"
        | "ServiceUnavailable"
        | "ServiceUnavailableException" => Class::Transient,
        _ => Failure::class_of_http(http),
    }
}

/// The kinds of the `std::io::Error`s among an error's causes.
fn io_kinds<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = std::io::ErrorKind> + 'a {
    std::iter::successors(Some(e), |e| e.source())
        .filter_map(|e| e.downcast_ref::<std::io::Error>())
        .map(std::io::Error::kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_comes_from_a_secrets_manager_arn_only() {
        assert_eq!(
            arn_region("arn:aws:secretsmanager:eu-west-1:123456789012:secret:am/key-AbCdEf"),
            Some("eu-west-1")
        );
        assert_eq!(
            arn_region("arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:k-x1Y2z3"),
            Some("us-gov-west-1")
        );
        assert_eq!(arn_region("am/key"), None);
        assert_eq!(
            arn_region("arn:aws:kms:eu-west-1:123456789012:key/abc"),
            None
        );
        assert_eq!(
            arn_region("arn:aws:secretsmanager::123456789012:secret:k"),
            None
        );
        assert_eq!(arn_region("arn:aws:secretsmanager:eu-west-1"), None);
    }

    #[test]
    fn requests_go_over_https_or_to_loopback_only() {
        for ok in [
            "https://secretsmanager.us-east-1.amazonaws.com/",
            "https://vpce-0123.secretsmanager.eu-west-1.vpce.amazonaws.com",
            "http://127.0.0.1:4566/",
            "http://localhost:4566",
            "http://[::1]:4566/",
        ] {
            assert_eq!(endpoint_carries_credentials(ok), Ok(()), "{ok}");
        }
        for bad in [
            "http://secretsmanager.example.invalid",
            "http://secretsmanager.us-east-1.amazonaws.com/",
            "http://127.0.0.1.example.com/",
            "http://10.0.0.5:4566",
            "ftp://127.0.0.1",
        ] {
            assert!(endpoint_carries_credentials(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn error_codes_sort_into_classes() {
        for (code, http, class) in [
            ("AccessDeniedException", 400, Class::Denied),
            ("DecryptionFailure", 400, Class::Denied),
            ("UnrecognizedClientException", 400, Class::Credentials),
            ("InvalidSignatureException", 400, Class::Credentials),
            ("ExpiredTokenException", 400, Class::Credentials),
            ("ResourceNotFoundException", 400, Class::NotFound),
            ("InvalidRequestException", 400, Class::Rejected),
            ("ThrottlingException", 400, Class::Transient),
            ("InternalServiceError", 500, Class::Transient),
            ("SomethingNew", 503, Class::Transient),
            ("SomethingNew", 400, Class::Rejected),
        ] {
            assert_eq!(class_of_code(code, http), class, "{code}");
        }
    }
}
