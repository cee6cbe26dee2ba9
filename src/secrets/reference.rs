//! The secrets-manager references (the table in [`crate::secrets`]): parsed once, checked
//! strictly, written back canonically (`parse(display(x)) == x`).
//!
//! Strict because a reference becomes a URL path: a Vault path with a `..` segment, or an
//! Azure name with a `/`, would reach another API than the one named. Nothing of a rejected
//! reference is echoed (a secret pasted into `--key` by mistake must not reach a terminal
//! log), only what is wrong with it.

use std::fmt;
use std::str::FromStr;

/// `vault:MOUNT/PATH#FIELD`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VaultRef {
    /// `MOUNT/PATH`: at least two non-empty segments, no `.` or `..` segment. Which leading
    /// segments are the mount, Vault itself answers (see the client).
    pub path: String,
}

/// `aws-sm:SECRET_ID[?stage=STAGE|?version=ID][#FIELD]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AwsRef {
    /// The secret's name or ARN.
    pub id: String,
    /// Which version: by staging label or by id; `None` is `AWSCURRENT`.
    pub version: Option<AwsVersion>,
}

/// How an AWS secret version is chosen.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AwsVersion {
    /// `?stage=STAGE` (`AWSCURRENT`, `AWSPREVIOUS`, a custom label).
    Stage(String),
    /// `?version=ID`.
    Id(String),
}

/// `gcp-sm:projects/P/secrets/S[/versions/V][#FIELD]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GcpRef {
    /// The project id or number.
    pub project: String,
    /// The secret id.
    pub secret: String,
    /// `latest` or a version number.
    pub version: String,
}

impl GcpRef {
    /// The version's resource name, as the API takes it.
    #[must_use]
    pub fn version_name(&self) -> String {
        format!(
            "projects/{}/secrets/{}/versions/{}",
            self.project, self.secret, self.version
        )
    }
}

/// `azure-kv:https://VAULT.vault.azure.net/secrets/NAME[/VERSION][#FIELD]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AzureRef {
    /// `https://HOST[:PORT]` (plain `http://` only for a loopback host: emulators, tests).
    pub vault_url: String,
    /// The secret name.
    pub name: String,
    /// A version id; `None` is the current version.
    pub version: Option<String>,
}

/// A reference to a secret in a secrets manager: where it is, and which field of it to take.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecretRef {
    /// The service and the secret in it.
    pub location: Location,
    /// `#FIELD`: the member of the secret's JSON object (or of a Vault KV map) to take;
    /// `None` takes the whole secret. Always `Some` for Vault (the parser requires it: a KV
    /// secret is a map of fields). The same for every service, so applied in one place, after
    /// the fetch.
    pub field: Option<String>,
}

/// Where a secret is: the service and the secret's name in it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Location {
    /// HashiCorp Vault KV.
    Vault(VaultRef),
    /// AWS Secrets Manager.
    AwsSm(AwsRef),
    /// Google Cloud Secret Manager.
    GcpSm(GcpRef),
    /// Azure Key Vault secrets.
    AzureKv(AzureRef),
}

/// A malformed reference (a usage error, exit 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {scheme}: reference: {problem}; expected {}", syntax(scheme))]
pub struct ReferenceError {
    /// The scheme, as written (`vault`, `aws-sm`, `gcp-sm`, `azure-kv`).
    pub scheme: &'static str,
    /// What is wrong (never the value).
    pub problem: &'static str,
}

/// Parses one scheme's part after `scheme:` (without `#FIELD`).
type Parser = fn(&str) -> Result<Location, &'static str>;

/// The schemes of this module, for [`crate::key_source`]'s parser.
pub const SCHEMES: [&str; 4] = ["vault", "aws-sm", "gcp-sm", "azure-kv"];

fn syntax(scheme: &str) -> &'static str {
    match scheme {
        "vault" => "vault:MOUNT/PATH#FIELD",
        "aws-sm" => "aws-sm:SECRET_ID[?stage=STAGE|?version=ID][#FIELD]",
        "gcp-sm" => "gcp-sm:projects/P/secrets/S[/versions/V][#FIELD]",
        _ => "azure-kv:https://VAULT.vault.azure.net/secrets/NAME[/VERSION][#FIELD]",
    }
}

impl SecretRef {
    /// Parses the part after `scheme:`; `None` if `scheme` is not one of [`SCHEMES`].
    ///
    /// # Errors
    /// [`ReferenceError`] for a malformed reference.
    pub fn parse(scheme: &str, rest: &str) -> Option<Result<SecretRef, ReferenceError>> {
        let (scheme, parse): (&'static str, Parser) = match scheme {
            "vault" => ("vault", parse_vault),
            "aws-sm" => ("aws-sm", parse_aws),
            "gcp-sm" => ("gcp-sm", parse_gcp),
            "azure-kv" => ("azure-kv", parse_azure),
            _ => return None,
        };
        let bad = |problem| ReferenceError { scheme, problem };
        Some((|| {
            // Printable ASCII only: no white space or control character, and no bidi
            // override or zero-width character that could make a message lie.
            if !rest.chars().all(|c| c.is_ascii_graphic()) {
                return Err(bad(
                    "it contains white space, a control character or a non-ASCII character",
                ));
            }
            let (body, field) = match rest.split_once('#') {
                Some((_, "")) => return Err(bad("#FIELD is empty")),
                Some((body, field)) => (body, Some(field.to_owned())),
                None => (rest, None),
            };
            if body.is_empty() {
                return Err(bad("it is empty"));
            }
            let location = parse(body).map_err(bad)?;
            if matches!(location, Location::Vault(_)) && field.is_none() {
                return Err(bad(
                    "a Vault KV secret is a map of fields: name one with #FIELD",
                ));
            }
            Ok(SecretRef { location, field })
        })())
    }

    /// The scheme (`vault`, `aws-sm`, `gcp-sm`, `azure-kv`).
    #[must_use]
    pub fn scheme(&self) -> &'static str {
        match self.location {
            Location::Vault(_) => "vault",
            Location::AwsSm(_) => "aws-sm",
            Location::GcpSm(_) => "gcp-sm",
            Location::AzureKv(_) => "azure-kv",
        }
    }
}

impl FromStr for SecretRef {
    type Err = ReferenceError;

    /// Parses a whole `scheme:...` reference.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (scheme, rest) = s.split_once(':').unwrap_or((s, ""));
        SecretRef::parse(scheme, rest).unwrap_or(Err(ReferenceError {
            scheme: "vault",
            problem: "not a secrets-manager reference",
        }))
    }
}

fn parse_vault(body: &str) -> Result<Location, &'static str> {
    let segments: Vec<&str> = body.split('/').collect();
    if segments.len() < 2 {
        return Err("MOUNT/PATH needs a mount and a path");
    }
    if segments.iter().any(|s| s.is_empty()) {
        return Err("MOUNT/PATH has an empty segment (a leading, trailing or double '/')");
    }
    if segments.iter().any(|s| *s == "." || *s == "..") {
        return Err("MOUNT/PATH has a '.' or '..' segment");
    }
    if body.contains(['?', '%']) {
        return Err("MOUNT/PATH contains '?' or '%'");
    }
    Ok(Location::Vault(VaultRef {
        path: body.to_owned(),
    }))
}

/// Characters AWS allows in secret names, plus `:` for ARNs.
fn aws_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "/_+=.@-:".contains(c)
}

fn parse_aws(body: &str) -> Result<Location, &'static str> {
    let (id, query) = match body.split_once('?') {
        Some((id, query)) => (id, Some(query)),
        None => (body, None),
    };
    if id.is_empty() || id.len() > 2048 || !id.chars().all(aws_id_char) {
        return Err("SECRET_ID must be a secret name or ARN (letters, digits and /_+=.@-:)");
    }
    if id.starts_with("arn:") {
        check_arn(id)?;
    }
    let label = |v: &str| {
        let ok = !v.is_empty()
            && v.len() <= 256
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_+=.@-".contains(c));
        ok.then(|| v.to_owned())
    };
    let version = match query {
        None => None,
        Some(q) => Some(if let Some(stage) = q.strip_prefix("stage=") {
            AwsVersion::Stage(label(stage).ok_or("the stage is empty or has other characters")?)
        } else if let Some(id) = q.strip_prefix("version=") {
            AwsVersion::Id(label(id).ok_or("the version id is empty or has other characters")?)
        } else {
            return Err("after '?' expected stage=STAGE or version=ID");
        }),
    };
    Ok(Location::AwsSm(AwsRef {
        id: id.to_owned(),
        version,
    }))
}

/// An ARN: `arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME`. Checked strictly
/// because the client builds the service's host name from the region: a region of
/// `x.example.com/` would send the signed request (and so the credentials) elsewhere.
fn check_arn(id: &str) -> Result<(), &'static str> {
    let parts: Vec<&str> = id.splitn(7, ':').collect();
    let [_, partition, service, region, account, "secret", name] = parts.as_slice() else {
        return Err("an ARN must be arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME");
    };
    let partition_ok = *partition == "aws"
        || partition.strip_prefix("aws-").is_some_and(|p| {
            !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
        });
    // A region: lower-case words joined by '-', the last one a number (eu-west-1,
    // us-gov-west-1, cn-north-1).
    let words: Vec<&str> = region.split('-').collect();
    let region_ok = words.len() >= 3
        && words.iter().all(|w| !w.is_empty())
        && words
            .first()
            .is_some_and(|w| w.len() == 2 && w.bytes().all(|b| b.is_ascii_lowercase()))
        && words
            .last()
            .is_some_and(|w| w.bytes().all(|b| b.is_ascii_digit()))
        && words.iter().all(|w| {
            w.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    if !partition_ok || *service != "secretsmanager" || !region_ok || !account_ok || name.is_empty()
    {
        return Err(
            "an ARN must be arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME with a region such as eu-west-1 and a 12-digit account",
        );
    }
    Ok(())
}

fn parse_gcp(body: &str) -> Result<Location, &'static str> {
    let parts: Vec<&str> = body.split('/').collect();
    let (project, secret, version) = match parts.as_slice() {
        ["projects", p, "secrets", s] => (*p, *s, "latest"),
        ["projects", p, "secrets", s, "versions", v] => (*p, *s, *v),
        _ => return Err("expected projects/P/secrets/S or projects/P/secrets/S/versions/V"),
    };
    // Project ids are lower-case letters, digits and '-' (numbers too; a legacy
    // domain-scoped id has "domain:"), secret ids letters, digits, '-' and '_'.
    let project_ok = project.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && !project.contains("..")
        && project.len() <= 100
        && project
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-.:".contains(c));
    if !project_ok {
        return Err("the project is not a project id or number");
    }
    let secret_ok = !secret.is_empty()
        && secret.len() <= 255
        && secret
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !secret_ok {
        return Err("the secret id must be letters, digits, '-' and '_' (at most 255)");
    }
    let version_ok = version == "latest"
        || (!version.is_empty()
            && version.len() <= 20
            && version.bytes().all(|b| b.is_ascii_digit()));
    if !version_ok {
        return Err("the version must be `latest` or a number");
    }
    Ok(Location::GcpSm(GcpRef {
        project: project.to_owned(),
        secret: secret.to_owned(),
        version: version.to_owned(),
    }))
}

fn parse_azure(body: &str) -> Result<Location, &'static str> {
    const URL: &str = "the vault URL must be https://HOST[:PORT] with a lower-case host name";
    let endpoint = crate::endpoint::parse(body).map_err(|_| URL)?;
    let rest = body.split_once("://").map_or("", |(_, rest)| rest);
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let port_ok = authority.split_once(':').is_none_or(|(_, p)| {
        !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())
    });
    let host = endpoint.host;
    let host_ok = host
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
    if !host_ok || !port_ok {
        return Err(URL);
    }
    // Only these two: the Azure client's plain-http transport knows no other loopback name.
    if !endpoint.https && !matches!(host, "127.0.0.1" | "localhost") {
        return Err("plain http would send the access token unencrypted; use https://");
    }
    let segments: Vec<&str> = path.split('/').collect();
    let (name, version) = match segments.as_slice() {
        ["secrets", n] => (*n, None),
        ["secrets", n, v] => (*n, Some(*v)),
        _ => return Err("expected /secrets/NAME or /secrets/NAME/VERSION after the vault URL"),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 127
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !name_ok {
        return Err("the secret name must be 1 to 127 letters, digits and '-'");
    }
    if version.is_some_and(|v| {
        v.is_empty() || v.len() > 64 || !v.chars().all(|c| c.is_ascii_alphanumeric())
    }) {
        return Err("the version must be letters and digits");
    }
    Ok(Location::AzureKv(AzureRef {
        vault_url: format!(
            "{}://{authority}",
            if endpoint.https { "https" } else { "http" }
        ),
        name: name.to_owned(),
        version: version.map(str::to_owned),
    }))
}

impl fmt::Display for SecretRef {
    /// The canonical reference (never a secret).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.scheme())?;
        match &self.location {
            Location::Vault(r) => f.write_str(&r.path)?,
            Location::AwsSm(r) => {
                f.write_str(&r.id)?;
                match &r.version {
                    Some(AwsVersion::Stage(s)) => write!(f, "?stage={s}")?,
                    Some(AwsVersion::Id(v)) => write!(f, "?version={v}")?,
                    None => {}
                }
            }
            Location::GcpSm(r) => f.write_str(&r.version_name())?,
            Location::AzureKv(r) => {
                write!(f, "{}/secrets/{}", r.vault_url, r.name)?;
                if let Some(v) = &r.version {
                    write!(f, "/{v}")?;
                }
            }
        }
        match &self.field {
            Some(field) => write!(f, "#{field}"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> SecretRef {
        let r: SecretRef = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(r.to_string(), s, "canonical form");
        r
    }

    fn bad(s: &str, problem: &str) {
        let e = s.parse::<SecretRef>().unwrap_err();
        assert!(e.problem.contains(problem), "{s}: {e}");
        assert_eq!(e.to_string().lines().count(), 1);
    }

    #[test]
    fn each_form_parses_and_writes_back() {
        let v = ok("vault:secret/am/prod#password");
        let Location::Vault(vault) = &v.location else {
            panic!()
        };
        assert_eq!(
            (vault.path.as_str(), v.field.as_deref()),
            ("secret/am/prod", Some("password"))
        );
        let a = ok("aws-sm:prod/am-encryption");
        let Location::AwsSm(aws) = &a.location else {
            panic!()
        };
        assert_eq!(
            (aws.id.as_str(), &aws.version, &a.field),
            ("prod/am-encryption", &None, &None)
        );
        let arn = "aws-sm:arn:aws:secretsmanager:eu-west-1:123456789012:secret:am-AbCdEf?stage=AWSPREVIOUS#pwd";
        let a = ok(arn);
        let Location::AwsSm(aws) = &a.location else {
            panic!()
        };
        assert_eq!(aws.version, Some(AwsVersion::Stage("AWSPREVIOUS".into())));
        assert_eq!(a.field.as_deref(), Some("pwd"));
        ok("aws-sm:am?version=EXAMPLE1-90ab-cdef-fedc-ba987SECRET1");
        ok("aws-sm:arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:am/prod-AbCdEf");
        ok("aws-sm:arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:am-AbCdEf#pwd");
        let Location::GcpSm(g) = ok("gcp-sm:projects/my-proj/secrets/am_key/versions/3#k").location
        else {
            panic!()
        };
        assert_eq!(
            g.version_name(),
            "projects/my-proj/secrets/am_key/versions/3"
        );
        let g: SecretRef = "gcp-sm:projects/my-proj/secrets/am_key".parse().unwrap();
        assert_eq!(
            g.to_string(),
            "gcp-sm:projects/my-proj/secrets/am_key/versions/latest"
        );
        let Location::AzureKv(z) =
            ok("azure-kv:https://am-vault.vault.azure.net/secrets/am-enc/0123abcd#f").location
        else {
            panic!()
        };
        assert_eq!(z.vault_url, "https://am-vault.vault.azure.net");
        assert_eq!(z.version.as_deref(), Some("0123abcd"));
        ok("azure-kv:http://127.0.0.1:8443/secrets/am-enc");
    }

    #[test]
    fn malformed_references_say_what_is_wrong() {
        for (s, problem) in [
            ("vault:secret/am", "#FIELD"),
            ("vault:secret#f", "mount and a path"),
            ("vault:secret//am#f", "empty segment"),
            ("vault:/secret/am#f", "empty segment"),
            ("vault:secret/../sys/raw#f", "'..'"),
            ("vault:secret/am?x#f", "'?'"),
            ("vault:secret/am#", "#FIELD is empty"),
            ("vault:secret/a m#f", "white space"),
            ("vault:secret/am\u{202e}x#f", "non-ASCII"),
            ("vault:secret/am#pass\u{200b}word", "non-ASCII"),
            (
                "aws-sm:arn:aws:secretsmanager:x.evil.com/:123456789012:secret:k",
                "ARN",
            ),
            (
                "aws-sm:arn:aws:secretsmanager:eu-west-1@evil.com:123456789012:secret:k",
                "ARN",
            ),
            (
                "aws-sm:arn:aws:secretsmanager:eu-west:123456789012:secret:k",
                "ARN",
            ),
            ("aws-sm:arn:aws:s3:eu-west-1:123456789012:secret:k", "ARN"),
            (
                "aws-sm:arn:aws:secretsmanager:eu-west-1:1234:secret:k",
                "ARN",
            ),
            (
                "aws-sm:arn:evil:secretsmanager:eu-west-1:123456789012:secret:k",
                "ARN",
            ),
            ("gcp-sm:projects/../secrets/s", "project"),
            ("gcp-sm:projects/./secrets/s", "project"),
            ("gcp-sm:projects/a..b/secrets/s", "project"),
            ("aws-sm:", "empty"),
            ("aws-sm:a b", "white space"),
            ("aws-sm:am\u{7}", "control"),
            ("aws-sm:am$x", "SECRET_ID"),
            ("aws-sm:am?stage=", "stage"),
            ("aws-sm:am?label=x", "stage=STAGE"),
            ("gcp-sm:projects/p/secrets", "expected projects"),
            ("gcp-sm:projects/P!/secrets/s", "project"),
            ("gcp-sm:projects/p/secrets/s.x", "secret id"),
            ("gcp-sm:projects/p/secrets/s/versions/new", "version"),
            ("azure-kv:am-vault.vault.azure.net/secrets/x", "https://"),
            (
                "azure-kv:http://am-vault.vault.azure.net/secrets/x",
                "unencrypted",
            ),
            (
                "azure-kv:https://am-vault.vault.azure.net/keys/x",
                "/secrets/NAME",
            ),
            (
                "azure-kv:https://am-vault.vault.azure.net/secrets/a_b",
                "secret name",
            ),
            (
                "azure-kv:https://am-vault.vault.azure.net/secrets/a/v/x",
                "/secrets/NAME",
            ),
            ("azure-kv:https://user@host/secrets/a", "HOST"),
        ] {
            bad(s, problem);
        }
    }

    #[test]
    fn other_schemes_are_not_ours() {
        assert!(SecretRef::parse("file", "/x").is_none());
        assert!(SecretRef::parse("VAULT", "a/b#c").is_none());
    }
}
