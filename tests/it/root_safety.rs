//! amhash run as root on a host where the AM account is hostile (SECURITY.md, "root on a
//! shared AM host"). Every test here performs the attack: root runs the real binary, and
//! the AM account is played by uid 65534 through `setpriv`, doing what that account could do
//! on a real host (plant a link in a directory it owns, hold a lock, name a file). Each test
//! fails if the defect it guards against comes back.
//!
//! These tests need root (CI runs as root).

use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::support::hostile::{
    AM_GID, AM_OWNER, AM_UID, am_background, am_command, as_am, host, kill,
};
use crate::support::*;

/// `install --password-file pw --salt-hex SALT ARGS` as root.
fn install(f: &Fixture, args: &[&str]) -> Output {
    let pw = f.arg("pw");
    let mut all = vec!["install", "--password-file", &pw, "--salt-hex", SALT];
    all.extend_from_slice(args);
    run(&all, b"")
}

/// `install ARGS` as root, with nothing on stdin (for `--value-file`, `--random`, ...).
fn install_raw(args: &[&str]) -> Output {
    let mut all = vec!["install"];
    all.extend_from_slice(args);
    run(&all, b"")
}

/// A root-owned 0700 directory outside AM's tree: what the attacker wants root to write in.
fn victim(f: &Fixture, name: &str) -> PathBuf {
    f.dir(name, 0o700)
}

// ---- 1. symbolic links in the path --------------------------------------------------------

#[test]
fn a_link_the_am_account_planted_in_the_store_path_is_refused_for_every_target() {
    let f = host();
    let v = victim(&f, "victim");
    let v_arg = f.arg("victim");
    // The AM account points the directories root will write in at the victim.
    as_am(
        &f,
        &format!(
            "mkdir am/secrets && ln -s {v_arg} am/secrets/userpasswords && ln -s {v_arg} am/bin \
             && ln -s {v_arg} am/home && ln -s {v_arg} am/k8s"
        ),
    );
    let before = snapshot(&v);
    let cases: &[(&[&str], &str)] = &[
        (
            &["--dir", "am/secrets/userpasswords", "--owner", AM_OWNER],
            "am/secrets/userpasswords",
        ),
        (
            &["--setenv", "am/bin/setenv.sh", "--owner", AM_OWNER],
            "am/bin",
        ),
        (
            &["--env-file", "am/home/.bash_profile", "--owner", AM_OWNER],
            "am/home",
        ),
        (
            &["--k8s-secret", "am", "--out", "am/k8s/secret.yaml"],
            "am/k8s",
        ),
    ];
    for (args, link) in cases {
        let mut all = vec!["--user", "amadmin"];
        all.extend_from_slice(args);
        let out = run_in(&f, &all);
        let err = assert_error(&out, 2, &[]);
        assert!(
            err.contains(&format!("{link} is a symbolic link owned by uid {AM_UID}")),
            "{args:?}: {err}"
        );
        assert_eq!(
            snapshot(&v),
            before,
            "{args:?} wrote into the victim directory"
        );
    }
}

/// `install` from the fixture's root with relative paths (as an administrator in AM's tree).
fn run_in(f: &Fixture, args: &[&str]) -> Output {
    let pw = f.arg("pw");
    let mut all = vec!["install", "--password-file", &pw, "--salt-hex", SALT];
    all.extend_from_slice(args);
    Run::new(AMHASH).args(&all).cwd(f.root()).output()
}

#[test]
fn a_root_link_in_a_directory_the_am_account_owns_is_refused_too() {
    // The AM account cannot make a root-owned link, but it can rename one root left in its
    // directory and put its own in place at any moment: the directory decides.
    let f = host();
    victim(&f, "victim");
    std::os::unix::fs::symlink(f.path("victim"), f.path("am/userpasswords")).unwrap();
    let out = install(&f, &["--dir", &f.arg("am/userpasswords")]);
    assert_error(&out, 2, &[&format!("in a directory owned by uid {AM_UID}")]);
    assert!(names(&f.path("victim")).is_empty());
}

#[test]
fn root_made_links_in_root_directories_and_am_owned_store_directories_keep_working() {
    let f = host();
    // /opt/am -> /srv/am, made by root in a root-owned directory.
    let srv = f.dir("srv-am/userpasswords", 0o700);
    chown(&srv, AM_UID, AM_GID);
    std::os::unix::fs::symlink(f.path("srv-am"), f.path("opt-am")).unwrap();
    let out = install(
        &f,
        &["--dir", &f.arg("opt-am/userpasswords"), "--owner", AM_OWNER],
    );
    assert_ok(&out);
    let file = srv.join("password.amadmin");
    assert_eq!(owner(&file), (AM_UID, AM_GID));
    assert_eq!(mode(&file), 0o600);
    assert_eq!(read_str(&file), f.generate("pw", SALT, &[]));
}

#[test]
fn a_value_file_behind_an_am_link_is_not_read() {
    // Root would otherwise copy whatever file the link names into AM's store.
    let f = host();
    let store = f.dir("store", 0o700);
    let secrets = f.dir("root-secrets", 0o700);
    std::fs::write(secrets.join("token"), f.generate("pw2", SALT2, &[])).unwrap();
    set_mode(&secrets.join("token"), 0o600);
    as_am(
        &f,
        &format!(
            "ln -s {0}/token am/value && ln -s {0} am/values",
            secrets.display()
        ),
    );
    for (value_file, says) in [
        ("am/value", "am/value is a symbolic link owned by uid 65534"),
        (
            "am/values/token",
            "am/values is a symbolic link owned by uid 65534",
        ),
    ] {
        let out = install_raw(&["--value-file", &f.arg(value_file), "--dir", &f.arg("store")]);
        let err = assert_error(&out, 2, &[]);
        assert!(err.contains(says), "{value_file}: {err}");
        assert!(names(&store).is_empty());
    }
}

#[test]
fn an_am_account_swapping_the_store_directory_for_a_link_never_gets_root_to_write_outside() {
    // The race the fd walk exists for: while root installs, the AM account keeps swapping
    // its real store directory with a link to the victim.
    let f = host();
    let v = victim(&f, "victim");
    as_am(&f, "mkdir -m 0700 am/up");
    let racer = am_background(
        &f,
        &format!(
            "end=$(( $(date +%s) + 20 )); while [ $(date +%s) -lt $end ]; do \
             mv -T am/up am/up.real 2>/dev/null; ln -sfn {} am/up; rm -f am/up; \
             mv -T am/up.real am/up 2>/dev/null; done",
            f.arg("victim")
        ),
    );
    let mut outcomes = std::collections::BTreeMap::new();
    for _ in 0..40 {
        let out = install(&f, &["--dir", &f.arg("am/up"), "--owner", AM_OWNER]);
        *outcomes.entry(out.status.code()).or_insert(0) += 1;
        assert!(
            matches!(out.status.code(), Some(0 | 2 | 3)),
            "{}",
            describe(&out)
        );
    }
    kill(racer);
    assert!(
        names(&v).is_empty(),
        "root wrote into the victim directory ({outcomes:?})"
    );
}

// ---- 2. --owner never re-owns an existing edited file --------------------------------------

#[test]
fn owner_applies_to_created_files_only_and_an_existing_setenv_keeps_root() {
    let f = host();
    let bin = f.dir("tomcat-bin", 0o755);
    let setenv = write_file(&bin, "setenv.sh", "#!/bin/sh\nJAVA_OPTS=-Xmx1g\n", 0o750);
    let out = install(
        &f,
        &["--setenv", setenv.to_str().unwrap(), "--owner", AM_OWNER],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(owner(&setenv), (0, 0), "root's setenv.sh was handed over");
    assert!(
        stderr(&out).contains("--owner does not apply to"),
        "{}",
        describe(&out)
    );
    // The AM account cannot append a command root would run.
    let append = am_command(
        &f,
        &format!("echo 'id > /tmp/pwned' >> {}", setenv.display()),
    )
    .output()
    .unwrap();
    assert!(!append.status.success());
    // A setenv.sh amhash creates does get the owner.
    let created = bin.join("new-setenv.sh");
    let out = install(
        &f,
        &["--setenv", created.to_str().unwrap(), "--owner", AM_OWNER],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(owner(&created), (AM_UID, AM_GID));
    assert_eq!(mode(&created), 0o600);
}

// ---- 4. edited files that every local user can read ---------------------------------------

#[test]
fn a_world_readable_profile_of_the_am_account_is_narrowed() {
    let f = host();
    let home = f.dir("home", 0o755);
    let profile = write_file(&home, ".bash_profile", "PATH=$PATH:/opt/am/bin\n", 0o666);
    chown(&profile, AM_UID, AM_GID);
    let out = install(
        &f,
        &[
            "--env-file",
            profile.to_str().unwrap(),
            "--owner",
            AM_OWNER,
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(mode(&profile), 0o660);
    assert_eq!(owner(&profile), (AM_UID, AM_GID));
    let j = json(&out);
    let w = &j["written"][0];
    assert_eq!(w["mode"], "0660");
    assert_eq!(w["mode_before"], "0666");
    assert_eq!(w["other_readable"], false);
    // Another local user cannot read it any more.
    let other = Command::new("setpriv")
        .args(["--reuid=12345", "--regid=12345", "--clear-groups", "cat"])
        .arg(&profile)
        .output()
        .unwrap();
    assert!(!other.status.success());
}

#[test]
fn a_root_setenv_that_am_reads_through_other_bits_is_kept_with_the_exact_fix() {
    let f = host();
    let bin = f.dir("tomcat-bin", 0o755);
    let setenv = write_file(&bin, "setenv.sh", "#!/bin/sh\n", 0o777);
    let shown = setenv.to_str().unwrap();
    let out = install(&f, &["--setenv", shown, "--owner", AM_OWNER]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    // Write for others is gone; read stays (AM's account would be locked out), with a warning
    // that gives the exact command, which gives AM's group read but never write.
    assert_eq!(mode(&setenv), 0o775);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "every local user can read it (mode 0775); amhash left that because AM's account \
             might read it only through those bits: run chgrp {AM_GID} '{shown}' && chmod 0750 '{shown}'"
        )),
        "{err}"
    );
    // And doctor flags it.
    let store = f.dir("store", 0o700);
    let s = store.to_str().unwrap();
    assert_ok(&install(&f, &["--dir", s]));
    let doctor = || run(&["doctor", "--dir", s, "--setenv", shown], b"");
    let out = doctor();
    assert_reports(&out, 1, "every local user can read or write it (mode 0775)");
    // Following the advice leaves AM able to read it, and doctor content.
    bash(
        &format!("chgrp {AM_GID} '{shown}' && chmod 0750 '{shown}'"),
        &[],
    );
    let out = doctor();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let am_reads = am_command(&f, &format!("cat '{shown}' >/dev/null"))
        .output()
        .unwrap();
    assert!(am_reads.status.success());
}

#[test]
fn a_profile_planted_in_a_world_writable_directory_is_not_filled() {
    let f = host();
    let shared = f.dir("shared", 0o1777);
    as_am(&f, "touch shared/profile && chmod 0666 shared/profile");
    let before = snapshot(&shared);
    let out = install(
        &f,
        &["--env-file", &f.arg("shared/profile"), "--owner", AM_OWNER],
    );
    assert_error(&out, 2, &["writable by group or others (mode 1777)"]);
    assert_eq!(snapshot(&shared), before);
}

// ---- 5. paths that are not UTF-8 -----------------------------------------------------------

#[test]
fn a_non_utf8_path_is_written_reported_losslessly_and_never_panics() {
    let f = host();
    let raw = f.root().join(std::ffi::OsStr::from_bytes(b"st\xff"));
    std::fs::create_dir(&raw).unwrap();
    set_mode(&raw, 0o700);
    let profile = f.path("prof");
    let pw = f.arg("pw");
    let install_raw_dir = || install_into(&raw, "--password-file", &pw).args(["--salt-hex", SALT]);
    let out = install_raw_dir()
        .args(["--env-file", profile.to_str().unwrap(), "--json"])
        .output();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let j = json(&out);
    let dir_path = raw.join("password.amadmin");
    assert_eq!(
        j["written"][0]["path"]["hex"],
        hex::encode(dir_path.as_os_str().as_bytes())
    );
    assert_eq!(j["written"][1]["path"], profile.to_str().unwrap());
    assert!(
        dir_path.exists() && profile.exists(),
        "every target is written"
    );
    // Text mode shows the byte escaped.
    let out = install_raw_dir().output();
    assert_reports(&out, 0, "st\\xff/password.amadmin");
}

// ---- 6. --value-file is installed in its one-line form --------------------------------------

#[test]
fn value_file_whitespace_is_canonicalised_or_refused() {
    let f = host();
    let store = f.dir("store", 0o700);
    let plain = f.generate("pw", SALT, &[]);
    let file = store.join("password.amadmin");
    let install_value = |name: &str, content: &str| {
        f.secret_file(name, content);
        install_raw(&[
            "--value-file",
            &f.arg(name),
            "--dir",
            store.to_str().unwrap(),
        ])
    };
    // Blanks around and blank lines after: installed without them.
    let out = install_value("v1", &format!("  {plain}\r\n\n\n"));
    assert_ok(&out);
    assert_eq!(read_str(&file), plain);
    // A line break inside a {SSHA-512} value: refused, nothing written.
    let (a, b) = plain.split_at(40);
    let before = snapshot(&store);
    let out = install_value("v2", &format!("{a}\r\n{b}"));
    assert_error(&out, 2, &[]);
    assert_eq!(snapshot(&store), before);
    // Base64 ciphertext wrapped at 76 columns (as `base64` prints it): one line installed.
    let enc = f.generate_am("pw", SALT);
    let wrapped: Vec<&str> = enc
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let out = install_value("v3", &format!("{}\n", wrapped.join("\r\n")));
    assert_ok(&out);
    assert_eq!(read_str(&file), enc);
}

#[test]
fn doctor_reports_blanks_and_line_breaks_in_a_stored_value() {
    let f = host();
    let store = f.dir("store", 0o700);
    let plain = f.generate("pw", SALT, &[]);
    for bad in [
        format!(" {plain}"),
        format!("{plain} "),
        format!("{}\r\n{}", &plain[..30], &plain[30..]),
    ] {
        f.secret_file("store/password.amadmin", &bad);
        let out = run(&["doctor", "--dir", store.to_str().unwrap()], b"");
        assert_reports(&out, 1, "holds blanks or line breaks");
    }
}

// ---- 7. nothing is stored before every target is checked -----------------------------------

#[test]
fn a_random_password_is_stored_only_after_every_target_was_checked() {
    let f = host();
    let out_file = f.path("new-password");
    let out_arg = format!("file:{}", out_file.display());
    let random_into = |dir: &std::path::Path, extra: &[&str]| {
        let args = [&["--random", "--password-out", &out_arg][..], extra].concat();
        amhash(&["install", "--dir"]).arg(dir).args(args).output()
    };
    // A dry run stores nothing.
    let store = f.dir("store", 0o700);
    let out = random_into(&store, &["--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(stdout(&out).contains("would store the new random password in"));
    assert!(!out_file.exists(), "a dry run stored the password");
    assert!(names(&store).is_empty());
    // A refused install stores nothing: the retry is not blocked by "already exists".
    let missing = f.path("missing");
    let out = random_into(&missing, &[]);
    assert_error(&out, 2, &[]);
    assert!(!out_file.exists(), "a refused install stored the password");
    std::fs::create_dir(&missing).unwrap();
    let out = random_into(&missing, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(mode(&out_file), 0o600);
    // The stored password verifies against what was installed.
    let out = verify_dir(&missing, &out_file);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
}

// ---- 8. a lock held by the AM account ------------------------------------------------------

#[test]
fn a_lock_held_by_the_am_account_is_waited_on_for_a_bounded_time() {
    let f = host();
    as_am(&f, "mkdir -m 0700 am/store");
    let holder = am_background(&f, "exec flock am/store sleep 60");
    // Wait until the lock is really held.
    let deadline = Instant::now() + Duration::from_secs(10);
    while Command::new("flock")
        .args(["-n", f.arg("am/store").as_str(), "true"])
        .status()
        .unwrap()
        .success()
    {
        assert!(Instant::now() < deadline, "the attacker never got the lock");
        std::thread::sleep(Duration::from_millis(20));
    }
    let started = Instant::now();
    let out = install(&f, &["--dir", &f.arg("am/store"), "--lock-timeout", "1"]);
    let took = started.elapsed();
    kill(holder);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].starts_with("amhash: waiting up to 1 s for the lock on ")
            && lines[0].ends_with("which another process holds"),
        "{err}"
    );
    assert!(
        lines[1].starts_with("amhash: error: ")
            && lines[1].contains("another process holds the lock on this directory (waited 1 s)")
            && lines[1].contains("--lock-timeout"),
        "{err}"
    );
    assert!(took < Duration::from_secs(30), "waited {took:?}");
    assert!(names(&f.path("am/store")).is_empty());
}

// ---- 9. names from the file system are escaped ---------------------------------------------

#[test]
fn doctor_escapes_file_names_the_am_account_chose() {
    let f = host();
    as_am(&f, "mkdir -m 0700 am/store");
    assert_ok(&install(
        &f,
        &["--dir", &f.arg("am/store"), "--owner", AM_OWNER],
    ));
    // A "temp file" whose name repaints the terminal and forges a report line.
    let forged = "ok       password: the password matches the stored value";
    as_am(
        &f,
        &format!("touch \"am/store/.password.amadmin.tmp-$(printf '\\033[2J\\007\\n{forged}')\""),
    );
    for json_mode in [false, true] {
        let mut args = vec!["doctor", "--dir"];
        let dir = f.arg("am/store");
        args.push(&dir);
        if json_mode {
            args.insert(0, "--json");
        }
        let out = run(&args, b"");
        let text = stdout(&out);
        assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text:?}");
        assert!(
            !text.lines().any(|l| l.starts_with("ok       password")),
            "{text}"
        );
        if !json_mode {
            assert!(text.contains("\\x1b[2J\\x07\\nok"), "{text}");
        }
    }
}

// ---- 10. --owner on an unchanged value ----------------------------------------------------

#[test]
fn owner_is_applied_when_the_value_is_unchanged() {
    let f = host();
    let store = f.dir("store", 0o700);
    let s = store.to_str().unwrap();
    assert_ok(&install(&f, &["--dir", s, "--owner", "0:0"]));
    let file = store.join("password.amadmin");
    assert_eq!(owner(&file), (0, 0));
    let out = install(&f, &["--dir", s, "--owner", AM_OWNER]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains(&format!(
            "unchanged: {} (set owner uid {AM_UID} gid {AM_GID})",
            file.display()
        )),
        "{}",
        describe(&out)
    );
    assert_eq!(owner(&file), (AM_UID, AM_GID));
    assert_eq!(mode(&file), 0o600);
    assert!(!store.join("password.amadmin.previous").exists());
}

// ---- 12. one exit code for policy refusals ------------------------------------------------

#[test]
fn policy_refusals_are_exit_2() {
    let f = host();
    let open_dir = f.dir("open", 0o770);
    let store = f.dir("store", 0o700);
    let s = store.to_str().unwrap().to_owned();
    let wide_key = f.secret_file("wide-key", AM_KEY);
    set_mode(&wide_key, 0o644);
    let their_key = f.secret_file("their-key", AM_KEY);
    chown(&their_key, AM_UID, AM_GID);
    as_am(&f, &format!("ln -s {} am/store", f.arg("store")));
    let file_key = |p: &std::path::Path| format!("file:{}", p.display());
    let (wide, theirs) = (file_key(&wide_key), file_key(&their_key));
    let linked = f.arg("am/store");
    // (what, install arguments, what the message must say)
    let cases: Vec<(&str, Vec<&str>, &str)> = vec![
        (
            "group-writable --dir",
            vec!["--dir", open_dir.to_str().unwrap()],
            "writable by group or others (mode 0770)",
        ),
        (
            "key file readable by others",
            vec!["--dir", &s, "--encrypt", "am", "--key", &wide],
            "0644",
        ),
        (
            "key file another user owns",
            vec!["--dir", &s, "--encrypt", "am", "--key", &theirs],
            "uid 65534",
        ),
        (
            "a link the AM account placed",
            vec!["--dir", &linked],
            "is a symbolic link owned by uid 65534",
        ),
    ];
    for (what, args, says) in cases {
        let out = install(&f, &args);
        let err = assert_error(&out, 2, &[]);
        assert!(err.contains(says), "{what}: {err}");
        assert!(names(&store).is_empty(), "{what}: wrote");
    }
}

// ---- review findings: files that decide a secret, '..', hard links, modes --------------------

#[test]
fn password_out_and_key_files_behind_an_am_link_are_refused() {
    let f = host();
    let victim = victim(&f, "victim");
    as_am(&f, &format!("ln -s {} am/keys", victim.display()));
    let store = f.dir("store", 0o700);
    let out_arg = format!("file:{}", f.arg("am/keys/new-password"));
    let out = install_raw(&[
        "--random",
        "--password-out",
        &out_arg,
        "--dir",
        store.to_str().unwrap(),
    ]);
    assert_error(&out, 2, &["am/keys is a symbolic link owned by uid 65534"]);
    assert!(
        names(&victim).is_empty(),
        "root created a file behind the link"
    );
    assert!(names(&store).is_empty());
    // `key generate --out` too, and reading a key through such a link.
    let out = run(
        &[
            "key",
            "generate",
            "--out",
            &format!("file:{}", f.arg("am/keys/k")),
        ],
        b"",
    );
    assert_error(&out, 2, &[]);
    assert!(names(&victim).is_empty());
    f.secret_file("victim/root-key", AM_KEY);
    let out = install(
        &f,
        &[
            "--dir",
            store.to_str().unwrap(),
            "--encrypt",
            "am",
            "--key",
            &format!("file:{}", f.arg("am/keys/root-key")),
        ],
    );
    assert_error(&out, 2, &["symbolic link owned by uid 65534"]);
}

#[test]
fn password_and_value_files_another_account_owns_or_a_fifo_are_refused() {
    let f = host();
    let store = f.dir("store", 0o700);
    let s = store.to_str().unwrap();
    // The AM account pre-created the file the administrator then "wrote" the password to.
    let planted = f.secret_file("planted-pw", PW);
    chown(&planted, AM_UID, AM_GID);
    let out = install_raw(&["--password-file", planted.to_str().unwrap(), "--dir", s]);
    assert_error(&out, 2, &["is owned by uid 65534"]);
    let value = f.secret_file("planted-value", &f.generate("pw", SALT, &[]));
    chown(&value, AM_UID, AM_GID);
    let out = install_raw(&["--value-file", value.to_str().unwrap(), "--dir", s]);
    assert_error(&out, 2, &["is owned by uid 65534"]);
    assert!(names(&store).is_empty());
    // A FIFO in its place: refused at once (like a directory, it cannot be read as a file:
    // exit 3), not waited on.
    let fifo = f.path("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let started = Instant::now();
    let out = install_raw(&["--password-file", fifo.to_str().unwrap(), "--dir", s]);
    assert_error(&out, 3, &["it is a fifo, not a regular file"]);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_dot_dot_after_a_directory_the_am_account_owns_is_refused() {
    // The AM account can move its directory anywhere on the file system: what `..` names
    // after it is the AM account's choice.
    let f = host();
    as_am(&f, "mkdir -p am/a/b && chmod 0700 am/a/b");
    let target = format!("{}/a/b/../../../store", f.arg("am"));
    f.dir("store", 0o700);
    let out = install(&f, &["--dir", &target]);
    assert_error(&out, 2, &["the '..' after", "owned by uid 65534"]);
    assert!(names(&f.path("store")).is_empty());
    // `..` through root's own directories is fine.
    f.dir("r/s", 0o755);
    let out = install(&f, &["--dir", &format!("{}/s/../../store", f.arg("r"))]);
    assert_ok(&out);
}

#[test]
fn hard_links_never_lend_their_owner_to_a_secret_file() {
    let f = host();
    let home = f.dir("home", 0o755);
    // An edited file with a second name is refused.
    let profile = home.join(".profile");
    std::fs::write(&profile, "PATH=/bin\n").unwrap();
    std::fs::hard_link(&profile, f.path("other-name")).unwrap();
    let out = install(&f, &["--env-file", profile.to_str().unwrap()]);
    assert_error(&out, 2, &["has 2 names (hard links)"]);
    assert_eq!(read_str(&profile), "PATH=/bin\n");
    // password.amadmin linked to another user's file: the new file does not take its owner.
    let store = f.dir("store", 0o700);
    let theirs = f.secret_file("theirs", "not a value");
    chown(&theirs, 4321, 4321);
    std::fs::hard_link(&theirs, store.join("password.amadmin")).unwrap();
    let out = install(&f, &["--dir", store.to_str().unwrap()]);
    assert_ok(&out);
    let file = store.join("password.amadmin");
    assert_eq!(
        owner(&file),
        (0, 0),
        "the directory's owner, not the link's"
    );
    assert_eq!(
        read_str(&theirs),
        "not a value",
        "the other file is untouched"
    );
    assert_eq!(owner(&store.join("password.amadmin.previous")), (0, 0));
}

#[test]
fn an_unchanged_value_in_a_wide_file_is_rewritten_0600() {
    let f = host();
    let store = f.dir("store", 0o700);
    let s = store.to_str().unwrap();
    assert_ok(&install(&f, &["--dir", s]));
    let file = store.join("password.amadmin");
    set_mode(&file, 0o644);
    let out = install(&f, &["--dir", s, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(mode(&file), 0o600);
    let j = json(&out);
    assert_eq!(j["written"][0]["action"], "unchanged");
    assert_eq!(j["written"][0]["mode_before"], "0644");
    assert_eq!(j["written"][0]["mode"], "0600");
}

// ---- 13. setenv.sh puts the value on the command line ------------------------------------

#[test]
fn setenv_says_the_value_is_on_the_java_command_line() {
    let f = host();
    let bin = f.dir("bin", 0o755);
    let out = install(&f, &["--setenv", bin.join("setenv.sh").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        stderr(&out).contains(
            "setenv.sh puts the value on the java command line, where every local user can read it \
             (ps, /proc/PID/cmdline) while AM runs, and a PLAIN value can be brute-forced offline: \
             prefer --dir"
        ),
        "{}",
        describe(&out)
    );
}
