//! Unit tests of the Azure client: the loopback transport, the scopes, the messages.

use super::*;

fn http(plain: &[&str]) -> LoopbackHttp {
    LoopbackHttp {
        inner: new_http_client(None),
        plain: plain.iter().map(|s| (*s).to_owned()).collect(),
    }
}

fn request(url: &str) -> Request {
    Request::new(Url::parse(url).unwrap(), Method::Get)
}

#[test]
fn only_the_listed_loopback_authorities_go_plain() {
    let h = http(&["127.0.0.1:8443"]);
    let down = h
        .downgrade(&request("https://127.0.0.1:8443/secrets/a/?api-version=1"))
        .unwrap();
    assert_eq!(
        down.url().as_str(),
        "http://127.0.0.1:8443/secrets/a/?api-version=1"
    );
    for url in [
        "https://127.0.0.1:8444/secrets/a",
        "https://am.vault.azure.net/secrets/a",
        "https://login.microsoftonline.com/t/oauth2/v2.0/token",
        "http://127.0.0.1:8443/x",
    ] {
        assert!(h.downgrade(&request(url)).is_none(), "{url}");
    }
}

#[test]
fn chained_credential_messages_fit_on_one_line() {
    let text = "Multiple errors were encountered while attempting to authenticate:\n\
        AzureCliCredential authentication failed. az not found on PATH\n\
        To troubleshoot, visit https://aka.ms/azsdk/rust/identity/troubleshoot#azure-cli\n\
        AzureDeveloperCliCredential authentication failed. azd not found on PATH";
    assert_eq!(
        tools_failure(text),
        "AzureCliCredential: az not found on PATH; AzureDeveloperCliCredential: azd not found on PATH"
    );
}

#[test]
fn only_key_vault_scopes_reach_the_credential() {
    for scope in KEY_VAULT_SCOPES {
        assert!(key_vault_scopes_only(&[scope]).is_ok(), "{scope}");
    }
    assert!(key_vault_scopes_only(&KEY_VAULT_SCOPES).is_ok());
    for scopes in [
        &["https://management.azure.com/.default"][..],
        &["https://graph.microsoft.com/.default"],
        &["https://vault.azure.net"],
        &["https://vault.azure.net.example.com/.default"],
        &[
            "https://vault.azure.net/.default",
            "https://storage.azure.com/.default",
        ],
        &[],
    ] {
        let e = key_vault_scopes_only(scopes).unwrap_err();
        let f = classify(&e);
        assert_eq!(
            (f.class, f.status.as_str()),
            (Class::Setup, "challenge"),
            "{scopes:?}"
        );
        assert!(f.detail.contains("not Key Vault's"), "{}", f.detail);
    }
}

#[test]
fn identity_endpoint_is_https_or_loopback() {
    for ok in [
        "http://127.0.0.1:41741/msi/token",
        "http://localhost:42356/msi/token",
        "https://identity.example.com/msi/token",
    ] {
        assert!(check_identity_endpoint(ok).is_ok(), "{ok}");
    }
    for bad in [
        "http://identity.example.invalid/msi/token",
        "http://10.0.0.4:41741/msi/token",
        "127.0.0.1:41741/msi/token",
    ] {
        let f = check_identity_endpoint(bad).unwrap_err();
        assert_eq!(
            (f.class, f.status.as_str()),
            (Class::Setup, "IDENTITY_ENDPOINT")
        );
    }
}

#[test]
fn loopback_hosts() {
    assert!(is_loopback("http://127.0.0.1:80"));
    assert!(is_loopback("https://localhost"));
    assert!(!is_loopback("https://am.vault.azure.net"));
    assert!(!is_loopback("https://127.0.0.1.example.com"));
}

#[test]
fn key_vault_errors_are_sorted_with_status_and_code() {
    let raw = |status: u16, body: &str| {
        azure_core::http::RawResponse::from_bytes(
            azure_core::http::StatusCode::from(status),
            azure_core::http::headers::Headers::new(),
            body.as_bytes().to_vec(),
        )
    };
    let error = |status: u16, body: &str| {
        azure_core::Error::with_message(
            ErrorKind::HttpResponse {
                status: status.into(),
                error_code: None,
                raw_response: Some(Box::new(raw(status, body))),
            },
            "x",
        )
    };
    let f = classify(&error(
        403,
        r#"{"error":{"code":"Forbidden","message":"Caller is not authorized","innererror":{"code":"AccessDenied"}}}"#,
    ));
    assert_eq!(f.class, Class::Denied);
    assert_eq!(f.status, "HTTP 403 Forbidden");
    assert_eq!(f.detail, "Caller is not authorized (AccessDenied)");
    let f = classify(&error(
        404,
        r#"{"error":{"code":"SecretNotFound","message":"gone"}}"#,
    ));
    assert_eq!(
        (f.class, f.status.as_str()),
        (Class::NotFound, "HTTP 404 SecretNotFound")
    );
    let f = classify(&error(503, "busy"));
    assert_eq!((f.class, f.status.as_str()), (Class::Transient, "HTTP 503"));
    let f = classify(&azure_core::Error::with_error(
        ErrorKind::Credential,
        error(
            401,
            r#"{"error":"invalid_client","error_description":"AADSTS7000215: bad"}"#,
        ),
        "ClientSecretCredential authentication failed. AADSTS7000215: bad\nTo troubleshoot",
    ));
    assert_eq!(f.class, Class::Credentials);
    assert_eq!(f.status, "token endpoint HTTP 401 invalid_client");
    assert_eq!(
        f.detail,
        "ClientSecretCredential authentication failed. AADSTS7000215: bad"
    );
}

#[test]
fn path_keeps_only_directories_and_tools_no_other_account_can_change() {
    let td = tempfile::tempdir().unwrap();
    let real = std::fs::canonicalize(td.path()).unwrap();
    let [ours, theirs, planted] = ["ours", "theirs", "planted"].map(|n| {
        let dir = td.path().join(n);
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("az"), "#!/bin/sh\n").unwrap();
        dir
    });
    std::os::unix::fs::symlink(&ours, td.path().join("link")).unwrap();
    let given = [
        &theirs,
        &planted,
        &ours,
        &td.path().join("link"),
        &"rel".into(),
    ];
    let joined = std::env::join_paths(given).unwrap();
    let kept = |names: &[&str]| std::env::join_paths(names.iter().map(|n| real.join(n))).unwrap();
    if rustix::process::geteuid().is_root() {
        std::os::unix::fs::lchown(&theirs, Some(4242), Some(4242)).unwrap();
        std::os::unix::fs::lchown(planted.join("az"), Some(4242), Some(4242)).unwrap();
        assert_eq!(tools::trusted_path(&joined), kept(&["ours", "ours"]));
    } else {
        assert_eq!(
            tools::trusted_path(&joined),
            kept(&["theirs", "planted", "ours", "ours"])
        );
    }
    // Nothing trusted: a PATH that names no directory, never an empty one (`sh` would look in
    // its working directory).
    assert_eq!(tools::trusted_path("rel:/tmp:".as_ref()), "/nonexistent");
    assert_eq!(tools::trusted_path("".as_ref()), "/nonexistent");
}
