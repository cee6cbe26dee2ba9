//! `amhash doctor` through the real binary: a healthy installation is all `ok` (exit 0),
//! each kind of broken installation gives the right `problem` (exit 1), leftovers and
//! unchecked things are warnings (exit 0), usage errors exit 2, and doctor never changes a
//! byte of what it inspects.

use std::process::Output;

use crate::support::*;
use serde_json::Value;

const FORMAT_PROP: &str = "org.forgerock.openam.secrets.special.user.passwords.format";

/// `secrets/` (0700) with a value installed by amhash (`--no-backup`), and `setenv.sh`
/// recording the same format. `encrypted`: ENCRYPTED_PLAIN with `amkey`, else PLAIN.
fn healthy(f: &Fixture, encrypted: bool) {
    let dir = f.dir("secrets", 0o700);
    let pw = f.arg("pw");
    let setenv = f.arg("setenv.sh");
    let key = format!("file:{}", f.arg("amkey"));
    let mut args = vec![
        "install",
        "--password-file",
        &pw,
        "--dir",
        dir.to_str().unwrap(),
        "--setenv",
        &setenv,
        "--no-backup",
    ];
    if encrypted {
        args.extend(["--encrypt", "am", "--key", &key]);
    }
    assert_ok(&run(&args, b""));
}

/// `doctor --dir secrets` plus `extra` (`{name}` is replaced by the fixture path of name).
fn doctor(f: &Fixture, extra: &[&str], json: bool) -> Output {
    let mut args: Vec<String> = Vec::new();
    if json {
        args.push("--json".into());
    }
    args.extend(["doctor".into(), "--dir".into(), f.arg("secrets")]);
    for a in extra {
        args.push(
            match a.strip_prefix('{').and_then(|a| a.strip_suffix('}')) {
                Some(name) => f.arg(name),
                None => (*a).to_owned(),
            },
        );
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&argv, b"")
}

/// (level, check, message) of every finding, from `--json`.
fn findings(out: &Output) -> Vec<(String, String, String)> {
    let j = json(out);
    let list = j["findings"].as_array().unwrap();
    let problems = list.iter().filter(|x| x["level"] == "problem").count();
    assert_eq!(j["problems"], Value::from(problems));
    list.iter()
        .map(|x| {
            let get = |k: &str| x[k].as_str().unwrap().to_owned();
            (get("level"), get("check"), get("message"))
        })
        .collect()
}

fn levels(list: &[(String, String, String)], level: &str) -> Vec<(String, String)> {
    list.iter()
        .filter(|(l, _, _)| l == level)
        .map(|(_, c, m)| (c.clone(), m.clone()))
        .collect()
}

const KEY: &str = "--key";

#[test]
fn healthy_plain_install_is_all_ok() {
    let f = Fixture::new();
    healthy(&f, false);
    let before = snapshot(f.root());
    let extra = [
        "--format",
        "PLAIN",
        "--check-password",
        "--password-file",
        "{pw}",
    ];
    let out = doctor(&f, &extra, false);
    assert_ok(&out);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.last(), Some(&"no problem found"));
    for line in &lines[..lines.len() - 1] {
        assert!(line.starts_with("ok       "), "{line}");
    }
    assert!(out.stderr.is_empty(), "{}", describe(&out));
    let file = f.path("secrets/password.amadmin");
    assert_eq!(
        lines[..lines.len() - 1],
        [
            format!(
                "ok       directory: {}: mode 0700, owner uid 0 gid 0",
                f.path("secrets").display()
            )
            .as_str(),
            format!("ok       permissions: {}: mode 0600", file.display()).as_str(),
            format!("ok       owner: {}: uid 0 gid 0", file.display()).as_str(),
            "ok       format: the value is a well-formed {SSHA-512} hash (PLAIN)",
            "ok       format: the configured format PLAIN matches the value",
            "ok       password: the password matches the stored value",
        ]
    );

    let out = doctor(&f, &extra, true);
    assert_ok(&out);
    let list = findings(&out);
    assert_eq!(list.len(), 6);
    assert!(list.iter().all(|(l, _, _)| l == "ok"), "{list:?}");
    assert_eq!(json(&out)["problems"], 0);
    assert_eq!(snapshot(f.root()), before, "doctor changed something");
}

#[test]
fn healthy_encrypted_install_with_setenv_and_key_is_all_ok() {
    let f = Fixture::new();
    healthy(&f, true);
    let key = format!("file:{}", f.arg("amkey"));
    let out = doctor(
        &f,
        &[
            "--setenv",
            "{setenv.sh}",
            KEY,
            &key,
            "--check-password",
            "--password-file",
            "{pw}",
        ],
        true,
    );
    assert_ok(&out);
    let list = findings(&out);
    let checks: Vec<(&str, &str)> = list
        .iter()
        .map(|(l, c, _)| (l.as_str(), c.as_str()))
        .collect();
    assert_eq!(
        checks,
        [
            ("ok", "directory"),
            ("ok", "permissions"),
            ("ok", "owner"),
            ("ok", "format"),
            ("ok", "setenv"),
            ("ok", "format"),
            ("ok", "decrypt"),
            ("ok", "password"),
        ]
    );
    assert_eq!(
        list[4].2,
        format!("{} records format ENCRYPTED_PLAIN", f.arg("setenv.sh"))
    );
    assert_eq!(
        list[5].2,
        "the configured format ENCRYPTED_PLAIN matches the value"
    );
}

struct Broken {
    name: &'static str,
    encrypted: bool,
    /// Breaks the healthy install.
    setup: fn(&Fixture),
    /// Arguments after `doctor --dir secrets` (`{name}` = fixture path).
    args: &'static [&'static str],
    /// Every expected problem: (check, needle in the message).
    problems: &'static [(&'static str, &'static str)],
}

const BROKEN: &[Broken] = &[
    Broken {
        name: "missing file",
        encrypted: false,
        setup: |f| std::fs::remove_file(f.path("secrets/password.amadmin")).unwrap(),
        args: &["--format", "PLAIN"],
        problems: &[(
            "file",
            "password.amadmin does not exist: run amhash install --dir ",
        )],
    },
    Broken {
        name: "missing directory",
        encrypted: false,
        setup: |f| std::fs::remove_dir_all(f.path("secrets")).unwrap(),
        args: &["--format", "PLAIN"],
        problems: &[
            ("directory", "secrets does not exist"),
            ("file", "password.amadmin does not exist"),
        ],
    },
    Broken {
        name: "file mode 0644",
        encrypted: false,
        setup: |f| set_mode(&f.path("secrets/password.amadmin"), 0o644),
        args: &["--format", "PLAIN"],
        problems: &[(
            "permissions",
            "password.amadmin is accessible to group or others (mode 0644): chmod 600 ",
        )],
    },
    Broken {
        name: "group-writable directory",
        encrypted: false,
        setup: |f| set_mode(&f.path("secrets"), 0o770),
        args: &["--format", "PLAIN"],
        problems: &[(
            "directory",
            "secrets is writable by group or others (mode 0770): chmod go-w ",
        )],
    },
    Broken {
        name: "other-writable directory",
        encrypted: false,
        setup: |f| set_mode(&f.path("secrets"), 0o702),
        args: &["--format", "PLAIN"],
        problems: &[("directory", "(mode 0702): chmod go-w ")],
    },
    Broken {
        name: "symlinked file",
        encrypted: false,
        setup: |f| {
            let file = f.path("secrets/password.amadmin");
            std::fs::rename(&file, f.path("real-value")).unwrap();
            std::os::unix::fs::symlink("../real-value", &file).unwrap();
        },
        args: &["--format", "PLAIN"],
        problems: &[(
            "file",
            "password.amadmin is a symbolic link: replace it with a regular file",
        )],
    },
    Broken {
        name: "trailing newline",
        encrypted: false,
        setup: |f| {
            let file = f.path("secrets/password.amadmin");
            let mut v = read(&file);
            v.push(b'\n');
            std::fs::write(&file, v).unwrap();
        },
        args: &[
            "--format",
            "PLAIN",
            "--check-password",
            "--password-file",
            "{pw}",
        ],
        problems: &[(
            "value",
            "password.amadmin ends with a newline: AM reads it byte for byte",
        )],
    },
    Broken {
        name: "malformed {SSHA-512} value",
        encrypted: false,
        setup: |f| std::fs::write(f.path("secrets/password.amadmin"), "{SSHA-512}AAAA").unwrap(),
        args: &["--format", "PLAIN"],
        problems: &[(
            "format",
            "the value is malformed: the salt length byte is 0",
        )],
    },
    Broken {
        name: "value that is not base64",
        encrypted: false,
        setup: |f| std::fs::write(f.path("secrets/password.amadmin"), "hunter2 !").unwrap(),
        args: &["--format", "PLAIN"],
        problems: &[(
            "format",
            "the value is neither a {SSHA-512} hash nor base64 ciphertext",
        )],
    },
    Broken {
        name: "encrypted value, setenv.sh records PLAIN",
        encrypted: true,
        setup: |f| {
            // Re-record setenv.sh as PLAIN, leaving the encrypted value in the directory.
            std::fs::remove_file(f.path("setenv.sh")).unwrap();
            let out = run(
                &[
                    "install",
                    "--password-file",
                    &f.arg("pw"),
                    "--setenv",
                    &f.arg("setenv.sh"),
                ],
                b"",
            );
            assert_ok(&out);
        },
        args: &["--setenv", "{setenv.sh}"],
        problems: &[(
            "format",
            "the value needs org.forgerock.openam.secrets.special.user.passwords.format=ENCRYPTED_PLAIN but PLAIN is configured",
        )],
    },
    Broken {
        name: "plain value, --format ENCRYPTED_PLAIN",
        encrypted: false,
        setup: |_| {},
        args: &["--format", "ENCRYPTED_PLAIN"],
        problems: &[(
            "format",
            "the value needs org.forgerock.openam.secrets.special.user.passwords.format=PLAIN but ENCRYPTED_PLAIN is configured",
        )],
    },
    Broken {
        name: "setenv.sh and --format disagree",
        encrypted: false,
        setup: |_| {},
        args: &["--setenv", "{setenv.sh}", "--format", "ENCRYPTED_PLAIN"],
        problems: &[
            (
                "format",
                "setenv.sh records PLAIN but --format says ENCRYPTED_PLAIN",
            ),
            (
                "format",
                "the value needs org.forgerock.openam.secrets.special.user.passwords.format=PLAIN but ENCRYPTED_PLAIN is configured",
            ),
        ],
    },
    Broken {
        name: "encrypted value, wrong key",
        encrypted: true,
        setup: |_| {},
        args: &["--format", "ENCRYPTED_PLAIN", "--key", "file:{amkey-wrong}"],
        problems: &[("decrypt", "wrong")],
    },
    Broken {
        name: "wrong password",
        encrypted: true,
        setup: |_| {},
        args: &[
            "--format",
            "ENCRYPTED_PLAIN",
            "--key",
            "file:{amkey}",
            "--check-password",
            "--password-file",
            "{pw2}",
        ],
        problems: &[("password", "the password does not match the stored value")],
    },
    Broken {
        name: "AES-GCM value in the directory",
        encrypted: false,
        setup: |f| {
            let key = format!("file:{}", f.arg("gcm.key"));
            assert_ok(&run(&["key", "generate", "--out", &key], b""));
            let v = f.generate("pw", SALT, &["--encrypt", "aes-gcm", "--key", &key]);
            std::fs::write(f.path("secrets/password.amadmin"), v).unwrap();
        },
        args: &["--format", "PLAIN"],
        problems: &[(
            "format",
            "AM cannot read this value (amhash AES-GCM envelope)",
        )],
    },
];

/// `file:{name}` inside an argument is expanded too.
fn expand(f: &Fixture, args: &[&str]) -> Vec<String> {
    args.iter()
        .map(|a| match a.find('{') {
            Some(i) if a.ends_with('}') && !a.starts_with("{SSHA") => {
                format!("{}{}", &a[..i], f.arg(&a[i + 1..a.len() - 1]))
            }
            _ => (*a).to_owned(),
        })
        .collect()
}

#[test]
fn broken_installs_exit_1_with_the_right_problem_each_and_nothing_changes() {
    for case in BROKEN {
        let f = Fixture::new();
        healthy(&f, case.encrypted);
        (case.setup)(&f);
        let before = snapshot(f.root());
        let args = expand(&f, case.args);
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();

        let out = doctor(&f, &argv, true);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}: {}",
            case.name,
            describe(&out)
        );
        assert_no_secret(&out, &[]);
        let list = findings(&out);
        let problems = levels(&list, "problem");
        assert_eq!(
            problems.len(),
            case.problems.len(),
            "{}: {problems:?}",
            case.name
        );
        for ((check, message), (want_check, needle)) in problems.iter().zip(case.problems) {
            assert_eq!(check, want_check, "{}: {problems:?}", case.name);
            assert!(
                message.contains(needle),
                "{}: expected {needle:?} in {message:?}",
                case.name
            );
        }

        // Text mode: the same problems as `problem  check: message` lines, and a count.
        let out = doctor(&f, &argv, false);
        assert_eq!(out.status.code(), Some(1), "{}", case.name);
        let text = stdout(&out);
        for (check, message) in &problems {
            let line = format!("problem  {check}: {message}\n");
            assert!(
                text.contains(&line),
                "{}: {line:?} not in {text}",
                case.name
            );
        }
        assert!(
            text.ends_with(&format!("{} problem(s) found\n", problems.len())),
            "{}: {text}",
            case.name
        );
        assert_eq!(
            snapshot(f.root()),
            before,
            "{}: doctor changed something",
            case.name
        );
    }
}

#[test]
fn wrong_key_problem_names_the_cause_and_the_password_is_then_not_checked() {
    let f = Fixture::new();
    healthy(&f, true);
    let wrong = format!("file:{}", f.arg("amkey-wrong"));
    let out = doctor(
        &f,
        &[
            "--format",
            "ENCRYPTED_PLAIN",
            KEY,
            &wrong,
            "--check-password",
            "--password-file",
            "{pw}",
        ],
        true,
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let list = findings(&out);
    let problems = levels(&list, "problem");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].0, "decrypt");
    // JCE has no integrity check: a wrong key shows as a padding failure or, rarely (valid
    // padding by chance), as a plaintext that is not a hash. Both name the key.
    let m = problems[0].1.as_str();
    assert!(
        m == "could not decrypt the AM JCE (PBEWithMD5AndDES) value: the key is wrong or the data was altered"
            || m == "the value decrypts with this key, but what it holds is not a {SSHA-512} value: it was made from something else (or altered: JCE has no integrity check), so AM would not accept it as a password",
        "the problem should point at the key: {m}"
    );
    assert_eq!(
        levels(&list, "warning"),
        [(
            "password".to_owned(),
            "password not checked: the value could not be read or decrypted".to_owned()
        )]
    );
}

#[test]
fn leftovers_and_unchecked_things_are_warnings_with_exit_0() {
    require_root();
    let f = Fixture::new();
    healthy(&f, true);
    // A rotation leaves .previous; a killed run leaves a temp file.
    let key = format!("file:{}", f.arg("amkey"));
    let rotate = install_into(&f.path("secrets"), "--password-file", f.path("pw2"));
    assert_ok(&rotate.args(["--encrypt", "am", "--key", &key]).output());
    let temp = f.path("secrets/.password.amadmin.tmp-0123456789abcdef");
    f.secret_file("secrets/.password.amadmin.tmp-0123456789abcdef", "partial");
    // The file belongs to someone else than the directory.
    chown(&f.path("secrets/password.amadmin"), OTHER_UID, OTHER_GID);
    let before = snapshot(f.root());

    // No --format, no --setenv, no --key.
    let out = doctor(&f, &[], true);
    assert_ok(&out);
    let list = findings(&out);
    assert!(levels(&list, "problem").is_empty(), "{list:?}");
    let warnings = levels(&list, "warning");
    let secrets = f.arg("secrets");
    assert_eq!(
        warnings,
        [
            (
                "owner".to_owned(),
                format!(
                    "{secrets}/password.amadmin belongs to uid {OTHER_UID} but the directory to uid 0: make sure the user AM runs as can read it"
                )
            ),
            (
                "previous".to_owned(),
                format!(
                    "{secrets}/password.amadmin.previous is left from the last rotation: delete it once the new password works"
                )
            ),
            (
                "temp".to_owned(),
                format!(
                    "{} is left by an interrupted amhash run: the next install removes it",
                    temp.display()
                )
            ),
            (
                "format".to_owned(),
                format!(
                    "could not check the configured format: the value needs {FORMAT_PROP}=ENCRYPTED_PLAIN; give --format or --setenv"
                )
            ),
            (
                "decrypt".to_owned(),
                "decryption not checked: give --key SOURCE (or --kms-key NAME)".to_owned()
            ),
        ]
    );
    let out = doctor(&f, &[], false);
    assert_ok(&out);
    let text = stdout(&out);
    assert!(
        text.contains("warning  decrypt: decryption not checked"),
        "{text}"
    );
    assert!(text.ends_with("no problem found\n"), "{text}");
    assert_eq!(snapshot(f.root()), before, "doctor changed something");
}

#[test]
fn setenv_without_a_block_for_the_user_is_a_warning() {
    let f = Fixture::new();
    healthy(&f, false);
    let out = doctor(&f, &["--setenv", "{setenv.sh}", "--user", "ops"], true);
    // No password.ops file: a problem; the setenv.sh finding is a warning.
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let list = findings(&out);
    assert_eq!(
        levels(&list, "problem"),
        [(
            "file".to_owned(),
            format!(
                "{}/password.ops does not exist: run amhash install --dir {}",
                f.arg("secrets"),
                f.arg("secrets")
            )
        )]
    );
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    let f = Fixture::new();
    healthy(&f, false);
    let secrets = f.arg("secrets");
    let cases: &[(&[&str], &str)] = &[
        (&["doctor"], "--dir"),
        (
            &["doctor", "--dir", &secrets, "--format", "BOGUS"],
            "invalid password format \"BOGUS\"",
        ),
        (
            &["doctor", "--dir", &secrets, "--user", "a/b"],
            "invalid user name \"a/b\"",
        ),
        (
            &["doctor", "--dir", &secrets, "--user", ""],
            "invalid user name \"\"",
        ),
        (
            &["doctor", "--dir", &secrets, "--no-such-flag"],
            "--no-such-flag",
        ),
    ];
    for (args, needle) in cases {
        let out = run(args, b"");
        let err = assert_error(&out, 2, &[]);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    // --json: the error object on stderr.
    let out = run(
        &["--json", "doctor", "--dir", &secrets, "--user", "a/b"],
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let e: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(e["error"]["code"], 2);
    assert_eq!(e["error"]["kind"], "input");

    let help = stdout(&run(&["doctor", "--help"], b""));
    assert!(help.contains("  1  at least one problem found\n"), "{help}");
    assert!(help.contains("  2  usage error\n"), "{help}");
}

#[test]
fn doctor_finds_what_install_fixes() {
    // The loop an administrator runs: doctor says what is wrong, install fixes it, doctor is
    // happy.
    let f = Fixture::new();
    healthy(&f, false);
    let file = f.path("secrets/password.amadmin");
    let mut v = read(&file);
    v.push(b'\n');
    std::fs::write(&file, &v).unwrap();
    set_mode(&file, 0o644);
    let args = [
        "--format",
        "PLAIN",
        "--check-password",
        "--password-file",
        "{pw}",
    ];
    let out = doctor(&f, &args, true);
    assert_eq!(out.status.code(), Some(1));
    let checks: Vec<String> = levels(&findings(&out), "problem")
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    assert_eq!(checks, ["permissions", "value"]);

    v.pop();
    f.secret_file("value", std::str::from_utf8(&v).unwrap());
    assert_ok(&run(
        &[
            "install",
            "--dir",
            &f.arg("secrets"),
            "--value-file",
            &f.arg("value"),
            "--no-backup",
        ],
        b"",
    ));
    let out = doctor(&f, &args, true);
    assert_ok(&out);
    assert!(findings(&out).iter().all(|(l, _, _)| l == "ok"));
    assert_eq!(read(&file), v);
    assert_eq!(mode(&file), 0o600);
}
