//! The `amhash-strength` helper: its contract (stdin in, one JSON line out, exit 2 on any
//! failure), `amhash install` using the copy next to it, and the reason it exists: the
//! `amhash` binary carries neither zxcvbn nor the KMS stack.

use std::path::Path;
use std::process::Output;

use crate::support::hostile::start_snooper;
use crate::support::*;

const HELPER: &str = STRENGTH_HELPER;
const WEAK: &str = "password1";

/// `amhash-strength ARGS` with `stdin`.
fn helper(args: &[&str], stdin: &[u8]) -> Output {
    Run::new(HELPER).args(args).stdin(stdin).output()
}

/// Exit 2, nothing on stdout, exactly one line on stderr with the helper's prefix; returns it.
#[track_caller]
fn assert_refused(out: &Output) -> String {
    check_failure("", out, "amhash-strength: ", 2, &[])
}

#[test]
fn prints_zxcvbns_estimate_as_one_json_line() {
    for (password, weak) in [(WEAK, true), (PW, false)] {
        let out = helper(&[], password.as_bytes());
        assert!(out.status.success(), "{out:?}");
        assert!(out.stderr.is_empty(), "{out:?}");
        let line = stdout(&out);
        assert_eq!(line.matches('\n').count(), 1, "{line}");
        let json: serde_json::Value = serde_json::from_str(&line).unwrap();
        let object = json.as_object().unwrap();
        assert_eq!(object.len(), 2, "{line}");
        let expected = amhash::strength::assess(password);
        let got = json["guesses_log10"].as_f64().unwrap();
        // Exact below zxcvbn's u64 cap; above it (PW) a recomputation that may differ from
        // run to run (see amhash::strength::assess), on the same side of the bar.
        if expected.guesses_log10 < 19.0 {
            assert_eq!(got, expected.guesses_log10);
        } else {
            assert!(got >= 19.0, "{line}");
        }
        assert_eq!(json["warning"].as_str(), expected.warning.as_deref());
        assert_eq!(expected.is_weak(), weak, "{line}");
        assert!(!line.contains(password), "{line}");
    }
    // The weak one comes with zxcvbn's warning, the strong one without.
    let out = helper(&[], WEAK.as_bytes());
    assert!(stdout(&out).contains(r#""warning":"This is a very common password.""#));
    let out = helper(&[], PW.as_bytes());
    assert!(stdout(&out).contains(r#""warning":null"#));
}

#[test]
fn takes_exactly_what_amhash_sends_and_refuses_the_rest() {
    // 100 characters of 4 UTF-8 bytes: the most amhash ever sends.
    let out = helper(&[], "𝄞".repeat(100).as_bytes());
    assert!(out.status.success(), "{out:?}");
    // Control characters are valid UTF-8, and estimated like any other.
    let out = helper(&[], "a\u{1}b\tc".as_bytes());
    assert!(out.status.success(), "{out:?}");

    let canary = "c4nary-in-the-input";
    let long = format!("{canary}{}", "a".repeat(400));
    for (input, says) in [
        (Vec::new(), "the input is empty"),
        (long.into_bytes(), "longer than 400 bytes"),
        ([canary.as_bytes(), b"\xff\xfe"].concat(), "not UTF-8"),
    ] {
        let out = helper(&[], &input);
        let err = assert_refused(&out);
        assert!(err.contains(says), "{err}");
        assert!(!err.contains(canary), "{err}");
    }
    for args in [&["extra"][..], &["--bogus"], &["-"]] {
        let err = assert_refused(&helper(args, PW.as_bytes()));
        assert!(err.contains("see amhash-strength --help"), "{err}");
    }
    let out = helper(&["--version"], b"");
    assert!(out.status.success());
    assert_eq!(
        stdout(&out),
        format!("amhash-strength {}\n", env!("CARGO_PKG_VERSION"))
    );
}

/// What sits next to the copy of `amhash` as `amhash-strength`.
enum HelperKind {
    Real,
    /// A shell script (after `#!/bin/sh`), run with amhash's empty environment.
    Script(String),
}

/// A stand-in that says it is ready, then runs `body`.
fn ready_then(body: &str) -> HelperKind {
    HelperKind::Script(format!("{}\n{body}", say_ready()))
}

/// A fixture with a copy of `amhash`, `helper` (if any) next to it, a password file `new`
/// holding `password` and its newline, and an empty store `store`.
fn installation(helper: Option<HelperKind>, password: &str) -> Fixture {
    let f = Fixture::new();
    f.amhash_copy();
    match helper {
        None => {}
        Some(HelperKind::Real) => {
            copy_executable(Path::new(HELPER), &f.path("amhash-strength"));
        }
        Some(HelperKind::Script(script)) => {
            write_executable(&f.path("amhash-strength"), format!("#!/bin/sh\n{script}\n"));
        }
    }
    f.secret_file("new", &format!("{password}\n"));
    f.dir("store", 0o700);
    f
}

/// The copy's `install --password-file new --dir store EXTRA`, with `env` added.
fn install(f: &Fixture, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let (new, store) = (f.arg("new"), f.arg("store"));
    let mut args = vec!["install", "--password-file", &new, "--dir", &store];
    args.extend_from_slice(extra);
    Run::new(f.path("amhash"))
        .args(&args)
        .envs(env.iter().copied())
        .output()
}

fn installed(f: &Fixture) -> bool {
    f.path("store/password.amadmin").exists()
}

#[test]
fn install_asks_the_helper_next_to_it() {
    // The real helper: the weak password is refused with zxcvbn's reason.
    let f = installation(Some(HelperKind::Real), WEAK);
    assert_error(
        &install(&f, &[], &[]),
        2,
        &["too weak", "This is a very common password."],
    );
    assert!(!installed(&f));

    // A stand-in that calls everything strong: install believes it, so the verdict really
    // comes from the helper and not from code of its own.
    let f = installation(
        Some(ready_then(
            r#"cat >/dev/null; echo '{"guesses_log10":99.0,"warning":null}'"#,
        )),
        WEAK,
    );
    assert_ok(&install(&f, &[], &[]));
    assert!(installed(&f));

    // A stand-in that checks what amhash gives it: only the handshake flag, the password
    // without its newline on stdin (the `x` keeps $(...) from eating trailing newlines), and
    // no environment, so a secret in amhash's (here the canary) does not reach it.
    let f = installation(
        Some(ready_then(
            r#"[ "$*" = --handshake ] || exit 7
[ -z "${AMHASH_TEST_CANARY+set}" ] || exit 8
input=$(cat; echo x); [ "$input" = password1x ] || exit 9
echo '{"guesses_log10":99.0,"warning":null}'"#,
        )),
        WEAK,
    );
    assert_ok(&install(&f, &[], &[("AMHASH_TEST_CANARY", "an env: key")]));
    assert!(installed(&f));
}

#[test]
fn install_sends_only_the_first_100_characters() {
    // 150 four-byte characters: amhash sends 100 of them, 400 bytes, which the real helper
    // takes (its limit) and a stand-in counts.
    let long = "𝄞".repeat(150);
    let f = installation(
        Some(ready_then(
            r#"n=$(wc -c); [ "$n" -eq 400 ] || exit 9; echo '{"guesses_log10":99.0,"warning":null}'"#,
        )),
        &long,
    );
    assert_ok(&install(&f, &[], &[]));
    let f = installation(Some(HelperKind::Real), &long);
    let err = assert_error(&install(&f, &[], &[]), 2, &[]);
    assert!(
        err.contains("too weak"),
        "a repeated character is weak: {err}"
    );
}

#[test]
fn install_without_a_working_helper_refuses_unless_allow_weak() {
    let f = installation(None, WEAK);
    let err = assert_error(&install(&f, &[], &[]), 3, &[]);
    let missing = format!(
        "amhash-strength is not installed next to amhash (looked for {})",
        f.path("amhash-strength").display()
    );
    assert!(
        err.starts_with("amhash: error: cannot check the password's strength: ")
            && err.contains(&missing)
            && err.contains("cargo install --path .")
            && err
                .trim_end()
                .ends_with("or pass --allow-weak to skip the check"),
        "{err}"
    );
    assert!(!err.contains(WEAK), "{err}");
    assert!(!installed(&f));

    // --allow-weak goes on, and says the check was skipped.
    let out = install(&f, &["--allow-weak"], &[]);
    assert_ok(&out);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "amhash: warning: the password's strength was not checked: {missing}"
        )),
        "{err}"
    );
    assert!(installed(&f));

    // A helper that fails or talks nonsense is no estimate either.
    for (script, says) in [
        (
            format!(
                "{}; cat >/dev/null; echo 'amhash-strength: it broke' >&2; exit 2",
                say_ready()
            ),
            "failed (exit status: 2: it broke)",
        ),
        (
            format!("{}; cat", say_ready()),
            "failed (unexpected output)",
        ),
        (
            format!("{}; exit 0", say_ready()),
            "failed (unexpected output)",
        ),
        // Before the handshake: a failure of its own is reported as usual (an older helper
        // rejects the flag so), and one that exits 0 without it is no estimate.
        (
            "echo 'amhash-strength: unexpected argument' >&2; exit 2".to_owned(),
            "failed (exit status: 2: unexpected argument)",
        ),
        (
            "exit 0".to_owned(),
            "failed (it exited without signalling that it was ready)",
        ),
    ] {
        let f = installation(Some(HelperKind::Script(script.clone())), WEAK);
        let err = assert_error(&install(&f, &[], &[]), 3, &[]);
        assert!(err.contains(says), "{script}: {err}");
        // `cat` echoes the password to amhash: it must not reach the message.
        assert!(!err.contains(WEAK), "{script}: {err}");
        assert!(!installed(&f));
    }
}

/// Why the helpers exist: `amhash` itself carries neither zxcvbn (its dictionaries,
/// regular expressions and libm) nor the Cloud KMS stack, so `generate` stays small and
/// quick. Each is checked by a string only that code contains.
#[test]
fn amhash_carries_neither_zxcvbn_nor_the_kms_stack() {
    let contains = |exe: &str, needle: &str| {
        let bytes = std::fs::read(exe).unwrap();
        bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
    };
    // A word of zxcvbn's password list.
    let zxcvbn = "usuckballz1";
    assert!(contains(HELPER, zxcvbn), "the marker is in zxcvbn's data");
    assert!(!contains(AMHASH, zxcvbn), "amhash links zxcvbn");
    #[cfg(feature = "kms")]
    {
        let kms = env!("CARGO_BIN_EXE_amhash-kms");
        for marker in ["cloudkms.googleapis.com", "there is no reactor running"] {
            assert!(contains(kms, marker), "{marker} is in the KMS stack");
            assert!(!contains(AMHASH, marker), "amhash links {marker}");
        }
    }
}

// ---- the channel to the helper ------------------------------------------------------------

/// The attack: a process of the same user opens the helper's stdin (and stdout) through
/// /proc before the helper is protected, and reads the password that amhash writes there.
/// This stand-in does it to itself before it says it is ready, keeps the snoopers reading
/// for a while after, and gives them a head start over its own read. With pipes the
/// snooper of fd 0 gets the password; with the socket both opens fail (ENXIO).
#[test]
fn a_same_user_snooper_cannot_open_the_helpers_stdin_or_stdout() {
    let script = format!(
        r#"PATH=/usr/bin:/bin
dir=${{0%/*}}
timeout 3 cat /proc/$$/fd/0 >"$dir/snoop0" 2>"$dir/snoop0.err" &
timeout 3 cat /proc/$$/fd/1 >"$dir/snoop1" 2>"$dir/snoop1.err" &
sleep 0.5
{}
sleep 0.5
input=$(cat; echo x)
wait
[ "$input" = {WEAK}x ] || exit 9
echo '{{"guesses_log10":99.0,"warning":null}}'"#,
        say_ready()
    );
    let f = installation(Some(HelperKind::Script(script)), WEAK);
    let out = install(&f, &[], &[]);
    for fd in ["snoop0", "snoop1"] {
        let got = std::fs::read(f.path(fd)).unwrap();
        assert!(
            got.is_empty(),
            "the snooper of {fd} read {:?}",
            String::from_utf8_lossy(&got)
        );
        let err = std::fs::read_to_string(f.path(&format!("{fd}.err"))).unwrap();
        assert!(err.contains("No such device or address"), "{fd}: {err}");
    }
    assert_ok(&out);
    assert!(installed(&f));
}

/// A helper that never says it is ready is never sent the password: it records what
/// reaches its stdin (for at most 3 s), and install fails without installing. One that
/// answers "strong" before the handshake (as a helper of the old contract would) is not
/// believed, and is sent nothing either.
#[test]
fn a_helper_that_never_says_ready_is_never_sent_the_password() {
    for (script, says) in [
        (
            r#"PATH=/usr/bin:/bin; timeout 3 cat >"${0%/*}/got""#,
            "failed (exit status: 124)",
        ),
        (
            r#"PATH=/usr/bin:/bin; echo '{"guesses_log10":99.0,"warning":null}'; timeout 3 cat >"${0%/*}/got""#,
            "failed (it wrote something else before signalling that it was ready)",
        ),
    ] {
        let f = installation(Some(HelperKind::Script(script.to_owned())), WEAK);
        let err = assert_error(&install(&f, &[], &[]), 3, &[]);
        assert!(
            err.starts_with("amhash: error: cannot check the password's strength: ")
                && err.contains(says),
            "{script}: {err}"
        );
        assert!(!err.contains(WEAK), "{err}");
        assert_eq!(
            std::fs::read(f.path("got")).unwrap(),
            b"",
            "{script}: the password was written"
        );
        assert!(!installed(&f));
    }
}

/// The real helper, run through the library as amhash runs it: the handshake, the socket and
/// the round trip work; by hand with the flag it sends the marker before its answer, and
/// without the flag it keeps the plain contract (checked above).
#[test]
fn the_real_helper_says_ready_first_and_round_trips() {
    let path = Path::new(HELPER);
    for (password, weak) in [(WEAK, true), (PW, false)] {
        let s = amhash::strength::assess_with(path, password).unwrap();
        assert_eq!(s.is_weak(), weak);
        // zxcvbn's own figure below its u64 cap is exact; above it (PW) amhash's recomputation
        // is the lowest of a few runs, so only the verdict must agree.
        let here = amhash::strength::assess(password);
        assert_eq!(here.is_weak(), weak);
        if here.guesses_log10 < 19.0 {
            assert_eq!(s.guesses_log10, here.guesses_log10);
        }
    }
    let out = helper(&["--handshake"], PW.as_bytes());
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    let answer = text
        .strip_prefix(std::str::from_utf8(amhash::helper::READY).unwrap())
        .unwrap_or_else(|| panic!("no marker first: {text:?}"));
    assert!(answer.starts_with("{\"guesses_log10\":"), "{text:?}");
    // Hidden: not in --help.
    let help = stdout(&helper(&["--help"], b""));
    assert!(!help.contains("handshake"), "{help}");
}

/// A helper that is being traced (a tracer that attached before it made itself
/// non-dumpable stays attached) refuses to say it is ready and reads nothing.
#[test]
fn a_traced_helper_refuses_to_say_ready() {
    let Some(strace) = ["/usr/bin/strace", "/bin/strace"]
        .into_iter()
        .find(|p| Path::new(p).exists())
    else {
        println!("note: strace is not installed; the traced case is not checked here");
        return;
    };
    let out = Run::new(strace)
        .args(["-o", "/dev/null", HELPER, "--handshake"])
        .stdin(PW.as_bytes())
        .output();
    if stderr(&out).contains("PTRACE_TRACEME") || stderr(&out).contains("ptrace(") {
        println!("note: ptrace is not allowed here; the traced case is not checked");
        return;
    }
    let err = assert_refused(&out);
    assert!(
        err.contains("this process is traced by process")
            && err.contains("refusing to receive secrets"),
        "{err}"
    );
    // Without the handshake (by hand) it still only warns about nothing: it runs.
    let out = Run::new(strace)
        .args(["-o", "/dev/null", HELPER])
        .stdin(PW.as_bytes())
        .output();
    assert!(out.status.success(), "{out:?}");
}

// ---- the same attack for real, as root ------------------------------------------------------

/// As root: amhash runs as uid 65534 (`install`, which runs `amhash-strength`), and a
/// snooper of the same uid polls /proc for the helper and tries to read its fd 0 and 1,
/// over 20 or more installs. It never gets a password. Control: it does read a canary from
/// a pipe on the stdin of a decoy named `amhash-strength` (a copy of `sleep`).
#[test]
fn as_root_a_same_uid_snooper_never_reads_the_password() {
    use secrecy::ExposeSecret;
    use std::os::unix::process::CommandExt;
    use std::process::Command;

    if !rustix::process::geteuid().is_root() {
        println!("note: not root; the uid 65534 snooper test runs only as root (as in CI)");
        return;
    }
    const NOBODY: u32 = 65534;
    let tmp = Fixture::empty();
    let dir = tmp.root();
    set_mode(dir, 0o755);
    let copy = |from: &Path, to: &Path| {
        copy_executable(from, to);
    };
    copy(Path::new(AMHASH), &dir.join("amhash"));
    copy(Path::new(HELPER), &dir.join("amhash-strength"));
    std::fs::create_dir(dir.join("decoy")).unwrap();
    set_mode(&dir.join("decoy"), 0o755);
    copy(Path::new("/bin/sleep"), &dir.join("decoy/amhash-strength"));
    let own = |p: &Path, mode: u32| {
        set_mode(p, mode);
        chown(p, NOBODY, NOBODY);
    };
    let as_nobody = |exe: &Path| {
        let mut cmd = Command::new(exe);
        // std drops the supplementary groups when it changes the uid.
        cmd.uid(NOBODY).gid(NOBODY).current_dir("/");
        cmd
    };
    let snooper = start_snooper(dir, &["amhash-strength"], &["fd/0", "fd/1"]);
    let read_log = || snooper.log();

    // Control: the snooper reads a pipe on a same-uid decoy's stdin. (A shell of that uid
    // makes the pipe: a pipe made by root could not be opened by uid 65534 at all.)
    let canary = format!("control-{}", std::process::id());
    let mut decoy = as_nobody(Path::new("/bin/sh"))
        .args(["-c", r#"printf %s "$1" | exec "$2" 30"#, "sh", &canary])
        .arg(dir.join("decoy/amhash-strength"))
        .spawn()
        .unwrap();
    let want = format!(" fd/0 {}", hex::encode(&canary));
    snooper.wait_for("the control capture", 30, |l| l.contains(&want));
    let text = read_log();
    let decoy_pid: i32 = text
        .lines()
        .find(|l| l.starts_with("captured ") && l.ends_with(&want))
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|p| p.parse().ok())
        .unwrap();
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(decoy_pid).unwrap(),
        rustix::process::Signal::KILL,
    )
    .unwrap();
    decoy.wait().unwrap();

    // The installs, as uid 65534: at least 20, until the snooper saw at least 5 helpers
    // (at most 60).
    let helpers_seen = |l: &str| {
        l.lines()
            .filter(|x| x.starts_with("seen ") && !x.starts_with(&format!("seen {decoy_pid} ")))
            .count()
    };
    // "error PID FD 6": the snooper reached a helper's fd before the helper protected itself,
    // and the open failed because it is a socket (ENXIO).
    let enxio = |l: &str| {
        l.lines()
            .filter(|x| x.starts_with("error ") && x.ends_with(" 6"))
            .count()
    };
    let mut passwords = Vec::new();
    for run in 0..60 {
        let text = read_log();
        if run >= 20 && helpers_seen(&text) >= 5 && enxio(&text) >= 1 {
            break;
        }
        let password = amhash::strength::random_password().unwrap();
        let password = password.expose_secret().to_owned();
        let pw_file = dir.join(format!("pw{run}"));
        std::fs::write(&pw_file, format!("{password}\n")).unwrap();
        own(&pw_file, 0o600);
        let store = dir.join(format!("store{run}"));
        std::fs::create_dir(&store).unwrap();
        own(&store, 0o700);
        let out = as_nobody(&dir.join("amhash"))
            .args(["install", "--password-file"])
            .arg(&pw_file)
            .arg("--dir")
            .arg(&store)
            .output()
            .unwrap();
        assert!(out.status.success(), "run {run}: {}", describe(&out));
        assert!(store.join("password.amadmin").exists(), "run {run}");
        passwords.push(password);
    }
    let text = snooper.stop();
    for password in &passwords {
        let needle = hex::encode(password);
        assert!(
            !text.contains(&needle),
            "the snooper read a password:\n{text}"
        );
    }
    let captures: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("captured ") && !l.starts_with(&format!("captured {decoy_pid} ")))
        .collect();
    assert!(
        captures.is_empty(),
        "the snooper opened a helper's fd: {captures:?}"
    );
    let seen = helpers_seen(&text);
    let before_protection = enxio(&text);
    println!(
        "{} installs as uid 65534; the snooper saw {seen} helper processes and reached \
         their fds before they were protected {before_protection} times (ENXIO)",
        passwords.len()
    );
    assert!(
        seen >= 1 && before_protection >= 1,
        "the snooper never got to a helper in time, so this proves nothing:\n{text}"
    );
}
