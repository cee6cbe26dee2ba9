//! `install --systemd`, `--docker-env-file` and `--compose-snippet` through the real binary,
//! and `verify` / `doctor --systemd`. The systemd tests need root and `systemd-creds` /
//! `systemd-analyze` (CI runs as root on Debian, where both come with systemd); nothing here
//! needs systemd as PID 1. The AM account is played by uid 65534 through `setpriv`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::support::{
    AMHASH as BIN, SALT, describe, mode, mode_owner, names_if_any, ok_stdout as ok, private_dir,
    require_root, run as amhash,
};

const PASSWORD: &str = "services-test-password-Xq7#Lr2!vP9";

/// Root and the systemd tools (CI runs as root on Debian, with systemd installed).
#[track_caller]
fn require_systemd_tools() {
    require_root();
    for tool in ["/usr/bin/systemd-creds", "/usr/bin/systemd-analyze"] {
        assert!(
            Path::new(tool).exists(),
            "{tool} is missing: apt-get install systemd"
        );
    }
}

/// The `{SSHA-512}` value of `password` (fixed salt), in a 0600 file `value` in `dir`.
fn value_file(dir: &Path, password: &str) -> (PathBuf, String) {
    let out = amhash(
        &["generate", "--salt-hex", SALT],
        format!("{password}\n").as_bytes(),
    );
    let value = ok(&out).trim().to_owned();
    let path = dir.join(format!("value-{}", value.len() + password.len()));
    std::fs::write(&path, &value).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    (path, value)
}

/// A root tree `ROOT/etc` (0755) with a minimal `tomcat9.service`, plus a work directory
/// holding the value of [`PASSWORD`] in a file.
struct Tree {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    work: PathBuf,
    value_file: PathBuf,
    value: String,
}

fn tree() -> Tree {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let work = tmp.path().join("work");
    for d in [&root, &work] {
        std::fs::create_dir(d).unwrap();
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::create_dir_all(root.join("etc/systemd/system")).unwrap();
    std::fs::write(
        root.join("etc/systemd/system/tomcat9.service"),
        "[Service]\nExecStart=/bin/true\n",
    )
    .unwrap();
    let (value_file, value) = value_file(&work, PASSWORD);
    Tree {
        _tmp: tmp,
        root,
        work,
        value_file,
        value,
    }
}

/// A fresh [`tree`] where PASSWORD's value was installed for tomcat9 in `mode`: the tree and
/// install's output.
fn installed(mode: &str) -> (Tree, Output) {
    let t = tree();
    let out = install_systemd(&t, &t.value_file, mode);
    (t, out)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `install --systemd UNIT` of the value in `value` into the tree, and `more`.
fn install_args<'a>(t: &'a Tree, unit: &'a str, value: &'a Path, more: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "install",
        "--systemd",
        unit,
        "--root",
        s(&t.root),
        "--value-file",
        s(value),
    ];
    args.extend_from_slice(more);
    args
}

fn install_systemd(t: &Tree, value: &Path, mode: &str) -> Output {
    amhash(
        &install_args(t, "tomcat9", value, &["--systemd-mode", mode]),
        b"",
    )
}

fn drop_in(t: &Tree) -> PathBuf {
    t.root
        .join("etc/systemd/system/tomcat9.service.d/amhash-amadmin.conf")
}

/// The one file in `dir`.
fn only_file(dir: &Path) -> PathBuf {
    let names = names_if_any(dir);
    assert_eq!(names.len(), 1, "{names:?}");
    dir.join(&names[0])
}

fn decrypt(file: &Path) -> Output {
    Command::new("/usr/bin/systemd-creds")
        .args(["decrypt", "--name=password.amadmin"])
        .arg(file)
        .arg("-")
        .output()
        .unwrap()
}

fn verify_systemd(t: &Tree, password: &str) -> Output {
    amhash(
        &[
            "verify",
            "--systemd",
            "tomcat9.service",
            "--root",
            s(&t.root),
        ],
        format!("{password}\n").as_bytes(),
    )
}

fn doctor_systemd(t: &Tree) -> Output {
    amhash(
        &[
            "doctor",
            "--systemd",
            "tomcat9",
            "--root",
            s(&t.root),
            "--format",
            "PLAIN",
            "--check-password",
        ],
        format!("{PASSWORD}\n").as_bytes(),
    )
}

fn as_nobody(script: &str) -> Output {
    Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "sh",
            "-c",
            script,
        ])
        .output()
        .unwrap()
}

// ---- systemd: credential ------------------------------------------------------------------

#[test]
fn the_credential_decrypts_to_the_exact_value_and_verify_and_doctor_agree() {
    require_systemd_tools();
    let (t, out) = installed("credential");
    let text = ok(&out);
    assert!(
        text.contains("org.forgerock.openam.secrets.special.user.passwords.dir=/run/credentials/tomcat9.service"),
        "{text}"
    );
    assert!(text.contains("passwords.format=PLAIN"), "{text}");
    assert!(text.contains("systemctl daemon-reload"), "{text}");
    let store = t.root.join("etc/credstore.encrypted");
    assert_eq!(mode(&store), 0o700);
    let cred = only_file(&store);
    assert_eq!(mode_owner(&cred), (0o600, 0, 0));
    assert_eq!(mode_owner(&drop_in(&t)), (0o644, 0, 0));
    let conf = std::fs::read_to_string(drop_in(&t)).unwrap();
    let name = cred.file_name().unwrap().to_str().unwrap();
    assert!(
        conf.contains(&format!(
            "\nLoadCredentialEncrypted=password.amadmin:/etc/credstore.encrypted/{name}\n"
        )),
        "{conf}"
    );
    // The credential holds the exact value, and only under its name.
    let plain = decrypt(&cred);
    assert_eq!(plain.status.code(), Some(0), "{}", describe(&plain));
    assert_eq!(String::from_utf8(plain.stdout).unwrap(), t.value);
    let wrong = Command::new("/usr/bin/systemd-creds")
        .args(["decrypt", "--name=password.other"])
        .arg(&cred)
        .arg("-")
        .output()
        .unwrap();
    assert_ne!(wrong.status.code(), Some(0));
    // Nothing of the value in what install printed.
    assert!(!text.contains(&t.value) && !String::from_utf8_lossy(&out.stderr).contains(&t.value));

    assert_eq!(verify_systemd(&t, PASSWORD).status.code(), Some(0));
    assert_eq!(
        verify_systemd(&t, "not the password").status.code(),
        Some(1)
    );
    let report = ok(&doctor_systemd(&t));
    for want in [
        "ok       unit:",
        "ok       drop-in:",
        "ok       secret:",
        "the credential decrypts",
        "the password matches",
        "no problem found",
    ] {
        assert!(report.contains(want), "{want}\n{report}");
    }
    // --json names the store directory AM must be told about.
    let mut args = vec!["--json"];
    args.extend(install_args(&t, "tomcat9", &t.value_file, &[]));
    let json = ok(&amhash(&args, b""));
    assert!(
        json.contains(r#""org.forgerock.openam.secrets.special.user.passwords.dir":"/run/credentials/tomcat9.service""#),
        "{json}"
    );
    // Idempotent: the same value again writes nothing.
    let again = ok(&install_systemd(&t, &t.value_file, "auto"));
    assert!(again.contains("unchanged"), "{again}");
    assert_eq!(only_file(&store), cred);

    // doctor finds a widened credential, a missing unit; verify finds no drop-in.
    std::fs::set_permissions(&cred, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = doctor_systemd(&t);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("must be 0600 root:root"));
    std::fs::set_permissions(&cred, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::remove_file(t.root.join("etc/systemd/system/tomcat9.service")).unwrap();
    let out = doctor_systemd(&t);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("problem  unit: no unit file"));
    std::fs::remove_file(drop_in(&t)).unwrap();
    assert_eq!(verify_systemd(&t, PASSWORD).status.code(), Some(3));
}

#[test]
fn systemd_analyze_verify_accepts_the_unit_with_the_drop_in_in_both_modes() {
    require_systemd_tools();
    for mode in ["credential", "env-file"] {
        let (t, out) = installed(mode);
        ok(&out);
        let unit = t.root.join("etc/systemd/system/tomcat9.service");
        let analyze = || {
            Command::new("/usr/bin/systemd-analyze")
                .arg("verify")
                .arg(&unit)
                .output()
                .unwrap()
        };
        let out = analyze();
        assert_eq!(out.status.code(), Some(0), "{mode}: {}", describe(&out));
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "",
            "{mode}: systemd-analyze warned"
        );
        // Control: systemd-analyze does read the drop-in (a broken line in it is reported).
        let mut conf = std::fs::read_to_string(drop_in(&t)).unwrap();
        conf.push_str("LoadCredentialEncrypted=bad/name:/x\nEnvironmentFile=relative\n");
        std::fs::write(drop_in(&t), conf).unwrap();
        let out = analyze();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("amhash-amadmin.conf"), "{mode}: {err}");
    }
}

#[test]
fn a_reinstall_replaces_the_pair_and_a_failed_write_leaves_the_old_pair() {
    require_systemd_tools();
    let (t, out) = installed("credential");
    ok(&out);
    let store = t.root.join("etc/credstore.encrypted");
    let first = only_file(&store);
    let (v2, value2) = value_file(&t.work, "second-password-for-services-9!Qz");
    let out = ok(&install_systemd(&t, &v2, "credential"));
    let second = only_file(&store);
    assert_ne!(first, second);
    assert!(out.contains("removed the old"), "{out}");
    assert!(
        std::fs::read_to_string(drop_in(&t))
            .unwrap()
            .contains(second.file_name().unwrap().to_str().unwrap())
    );
    assert_eq!(String::from_utf8(decrypt(&second).stdout).unwrap(), value2);

    // No file may grow: the new credential's write fails (EFBIG), exit 3.
    let snapshot = |dir: &Path| -> Vec<(String, Vec<u8>)> {
        names_if_any(dir)
            .into_iter()
            .map(|n| {
                let c = std::fs::read(dir.join(&n)).unwrap();
                (n, c)
            })
            .collect()
    };
    let drop_dir = t.root.join("etc/systemd/system/tomcat9.service.d");
    let before = (snapshot(&store), snapshot(&drop_dir));
    let (v3, _) = value_file(&t.work, "third-password-for-services-7!Wx");
    let out = Command::new("sh")
        .arg("-c")
        .arg(r#"trap "" XFSZ; ulimit -f 0; exec "$0" "$@""#)
        .arg(BIN)
        .args(install_args(&t, "tomcat9", &v3, &[]))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    assert_eq!((snapshot(&store), snapshot(&drop_dir)), before);
    assert_eq!(String::from_utf8(decrypt(&second).stdout).unwrap(), value2);
}

// ---- systemd: EnvironmentFile fallback ----------------------------------------------------

/// systemd.exec(5) / systemd's `load_env_file` rules, for the lines amhash writes and the
/// lines around them: comments (`#`, `;`), blanks around key and value, single quotes
/// (literal), double quotes (`\` escapes `"\`$`), unquoted `\` escapes, last one wins.
fn systemd_env_value(content: &str, var: &str) -> Option<String> {
    let mut found = None;
    for line in content.lines() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let Some((key, raw)) = line.split_once('=') else {
            continue;
        };
        if key.trim_end() != var {
            continue;
        }
        let raw = raw.trim();
        let mut value = String::new();
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            match c {
                '\'' => value.extend(chars.by_ref().take_while(|&c| c != '\'')),
                '"' => {
                    while let Some(c) = chars.next() {
                        match c {
                            '"' => break,
                            '\\' => match chars.next() {
                                Some(e @ ('"' | '\\' | '`' | '$')) => value.push(e),
                                Some(e) => {
                                    value.push('\\');
                                    value.push(e);
                                }
                                None => {}
                            },
                            c => value.push(c),
                        }
                    }
                }
                '\\' => value.extend(chars.next()),
                c => value.push(c),
            }
        }
        found = Some(value);
    }
    found
}

#[test]
fn the_environment_file_fallback_parses_back_exactly_and_verify_and_doctor_agree() {
    require_root();
    let (t, out) = installed("env-file");
    let text = ok(&out);
    assert!(text.contains("EnvironmentFile"), "{text}");
    let store = t.root.join("etc/credstore");
    assert_eq!(mode(&store), 0o700);
    let file = only_file(&store);
    assert_eq!(mode_owner(&file), (0o600, 0, 0));
    let content = std::fs::read_to_string(&file).unwrap();
    assert_eq!(content, format!("PASSWORD_AMADMIN='{}'\n", t.value));
    assert_eq!(
        systemd_env_value(&content, "PASSWORD_AMADMIN").as_deref(),
        Some(t.value.as_str())
    );
    let conf = std::fs::read_to_string(drop_in(&t)).unwrap();
    let name = file.file_name().unwrap().to_str().unwrap();
    assert!(
        conf.ends_with(&format!("\nEnvironmentFile=/etc/credstore/{name}\n")),
        "{conf}"
    );
    assert_eq!(verify_systemd(&t, PASSWORD).status.code(), Some(0));
    assert_eq!(verify_systemd(&t, "wrong").status.code(), Some(1));
    let report = ok(&doctor_systemd(&t));
    assert!(
        report.contains("the EnvironmentFile assigns the variable"),
        "{report}"
    );
    assert!(report.contains("no problem found"), "{report}");
    // The reader itself follows systemd's rules on lines amhash never writes.
    assert_eq!(
        systemd_env_value(
            "; c\n  PASSWORD_AMADMIN = \"a\\\"b\\$c\\x\" \nX=1\n",
            "PASSWORD_AMADMIN"
        )
        .as_deref(),
        Some("a\"b$c\\x")
    );
}

// ---- systemd: another account's tree ------------------------------------------------------

#[test]
fn a_tree_the_am_account_owns_or_links_is_refused_and_nothing_is_written() {
    require_root();
    // The AM account owns etc/systemd and plants `system` as a link to its own directory.
    let t = tree();
    let outside = t.work.join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::os::unix::fs::chown(&outside, Some(65534), Some(65534)).unwrap();
    let systemd = t.root.join("etc/systemd");
    std::fs::remove_dir_all(systemd.join("system")).unwrap();
    std::os::unix::fs::chown(&systemd, Some(65534), Some(65534)).unwrap();
    let planted = as_nobody(&format!("ln -s {} {}/system", s(&outside), s(&systemd)));
    assert_eq!(planted.status.code(), Some(0), "{}", describe(&planted));
    for mode in ["env-file", "credential"] {
        let out = install_systemd(&t, &t.value_file, mode);
        assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("uid 65534"),
            "{}",
            describe(&out)
        );
        assert!(names_if_any(&outside).is_empty());
        assert!(!t.root.join("etc/credstore").exists());
        assert!(!t.root.join("etc/credstore.encrypted").exists());
    }

    // A credential directory the AM account owns.
    let t = tree();
    let store = t.root.join("etc/credstore.encrypted");
    std::fs::create_dir(&store).unwrap();
    std::os::unix::fs::chown(&store, Some(65534), Some(65534)).unwrap();
    let out = install_systemd(&t, &t.value_file, "credential");
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(names_if_any(&store).is_empty());
    assert!(!t.root.join("etc/systemd/system/tomcat9.service.d").exists());

    // A drop-in directory the AM account can write.
    let t = tree();
    let d = t.root.join("etc/systemd/system/tomcat9.service.d");
    std::fs::create_dir(&d).unwrap();
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = install_systemd(&t, &t.value_file, "env-file");
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(names_if_any(&d).is_empty());
    assert!(!t.root.join("etc/credstore").exists());
}

#[test]
fn unit_names_are_checked_and_a_dry_run_writes_nothing() {
    let t = tree();
    for bad in ["a b", "x.socket", "-x", "a/../b", "x\u{1b}[2J"] {
        let out = amhash(&install_args(&t, bad, &t.value_file, &[]), b"");
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", describe(&out));
        assert!(
            !out.stderr.contains(&0x1b),
            "{bad}: raw escape in the message"
        );
    }
    require_root();
    let dry_run = ["--systemd-mode", "env-file", "--dry-run"];
    let out = amhash(&install_args(&t, "tomcat9", &t.value_file, &dry_run), b"");
    let text = ok(&out);
    assert!(text.contains("would create"), "{text}");
    assert_eq!(names_if_any(&t.root.join("etc")), ["systemd"]);
    assert_eq!(
        names_if_any(&t.root.join("etc/systemd/system")),
        ["tomcat9.service"]
    );
}

// ---- Docker env-file and compose ----------------------------------------------------------

/// Docker's documented `--env-file` rules: each line `VAR=VAL` split at the first `=`,
/// leading blanks dropped, lines empty or starting with `#` skipped, no quote or escape
/// processing, a line `VAR` alone takes the value from the environment, the last line wins.
fn docker_env_value(content: &str, var: &str) -> Option<String> {
    let mut found = None;
    for line in content.split('\n') {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once('=') {
            Some((name, value)) if name == var => found = Some(value.to_owned()),
            None if line == var => found = None,
            _ => {}
        }
    }
    found
}

#[test]
fn the_docker_env_file_round_trips_by_dockers_rules_and_keeps_the_other_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = private_dir(tmp.path(), "d");
    let (vf, value) = value_file(tmp.path(), PASSWORD);
    let env = dir.join("am.env");
    std::fs::write(
        &env,
        "# AM container\nJAVA_OPTS=-Xmx2g # not a comment\nPASSWORD_AMADMIN=\"old\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&env, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = amhash(
        &[
            "install",
            "--docker-env-file",
            s(&env),
            "--value-file",
            s(&vf),
        ],
        b"",
    );
    let text = ok(&out);
    assert!(text.contains("restart AM"), "{text}");
    let content = std::fs::read_to_string(&env).unwrap();
    assert_eq!(
        content,
        format!("# AM container\nJAVA_OPTS=-Xmx2g # not a comment\nPASSWORD_AMADMIN={value}\n")
    );
    assert_eq!(
        docker_env_value(&content, "PASSWORD_AMADMIN"),
        Some(value.clone())
    );
    assert_eq!(
        docker_env_value(&content, "JAVA_OPTS").as_deref(),
        Some("-Xmx2g # not a comment")
    );
    assert_eq!(mode(&env), 0o600);
    let verify = |pw: &str| {
        amhash(
            &["verify", "--docker-env-file", s(&env)],
            format!("{pw}\n").as_bytes(),
        )
        .status
        .code()
    };
    assert_eq!(verify(PASSWORD), Some(0));
    assert_eq!(verify("wrong"), Some(1));
    // A new file is created 0600.
    let fresh = dir.join("new.env");
    ok(&amhash(
        &[
            "install",
            "--docker-env-file",
            s(&fresh),
            "--value-file",
            s(&vf),
        ],
        b"",
    ));
    assert_eq!(mode(&fresh), 0o600);
    assert_eq!(
        std::fs::read_to_string(&fresh).unwrap(),
        format!("PASSWORD_AMADMIN={value}\n")
    );
}

#[test]
fn compose_snippet_names_the_written_file_and_run_secrets() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = private_dir(tmp.path(), "secrets");
    let (vf, _) = value_file(tmp.path(), PASSWORD);
    let text = ok(&amhash(
        &[
            "install",
            "--dir",
            s(&dir),
            "--compose-snippet",
            "--value-file",
            s(&vf),
        ],
        b"",
    ));
    let file = dir.join("password.amadmin");
    for want in [
        "secrets:\n",
        "      - password.amadmin\n",
        "  password.amadmin:\n",
        &format!("    file: \"{}\"\n", s(&file)),
        "org.forgerock.openam.secrets.special.user.passwords.dir=/run/secrets",
    ] {
        assert!(text.contains(want), "{want:?}\n{text}");
    }
    let out = amhash(
        &["install", "--compose-snippet", "--value-file", s(&vf)],
        b"",
    );
    assert_eq!(out.status.code(), Some(2), "--compose-snippet needs --dir");
}

// ---- the Ansible example ------------------------------------------------------------------

#[test]
fn the_ansible_example_rotates_twice_against_localhost() {
    let Some(playbook) = [
        "/usr/bin/ansible-playbook",
        "/usr/local/bin/ansible-playbook",
    ]
    .into_iter()
    .find(|p| Path::new(p).exists()) else {
        panic!("needs ansible-playbook: apt-get install ansible-core (.ci/run installs it)");
    };
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    std::fs::create_dir(&store).unwrap();
    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o700)).unwrap();
    let inventory = tmp.path().join("inventory.ini");
    std::fs::write(
        &inventory,
        "[am_hosts]\nlocalhost ansible_connection=local ansible_python_interpreter=\"{{ ansible_playbook_python }}\"\n",
    )
    .unwrap();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ansible/rotate-amadmin.yml");
    let rotate = |n: usize| {
        let pw = tmp.path().join(format!("amadmin-{n}.pw"));
        let out = Command::new(playbook)
            .arg("-i")
            .arg(&inventory)
            .arg(&example)
            .args(["-e", &format!("amhash_bin={BIN}")])
            .args(["-e", &format!("amhash_controller_bin={BIN}")])
            .args(["-e", &format!("am_store_dir={}", s(&store))])
            .args(["-e", &format!("amhash_password_out={}", s(&pw))])
            .args(["-e", "amhash_become=false"])
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_LOCAL_TEMP", tmp.path().join("ansible-local"))
            .env("ANSIBLE_REMOTE_TEMP", tmp.path().join("ansible-remote"))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "run {n}: {}", describe(&out));
        let log = String::from_utf8_lossy(&out.stdout);
        assert!(log.contains("failed=0"), "{log}");
        let password = std::fs::read_to_string(&pw).unwrap();
        assert_eq!(mode(&pw), 0o600);
        // Nothing secret in Ansible's output.
        let value = std::fs::read_to_string(store.join("password.amadmin")).unwrap();
        assert!(
            !log.contains(password.trim()) && !log.contains(&value),
            "{log}"
        );
        password
    };
    let first = rotate(1);
    assert_eq!(names_if_any(&store), ["password.amadmin"]);
    let second = rotate(2);
    assert_ne!(first, second);
    assert_eq!(
        names_if_any(&store),
        ["password.amadmin", "password.amadmin.previous"]
    );
    let verify = |file: &str, pw: &str| {
        amhash(
            &["verify", "--hash-file", s(&store.join(file))],
            pw.as_bytes(),
        )
        .status
        .code()
    };
    assert_eq!(verify("password.amadmin", &second), Some(0));
    assert_eq!(verify("password.amadmin.previous", &first), Some(0));
    // Every copy of the value and password left the hosts and the controller's temp dir.
    let leftovers: Vec<String> = names_if_any(&std::env::temp_dir())
        .into_iter()
        .filter(|n| n.ends_with(".amhash"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
