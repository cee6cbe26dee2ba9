//! The secrets-manager sources under attack (SECURITY.md rule 50): root runs `amhash` with a
//! `vault:` or `gcp-sm:` key against the loopback fakes while the AM account (uid 65534,
//! `support::hostile`) does what it could on a real host: owns the `HOME` root runs with (a
//! `sudo -E` or `su` that kept it), swaps the credential files in it, moves a root file it
//! can rename under their name, and reads what `/proc` lets it read of root's processes.
//!
//! What must hold: a credential file (the Vault token, the Google ADC file, the Vault CA
//! bundle) that another account could have chosen is refused with one line and exit 3, before
//! any request; the fakes record every request, and never see the attacker's token nor the
//! content of a root file the attacker pointed at; nothing hangs; and the snooper reads
//! nothing of amhash or its helper. These tests need root (CI runs as root).

use std::process::Output;
use std::time::Duration;

use serde_json::json;

use super::{HELD, generate_with, vault};
use crate::support::fake_http::{FakeHttp, Req};
use crate::support::hostile::{
    AM_GID, AM_UID, am_background, as_am, host, start_snooper, wait_stopped,
};
use crate::support::*;

/// A token of the attacker's own, planted for root to use.
const ATTACKER_TOKEN: &str = "hvs.attacker-planted-token-4242";
/// What a root-only file holds: must never leave the host.
const ROOT_MARKER: &str = "hvs.root-only-marker-token-7777";

const VAULT_REF: &str = "vault:secret/am/prod#password";

/// A Vault fake that knows `vault::TOKEN`; every request is recorded.
fn vault_fake() -> FakeHttp {
    FakeHttp::start(|req| vault::answer(req, vault::TOKEN))
}

/// The `X-Vault-Token` of every request the fake saw.
fn tokens_seen(fake: &FakeHttp) -> Vec<String> {
    fake.requests()
        .iter()
        .map(|r: &Req| r.header("x-vault-token").unwrap_or("").to_owned())
        .collect()
}

/// Exit 3, one line naming a refusal (or, in the instant the attacker has removed the file,
/// its absence); returns the line.
#[track_caller]
fn assert_refused(out: &Output, what: &str) -> String {
    let line = assert_error(out, 3, &[]);
    assert!(
        line.contains("refused") || line.contains("there is no"),
        "{what}: {}",
        describe(out)
    );
    assert_no_secret(out, &[ATTACKER_TOKEN, ROOT_MARKER, HELD]);
    line
}

/// `HOME` is the AM account's own directory (`am/`). It loops over every state it can give
/// `~/.vault-token`: (a) its own file with its token, (b) a link to a root-only file, (c) a
/// FIFO, (d) a hard link to that root-only file (refused by the kernel's
/// `protected_hardlinks`; tried anyway), (e) a root-owned file holding the marker that it can
/// rename in from a directory it owns (as root's files in AM's tree are). Root runs amhash 40
/// times meanwhile. Every run fails with exit 3 and one line, Vault never receives a request,
/// so neither the attacker's token nor the root file's content; then a run with a token of
/// root's own works against the same fake (the setting is right, only the files were wrong).
#[test]
fn a_home_the_am_account_owns_never_gives_root_its_vault_token() {
    let f = host();
    let fake = vault_fake();
    f.file("root-only", ROOT_MARKER, 0o600);
    let bin = f.path("am/bin");
    as_am(&f, "mkdir -m 0755 am/bin");
    // A root-owned file in a directory the AM account owns (setenv.sh, a backup...).
    write_file(&bin, "root-file", ROOT_MARKER, 0o600);
    let racer = am_background(
        &f,
        &format!(
            "cd am || exit 1; i=0; while [ ! -e stop ] && [ $i -lt 100000 ]; do i=$((i+1)); \
             printf %s {ATTACKER_TOKEN} > t.tmp; mv -f t.tmp .vault-token; \
             ln -sfn ../root-only .vault-token.l; mv -fT .vault-token.l .vault-token; \
             rm -f .vault-token; mkfifo -m 0600 .vault-token; \
             rm -f .vault-token; ln ../root-only .vault-token 2>/dev/null; \
             mv -f bin/root-file .vault-token; mv -f .vault-token bin/root-file; \
             done"
        ),
    );
    let env = [
        ("VAULT_ADDR", fake.endpoint()),
        ("HOME", &f.arg("am")),
        ("VAULT_TOKEN", ""),
    ];
    let mut lines = std::collections::BTreeSet::new();
    for run in 0..40 {
        let out = generate_with(VAULT_REF, &env);
        let line = assert_refused(&out, &format!("run {run}"));
        // Which state root met, for the record (the race decides; no assertion on it).
        let state = [
            ("not by root or you", "the attacker's file"),
            ("symbolic link", "a link"),
            ("fifo", "a FIFO"),
            ("a directory owned by", "a root file moved in"),
            ("there is no", "no file"),
        ]
        .into_iter()
        .find(|(needle, _)| line.contains(needle))
        .map_or("other", |(_, state)| state);
        lines.insert(state);
    }
    std::fs::write(f.path("am/stop"), b"").unwrap();
    wait_stopped(racer);
    // The root file is in one of its two places: put it back in bin/.
    as_am(
        &f,
        "cd am && { [ -e bin/root-file ] || mv -f .vault-token bin/root-file; } && rm -f .vault-token",
    );
    let seen = tokens_seen(&fake);
    assert!(
        !seen
            .iter()
            .any(|t| t.contains(ATTACKER_TOKEN) || t.contains(ROOT_MARKER)),
        "Vault was sent a token another account chose: {seen:?}"
    );
    assert!(
        seen.is_empty(),
        "requests without a trusted token: {seen:?}"
    );
    println!("states root met: {lines:?}");

    // Each state on its own, for the exact refusal (no race needed).
    let states: [(&str, &str); 4] = [
        (
            &format!("cd am && printf %s {ATTACKER_TOKEN} > .vault-token"),
            "not by root or you",
        ),
        (
            "cd am && rm -f .vault-token && ln -s ../root-only .vault-token",
            "is a symbolic link owned by uid 65534",
        ),
        (
            "cd am && rm -f .vault-token && mkfifo .vault-token",
            "is a fifo, not a regular file",
        ),
        (
            "cd am && rm -f .vault-token && mv bin/root-file .vault-token",
            "a directory owned by uid 65534",
        ),
    ];
    for (script, needle) in states {
        as_am(&f, script);
        let out = generate_with(VAULT_REF, &env);
        let line = assert_refused(&out, script);
        assert!(line.contains(needle), "{script}: {line}");
    }
    assert!(tokens_seen(&fake).is_empty());

    // Control: root's own token in root's own directory is used.
    let home = f.dir("root-home", 0o700);
    write_file(&home, ".vault-token", vault::TOKEN, 0o600);
    let env = [
        ("VAULT_ADDR", fake.endpoint()),
        ("HOME", &f.arg("root-home")),
    ];
    assert_ok(&generate_with(VAULT_REF, &env));
    assert_eq!(tokens_seen(&fake), [vault::TOKEN, vault::TOKEN]);
}

/// Google's ADC file decides whose identity the key is fetched as and where the refresh token
/// goes (`token_uri`): google-cloud-auth reads it by path, whoever owns it. With `HOME` the AM
/// account's, its `~/.config/gcloud/application_default_credentials.json` (an `authorized_user`
/// whose `token_uri` is its own endpoint) must not be used, nor any file
/// `GOOGLE_APPLICATION_CREDENTIALS` names that another account owns or could swap: a FIFO, a
/// link to a root-only ADC file, a root ADC file it moved in. While it swaps them, 30 runs
/// all fail with exit 3 and one line, and no token request leaves. Fails without the check
/// in `src/gcp_adc.rs` (the SDK posts the attacker's refresh token).
#[test]
fn a_google_adc_file_another_account_could_choose_is_refused() {
    let f = host();
    let fake = super::gcp::fake(super::gcp::token, super::gcp::answer);
    let reference = format!("gcp-sm:{}", super::gcp::SECRET);
    let adc = |refresh: &str, path: &str| {
        json!({"type": "authorized_user", "client_id": "amhash-test.apps.googleusercontent.com",
               "client_secret": super::gcp::CLIENT_SECRET, "refresh_token": refresh,
               "token_uri": format!("{}{path}", fake.endpoint())})
        .to_string()
    };
    let attacker_adc = adc(ATTACKER_TOKEN, "/attacker-token");
    // Root's real ADC file, root-only, outside AM's tree; and a root ADC file in AM's tree.
    f.file("root-adc.json", adc(ROOT_MARKER, "/token"), 0o600);
    as_am(&f, "mkdir -m 0755 am/bin && mkdir -p am/.config/gcloud");
    write_file(
        &f.path("am/bin"),
        "root-adc.json",
        adc(ROOT_MARKER, "/token"),
        0o600,
    );
    let endpoint = format!("{}/", fake.endpoint());
    let well_known = "am/.config/gcloud/application_default_credentials.json";
    let home_env = [
        ("HOME", f.arg("am")),
        (
            "CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER",
            endpoint.clone(),
        ),
    ];
    let named_env = [
        ("GOOGLE_APPLICATION_CREDENTIALS", f.arg("am/adc.json")),
        (
            "CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER",
            endpoint.clone(),
        ),
    ];
    let run_with = |env: &[(&'static str, String)]| {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        generate_with(&reference, &env)
    };
    let planted = f.path("am/planted.json");
    std::fs::write(&planted, &attacker_adc).unwrap();
    chown(&planted, AM_UID, AM_GID);

    // Each state on its own.
    type Env = [(&'static str, String)];
    let states: [(&str, &Env, &str); 5] = [
        (
            &format!("cp am/planted.json {well_known}"),
            &home_env,
            "not by root or you",
        ),
        (
            "cp am/planted.json am/adc.json",
            &named_env,
            "not by root or you",
        ),
        (
            "rm -f am/adc.json && ln -s ../root-adc.json am/adc.json",
            &named_env,
            "is a symbolic link owned by uid 65534",
        ),
        (
            "rm -f am/adc.json && mkfifo am/adc.json",
            &named_env,
            "is a fifo, not a regular file",
        ),
        (
            "rm -f am/adc.json && mv am/bin/root-adc.json am/adc.json",
            &named_env,
            "a directory owned by uid 65534",
        ),
    ];
    for (script, env, needle) in states {
        as_am(&f, script);
        let out = run_with(env);
        assert_error(&out, 3, &["Application Default Credentials file", needle]);
        assert_no_secret(&out, &[ATTACKER_TOKEN, ROOT_MARKER, HELD]);
    }
    assert_eq!(fake.calls(), Vec::<String>::new(), "a request left");

    // The race: the attacker swaps the named file through every state.
    as_am(&f, "mv am/adc.json am/bin/root-adc.json");
    let racer = am_background(
        &f,
        "cd am || exit 1; i=0; while [ ! -e stop ] && [ $i -lt 100000 ]; do i=$((i+1)); \
         cp planted.json a.tmp; mv -f a.tmp adc.json; \
         ln -sfn ../root-adc.json adc.l; mv -fT adc.l adc.json; \
         rm -f adc.json; mkfifo -m 0600 adc.json; \
         mv -f bin/root-adc.json adc.json; mv -f adc.json bin/root-adc.json; \
         done",
    );
    for run in 0..30 {
        let out = run_with(&named_env);
        let line = assert_error(&out, 3, &[]);
        assert!(
            line.contains("Application Default Credentials file"),
            "run {run}: {line}"
        );
        assert_no_secret(&out, &[ATTACKER_TOKEN, ROOT_MARKER, HELD]);
    }
    std::fs::write(f.path("am/stop"), b"").unwrap();
    wait_stopped(racer);
    let bodies: Vec<String> = fake.requests().iter().map(|r| r.body.clone()).collect();
    assert!(
        !bodies
            .iter()
            .any(|b| b.contains("attacker-planted") || b.contains("root-only-marker")),
        "a refresh token another account chose was sent: {bodies:?}"
    );
    assert_eq!(fake.calls(), Vec::<String>::new(), "a request left");

    // Control: root's own ADC file in a root directory works against the same fake.
    let own = f.dir("root-gcloud", 0o700);
    write_file(
        &own,
        "adc.json",
        adc(super::gcp::REFRESH_TOKEN, "/token"),
        0o600,
    );
    let env = [
        (
            "GOOGLE_APPLICATION_CREDENTIALS",
            f.arg("root-gcloud/adc.json"),
        ),
        ("CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER", endpoint),
    ];
    assert_ok(&run_with(&env));
}

/// Whoever chooses Vault's CA bundle can stand in for Vault (and take the token). vaultrs reads
/// `VAULT_CACERT` and the files of `VAULT_CAPATH` by path; amhash opens them first and hands
/// vaultrs `/proc/self/fd/N`. A CA file of the AM account's, or one of root's in a directory
/// it owns, is refused before any request; root's own CA file is accepted.
#[test]
fn a_vault_ca_bundle_another_account_could_choose_is_refused() {
    let f = host();
    let fake = vault_fake();
    let token_env = |var: &'static str, path: String| {
        vec![
            ("VAULT_ADDR", fake.endpoint().to_owned()),
            ("VAULT_TOKEN", vault::TOKEN.to_owned()),
            (var, path),
        ]
    };
    let run_with = |env: &[(&'static str, String)]| {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        generate_with(VAULT_REF, &env)
    };
    as_am(
        &f,
        "printf 'not a certificate' > am/ca.pem && mkdir am/capath",
    );
    write_file(
        &f.path("am/capath"),
        "root-ca.pem",
        "not a certificate",
        0o644,
    );
    let cases = [
        (
            token_env("VAULT_CACERT", f.arg("am/ca.pem")),
            "not by root or you",
        ),
        (
            token_env("VAULT_CAPATH", f.arg("am/capath")),
            "a directory owned by uid 65534",
        ),
    ];
    for (env, needle) in &cases {
        let out = run_with(env);
        assert_error(&out, 3, &["refused", needle]);
        assert_no_secret(&out, &[vault::TOKEN]);
    }
    assert!(fake.requests().is_empty(), "{:?}", fake.calls());
    // Control: root's own CA file in a root directory is accepted. (Over plain http to a
    // loopback fake vaultrs does not load it; an https Vault would read it through
    // /proc/self/fd/N, the file checked here.)
    f.file("root-ca.pem", "not a certificate", 0o644);
    assert_ok(&run_with(&token_env("VAULT_CACERT", f.arg("root-ca.pem"))));
    assert_eq!(fake.requests().len(), 2);
}

/// The AWS shared config and credentials files choose the keys, the role, the endpoint and
/// `credential_process`, a command the SDK runs (as root here); the SDK reads them by path,
/// whoever owns them. With `HOME` the AM account's, its `~/.aws/config` naming a
/// `credential_process` must not run, and its `~/.aws/credentials` must not be used, nor a
/// root file it moved there: refused with exit 3 before any request. Azure's
/// `AZURE_FEDERATED_TOKEN_FILE` (the assertion exchanged for a token) likewise. Fails without
/// `profile_files` in `src/secrets/client/aws.rs` (the command runs, the attacker's keys sign
/// the request) and the check in `src/secrets/client/azure/mod.rs`.
#[test]
fn aws_profiles_and_an_azure_token_file_another_account_could_choose_are_refused() {
    let f = host();
    let aws = super::aws::fake_aws();
    let pwned = f.path("pwned");
    as_am(&f, "mkdir -m 0700 am/.aws am/bin");
    // What the AM account writes (as if by itself: the file is its own).
    let config = format!(
        "[default]\ncredential_process = /bin/sh -c 'touch {}; echo {{\"Version\": 1, \"AccessKeyId\": \"AKIAATTACKER\", \"SecretAccessKey\": \"x\"}}'\n",
        pwned.display()
    );
    let planted = write_file(&f.path("am/.aws"), "config", config, 0o600);
    chown(&planted, AM_UID, AM_GID);
    let home = f.arg("am");
    let base = super::aws::no_credentials(aws.endpoint());
    let mut env = super::aws::without(
        &super::aws::without(&base, "AWS_CONFIG_FILE"),
        "AWS_SHARED_CREDENTIALS_FILE",
    );
    env.push(("HOME", &home));
    let out = generate_with("aws-sm:amhash/plain", &env);
    assert_error(
        &out,
        3,
        &["refused", "the AWS config file", "not by root or you"],
    );
    assert!(
        !pwned.exists(),
        "root ran the AM account's credential_process"
    );
    // Its credentials file, and a root file it moved in place of the config file.
    as_am(
        &f,
        "rm am/.aws/config && printf '[default]\\naws_access_key_id = AKIAATTACKER\\naws_secret_access_key = x\\n' > am/.aws/credentials",
    );
    let out = generate_with("aws-sm:amhash/plain", &env);
    assert_error(&out, 3, &["refused", "the AWS credentials file"]);
    write_file(
        &f.path("am/bin"),
        "root-file",
        "[default]\nregion = us-east-1\n",
        0o600,
    );
    as_am(
        &f,
        "rm am/.aws/credentials && mv am/bin/root-file am/.aws/config",
    );
    let out = generate_with("aws-sm:amhash/plain", &env);
    assert_error(
        &out,
        3,
        &[
            "refused",
            "the AWS config file",
            "a directory owned by uid 65534",
        ],
    );
    assert_eq!(aws.calls(), Vec::<String>::new(), "a request left");
    assert!(!pwned.exists());

    // Azure workload identity: the federated token file.
    let (vault, entra) = (
        super::azure::key_vault(super::azure::TOKEN),
        super::azure::entra(super::azure::CLIENT_SECRET),
    );
    as_am(&f, &format!("printf %s {ATTACKER_TOKEN} > am/azure-token"));
    write_file(
        &f.path("am/bin"),
        "root-token",
        super::azure::ASSERTION,
        0o600,
    );
    for (file, needle) in [
        ("am/azure-token", "not by root or you"),
        ("am/bin/root-token", "a directory owned by uid 65534"),
    ] {
        let path = f.arg(file);
        let env = [
            ("AZURE_AUTHORITY_HOST", entra.endpoint()),
            ("AZURE_TENANT_ID", super::azure::TENANT),
            ("AZURE_CLIENT_ID", super::azure::CLIENT_ID),
            ("AZURE_FEDERATED_TOKEN_FILE", path.as_str()),
        ];
        let out = generate_with(&super::azure::reference(&vault, "am-enc"), &env);
        assert_error(&out, 3, &["refused", "AZURE_FEDERATED_TOKEN_FILE", needle]);
        assert_no_secret(&out, &[ATTACKER_TOKEN, super::azure::ASSERTION]);
    }
    assert!(entra.requests().is_empty(), "{:?}", entra.calls());
}

/// While root's amhash waits on a slow Vault (each answer takes 1 s), the AM account polls
/// `/proc` for `amhash` and `amhash-secrets` and tries to read their `environ` (which holds
/// `VAULT_TOKEN`), `mem` and every fd. It gets EACCES or EPERM for each, never a byte.
/// Control: the same snooper does read the environment of a decoy of its own uid named
/// `amhash-secrets`.
#[test]
fn a_snooper_of_the_am_account_reads_nothing_of_a_fetch_in_progress() {
    use std::os::unix::process::CommandExt as _;
    use std::process::{Command, Stdio};

    let f = host();
    let fake = FakeHttp::start(|req| {
        // A slow Vault: the fetch lasts long enough to be snooped on.
        std::thread::sleep(Duration::from_secs(1));
        vault::answer(req, vault::TOKEN)
    });
    let dir = f.root();
    let decoy_dir = f.dir("decoy", 0o755);
    let decoy = decoy_dir.join("amhash-secrets");
    crate::support::copy_executable(std::path::Path::new("/bin/sleep"), &decoy);
    let snooper = start_snooper(
        dir,
        &["amhash", "amhash-secrets"],
        &["environ", "mem", "fd/*"],
    );

    // Control: a decoy of the snooper's own uid, with a canary in its environment.
    let canary = format!("control-canary-{}", std::process::id());
    let mut decoy_child = Command::new(&decoy)
        .arg("30")
        .env("AMHASH_TEST_CANARY", &canary)
        .uid(AM_UID)
        .gid(AM_GID)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let decoy_pid = decoy_child.id();
    let want = hex::encode(&canary);
    snooper.wait_for("the control capture", 30, |l| {
        l.lines()
            .any(|x| x.starts_with(&format!("captured {decoy_pid} environ ")) && x.contains(&want))
    });
    kill_pid(decoy_pid);
    decoy_child.wait().unwrap();

    // The fetches, as root, until the snooper has met both processes (at most 5).
    let env = [
        ("VAULT_ADDR", fake.endpoint()),
        ("VAULT_TOKEN", vault::TOKEN),
    ];
    let met = |l: &str, name: &str| {
        l.lines().any(|x| {
            x.starts_with("seen ")
                && x.ends_with(&format!(" {name}"))
                && !x.starts_with(&format!("seen {decoy_pid} "))
        })
    };
    for _ in 0..5 {
        assert_ok(&generate_with(VAULT_REF, &env));
        let l = snooper.log();
        if met(&l, "amhash") && met(&l, "amhash-secrets") {
            break;
        }
    }
    let log = snooper.stop();
    assert!(
        met(&log, "amhash") && met(&log, "amhash-secrets"),
        "the snooper never met both processes, so this proves nothing:\n{log}"
    );
    let decoy = decoy_pid.to_string();
    let ours = |x: &&str| x.split(' ').nth(1) != Some(decoy.as_str());
    let captured: Vec<&str> = log
        .lines()
        .filter(|x| x.starts_with("captured "))
        .filter(ours)
        .collect();
    assert!(captured.is_empty(), "the snooper read: {captured:?}");
    assert!(!log.contains(&hex::encode(vault::TOKEN)), "{log}");
    let errors: Vec<&str> = log
        .lines()
        .filter(|x| x.starts_with("error "))
        .filter(ours)
        .collect();
    // Only EPERM (1), EACCES (13), or ENOENT (2) for a process that ended meanwhile.
    assert!(
        errors
            .iter()
            .all(|x| x.ends_with(" 1") || x.ends_with(" 13") || x.ends_with(" 2")),
        "{errors:?}"
    );
    for entry in ["environ", "mem", "fd/*"] {
        assert!(
            errors
                .iter()
                .any(|x| x.contains(&format!(" {entry} ")) && x.ends_with(" 13")),
            "the snooper never tried {entry}: {log}"
        );
    }
}

fn kill_pid(pid: u32) {
    let _ = rustix::process::kill_process(
        rustix::process::Pid::from_raw(i32::try_from(pid).unwrap()).unwrap(),
        rustix::process::Signal::KILL,
    );
}
