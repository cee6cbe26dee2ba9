//! Service URLs an administrator gives (`--kms-endpoint`, gcloud's endpoint override): one
//! reading of `scheme://host[:port]`, and the one rule that goes with it: credentials travel
//! over https, or over plain http only to a loopback address (an emulator, a test).

use std::net::IpAddr;

/// A parsed endpoint URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint<'a> {
    /// `https://` (else `http://`).
    pub https: bool,
    /// The host, without brackets for IPv6.
    pub host: &'a str,
}

impl Endpoint<'_> {
    /// The host is `localhost` or a loopback address.
    #[must_use]
    pub fn is_loopback(&self) -> bool {
        self.host == "localhost" || self.host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }

    /// Credentials may be sent there: https, or a loopback host.
    #[must_use]
    pub fn carries_credentials(&self) -> bool {
        self.https || self.is_loopback()
    }
}

/// Reads `url` as `http[s]://host[:port][/path]`, with no user info and no white space.
///
/// # Errors
/// What is wrong with it, as a phrase.
pub fn parse(url: &str) -> Result<Endpoint<'_>, &'static str> {
    let (https, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err("expected an http:// or https:// URL");
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') || url.chars().any(char::is_whitespace) {
        return Err("expected scheme://host[:port]");
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    if host.is_empty() {
        return Err("expected scheme://host[:port]");
    }
    Ok(Endpoint { https, host })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_the_credentials_rule() {
        for (url, host, carries) in [
            (
                "https://cloudkms.googleapis.com",
                "cloudkms.googleapis.com",
                true,
            ),
            ("http://127.0.0.1:8080/", "127.0.0.1", true),
            ("http://[::1]:80", "::1", true),
            ("http://localhost", "localhost", true),
            (
                "http://127.0.0.1.example.com",
                "127.0.0.1.example.com",
                false,
            ),
            (
                "http://secretmanager.example.com",
                "secretmanager.example.com",
                false,
            ),
        ] {
            let e = parse(url).unwrap();
            assert_eq!((e.host, e.carries_credentials()), (host, carries), "{url}");
        }
        for bad in [
            "ftp://x",
            "https://",
            "https://user@host",
            "https://a b",
            "http://:80",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
