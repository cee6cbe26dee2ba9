//! `amhash install` through the real binary, in temp dirs: the exact bytes, modes and owners
//! of every target, refusals that leave every file as it was, what AM (a shell, a JVM started
//! the way Tomcat starts it, a YAML parser) reads back, the report and `verify` on each target.
//!
//! Ownership tests chown to 1234:1234 and need root (CI runs the tests as root).

use std::path::Path;

use crate::support::*;

const FORMAT_PROP: &str = "org.forgerock.openam.secrets.special.user.passwords.format";
const DIR_PROP: &str = "org.forgerock.openam.secrets.special.user.passwords.dir";
const CACHE_LINE: &str = "AM caches the secret for 900 s by default \
     (org.forgerock.openam.secrets.special.user.secret.refresh.seconds): \
     the new password takes effect within that time";
fn restart_line(what: &str) -> String {
    format!(
        "restart AM (the Tomcat running it) to apply {what}: a running JVM keeps the environment \
         and system properties it started with, whatever the 900 s cache \
         (org.forgerock.openam.secrets.special.user.secret.refresh.seconds) says"
    )
}
const PLAIN_WARNING: &str = "amhash: warning: the value is not encrypted (PLAIN): anyone who reads it \
     can brute-force the password offline unless it is long and random; consider --encrypt am or kms\n";

fn dir_reminder(abs: &Path) -> String {
    format!(
        "if {0} is not AM's default .../openam/security/secrets/userpasswords, set {DIR_PROP}={0}",
        abs.display()
    )
}

/// `install --password-file F --salt-hex S` plus `args`.
fn install(f: &Fixture, pw: &str, salt: &str, args: &[&str]) -> std::process::Output {
    let pw = f.arg(pw);
    let mut all = vec!["install", "--password-file", &pw, "--salt-hex", salt];
    all.extend_from_slice(args);
    run(&all, b"")
}

/// What `bash` sees as `$PASSWORD_<VAR>` after sourcing `file`.
fn sourced_var(file: &Path, var: &str) -> Vec<u8> {
    bash(
        &format!(". \"$1\"; printf %s \"${var}\""),
        &[file.to_str().unwrap()],
    )
}

/// The words of `$CATALINA_OPTS` after sourcing setenv.sh and one `eval` round, as
/// catalina.sh does (`eval exec ... "$CATALINA_OPTS" ...`), NUL-separated.
fn catalina_words(setenv: &Path) -> Vec<String> {
    let out = bash(
        "CATALINA_OPTS=; . \"$1\"; eval \"set -- $CATALINA_OPTS\"; printf '%s\\0' \"$@\"",
        &[setenv.to_str().unwrap()],
    );
    String::from_utf8(out)
        .unwrap()
        .split_terminator('\0')
        .map(str::to_owned)
        .collect()
}

/// The value Java would get for `-Dpassword.<user>` (last one wins), from the shell words.
fn catalina_property(setenv: &Path, name: &str) -> Option<String> {
    let prefix = format!("-D{name}=");
    catalina_words(setenv)
        .iter()
        .rev()
        .find_map(|w| w.strip_prefix(&prefix).map(str::to_owned))
}

// ---------------------------------------------------------------------------------------
// --dir

#[test]
fn dir_holds_exactly_what_generate_prints_mode_0600_and_the_report_names_everything() {
    let f = Fixture::new();
    let dir = f.dir("secrets", 0o700);
    let expected = f.generate("pw", SALT, &[]);
    // Relative --dir, run from the fixture: the passwords.dir reminder must be absolute.
    let out = Run::new(AMHASH)
        .cwd(f.root())
        .args([
            "install",
            "--dir",
            "secrets",
            "--password-file",
            "pw",
            "--salt-hex",
            SALT,
        ])
        .output();
    assert_ok(&out);
    let file = dir.join("password.amadmin");
    assert_eq!(
        read(&file),
        expected.as_bytes(),
        "no trailing newline, same bytes"
    );
    assert_eq!(mode(&file), 0o600);
    assert_eq!(names(&dir), ["password.amadmin"], "no temp or backup left");
    let abs = std::fs::canonicalize(&dir).unwrap();
    assert_eq!(
        stdout(&out),
        format!(
            "created: secrets/password.amadmin\nAM setting: {FORMAT_PROP}=PLAIN\n{}\n{CACHE_LINE}\n",
            dir_reminder(&abs)
        )
    );
    assert_eq!(stderr(&out), PLAIN_WARNING);
}

#[test]
fn password_from_stdin_gives_the_same_value() {
    let f = Fixture::new();
    let dir = f.dir("secrets", 0o700);
    let d = dir.to_str().unwrap();
    let out = run(
        &["install", "--dir", d, "--salt-hex", SALT],
        format!("{PW}\n").as_bytes(),
    );
    assert_ok(&out);
    assert_eq!(
        read(&dir.join("password.amadmin")),
        f.generate("pw", SALT, &[]).as_bytes()
    );
}

#[test]
fn weak_password_is_refused_with_the_reason_and_nothing_written_unless_allow_weak() {
    let f = Fixture::new();
    let dir = f.dir("secrets", 0o700);
    f.secret_file("weak", "password1");
    // An existing value must survive the refusal.
    assert_ok(&install(&f, "pw", SALT, &["--dir", dir.to_str().unwrap()]));
    let before = snapshot(f.root());
    let out = install(&f, "weak", SALT, &["--dir", dir.to_str().unwrap()]);
    let err = assert_error(&out, 2, &["the password is too weak"]);
    assert!(err.contains("--allow-weak"), "{err}");
    assert!(!err.contains("password1"), "{err}");
    assert_eq!(snapshot(f.root()), before);

    let out = install(
        &f,
        "weak",
        SALT,
        &["--dir", dir.to_str().unwrap(), "--allow-weak"],
    );
    assert_ok(&out);
    assert!(
        stderr(&out).starts_with("amhash: warning: the password is weak: "),
        "{}",
        describe(&out)
    );
    assert!(!stderr(&out).contains("password1"));
    assert_eq!(
        read(&dir.join("password.amadmin")),
        f.generate("weak", SALT, &[]).as_bytes()
    );
}

/// The password bar through the real binary and the real `amhash-strength`: 1.6 x 10^20
/// guesses (1000 years of one GPU at the measured 5.2 x 10^9 a second), in zxcvbn's model.
#[test]
fn install_refuses_below_1000_gpu_years_and_says_how_long_it_would_last() {
    let f = Fixture::new();
    let dir = f.dir("secrets", 0o700);
    let refused: &[(&str, &str)] = &[
        ("aB3-xY9_qR7zK2mN", "16 random-looking characters"),
        ("Kx9#mQ2$vL7!pW4@zR8&", "20 random-looking characters"),
        ("correcthorsebatterystaple", "four common words"),
        (
            "correct horse battery staple",
            "four common words with spaces",
        ),
        (
            "correct-horse-battery-staple-mountain",
            "five common words with dashes",
        ),
        ("Tr0ub4dor&3", "a leet word with a suffix"),
        ("Adm1n1str4t0rF0rg3r0ck", "leet variants of common words"),
        ("P@ssw0rdP@ssw0rd2026!", "a leet word repeated, and a year"),
    ];
    for (pw, why) in refused {
        f.secret_file("candidate", pw);
        let out = install(&f, "candidate", SALT, &["--dir", dir.to_str().unwrap()]);
        let err = assert_error(&out, 2, &[]);
        assert!(!err.contains(pw), "{why}: {err}");
        assert!(
            err.contains("would be found within ")
                && err.contains(" by one GPU (5.2 x 10^9 {SSHA-512} guesses a second")
                && err.contains("amAdmin needs 1000 GPU-years: use --random"),
            "{why}: {err}"
        );
        assert!(names(&dir).is_empty(), "{why}: something was written");
    }
    let accepted: &[(&str, &str)] = &[
        ("k3V9xQ2mZ7pL4wN8rT6yB1cH5fJ0dG", "30 random characters"),
        (
            "7Hq-Zk2_mW9pXv4RtB8nLc3yJd6s",
            "28 random URL-safe characters",
        ),
    ];
    for (pw, why) in accepted {
        f.secret_file("candidate", pw);
        let out = install(&f, "candidate", SALT, &["--dir", dir.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{why}: {}", describe(&out));
    }
    // --random passwords clear it: install --random checks nothing, so check what it made.
    let stored = f.path("random-pw");
    let out = run(
        &[
            "install",
            "--random",
            "--password-out",
            &format!("file:{}", stored.display()),
            "--dir",
            dir.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let random = read_str(&stored);
    f.secret_file("candidate", random.trim_end());
    let other = f.dir("other", 0o700);
    let out = install(&f, "candidate", SALT, &["--dir", other.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "--random output: {}",
        describe(&out)
    );
}

#[test]
fn rotation_keeps_the_old_value_in_previous_with_its_owner_and_mode_0600() {
    require_root();
    let f = Fixture::new();
    let dir = f.dir("secrets", 0o700);
    let d = dir.to_str().unwrap();
    let file = dir.join("password.amadmin");
    let prev = dir.join("password.amadmin.previous");
    assert_ok(&install(&f, "pw", SALT, &["--dir", d]));
    chown(&file, OTHER_UID, OTHER_GID);
    set_mode(&file, 0o640);

    let out = install(&f, "pw2", SALT2, &["--dir", d]);
    assert_ok(&out);
    assert_eq!(read(&file), f.generate("pw2", SALT2, &[]).as_bytes());
    assert_eq!(read(&prev), f.generate("pw", SALT, &[]).as_bytes());
    assert_eq!(mode(&file), 0o600, "the secret is 0600 whatever it was");
    assert_eq!(mode(&prev), 0o600);
    assert_eq!(
        owner(&file),
        (OTHER_UID, OTHER_GID),
        "owner of the replaced file"
    );
    assert_eq!(owner(&prev), (OTHER_UID, OTHER_GID));
    assert!(
        stdout(&out).starts_with(&format!(
            "replaced: {d}/password.amadmin (previous value kept in {d}/password.amadmin.previous) (mode 0640 -> 0600)\n"
        )),
        "{}",
        describe(&out)
    );
}

#[test]
fn no_backup_leaves_no_previous() {
    let f = Fixture::new();
    let dir = f.dir("secrets", 0o700);
    let d = dir.to_str().unwrap();
    assert_ok(&install(&f, "pw", SALT, &["--dir", d]));
    let out = install(&f, "pw2", SALT2, &["--dir", d, "--no-backup"]);
    assert_ok(&out);
    assert_eq!(names(&dir), ["password.amadmin"]);
    assert_eq!(
        read(&dir.join("password.amadmin")),
        f.generate("pw2", SALT2, &[]).as_bytes()
    );
    assert!(stdout(&out).starts_with(&format!("replaced: {d}/password.amadmin\n")));
}

#[test]
fn owner_flag_wins_over_replaced_file_and_directory() {
    require_root();
    let f = Fixture::new();
    let dir = f.dir("secrets", 0o700);
    let d = dir.to_str().unwrap();
    // New file: --owner.
    let out = install(&f, "pw", SALT, &["--dir", d, "--owner", "1234:1234"]);
    assert_ok(&out);
    assert_eq!(owner(&dir.join("password.amadmin")), (1234, 1234));
    // Replaced file owned by 1234: --owner 0:0 still wins.
    let out = install(&f, "pw2", SALT2, &["--dir", d, "--owner", "0:0"]);
    assert_ok(&out);
    assert_eq!(owner(&dir.join("password.amadmin")), (0, 0));
    assert_eq!(
        owner(&dir.join("password.amadmin.previous")),
        (1234, 1234),
        ".previous keeps the old file's owner"
    );
}

#[test]
fn without_owner_a_new_file_belongs_to_the_directory_owner() {
    require_root();
    let f = Fixture::new();
    let dir = f.dir("secrets", 0o700);
    chown(&dir, OTHER_UID, 4321);
    assert_ok(&install(&f, "pw", SALT, &["--dir", dir.to_str().unwrap()]));
    assert_eq!(owner(&dir.join("password.amadmin")), (OTHER_UID, 4321));
    assert_eq!(mode(&dir.join("password.amadmin")), 0o600);
}

#[test]
fn same_value_twice_is_unchanged_and_not_rewritten() {
    let f = Fixture::new();
    let dir = f.dir("secrets", 0o700);
    let d = dir.to_str().unwrap();
    assert_ok(&install(&f, "pw", SALT, &["--dir", d]));
    let ino = std::os::unix::fs::MetadataExt::ino(
        &std::fs::metadata(dir.join("password.amadmin")).unwrap(),
    );
    let before = snapshot(f.root());
    let out = install(&f, "pw", SALT, &["--dir", d]);
    assert_ok(&out);
    assert!(
        stdout(&out).starts_with(&format!("unchanged: {d}/password.amadmin\n")),
        "{}",
        describe(&out)
    );
    assert_eq!(snapshot(f.root()), before, "no .previous, nothing touched");
    let ino2 = std::os::unix::fs::MetadataExt::ino(
        &std::fs::metadata(dir.join("password.amadmin")).unwrap(),
    );
    assert_eq!(ino, ino2, "the file was not replaced by a rename");
}

#[test]
fn user_flag_names_file_variable_property_and_secret_key() {
    let f = Fixture::new();
    let dir = f.dir("secrets", 0o700);
    let profile = f.path("profile");
    let setenv = f.path("setenv.sh");
    let value = f.generate("pw", SALT, &[]);
    let out = install(
        &f,
        "pw",
        SALT,
        &[
            "--user",
            "ops.admin",
            "--dir",
            dir.to_str().unwrap(),
            "--env-file",
            profile.to_str().unwrap(),
            "--setenv",
            setenv.to_str().unwrap(),
        ],
    );
    assert_ok(&out);
    // The directory is re-read after the cache expires; the variable and the property only
    // when AM restarts.
    assert!(
        stdout(&out).ends_with(&format!(
            "{CACHE_LINE}\n{}\n",
            restart_line("PASSWORD_OPS_ADMIN and -Dpassword.ops.admin")
        )),
        "{}",
        describe(&out)
    );
    assert_eq!(names(&dir), ["password.ops.admin"]);
    assert_eq!(read(&dir.join("password.ops.admin")), value.as_bytes());
    assert_eq!(
        read_str(&profile),
        format!("export PASSWORD_OPS_ADMIN='{value}'\n")
    );
    assert_eq!(
        sourced_var(&profile, "PASSWORD_OPS_ADMIN"),
        value.as_bytes()
    );
    assert_eq!(
        catalina_property(&setenv, "password.ops.admin").as_deref(),
        Some(value.as_str())
    );
    assert_eq!(catalina_property(&setenv, "password.amadmin"), None);
}

// ---------------------------------------------------------------------------------------
// --dry-run

#[test]
fn dry_run_writes_nothing_but_reports_what_would_change() {
    let f = Fixture::new();
    let dir = f.dir("secrets", 0o700);
    let d = dir.to_str().unwrap();
    let profile = f.path("profile");
    let setenv = f.path("setenv.sh");
    let k8s = f.path("secret.yaml");
    let targets = [
        "--dir",
        d,
        "--env-file",
        profile.to_str().unwrap(),
        "--setenv",
        setenv.to_str().unwrap(),
        "--k8s-secret",
        "am-passwords",
        "--out",
        k8s.to_str().unwrap(),
    ];
    // Nothing exists yet: everything "would create".
    let before = snapshot(f.root());
    let mut args = targets.to_vec();
    args.push("--dry-run");
    let out = install(&f, "pw", SALT, &args);
    assert_ok(&out);
    assert_eq!(snapshot(f.root()), before);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[..4],
        [
            format!("would create: {d}/password.amadmin").as_str(),
            format!(
                "would create: {} (export PASSWORD_AMADMIN)",
                profile.display()
            )
            .as_str(),
            format!(
                "would create: {} (-Dpassword.amadmin and -D{FORMAT_PROP}=PLAIN in CATALINA_OPTS)",
                setenv.display()
            )
            .as_str(),
            format!(
                "would write {}: Kubernetes Secret am-passwords (key password.amadmin)",
                k8s.display()
            )
            .as_str(),
        ]
    );

    // Installed for real, then a dry run of a new password: "would replace", nothing moves.
    assert_ok(&install(&f, "pw", SALT, &targets));
    let before = snapshot(f.root());
    let mut args = targets.to_vec();
    args.extend(["--dry-run", "--json"]);
    let out = install(&f, "pw2", SALT2, &args);
    assert_ok(&out);
    assert_eq!(snapshot(f.root()), before);
    let j = json(&out);
    assert_eq!(j["dry_run"], true);
    let actions: Vec<&str> = j["written"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["action"].as_str())
        .collect();
    assert_eq!(actions, ["replaced", "replaced", "replaced"]);
    assert_eq!(
        j["written"][0]["backup"],
        format!("{d}/password.amadmin.previous")
    );

    let mut args = targets.to_vec();
    args.push("--dry-run");
    let out = install(&f, "pw2", SALT2, &args);
    assert_ok(&out);
    assert!(
        stdout(&out).starts_with(&format!(
            "would replace: {d}/password.amadmin (previous value kept in {d}/password.amadmin.previous)\n\
             would replace: {} (export PASSWORD_AMADMIN)\n",
            profile.display()
        )),
        "{}",
        describe(&out)
    );
    assert_eq!(snapshot(f.root()), before);
}

// ---------------------------------------------------------------------------------------
// Refusals

struct Refusal {
    name: &'static str,
    /// Prepares the fixture, returns the arguments after `install`.
    setup: fn(&Fixture) -> Vec<String>,
    code: i32,
    needle: &'static str,
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| (*x).to_owned()).collect()
}

/// The fixture every refusal starts from: `secrets/` (0700) with an installed value, a
/// profile and a setenv.sh with amhash content, a file outside the directory.
fn refusal_base(f: &Fixture) {
    let dir = f.dir("secrets", 0o700);
    assert_ok(&install(
        f,
        "pw2",
        SALT2,
        &[
            "--dir",
            dir.to_str().unwrap(),
            "--env-file",
            f.arg("profile").as_str(),
            "--setenv",
            f.arg("setenv.sh").as_str(),
        ],
    ));
    std::fs::write(f.path("outside"), "not a secret, must stay").unwrap();
}

fn pw_args(f: &Fixture) -> Vec<String> {
    s(&["--password-file", &f.arg("pw"), "--salt-hex", SALT])
}

fn with(f: &Fixture, extra: &[&str]) -> Vec<String> {
    let mut v = pw_args(f);
    v.extend(s(extra));
    v
}

const REFUSALS: &[Refusal] = &[
    Refusal {
        name: "symlinked target file",
        setup: |f| {
            let file = f.path("secrets/password.amadmin");
            std::fs::remove_file(&file).unwrap();
            std::os::unix::fs::symlink("../outside", &file).unwrap();
            with(f, &["--dir", &f.arg("secrets")])
        },
        code: 2,
        needle: "password.amadmin: is a symbolic link; refusing to write through it",
    },
    Refusal {
        name: "symlinked .previous",
        setup: |f| {
            std::os::unix::fs::symlink("../outside", f.path("secrets/password.amadmin.previous"))
                .unwrap();
            with(f, &["--dir", &f.arg("secrets")])
        },
        code: 2,
        needle: "password.amadmin.previous: is a symbolic link",
    },
    Refusal {
        name: "missing directory",
        setup: |f| with(f, &["--dir", &f.arg("no-such-dir")]),
        code: 2,
        needle: "no-such-dir: directory does not exist",
    },
    Refusal {
        name: "directory is a file",
        setup: |f| with(f, &["--dir", &f.arg("outside")]),
        code: 2,
        needle: "outside: is not a directory",
    },
    Refusal {
        name: "group-writable directory",
        setup: |f| {
            set_mode(&f.path("secrets"), 0o770);
            with(f, &["--dir", &f.arg("secrets")])
        },
        code: 2,
        needle: "secrets: directory is writable by group or others (mode 0770); run `chmod go-w` on it first",
    },
    Refusal {
        name: "other-writable directory",
        setup: |f| {
            set_mode(&f.path("secrets"), 0o702);
            with(f, &["--dir", &f.arg("secrets")])
        },
        code: 2,
        needle: "(mode 0702)",
    },
    Refusal {
        name: "user with a slash",
        setup: |f| with(f, &["--dir", &f.arg("secrets"), "--user", "a/b"]),
        code: 2,
        needle: "invalid user name \"a/b\"",
    },
    Refusal {
        name: "empty user",
        setup: |f| with(f, &["--dir", &f.arg("secrets"), "--user", ""]),
        code: 2,
        needle: "invalid user name \"\": it is empty",
    },
    Refusal {
        name: "user with '-' in a shell profile (after --dir)",
        setup: |f| {
            with(
                f,
                &[
                    "--dir",
                    &f.arg("secrets"),
                    "--env-file",
                    &f.arg("profile"),
                    "--user",
                    "am-admin",
                ],
            )
        },
        code: 2,
        needle: "environment variable PASSWORD_AM-ADMIN cannot be set from a shell profile",
    },
    Refusal {
        name: "setenv.sh: another user's block is PLAIN, this install ENCRYPTED_PLAIN (with --dir)",
        setup: |f| {
            let mut v = with(
                f,
                &[
                    "--dir",
                    &f.arg("secrets"),
                    "--setenv",
                    &f.arg("setenv.sh"),
                    "--user",
                    "ops",
                    "--encrypt",
                    "am",
                ],
            );
            v.extend(s(&["--key", &format!("file:{}", f.arg("amkey"))]));
            v
        },
        code: 2,
        needle: "user amadmin is installed with format PLAIN but this install uses ENCRYPTED_PLAIN; AM has one format for all special users",
    },
    Refusal {
        name: "setenv.sh sets another format outside amhash blocks",
        setup: |f| {
            let p = f.path("setenv.sh");
            let mut t = read_str(&p);
            t.insert_str(
                0,
                &format!("CATALINA_OPTS=\"$CATALINA_OPTS -D{FORMAT_PROP}=ENCRYPTED_PLAIN\"\n"),
            );
            std::fs::write(&p, t).unwrap();
            with(
                f,
                &["--dir", &f.arg("secrets"), "--setenv", &f.arg("setenv.sh")],
            )
        },
        code: 2,
        needle: "setenv.sh:1: the file already sets org.forgerock.openam.secrets.special.user.passwords.format=ENCRYPTED_PLAIN outside amhash blocks",
    },
    Refusal {
        name: "profile with an unclosed quote on our variable (after --dir)",
        setup: |f| {
            std::fs::write(
                f.path("profile"),
                "export A=1\nexport PASSWORD_AMADMIN=\"{SSHA-512}abc\n",
            )
            .unwrap();
            with(
                f,
                &["--dir", &f.arg("secrets"), "--env-file", &f.arg("profile")],
            )
        },
        code: 2,
        needle: "profile:2: a quote is not closed",
    },
    Refusal {
        name: "symlinked profile",
        setup: |f| {
            std::os::unix::fs::symlink("outside", f.path("profile-link")).unwrap();
            with(
                f,
                &[
                    "--dir",
                    &f.arg("secrets"),
                    "--env-file",
                    &f.arg("profile-link"),
                ],
            )
        },
        code: 2,
        needle: "profile-link: is a symbolic link",
    },
    Refusal {
        name: "symlinked setenv.sh",
        setup: |f| {
            std::os::unix::fs::symlink("outside", f.path("setenv-link")).unwrap();
            with(
                f,
                &[
                    "--dir",
                    &f.arg("secrets"),
                    "--setenv",
                    &f.arg("setenv-link"),
                ],
            )
        },
        code: 2,
        needle: "setenv-link: is a symbolic link",
    },
    Refusal {
        name: "k8s --out is a symlink (after --dir)",
        setup: |f| {
            std::os::unix::fs::symlink("outside", f.path("secret.yaml")).unwrap();
            with(
                f,
                &[
                    "--dir",
                    &f.arg("secrets"),
                    "--k8s-secret",
                    "am",
                    "--out",
                    &f.arg("secret.yaml"),
                ],
            )
        },
        code: 2,
        needle: "secret.yaml: is a symbolic link",
    },
    Refusal {
        name: "invalid Kubernetes name (after --dir)",
        setup: |f| with(f, &["--dir", &f.arg("secrets"), "--k8s-secret", "Bad_Name"]),
        code: 2,
        needle: "invalid Kubernetes name \"Bad_Name\"",
    },
    Refusal {
        name: "invalid Kubernetes namespace",
        setup: |f| {
            with(
                f,
                &[
                    "--k8s-secret",
                    "am",
                    "--namespace",
                    "a.b",
                    "--dir",
                    &f.arg("secrets"),
                ],
            )
        },
        code: 2,
        needle: "invalid Kubernetes namespace \"a.b\"",
    },
    Refusal {
        name: "AES-GCM value via --value-file",
        setup: |f| {
            let key = f.path("gcm.key");
            let out = run(
                &[
                    "key",
                    "generate",
                    "--out",
                    &format!("file:{}", key.display()),
                ],
                b"",
            );
            assert_ok(&out);
            let v = f.generate(
                "pw",
                SALT,
                &[
                    "--encrypt",
                    "aes-gcm",
                    "--key",
                    &format!("file:{}", key.display()),
                ],
            );
            f.secret_file("gcm.value", &v);
            s(&[
                "--dir",
                &f.arg("secrets"),
                "--value-file",
                &f.arg("gcm.value"),
            ])
        },
        code: 2,
        needle: "the value is an amhash AES-GCM envelope, which AM cannot read",
    },
    Refusal {
        name: "--encrypt aes-gcm",
        setup: |f| {
            let key = f.path("gcm.key");
            assert_ok(&run(
                &[
                    "key",
                    "generate",
                    "--out",
                    &format!("file:{}", key.display()),
                ],
                b"",
            ));
            with(
                f,
                &[
                    "--dir",
                    &f.arg("secrets"),
                    "--encrypt",
                    "aes-gcm",
                    "--key",
                    &format!("file:{}", key.display()),
                ],
            )
        },
        code: 2,
        needle: "AM cannot read an AES-GCM value",
    },
    Refusal {
        name: "malformed value file: not base64",
        setup: |f| {
            f.secret_file("bad.value", "this is not a value!");
            s(&[
                "--dir",
                &f.arg("secrets"),
                "--value-file",
                &f.arg("bad.value"),
            ])
        },
        code: 2,
        needle: "bad.value: the value is neither a {SSHA-512} hash nor base64 ciphertext",
    },
    Refusal {
        name: "malformed value file: bad SSHA-512",
        setup: |f| {
            f.secret_file("bad.value", "{SSHA-512}AAAA");
            s(&[
                "--dir",
                &f.arg("secrets"),
                "--value-file",
                &f.arg("bad.value"),
            ])
        },
        code: 2,
        needle: "bad.value: the salt length byte is 0",
    },
    Refusal {
        name: "malformed value file: empty",
        setup: |f| {
            f.secret_file("bad.value", "");
            s(&[
                "--dir",
                &f.arg("secrets"),
                "--value-file",
                &f.arg("bad.value"),
            ])
        },
        code: 2,
        needle: "bad.value: the value is neither a {SSHA-512} hash nor base64 ciphertext",
    },
    Refusal {
        name: "unknown --owner",
        setup: |f| {
            with(
                f,
                &["--dir", &f.arg("secrets"), "--owner", "no-such-user-amhash"],
            )
        },
        code: 2,
        needle: "cannot resolve owner \"no-such-user-amhash\"",
    },
    Refusal {
        name: "bad --salt-hex",
        setup: |f| {
            s(&[
                "--dir",
                &f.arg("secrets"),
                "--password-file",
                &f.arg("pw"),
                "--salt-hex",
                "zz",
            ])
        },
        code: 2,
        needle: "--salt-hex",
    },
    Refusal {
        name: "--value-file with --password-file",
        setup: |f| {
            let v = f.generate("pw", SALT, &[]);
            f.secret_file("v", &v);
            with(
                f,
                &["--dir", &f.arg("secrets"), "--value-file", &f.arg("v")],
            )
        },
        code: 2,
        needle: "cannot be used with",
    },
    Refusal {
        name: "no target",
        setup: |f| pw_args(f),
        code: 2,
        needle: "required",
    },
];

#[test]
fn refusals_exit_2_with_the_reason_and_leave_every_file_byte_for_byte() {
    for case in REFUSALS {
        let f = Fixture::new();
        refusal_base(&f);
        let args = (case.setup)(&f);
        let before = snapshot(f.root());
        let mut all = vec!["install"];
        all.extend(args.iter().map(String::as_str));
        let out = run(&all, b"");
        let err = assert_error(&out, case.code, &[]);
        assert!(
            err.contains(case.needle),
            "{}: expected {:?} in {err:?}",
            case.name,
            case.needle
        );
        assert_eq!(
            snapshot(f.root()),
            before,
            "{}: something was written",
            case.name
        );
    }
}

#[test]
fn the_refusal_exit_codes_are_documented_in_the_help() {
    let out = run(&["install", "--help"], b"");
    assert_ok(&out);
    let help = stdout(&out);
    assert!(
        help.contains("  2  malformed input or usage error\n"),
        "{help}"
    );
    assert!(
        help.contains("  3  I/O or other operational failure"),
        "{help}"
    );
}

// ---------------------------------------------------------------------------------------
// --value-file

#[test]
fn value_file_installs_an_existing_plain_value_exactly() {
    let f = Fixture::new();
    let dir = f.dir("secrets", 0o700);
    let value = f.generate("pw", SALT, &[]);
    // As `amhash generate > file` writes it: with a newline, which is not part of the value.
    f.secret_file("value", &format!("{value}\n"));
    let out = install_into(&dir, "--value-file", f.path("value")).output();
    assert_ok(&out);
    assert_eq!(read(&dir.join("password.amadmin")), value.as_bytes());
    assert!(stdout(&out).contains(&format!("AM setting: {FORMAT_PROP}=PLAIN\n")));
}

#[test]
fn value_file_installs_an_am_encrypted_value_that_verify_opens_with_the_key() {
    let f = Fixture::new();
    let dir = f.dir("secrets", 0o700);
    let d = dir.to_str().unwrap();
    let value = f.generate_am("pw", SALT);
    f.secret_file("value", &value);
    let out = run(
        &[
            "--json",
            "install",
            "--dir",
            d,
            "--value-file",
            &f.arg("value"),
        ],
        b"",
    );
    assert_ok(&out);
    assert!(
        out.stderr.is_empty(),
        "no PLAIN warning: {}",
        describe(&out)
    );
    assert_eq!(read(&dir.join("password.amadmin")), value.as_bytes());
    assert_eq!(
        json(&out)["am_properties"],
        serde_json::json!({FORMAT_PROP: "ENCRYPTED_PLAIN"})
    );
    assert_eq!(
        json(&out)["restart_required"],
        false,
        "the directory is re-read"
    );
    let key = format!("file:{}", f.arg("amkey"));
    let verify = |pw: &str, key: &str| {
        run(
            &[
                "verify",
                "--dir",
                d,
                "--key",
                key,
                "--password-file",
                &f.arg(pw),
            ],
            b"",
        )
    };
    assert_eq!(verify("pw", &key).status.code(), Some(0));
    assert_eq!(verify("pw2", &key).status.code(), Some(1));
    let wrong = format!("file:{}", f.arg("amkey-wrong"));
    assert_error(&verify("pw", &wrong), 3, &[]);
}

#[test]
fn encrypt_am_installs_the_same_bytes_generate_prints() {
    let f = Fixture::new();
    let dir = f.dir("secrets", 0o700);
    let key = format!("file:{}", f.arg("amkey"));
    let out = install(
        &f,
        "pw",
        SALT,
        &[
            "--dir",
            dir.to_str().unwrap(),
            "--encrypt",
            "am",
            "--key",
            &key,
        ],
    );
    assert_ok(&out);
    // JCE's PBE salt is random: compare by decrypting, which proves it is AM-readable too.
    let installed = read_str(&dir.join("password.amadmin"));
    let out2 = run(&["decrypt", "--key", &key], installed.as_bytes());
    assert_ok(&out2);
    assert_eq!(stdout(&out2), format!("{}\n", f.generate("pw", SALT, &[])));
    assert!(stdout(&out).contains(&format!("AM setting: {FORMAT_PROP}=ENCRYPTED_PLAIN\n")));
}

#[test]
fn value_file_with_an_unknown_base64_value_is_taken_as_google_kms() {
    let f = Fixture::new();
    let dir = f.dir("secrets", 0o700);
    // 48 bytes of base64 that no local scheme recognises.
    let value = "CiQAq3M9nZ1Uq2oXb8d0fVh3sM4t5u6v7w8x9y0zABCDEFGHIJKLMNOPQRSTUVWX";
    f.secret_file("value", value);
    let out = install_into(&dir, "--value-file", f.path("value")).output();
    assert_ok(&out);
    assert_eq!(read(&dir.join("password.amadmin")), value.as_bytes());
    let text = stdout(&out);
    assert!(
        text.contains(&format!("AM setting: {FORMAT_PROP}=GOOGLE_KMS_ENCRYPTED\n")),
        "{text}"
    );
    assert!(
        text.contains(
            "AM setting: org.forgerock.openam.secrets.googlekms.decryptionkey must name the KMS key"
        ),
        "{text}"
    );
}

// ---------------------------------------------------------------------------------------
// --env-file

const PROFILE_HEAD: &str = "# ~/.bash_profile of the am service account\n\
export JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64\n\
export CATALINA_BASE=/opt/tomcat   # the AM instance\n\
PATH=\"$JAVA_HOME/bin:$PATH\"\n";
const PROFILE_OLD: &str = "export PASSWORD_AMADMIN='{SSHA-512}old-value'\n";
const PROFILE_MID: &str = "\t# tab-indented comment, kept as is\n\
umask 027\n\
export PASSWORD_AMADMINX='not ours'\n";
const PROFILE_DUP: &str = "PASSWORD_AMADMIN=\"stale\"\n";
const PROFILE_TAIL: &str = "export LANG=\"en_US.UTF-8\"";

#[test]
fn env_file_replaces_the_line_in_place_keeping_every_other_byte() {
    require_root();
    let f = Fixture::new();
    let profile = f.path(".bash_profile");
    let before = format!("{PROFILE_HEAD}{PROFILE_OLD}{PROFILE_MID}{PROFILE_DUP}{PROFILE_TAIL}");
    std::fs::write(&profile, &before).unwrap();
    set_mode(&profile, 0o640);
    chown(&profile, OTHER_UID, OTHER_GID);
    let value = f.generate("pw", SALT, &[]);

    let out = install(&f, "pw", SALT, &["--env-file", profile.to_str().unwrap()]);
    assert_ok(&out);
    let expected =
        format!("{PROFILE_HEAD}export PASSWORD_AMADMIN='{value}'\n{PROFILE_MID}{PROFILE_TAIL}");
    assert_eq!(
        read_str(&profile),
        expected,
        "one line replaced, the later one removed"
    );
    assert_eq!(mode(&profile), 0o640, "mode kept");
    assert_eq!(owner(&profile), (OTHER_UID, OTHER_GID), "owner kept");
    assert_eq!(sourced_var(&profile, "PASSWORD_AMADMIN"), value.as_bytes());
    assert_eq!(sourced_var(&profile, "PASSWORD_AMADMINX"), b"not ours");
    // No cache note: AM reads the variable when it starts, so it must be restarted.
    assert_eq!(
        stdout(&out),
        format!(
            "replaced: {} (export PASSWORD_AMADMIN)\nAM setting: {FORMAT_PROP}=PLAIN\n{}\n",
            profile.display(),
            restart_line("PASSWORD_AMADMIN")
        )
    );

    // Idempotent: same value again, same bytes, "unchanged".
    let out = install(&f, "pw", SALT, &["--env-file", profile.to_str().unwrap()]);
    assert_ok(&out);
    assert_eq!(read_str(&profile), expected);
    assert!(stdout(&out).starts_with("unchanged: "));
    assert_eq!(
        expected.matches("PASSWORD_AMADMIN=").count(),
        1,
        "exactly one assignment"
    );
}

#[test]
fn env_file_appends_to_a_profile_without_the_variable_or_trailing_newline() {
    let f = Fixture::new();
    let profile = f.path(".bash_profile");
    let before = format!("{PROFILE_HEAD}{PROFILE_MID}{PROFILE_TAIL}");
    std::fs::write(&profile, &before).unwrap();
    set_mode(&profile, 0o644);
    let value = f.generate("pw", SALT, &[]);
    assert_ok(&install(
        &f,
        "pw",
        SALT,
        &["--env-file", profile.to_str().unwrap()],
    ));
    assert_eq!(
        read_str(&profile),
        format!("{before}\nexport PASSWORD_AMADMIN='{value}'\n")
    );
    assert_eq!(mode(&profile), 0o644, "an existing profile keeps its mode");
    assert_eq!(sourced_var(&profile, "PASSWORD_AMADMIN"), value.as_bytes());
    let once = read(&profile);
    assert_ok(&install(
        &f,
        "pw",
        SALT,
        &["--env-file", profile.to_str().unwrap()],
    ));
    assert_eq!(read(&profile), once);
}

#[test]
fn env_file_new_file_is_0600_owned_like_its_directory_and_rotation_replaces_the_value() {
    require_root();
    let f = Fixture::new();
    let home = f.dir("home", 0o750);
    chown(&home, OTHER_UID, OTHER_GID);
    let profile = home.join(".bash_profile");
    let out = install(&f, "pw", SALT, &["--env-file", profile.to_str().unwrap()]);
    assert_ok(&out);
    assert!(stdout(&out).starts_with(&format!(
        "created: {} (export PASSWORD_AMADMIN)\n",
        profile.display()
    )));
    assert_eq!(mode(&profile), 0o600);
    assert_eq!(owner(&profile), (OTHER_UID, OTHER_GID));
    let v1 = f.generate("pw", SALT, &[]);
    assert_eq!(
        read_str(&profile),
        format!("export PASSWORD_AMADMIN='{v1}'\n")
    );

    assert_ok(&install(
        &f,
        "pw2",
        SALT2,
        &["--env-file", profile.to_str().unwrap()],
    ));
    let v2 = f.generate("pw2", SALT2, &[]);
    assert_eq!(
        read_str(&profile),
        format!("export PASSWORD_AMADMIN='{v2}'\n")
    );
    assert_eq!(sourced_var(&profile, "PASSWORD_AMADMIN"), v2.as_bytes());
    assert_eq!(
        names(&home),
        [".bash_profile"],
        "no backup or temp beside a profile"
    );
}

// ---------------------------------------------------------------------------------------
// --setenv, checked with a JVM started the way catalina.sh starts it

const SETENV_BEFORE: &str = "#!/bin/sh\n\
# Tomcat setenv.sh for AM (site settings)\n\
CATALINA_OPTS=\"$CATALINA_OPTS -Xms64m -Xmx256m -Dcom.example.site=\\\"eu west\\\"\"\n\
export CATALINA_OPTS\n\
JAVA_OPTS=\"-Djava.awt.headless=true\"\n\
# end of site settings";

const PROPS_JAVA: &str = r#"public class Props {
    public static void main(String[] args) {
        StringBuilder out = new StringBuilder();
        for (String name : args) {
            out.append(name).append('=').append(System.getProperty(name)).append('\n');
        }
        System.out.print(out);
    }
}
"#;

/// Starts `java Props.java NAMES...` like catalina.sh: source setenv.sh, then
/// `eval exec "\"$_RUNJAVA\"" "$JAVA_OPTS" "$CATALINA_OPTS" ... main-class args`.
fn jvm_properties(f: &Fixture, setenv: &Path, names: &[&str]) -> String {
    let props = f.path("Props.java");
    std::fs::write(&props, PROPS_JAVA).unwrap();
    let mut args = vec![setenv.to_str().unwrap(), props.to_str().unwrap()];
    args.extend_from_slice(names);
    let script = "SETENV=$1; PROPS=$2; shift 2; _RUNJAVA=java; CATALINA_OPTS=; JAVA_OPTS=; \
                  . \"$SETENV\"; \
                  eval exec \"\\\"$_RUNJAVA\\\"\" \"$JAVA_OPTS\" \"$CATALINA_OPTS\" \"\\\"$PROPS\\\"\" \"$@\"";
    String::from_utf8(bash(script, &args)).unwrap()
}

fn setenv_block(user: &str, value: &str, format: &str) -> String {
    format!(
        "# BEGIN amhash password.{user} (managed by amhash; do not edit)\n\
         CATALINA_OPTS=\"$CATALINA_OPTS -Dpassword.{user}='{value}' -D{FORMAT_PROP}={format}\"\n\
         export CATALINA_OPTS\n\
         # END amhash password.{user}\n"
    )
}

#[test]
fn setenv_gives_the_jvm_the_value_and_format_and_keeps_other_content() {
    let f = Fixture::new();
    let setenv = f.path("setenv.sh");
    std::fs::write(&setenv, SETENV_BEFORE).unwrap();
    set_mode(&setenv, 0o750);
    let sv = setenv.to_str().unwrap();
    let v1 = f.generate_am("pw", SALT);
    let v_ops = f.generate_am("pw2", SALT2);
    f.secret_file("v1", &v1);
    f.secret_file("v-ops", &v_ops);

    let out = run(
        &["install", "--setenv", sv, "--value-file", &f.arg("v1")],
        b"",
    );
    assert_ok(&out);
    assert_eq!(
        stdout(&out),
        format!(
            "replaced: {sv} (-Dpassword.amadmin and -D{FORMAT_PROP}=ENCRYPTED_PLAIN in CATALINA_OPTS)\n\
             AM setting: {FORMAT_PROP}=ENCRYPTED_PLAIN\n{}\n",
            restart_line("-Dpassword.amadmin")
        )
    );
    let after_one = format!(
        "{SETENV_BEFORE}\n{}",
        setenv_block("amadmin", &v1, "ENCRYPTED_PLAIN")
    );
    assert_eq!(read_str(&setenv), after_one);
    assert_eq!(mode(&setenv), 0o750);

    // Idempotent: one block after two installs.
    let out = run(
        &["install", "--setenv", sv, "--value-file", &f.arg("v1")],
        b"",
    );
    assert_ok(&out);
    assert!(stdout(&out).starts_with("unchanged: "));
    assert_eq!(read_str(&setenv), after_one);

    // A second user gets its own block.
    let out = run(
        &[
            "install",
            "--setenv",
            sv,
            "--value-file",
            &f.arg("v-ops"),
            "--user",
            "ops.admin",
        ],
        b"",
    );
    assert_ok(&out);
    let after_two = format!(
        "{after_one}{}",
        setenv_block("ops.admin", &v_ops, "ENCRYPTED_PLAIN")
    );
    assert_eq!(read_str(&setenv), after_two);

    let seen = jvm_properties(
        &f,
        &setenv,
        &[
            "password.amadmin",
            "password.ops.admin",
            FORMAT_PROP,
            "com.example.site",
            "java.awt.headless",
        ],
    );
    assert_eq!(
        seen,
        format!(
            "password.amadmin={v1}\npassword.ops.admin={v_ops}\n{FORMAT_PROP}=ENCRYPTED_PLAIN\n\
             com.example.site=eu west\njava.awt.headless=true\n"
        )
    );
}

#[test]
fn setenv_rotation_replaces_the_block_in_place_and_the_jvm_sees_the_new_value() {
    let f = Fixture::new();
    let setenv = f.path("setenv.sh");
    let sv = setenv.to_str().unwrap();
    // A new setenv.sh: created 0600.
    assert_ok(&install(&f, "pw", SALT, &["--setenv", sv]));
    assert_eq!(mode(&setenv), 0o600);
    assert_ok(&install(&f, "pw", SALT, &["--setenv", sv, "--user", "ops"]));
    let v_ops = f.generate("pw", SALT, &[]);
    assert_ok(&install(&f, "pw2", SALT2, &["--setenv", sv]));
    let v2 = f.generate("pw2", SALT2, &[]);
    assert_eq!(
        read_str(&setenv),
        format!(
            "{}{}",
            setenv_block("amadmin", &v2, "PLAIN"),
            setenv_block("ops", &v_ops, "PLAIN")
        )
    );
    assert_eq!(
        jvm_properties(&f, &setenv, &["password.amadmin", FORMAT_PROP]),
        format!("password.amadmin={v2}\n{FORMAT_PROP}=PLAIN\n")
    );
}

// ---------------------------------------------------------------------------------------
// --k8s-secret

#[test]
fn k8s_secret_on_stdout_is_only_yaml_and_the_report_goes_to_stderr() {
    let f = Fixture::new();
    let value = f.generate("pw", SALT, &[]);
    let out = install(
        &f,
        "pw",
        SALT,
        &["--k8s-secret", "am-passwords", "--namespace", "forgerock"],
    );
    assert_ok(&out);
    let doc = yaml(&stdout(&out));
    assert_eq!(doc["apiVersion"].as_str(), Some("v1"));
    assert_eq!(doc["kind"].as_str(), Some("Secret"));
    assert_eq!(doc["type"].as_str(), Some("Opaque"));
    assert_eq!(doc["metadata"]["name"].as_str(), Some("am-passwords"));
    assert_eq!(doc["metadata"]["namespace"].as_str(), Some("forgerock"));
    assert_eq!(secret_data(&doc, "password.amadmin"), value.as_bytes());
    assert_eq!(doc["data"].as_mapping().unwrap().len(), 1);
    assert!(!stdout(&out).contains("AM setting"));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("amhash: AM setting: {FORMAT_PROP}=PLAIN\n")),
        "{err}"
    );
    assert!(err.contains(&format!("amhash: {CACHE_LINE}\n")), "{err}");

    // Without --namespace there is no namespace key.
    let out = install(
        &f,
        "pw",
        SALT,
        &["--k8s-secret", "am", "--user", "ops.admin"],
    );
    assert_ok(&out);
    let doc = yaml(&stdout(&out));
    assert!(doc["metadata"].get("namespace").is_none());
    assert_eq!(secret_data(&doc, "password.ops.admin"), value.as_bytes());
}

#[test]
fn k8s_secret_to_out_file_is_0600_with_the_owner_and_the_value() {
    require_root();
    let f = Fixture::new();
    let yaml_path = f.path("secret.yaml");
    let value = f.generate_am("pw", SALT);
    f.secret_file("v", &value);
    let out = run(
        &[
            "install",
            "--value-file",
            &f.arg("v"),
            "--k8s-secret",
            "am-passwords",
            "--out",
            yaml_path.to_str().unwrap(),
            "--owner",
            "1234:1234",
        ],
        b"",
    );
    assert_ok(&out);
    assert_eq!(
        stdout(&out).lines().next().unwrap(),
        format!(
            "wrote {}: Kubernetes Secret am-passwords (key password.amadmin)",
            yaml_path.display()
        )
    );
    assert_eq!(mode(&yaml_path), 0o600);
    assert_eq!(owner(&yaml_path), (1234, 1234));
    let doc = yaml(&read_str(&yaml_path));
    assert_eq!(doc["kind"].as_str(), Some("Secret"));
    assert_eq!(secret_data(&doc, "password.amadmin"), value.as_bytes());
}

// ---------------------------------------------------------------------------------------
// Every target at once

#[test]
fn all_targets_in_one_run_get_the_same_value_and_json_lists_them() {
    let f = Fixture::new();
    let dir = f.dir("secrets", 0o700);
    let d = dir.to_str().unwrap();
    let profile = f.path("profile");
    let setenv = f.path("setenv.sh");
    let k8s = f.path("secret.yaml");
    // A random salt: the only way all targets agree is that one value went everywhere.
    let pw = f.arg("pw");
    let out = run(
        &[
            "--json",
            "install",
            "--password-file",
            &pw,
            "--dir",
            d,
            "--env-file",
            profile.to_str().unwrap(),
            "--setenv",
            setenv.to_str().unwrap(),
            "--k8s-secret",
            "am",
            "--out",
            k8s.to_str().unwrap(),
        ],
        b"",
    );
    assert_ok(&out);
    let value = read_str(&dir.join("password.amadmin"));
    assert!(value.starts_with("{SSHA-512}"));
    assert_eq!(sourced_var(&profile, "PASSWORD_AMADMIN"), value.as_bytes());
    assert_eq!(
        catalina_property(&setenv, "password.amadmin").as_deref(),
        Some(value.as_str())
    );
    assert_eq!(
        secret_data(&yaml(&read_str(&k8s)), "password.amadmin"),
        value.as_bytes()
    );
    // And it is the hash of the password.
    let out2 = run(
        &[
            "verify",
            "--hash-file",
            &dir.join("password.amadmin").to_string_lossy(),
            "--password-file",
            &pw,
        ],
        b"",
    );
    assert_eq!(out2.status.code(), Some(0));

    let j = json(&out);
    // As root, a new file gets the directory's owner (root's here); otherwise it is simply
    // the caller's and no owner is set.
    let o = if rustix::process::geteuid().is_root() {
        serde_json::json!({"uid": 0, "gid": 0})
    } else {
        serde_json::Value::Null
    };
    assert_eq!(
        j,
        serde_json::json!({
            "user": "amadmin",
            "dry_run": false,
            "restart_required": true,
            "written": [
                {"target": "dir", "path": format!("{d}/password.amadmin"), "action": "created",
                 "backup": null, "mode": "0600", "mode_before": null, "owner": o,
                 "owner_changed": false},
                {"target": "env-file", "path": profile, "action": "created",
                 "variable": "PASSWORD_AMADMIN", "mode": "0600", "mode_before": null,
                 "other_readable": false, "owner": o, "owner_kept": false},
                {"target": "setenv", "path": setenv, "action": "created",
                 "property": "password.amadmin", "mode": "0600", "mode_before": null,
                 "other_readable": false, "owner": o, "owner_kept": false},
                {"target": "k8s-secret", "path": k8s, "name": "am"},
            ],
            "am_properties": {FORMAT_PROP: "PLAIN"},
            "warnings": [
                "setenv.sh puts the value on the java command line, where every local user can \
                 read it (ps, /proc/PID/cmdline) while AM runs, and a PLAIN value can be \
                 brute-forced offline: prefer --dir (the special secret store directory, 0600) \
                 or an encrypted format (--encrypt am or kms)",
                PLAIN_WARNING.trim_start_matches("amhash: warning: ").trim_end()
            ],
        })
    );
    assert!(out.stderr.is_empty(), "{}", describe(&out));
}

// ---------------------------------------------------------------------------------------
// verify reads each target back

#[test]
fn verify_reads_back_dir_env_file_and_setenv() {
    let f = Fixture::new();
    let dir = f.dir("secrets", 0o700);
    let d = dir.to_str().unwrap();
    let profile = f.arg("profile");
    let setenv = f.arg("setenv.sh");
    let key = format!("file:{}", f.arg("amkey"));
    assert_ok(&install(
        &f,
        "pw",
        SALT,
        &[
            "--dir",
            d,
            "--env-file",
            &profile,
            "--setenv",
            &setenv,
            "--encrypt",
            "am",
            "--key",
            &key,
        ],
    ));
    assert_ok(&install(
        &f,
        "pw2",
        SALT2,
        &[
            "--user",
            "ops",
            "--dir",
            d,
            "--env-file",
            &profile,
            "--setenv",
            &setenv,
            "--encrypt",
            "am",
            "--key",
            &key,
        ],
    ));
    for (flag, target) in [
        ("--dir", d),
        ("--env-file", &profile),
        ("--setenv", &setenv),
    ] {
        let verify = |pw: &str, user: &str| {
            run(
                &[
                    "verify",
                    flag,
                    target,
                    "--user",
                    user,
                    "--key",
                    &key,
                    "--password-file",
                    &f.arg(pw),
                ],
                b"",
            )
        };
        let ok = verify("pw", "amadmin");
        assert_eq!(ok.status.code(), Some(0), "{flag}: {}", describe(&ok));
        assert_eq!(stderr(&ok), "amhash: the password matches\n");
        assert_eq!(verify("pw2", "ops").status.code(), Some(0), "{flag}");
        let no = verify("pw2", "amadmin");
        assert_eq!(no.status.code(), Some(1), "{flag}: {}", describe(&no));
        assert_eq!(stderr(&no), "amhash: the password does not match\n");
        let missing = assert_error(&verify("pw", "nobody"), 3, &[]);
        assert!(missing.contains("nothing to verify"), "{flag}: {missing}");
    }
}
