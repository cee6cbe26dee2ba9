use std::ffi::OsString;
use std::fs;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use secrecy::ExposeSecret;

use super::*;
use crate::error::{Error as _, Fault};

fn kr(service: &str, account: &str) -> KeySource {
    KeySource::Keyring {
        service: service.to_owned(),
        account: account.to_owned(),
    }
}

fn problem_of(s: &str) -> ParseProblem {
    match s.parse::<KeySource>() {
        Err(KeySourceError::Parse { problem }) => problem,
        other => panic!("{s:?}: expected a parse error, got {other:?}"),
    }
}

#[test]
fn parse_accepts_the_three_forms() {
    let table: &[(&str, KeySource)] = &[
        (
            "file:/etc/amhash/key",
            KeySource::File("/etc/amhash/key".into()),
        ),
        (
            "file:relative/key.txt",
            KeySource::File("relative/key.txt".into()),
        ),
        ("file:a:b", KeySource::File("a:b".into())),
        ("file: spaced name", KeySource::File(" spaced name".into())),
        ("env:AM_ENC_PWD", KeySource::Env("AM_ENC_PWD".into())),
        ("env:lower_case9", KeySource::Env("lower_case9".into())),
        ("keyring:amhash/prod", kr("amhash", "prod")),
        (
            "keyring:svc/acct/with/slashes",
            kr("svc", "acct/with/slashes"),
        ),
        ("keyring:svc//x", kr("svc", "/x")),
        ("keyring:a b/c d", kr("a b", "c d")),
        ("keyring:svc:x/acct", kr("svc:x", "acct")),
    ];
    for (input, want) in table {
        let got: KeySource = input.parse().unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(&got, want, "{input:?}");
        assert_eq!(
            got.to_string(),
            *input,
            "Display must give back the reference"
        );
    }
}

#[test]
fn parse_rejects_everything_else() {
    let table: &[(&str, ParseProblem)] = &[
        ("", ParseProblem::NoScheme),
        ("/etc/amhash/key", ParseProblem::NoScheme),
        ("file:", ParseProblem::EmptyPath),
        ("env:", ParseProblem::EmptyVar),
        ("env:A=B", ParseProblem::VarHasEquals),
        ("keyring:", ParseProblem::NoAccountSeparator),
        ("keyring:svc", ParseProblem::NoAccountSeparator),
        ("keyring:/x", ParseProblem::EmptyService),
        ("keyring:/", ParseProblem::EmptyService),
        ("keyring:svc/", ParseProblem::EmptyAccount),
        ("file:a\0b", ParseProblem::Nul),
        ("keyring:s\0/a", ParseProblem::Nul),
        ("http://x", ParseProblem::UnknownScheme(Some("http".into()))),
        (
            "kms:projects/x",
            ParseProblem::UnknownScheme(Some("kms".into())),
        ),
        ("FILE:/x", ParseProblem::UnknownScheme(None)),
        (":x", ParseProblem::UnknownScheme(None)),
        (
            "keyrings:a/b",
            ParseProblem::UnknownScheme(Some("keyrings".into())),
        ),
    ];
    for (input, want) in table {
        assert_eq!(&problem_of(input), want, "{input:?}");
        let err = input.parse::<KeySource>().expect_err("rejected above");
        assert!(err.fault() == Fault::Input, "{input:?} is a usage error");
        let msg = err.to_string();
        for form in ["file:PATH", "env:VAR", "keyring:SERVICE/ACCOUNT"] {
            assert!(
                msg.contains(form),
                "{input:?}: message {msg:?} lists {form}"
            );
        }
    }
}

#[test]
fn parse_errors_never_echo_what_may_be_a_pasted_secret() {
    let secrets = [
        "5f4dcc3b5aa765d61d8327deb882cf995f4dcc3b5aa765d61d8327deb882cf99",
        "Sup3rS3cret:pw",
        "averyveryverylongword:rest",
        "pass word:x",
    ];
    for s in secrets {
        let msg = s
            .parse::<KeySource>()
            .expect_err("not a reference")
            .to_string();
        let head = s.split(':').next().unwrap_or(s);
        assert!(!msg.contains(head), "{msg:?} must not contain {head:?}");
    }
}

#[test]
fn hand_built_sources_are_validated_before_use() {
    let bad = [
        (kr("a/b", "c"), ParseProblem::NoAccountSeparator),
        (kr("", "c"), ParseProblem::EmptyService),
        (kr("a", ""), ParseProblem::EmptyAccount),
        (kr("a", "c\0"), ParseProblem::Nul),
        (KeySource::Env(String::new()), ParseProblem::EmptyVar),
        (KeySource::Env("A=B".into()), ParseProblem::VarHasEquals),
        (KeySource::File(PathBuf::new()), ParseProblem::EmptyPath),
    ];
    for (source, want) in bad {
        for result in [
            source.read(KeyringBackend::Keyutils).map(|_| ()),
            source.store(b"k", KeyringBackend::Keyutils),
            source.create_new(b"k", KeyringBackend::Keyutils),
            source.delete(KeyringBackend::Keyutils),
        ] {
            match result {
                Err(KeySourceError::Parse { problem }) => assert_eq!(problem, want, "{source:?}"),
                other => panic!("{source:?}: expected {want:?}, got {other:?}"),
            }
        }
    }
}

#[test]
fn backend_names_parse_case_insensitively_and_round_trip() {
    let table = [
        ("auto", KeyringBackend::Auto),
        ("AUTO", KeyringBackend::Auto),
        ("secret-service", KeyringBackend::SecretService),
        ("Secret-Service", KeyringBackend::SecretService),
        ("keyutils", KeyringBackend::Keyutils),
        ("KeyUtils", KeyringBackend::Keyutils),
    ];
    for (name, want) in table {
        let got: KeyringBackend = name.parse().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got, want);
        assert_eq!(got.to_string().parse::<KeyringBackend>().ok(), Some(want));
    }
    for bad in [
        "",
        "secret_service",
        "secretservice",
        "kwallet",
        "keyutils ",
    ] {
        let err = bad.parse::<KeyringBackend>().expect_err(bad);
        assert!(err.fault() == Fault::Input);
        assert!(err.to_string().contains("auto, secret-service or keyutils"));
    }
    assert_eq!(KeyringBackend::default(), KeyringBackend::Auto);
    assert_eq!(KeyringBackend::Keyutils.resolve(), KeyringBackend::Keyutils);
    assert_eq!(
        KeyringBackend::SecretService.resolve(),
        KeyringBackend::SecretService
    );
}

#[test]
fn mode_table() {
    let ok = [0o600, 0o400, 0o200, 0o700, 0o000, 0o100_600, 0o4600];
    let refused = [
        0o640, 0o604, 0o644, 0o660, 0o606, 0o601, 0o610, 0o777, 0o100_644,
    ];
    for mode in ok {
        assert_eq!(check_key_file_mode(mode), Ok(()), "{mode:o}");
    }
    for mode in refused {
        assert_eq!(check_key_file_mode(mode), Err(mode & 0o7777), "{mode:o}");
    }
}

#[test]
fn one_trailing_line_break_is_stripped() {
    let table: &[(&[u8], &[u8])] = &[
        (b"k\n", b"k"),
        (b"k\n\n", b"k\n"),
        (b"k\r\n", b"k"),
        (b"k\r\n\r\n", b"k\r\n"),
        (b"k\r", b"k\r"),
        (b"k", b"k"),
        (b"\n", b""),
        (b"", b""),
        (b"\nk", b"\nk"),
        (b" k \n", b" k "),
    ];
    for (input, want) in table {
        assert_eq!(strip_one_line_break(input), *want, "{input:?}");
    }
}

#[test]
fn env_values() {
    let ok = env_bytes("V", Some(OsString::from("s3cret\n"))).expect("set, UTF-8");
    assert_eq!(ok.as_slice(), b"s3cret\n", "stripping happens in read()");
    match env_bytes("AMHASH_UNSET", None) {
        Err(KeySourceError::EnvNotSet { var }) => assert_eq!(var, "AMHASH_UNSET"),
        other => panic!("{other:?}"),
    }
    match env_bytes("V", Some(OsString::from_vec(vec![0x66, 0xff, 0x66]))) {
        Err(e @ KeySourceError::EnvNotUnicode { .. }) => {
            assert!(e.fault() == Fault::Operational);
            assert!(e.to_string().contains("env:V"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn env_read_of_unset_variable_names_it() {
    let var = format!("AMHASH_TEST_SURELY_UNSET_{}", std::process::id());
    let err = KeySource::Env(var.clone())
        .read(KeyringBackend::Auto)
        .expect_err("unset");
    assert!(
        matches!(&err, KeySourceError::EnvNotSet { var: v } if *v == var),
        "{err:?}"
    );
    assert!(err.fault() == Fault::Operational);
}

#[test]
fn env_cannot_be_written() {
    let source = KeySource::Env("AM_KEY".into());
    for result in [
        source.store(b"k", KeyringBackend::Auto),
        source.create_new(b"k", KeyringBackend::Auto),
        source.delete(KeyringBackend::Auto),
    ] {
        let err = result.expect_err("env is read-only");
        assert!(
            matches!(err, KeySourceError::EnvNotWritable { .. }),
            "{err:?}"
        );
        assert!(err.fault() == Fault::Input);
        assert!(err.to_string().contains("parent's environment"));
    }
}

fn write_file(path: &Path, content: &[u8], mode: u32) {
    fs::write(path, content).expect("write test file");
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod test file");
}

fn read_file_source(path: &Path) -> Result<Vec<u8>, KeySourceError> {
    KeySource::File(path.to_owned())
        .read(KeyringBackend::Auto)
        .map(|s| s.expose_secret().to_vec())
}

#[test]
fn file_reading() {
    let dir = tempfile::tempdir().expect("tempdir");
    let table: &[(&[u8], u32, &[u8])] = &[
        (b"0123abcd\n", 0o600, b"0123abcd"),
        (b"pw with spaces\r\n", 0o400, b"pw with spaces"),
        (b"k\n\n", 0o600, b"k\n"),
        (b"no newline", 0o600, b"no newline"),
    ];
    for (i, (content, mode, want)) in table.iter().enumerate() {
        let path = dir.path().join(format!("ok{i}"));
        write_file(&path, content, *mode);
        assert_eq!(read_file_source(&path).expect("readable").as_slice(), *want);
    }
}

#[test]
fn file_with_group_or_other_bits_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    for mode in [0o644, 0o640, 0o604, 0o660, 0o601] {
        let path = dir.path().join(format!("key{mode:o}"));
        write_file(&path, b"TOPSECRETVALUE\n", mode);
        let err = read_file_source(&path).expect_err("mode refused");
        match &err {
            KeySourceError::FileMode { path: p, mode: m } => {
                assert_eq!(p, &path);
                assert_eq!(*m, mode);
            }
            other => panic!("{other:?}"),
        }
        let msg = err.to_string();
        assert!(msg.contains(&format!("{mode:04o}")), "{msg}");
        assert!(
            msg.contains(&format!("chmod 600 {}", path.display())),
            "{msg}"
        );
        assert!(!msg.contains("TOPSECRET"), "{msg}");
        // A policy refusal the user must fix: an input error (exit 2), not operational.
        assert!(err.fault() == Fault::Input);
    }
}

#[test]
fn owner_table_and_passwd_names() {
    assert_eq!(check_key_file_owner(1000, 1000), Ok(()));
    assert_eq!(check_key_file_owner(0, 1000), Ok(()));
    assert_eq!(check_key_file_owner(0, 0), Ok(()));
    assert_eq!(check_key_file_owner(65534, 0), Err(65534));
    assert_eq!(check_key_file_owner(1001, 1000), Err(1001));
    let passwd = "root:x:0:0:root:/root:/bin/bash\nbad line\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\nevil\x1b[31m:x:4711:1::/:/bin/sh\n";
    assert_eq!(file::name_in_passwd(passwd, 0).as_deref(), Some("root"));
    assert_eq!(
        file::name_in_passwd(passwd, 65534).as_deref(),
        Some("nobody")
    );
    assert_eq!(file::name_in_passwd(passwd, 1234), None);
    // A name that cannot go into a one-line message is not used.
    assert_eq!(file::name_in_passwd(passwd, 4711), None);
}

/// As root (CI): a key file owned by another user is refused even with mode 0600 in a
/// sticky world-writable directory, also through a symlink of root's; root's own is read.
#[test]
fn file_owned_by_another_user_is_refused() {
    use std::os::unix::fs::{MetadataExt, lchown};
    let dir = tempfile::tempdir().expect("tempdir");
    let euid = rustix::process::geteuid().as_raw();
    // Owned by the current user: accepted (as root, that is root).
    let mine = dir.path().join("mine");
    write_file(&mine, b"MYKEY\n", 0o600);
    assert_eq!(fs::metadata(&mine).unwrap().uid(), euid);
    assert_eq!(read_file_source(&mine).expect("own file"), b"MYKEY");
    if euid != 0 {
        println!("note: not root; a file of another user cannot be made here (CI runs as root)");
        return;
    }
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o1777)).unwrap();
    let theirs = dir.path().join("theirs");
    write_file(&theirs, b"TOPSECRETVALUE\n", 0o600);
    lchown(&theirs, Some(65534), Some(65534)).unwrap();
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&theirs, &link).unwrap();
    for path in [&theirs, &link] {
        let err = read_file_source(path).expect_err("another user's file");
        let KeySourceError::FileOwner {
            path: p,
            uid,
            name,
            euid: e,
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!((p, *uid, *e), (path, 65534, 0));
        assert_eq!(*name, file::user_name(65534));
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!(
                "key file {} is owned by uid 65534",
                path.display()
            )) && msg.contains("not by root"),
            "{msg}"
        );
        if let Some(n) = name {
            assert!(msg.contains(&format!("uid 65534 ({n})")), "{msg}");
        }
        assert!(!msg.contains("TOPSECRET") && !msg.contains('\n'), "{msg}");
        assert!(err.fault() == Fault::Input);
    }
    // Root's file in the same sticky directory: accepted.
    let roots = dir.path().join("roots");
    write_file(&roots, b"ROOTKEY\n", 0o400);
    assert_eq!(read_file_source(&roots).expect("root's file"), b"ROOTKEY");
}

#[test]
fn missing_empty_large_and_special_files_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing");
    let err = read_file_source(&missing).expect_err("missing");
    assert!(
        matches!(&err, KeySourceError::FileNotFound { path } if *path == missing),
        "{err:?}"
    );
    assert!(err.to_string().contains(&missing.display().to_string()));

    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).expect("chmod dir");
    let err = read_file_source(dir.path()).expect_err("directory");
    assert!(
        matches!(
            err,
            KeySourceError::NotRegularFile {
                kind: "directory",
                ..
            }
        ),
        "{err:?}"
    );

    let fifo = dir.path().join("fifo");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        0o600.into(),
        0,
    )
    .expect("mkfifo");
    // Would block forever without O_NONBLOCK, as nobody writes to the FIFO.
    let err = read_file_source(&fifo).expect_err("fifo");
    assert!(
        matches!(err, KeySourceError::NotRegularFile { kind: "FIFO", .. }),
        "{err:?}"
    );

    let err = read_file_source(Path::new("/dev/null")).expect_err("device");
    assert!(
        matches!(
            err,
            KeySourceError::NotRegularFile {
                kind: "character device",
                ..
            }
        ),
        "{err:?}"
    );

    for content in [&b""[..], b"\n", b"\r\n"] {
        let path = dir.path().join("empty");
        let _ = fs::remove_file(&path);
        write_file(&path, content, 0o600);
        let err = read_file_source(&path).expect_err("empty");
        assert!(matches!(err, KeySourceError::Empty { .. }), "{err:?}");
    }

    let big = dir.path().join("big");
    write_file(&big, &vec![b'a'; KEY_FILE_MAX_LEN + 1], 0o600);
    let err = read_file_source(&big).expect_err("too large");
    assert!(
        matches!(err, KeySourceError::FileTooLarge { .. }),
        "{err:?}"
    );
    let edge = dir.path().join("edge");
    write_file(&edge, &vec![b'a'; KEY_FILE_MAX_LEN], 0o600);
    assert_eq!(
        read_file_source(&edge).expect("at the limit").len(),
        KEY_FILE_MAX_LEN
    );
}

#[test]
fn create_new_makes_a_0600_file_and_never_overwrites() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("local.key");
    let source = KeySource::File(path.clone());
    let secret = b"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    source
        .create_new(secret, KeyringBackend::Auto)
        .expect("created");
    let meta = fs::metadata(&path).expect("exists");
    assert_eq!(meta.permissions().mode() & 0o7777, 0o600);
    assert_eq!(
        fs::read(&path).expect("read"),
        [&secret[..], b"\n"].concat()
    );
    assert_eq!(
        source
            .read(KeyringBackend::Auto)
            .expect("reads back")
            .expose_secret(),
        &secret[..]
    );

    for result in [
        source.create_new(b"other", KeyringBackend::Auto),
        source.store(b"other", KeyringBackend::Auto),
    ] {
        let err = result.expect_err("exists");
        assert!(
            matches!(&err, KeySourceError::FileExists { path: p } if *p == path),
            "{err:?}"
        );
        assert!(err.to_string().contains("refusing to overwrite"));
    }
    assert_eq!(
        fs::read(&path).expect("read"),
        [&secret[..], b"\n"].concat(),
        "untouched"
    );

    // A symlink is an existing entry: not followed, target untouched.
    let target = dir.path().join("target");
    write_file(&target, b"victim", 0o600);
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    let err = KeySource::File(link)
        .create_new(b"k", KeyringBackend::Auto)
        .expect_err("symlink exists");
    assert!(matches!(err, KeySourceError::FileExists { .. }), "{err:?}");
    assert_eq!(fs::read(&target).expect("read"), b"victim");

    let orphan = dir.path().join("no/such/dir/key");
    let err = KeySource::File(orphan)
        .create_new(b"k", KeyringBackend::Auto)
        .expect_err("no parent");
    assert!(matches!(err, KeySourceError::NoParentDir { .. }), "{err:?}");

    source.delete(KeyringBackend::Auto).expect("deleted");
    assert!(!path.exists());
    let err = source.delete(KeyringBackend::Auto).expect_err("gone");
    assert!(
        matches!(err, KeySourceError::FileNotFound { .. }),
        "{err:?}"
    );
}

#[test]
fn store_on_a_file_creates_it_like_create_new() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("pw");
    let source = KeySource::File(path.clone());
    source
        .store(b"AM encryption pw", KeyringBackend::Auto)
        .expect("stored");
    assert_eq!(
        fs::metadata(&path).expect("exists").permissions().mode() & 0o7777,
        0o600
    );
    assert_eq!(
        source
            .read(KeyringBackend::Auto)
            .expect("reads")
            .expose_secret(),
        b"AM encryption pw"
    );
}

#[test]
fn unstorable_secrets_are_refused_before_any_io() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("k");
    let source = KeySource::File(path.clone());
    for secret in [&b""[..], b"k\n", b"k\r\n"] {
        for result in [
            source.create_new(secret, KeyringBackend::Auto),
            source.store(secret, KeyringBackend::Auto),
        ] {
            let err = result.expect_err("refused");
            assert!(
                matches!(err, KeySourceError::UnstorableSecret { .. }),
                "{err:?}"
            );
            assert!(err.fault() == Fault::Input);
        }
    }
    assert!(!path.exists());
}

#[test]
fn keyring_messages_name_backend_reference_and_remedy() {
    let table = [
        (
            KeyringBackend::Keyutils,
            KeyringProblem::NoEntry,
            &[
                "kernel keyutils",
                "no entry",
                "amhash key store keyring:svc/acct",
            ][..],
        ),
        (
            KeyringBackend::SecretService,
            KeyringProblem::NoEntry,
            &["Secret Service", "no entry"][..],
        ),
        (
            KeyringBackend::SecretService,
            KeyringProblem::NoSessionBus,
            &[
                "DBUS_SESSION_BUS_ADDRESS",
                "dbus-run-session",
                "--keyring-backend keyutils",
            ][..],
        ),
        (
            KeyringBackend::SecretService,
            KeyringProblem::Locked("x".into()),
            &["locked", "gnome-keyring-daemon --unlock"][..],
        ),
        (
            KeyringBackend::SecretService,
            KeyringProblem::ServiceUnavailable("x".into()),
            &["no Secret Service answers", "gnome-keyring-daemon"][..],
        ),
        (
            KeyringBackend::Keyutils,
            KeyringProblem::AlreadyExists,
            &["already exists", "refusing to replace"][..],
        ),
        (
            KeyringBackend::Keyutils,
            KeyringProblem::KeyutilsUnavailable,
            &["seccomp"][..],
        ),
        (
            KeyringBackend::Keyutils,
            KeyringProblem::AccessDenied,
            &["denied", "keyctl show @u"][..],
        ),
        (
            KeyringBackend::SecretService,
            KeyringProblem::Ambiguous(2),
            &[
                "2 items match",
                "secret-tool clear service svc username acct",
            ][..],
        ),
    ];
    for (backend, problem, needles) in table {
        let err = keyring_error(backend, "svc", "acct", problem);
        assert!(err.fault() == Fault::Operational);
        let msg = err.to_string();
        assert!(msg.contains("keyring:svc/acct"), "{msg}");
        for needle in needles {
            assert!(msg.contains(needle), "{msg:?} should contain {needle:?}");
        }
    }
}

#[test]
fn secret_copy_is_exact() {
    let s = secret_copy(b"abc");
    assert_eq!(s.expose_secret(), b"abc");
    assert!(!format!("{s:?}").contains("abc"), "Debug is redacted");
}

proptest! {
    #[test]
    fn parsing_arbitrary_strings_never_panics(s in any::<String>()) {
        if let Ok(source) = s.parse::<KeySource>() {
            // What parses is kept verbatim: Display gives back the input exactly.
            prop_assert_eq!(source.to_string(), s.clone());
            prop_assert_eq!(source.to_string().parse::<KeySource>().ok(), Some(source));
        }
    }

    #[test]
    fn arbitrary_scheme_like_strings_never_panic(s in "(file|env|keyring|x)?:?[a-z/:=\\x00 ]{0,12}") {
        let _ = s.parse::<KeySource>();
        let _ = s.parse::<KeyringBackend>();
    }

    #[test]
    fn valid_references_round_trip(
        path in "[^\\x00]{1,40}",
        var in "[^=\\x00]{1,20}",
        service in "[^/\\x00]{1,20}",
        account in "[^\\x00]{1,20}",
    ) {
        let sources = [
            KeySource::File(PathBuf::from(&path)),
            KeySource::Env(var),
            KeySource::Keyring { service, account },
        ];
        for source in sources {
            let text = source.to_string();
            prop_assert_eq!(text.parse::<KeySource>().ok(), Some(source));
        }
    }
}
