//! Tests of the store module: ids, formats, owners, the directory target, both editors,
//! concurrency and property tests. (atomic, shell and k8s have their own test modules.)

use super::*;
use crate::am::Format;
use crate::error::Error as _;
use crate::test_support::{chown, mkdir, mode, owner};
use proptest::prelude::*;
use secrecy::ExposeSecret;
use std::collections::BTreeMap;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

/// A value that breaks any naive quoting: `$`, backquote, blanks, `"`, `\`, `'`, `!`, `#`.
const HOSTILE: &str = "a$HOME`id` b\"c\\d'e!f #g $(x) ${y}\\'\\";

/// Everything observable about a directory tree: name → (kind, mode, uid, gid, content/target).
type Snapshot = BTreeMap<String, (String, u32, u32, u32, Vec<u8>)>;

fn snapshot(dir: &Path) -> Snapshot {
    let mut out = BTreeMap::new();
    fn walk(base: &Path, dir: &Path, out: &mut Snapshot) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let md = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
            let ft = md.file_type();
            let (kind, content) = if ft.is_symlink() {
                (
                    "link",
                    std::fs::read_link(&p)
                        .unwrap()
                        .into_os_string()
                        .into_encoded_bytes(),
                )
            } else if ft.is_dir() {
                walk(base, &p, out);
                ("dir", Vec::new())
            } else if ft.is_file() {
                ("file", std::fs::read(&p).unwrap())
            } else {
                ("other", Vec::new()) // never read a fifo: it would block
            };
            out.insert(
                rel,
                (
                    kind.to_owned(),
                    md.mode() & 0o7777,
                    md.uid(),
                    md.gid(),
                    content,
                ),
            );
        }
    }
    let md = std::fs::metadata(dir).unwrap();
    out.insert(
        ".".to_owned(),
        (
            "dir".to_owned(),
            md.mode() & 0o7777,
            md.uid(),
            md.gid(),
            Vec::new(),
        ),
    );
    walk(dir, dir, &mut out);
    out
}

/// Runs `apply`, which must fail, and checks that it left everything under `dir` as it was;
/// returns its error.
fn refused<T>(dir: &Path, apply: impl FnOnce() -> Result<T>) -> StoreError {
    let before = snapshot(dir);
    let e = apply().err().unwrap();
    assert_eq!(snapshot(dir), before, "{e}: something changed");
    e
}

fn root() -> bool {
    running_as_root()
}

fn secret_dir() -> tempfile::TempDir {
    let td = tempfile::tempdir().unwrap();
    std::fs::set_permissions(td.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    td
}

fn amadmin() -> SecretId {
    SecretId::amadmin()
}

fn bash(script: &str, file: &Path) -> String {
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .arg("bash")
        .arg(file)
        .output()
        .expect("bash is installed");
    assert!(
        out.status.success(),
        "bash failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

// ---------------------------------------------------------------- ids, formats, owners, errors

#[test]
fn secret_id_names() {
    let id = amadmin();
    assert_eq!(id.user(), "amadmin");
    assert_eq!(id.secret_id(), "password.amadmin");
    assert_eq!(id.file_name(), "password.amadmin");
    assert_eq!(id.backup_file_name(), "password.amadmin.previous");
    assert_eq!(id.java_property(), "password.amadmin");
    assert_eq!(id.env_var(), "PASSWORD_AMADMIN");
    assert_eq!(id.shell_env_var().unwrap(), "PASSWORD_AMADMIN");
    assert_eq!(id.to_string(), "password.amadmin");
    assert_eq!(SecretId::default(), id);
    let id: SecretId = "am.Admin_2".parse().unwrap();
    assert_eq!(id.env_var(), "PASSWORD_AM_ADMIN_2");
    assert_eq!(id.secret_id(), "password.am.Admin_2");
}

#[test]
fn secret_id_dash_cannot_be_a_shell_variable() {
    let id = SecretId::new("am-admin").unwrap();
    assert_eq!(id.env_var(), "PASSWORD_AM-ADMIN");
    let e = id.shell_env_var().err().unwrap();
    assert!(matches!(e, StoreError::EnvVarNotExportable { .. }));
    assert!(e.to_string().contains("PASSWORD_AM-ADMIN"), "{e}");
    assert_eq!(e.fault(), crate::error::Fault::Input);
    let td = secret_dir();
    let f = td.path().join("profile");
    assert!(matches!(
        env_file::apply(&f, &id, "v", &EditOptions::default()),
        Err(StoreError::EnvVarNotExportable { .. })
    ));
    assert!(!f.exists());
    // The directory and setenv targets accept it.
    install_dir(td.path(), &id, "v", &DirOptions::default()).unwrap();
    assert_eq!(
        std::fs::read(td.path().join("password.am-admin")).unwrap(),
        b"v"
    );
}

#[test]
fn secret_id_invalid() {
    let long = "a".repeat(MAX_USER_NAME_LEN + 1);
    for bad in ["", "a b", "a/b", "../x", "a\n", "é", "a:b", "a$", &long] {
        let e = SecretId::new(bad).err().unwrap();
        assert!(matches!(e, StoreError::InvalidUserName { .. }), "{bad:?}");
        assert_eq!(e.fault(), crate::error::Fault::Input);
        assert!(!e.to_string().contains('\n'));
    }
    for good in [
        "a",
        "amadmin",
        "A.b_c-d",
        "0",
        &"a".repeat(MAX_USER_NAME_LEN),
    ] {
        SecretId::new(good).unwrap();
    }
}

const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\nforgerock:x:11111:22222:AM:/home/fr:/bin/sh\nbroken:x:zz:1::/:/bin/sh\n";
const GROUP: &str = "root:x:0:\ntomcat:x:33333:forgerock\n";

#[test]
fn owner_resolution() {
    let ok = [
        ("forgerock", (11111, 22222)),
        ("forgerock:tomcat", (11111, 33333)),
        ("forgerock:5", (11111, 5)),
        ("11111", (11111, 22222)),
        ("1234:4321", (1234, 4321)),
        ("1234:tomcat", (1234, 33333)),
        ("root", (0, 0)),
    ];
    for (spec, (uid, gid)) in ok {
        assert_eq!(
            Owner::resolve_with(spec, PASSWD, GROUP).unwrap(),
            Owner { uid, gid },
            "{spec}"
        );
    }
    for bad in [
        "nobody",
        "1234",
        "forgerock:nogroup",
        ":tomcat",
        "forgerock:",
        "a:b:c",
        "4294967295:1",
        "broken",
        "",
    ] {
        let e = Owner::resolve_with(bad, PASSWD, GROUP).err().unwrap();
        assert!(matches!(e, StoreError::Owner { .. }), "{bad:?}: {e}");
        assert_eq!(e.fault(), crate::error::Fault::Input);
    }
    // The real databases: root always exists.
    assert_eq!(Owner::resolve("root").unwrap(), Owner { uid: 0, gid: 0 });
    assert_eq!(Owner::resolve("7:8").unwrap(), Owner { uid: 7, gid: 8 });
}

#[test]
fn error_classes() {
    let io = StoreError::io("read", Path::new("/x"), io::Error::other("boom"));
    assert_eq!(io.fault(), crate::error::Fault::Operational);
    let big = StoreError::TooLarge { path: "/x".into() };
    assert_eq!(big.fault(), crate::error::Fault::Operational);
    let refused = StoreError::Refused {
        path: "/x".into(),
        why: Refusal::Symlink,
    };
    assert_eq!(refused.fault(), crate::error::Fault::Input);
    assert!(refused.to_string().starts_with("/x: "));
}

// ---------------------------------------------------------------- directory target

#[test]
fn dir_creates_exact_bytes_mode_0600() {
    let td = secret_dir();
    let c = install_dir(
        td.path(),
        &amadmin(),
        "{SSHA-512}abc+/=",
        &DirOptions::default(),
    )
    .unwrap();
    let f = td.path().join("password.amadmin");
    assert_eq!(c.action, Action::Created);
    assert_eq!(c.path, f);
    assert_eq!(c.backup, None);
    assert!(!c.dry_run);
    assert_eq!(std::fs::read(&f).unwrap(), b"{SSHA-512}abc+/=");
    assert_eq!(mode(&f), 0o600);
    let names: Vec<_> = snapshot(td.path()).into_keys().collect();
    assert_eq!(names, vec![".", "password.amadmin"]);
    let v = read_dir_value(td.path(), &amadmin()).unwrap().unwrap();
    assert!(v.matches("{SSHA-512}abc+/="));
    assert!(!v.trailing_newline());
}

#[test]
fn dir_replace_keeps_previous_and_owner() {
    let td = secret_dir();
    let f = td.path().join("password.amadmin");
    std::fs::write(&f, b"old").unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    if root() {
        chown(&f, 1234, 1235);
        chown(td.path(), 999, 998);
    }
    let c = install_dir(td.path(), &amadmin(), "new", &DirOptions::default()).unwrap();
    assert_eq!(c.action, Action::Replaced);
    let prev = td.path().join("password.amadmin.previous");
    assert_eq!(c.backup.as_deref(), Some(prev.as_path()));
    assert_eq!(std::fs::read(&f).unwrap(), b"new");
    assert_eq!(std::fs::read(&prev).unwrap(), b"old");
    assert_eq!(mode(&f), 0o600);
    assert_eq!(mode(&prev), 0o600);
    if root() {
        assert_eq!(
            c.owner,
            Some(Owner {
                uid: 1234,
                gid: 1235
            })
        );
        assert_eq!(
            owner(&f),
            (1234, 1235),
            "replaced file's owner beats the directory's"
        );
        assert_eq!(owner(&prev), (1234, 1235));
    }
    // A second rotation moves "new" to .previous.
    install_dir(td.path(), &amadmin(), "newer", &DirOptions::default()).unwrap();
    assert_eq!(std::fs::read(&prev).unwrap(), b"new");
    assert_eq!(std::fs::read(&f).unwrap(), b"newer");
}

#[test]
fn dir_owner_rules_as_root() {
    if !root() {
        // Not root (CI runs as root): a new file simply belongs to the caller.
        let td = secret_dir();
        let c = install_dir(td.path(), &amadmin(), "v", &DirOptions::default()).unwrap();
        assert_eq!(c.owner, None);
        let me = (
            rustix::process::geteuid().as_raw(),
            rustix::process::getegid().as_raw(),
        );
        assert_eq!(owner(&td.path().join("password.amadmin")), me);
        return;
    }
    // New file: the directory's owner.
    let td = secret_dir();
    chown(td.path(), 4000, 4001);
    let c = install_dir(td.path(), &amadmin(), "v", &DirOptions::default()).unwrap();
    assert_eq!(
        c.owner,
        Some(Owner {
            uid: 4000,
            gid: 4001
        })
    );
    assert_eq!(owner(&td.path().join("password.amadmin")), (4000, 4001));
    // Explicit owner beats both the replaced file's and the directory's.
    chown(&td.path().join("password.amadmin"), 1234, 1234);
    let opts = DirOptions {
        owner: Some(Owner {
            uid: 2222,
            gid: 2223,
        }),
        ..DirOptions::default()
    };
    install_dir(td.path(), &amadmin(), "w", &opts).unwrap();
    assert_eq!(owner(&td.path().join("password.amadmin")), (2222, 2223));
    assert_eq!(
        owner(&td.path().join("password.amadmin.previous")),
        (1234, 1234),
        ".previous keeps the old owner"
    );
}

#[test]
fn dir_no_backup() {
    let td = secret_dir();
    let f = td.path().join("password.amadmin");
    std::fs::write(&f, b"old").unwrap();
    let opts = DirOptions {
        backup: false,
        ..DirOptions::default()
    };
    let c = install_dir(td.path(), &amadmin(), "new", &opts).unwrap();
    assert_eq!((c.action, c.backup), (Action::Replaced, None));
    assert_eq!(std::fs::read(&f).unwrap(), b"new");
    assert!(!td.path().join("password.amadmin.previous").exists());
}

#[test]
fn dir_unchanged_value_writes_nothing() {
    let td = secret_dir();
    install_dir(td.path(), &amadmin(), "same", &DirOptions::default()).unwrap();
    let f = td.path().join("password.amadmin");
    let ino = std::fs::metadata(&f).unwrap().ino();
    let before = snapshot(td.path());
    let c = install_dir(td.path(), &amadmin(), "same", &DirOptions::default()).unwrap();
    assert_eq!((c.action, c.backup), (Action::Unchanged, None));
    assert_eq!(snapshot(td.path()), before);
    assert_eq!(
        std::fs::metadata(&f).unwrap().ino(),
        ino,
        "file not rewritten"
    );
}

#[test]
fn dir_dry_run_writes_nothing() {
    let td = secret_dir();
    let dry = DirOptions {
        dry_run: true,
        ..DirOptions::default()
    };
    let before = snapshot(td.path());
    let c = install_dir(td.path(), &amadmin(), "v1", &dry).unwrap();
    assert_eq!((c.action, c.dry_run), (Action::Created, true));
    assert_eq!(snapshot(td.path()), before);

    install_dir(td.path(), &amadmin(), "v1", &DirOptions::default()).unwrap();
    std::fs::write(td.path().join(".password.amadmin.tmp-dead"), b"x").unwrap();
    let before = snapshot(td.path());
    let c = install_dir(td.path(), &amadmin(), "v2", &dry).unwrap();
    assert_eq!(c.action, Action::Replaced);
    assert_eq!(c.backup, Some(td.path().join("password.amadmin.previous")));
    assert_eq!(
        snapshot(td.path()),
        before,
        "dry run neither writes nor cleans"
    );
}

#[test]
fn dir_refusals_leave_everything_untouched() {
    type Setup = fn(&Path) -> PathBuf;
    type Check = fn(&StoreError) -> bool;
    let cases: Vec<(&str, Setup, Check)> = vec![
        (
            "symlinked target",
            |d| {
                std::fs::write(d.join("elsewhere"), b"link target").unwrap();
                std::os::unix::fs::symlink(d.join("elsewhere"), d.join("password.amadmin"))
                    .unwrap();
                d.to_path_buf()
            },
            |e| matches!(e.refusal(), Some(Refusal::Symlink)),
        ),
        (
            "dangling symlink target",
            |d| {
                std::os::unix::fs::symlink(d.join("nowhere"), d.join("password.amadmin")).unwrap();
                d.to_path_buf()
            },
            |e| matches!(e.refusal(), Some(Refusal::Symlink)),
        ),
        (
            "symlinked .previous",
            |d| {
                std::fs::write(d.join("password.amadmin"), b"old").unwrap();
                std::fs::write(d.join("elsewhere"), b"link target").unwrap();
                std::os::unix::fs::symlink(
                    d.join("elsewhere"),
                    d.join("password.amadmin.previous"),
                )
                .unwrap();
                d.to_path_buf()
            },
            |e| matches!(e.refusal(), Some(Refusal::Symlink)),
        ),
        (
            "missing dir",
            |d| d.join("missing"),
            |e| matches!(e, StoreError::DirMissing { .. }),
        ),
        (
            "dir is a file",
            |d| {
                std::fs::write(d.join("file"), b"content").unwrap();
                d.join("file")
            },
            |e| matches!(e, StoreError::NotADirectory { .. }),
        ),
        (
            "group-writable dir",
            |d| {
                let s = d.join("s");
                std::fs::create_dir(&s).unwrap();
                std::fs::write(s.join("password.amadmin"), b"old").unwrap();
                std::fs::set_permissions(&s, std::fs::Permissions::from_mode(0o770)).unwrap();
                s
            },
            |e| matches!(e.refusal(), Some(Refusal::DirWritable { mode: 0o770, .. })),
        ),
        (
            "other-writable dir",
            |d| {
                let s = d.join("s");
                mkdir(&s, 0o1777);
                s
            },
            |e| matches!(e.refusal(), Some(Refusal::DirWritable { mode: 0o1777, .. })),
        ),
        (
            "target is a directory",
            |d| {
                std::fs::create_dir(d.join("password.amadmin")).unwrap();
                std::fs::write(d.join("password.amadmin").join("inner"), b"x").unwrap();
                d.to_path_buf()
            },
            |e| {
                matches!(
                    e,
                    StoreError::NotRegularFile {
                        kind: "directory",
                        ..
                    }
                )
            },
        ),
        (
            "target is a fifo",
            |d| {
                let st = Command::new("mkfifo")
                    .arg(d.join("password.amadmin"))
                    .status()
                    .unwrap();
                assert!(st.success());
                d.to_path_buf()
            },
            |e| matches!(e, StoreError::NotRegularFile { kind: "fifo", .. }),
        ),
    ];
    for (name, setup, expected) in cases {
        for dry_run in [false, true] {
            let td = secret_dir();
            let dir = setup(td.path());
            let before = snapshot(td.path());
            let opts = DirOptions {
                dry_run,
                ..DirOptions::default()
            };
            let e = install_dir(&dir, &amadmin(), "secret-value", &opts)
                .err()
                .unwrap();
            assert!(expected(&e), "{name}: {e}");
            assert_eq!(e.fault(), crate::error::Fault::Input, "{name}");
            let msg = e.to_string();
            assert!(
                !msg.contains("secret-value") && !msg.contains('\n'),
                "{name}: {msg}"
            );
            assert!(
                msg.contains(&*td.path().to_string_lossy()),
                "{name}: message names the path: {msg}"
            );
            assert_eq!(snapshot(td.path()), before, "{name}: nothing changed");
        }
    }
}

#[test]
fn dir_symlinked_directory_is_followed() {
    // Deployments commonly link the AM directory; only the target file must not be a link.
    let td = secret_dir();
    let real = td.path().join("real");
    mkdir(&real, 0o700);
    std::os::unix::fs::symlink(&real, td.path().join("link")).unwrap();
    install_dir(
        &td.path().join("link"),
        &amadmin(),
        "v",
        &DirOptions::default(),
    )
    .unwrap();
    assert_eq!(std::fs::read(real.join("password.amadmin")).unwrap(), b"v");
}

#[test]
fn dir_empty_value_refused() {
    let td = secret_dir();
    let e = install_dir(td.path(), &amadmin(), "", &DirOptions::default())
        .err()
        .unwrap();
    assert!(matches!(e, StoreError::InvalidValue { .. }));
    assert_eq!(snapshot(td.path()).len(), 1);
}

#[test]
fn dir_fault_injection() {
    let value = "N".repeat(5000);
    for n in [0, 1, 100, 4095, 4999, 5000] {
        for (only, backup) in [
            ("password.amadmin", true),
            ("password.amadmin", false),
            ("password.amadmin.previous", true),
        ] {
            let td = secret_dir();
            let f = td.path().join("password.amadmin");
            std::fs::write(&f, b"old value").unwrap();
            let opts = DirOptions {
                backup,
                writer: Writer::failing_for_tests(Fault::AfterBytes(n), Some(only)),
                ..DirOptions::default()
            };
            let e = install_dir(td.path(), &amadmin(), &value, &opts)
                .err()
                .unwrap();
            assert_eq!(e.fault(), crate::error::Fault::Operational);
            assert_eq!(
                std::fs::read(&f).unwrap(),
                b"old value",
                "n={n} only={only}"
            );
            let snap = snapshot(td.path());
            let mut names: Vec<_> = snap.keys().cloned().collect();
            names.retain(|n| n != "." && n != "password.amadmin.previous");
            assert_eq!(
                names,
                vec!["password.amadmin"],
                "no temp file left (n={n} only={only})"
            );
            if let Some(prev) = snap.get("password.amadmin.previous") {
                assert_eq!(
                    prev.4, b"old value",
                    "a .previous, if written, is the complete old value"
                );
            }
        }
    }
    // Failing right before the rename, on a fresh install.
    let td = secret_dir();
    let opts = DirOptions {
        writer: Writer::failing_for_tests(Fault::BeforeRename, None),
        ..DirOptions::default()
    };
    install_dir(td.path(), &amadmin(), "v", &opts)
        .err()
        .unwrap();
    assert_eq!(snapshot(td.path()).len(), 1);
}

#[test]
fn dir_cleans_stale_temps_first() {
    let td = secret_dir();
    for n in [
        ".password.amadmin.tmp-0123456789abcdef",
        ".password.amadmin.previous.tmp-x",
        ".password.other.tmp-1",
    ] {
        std::fs::write(td.path().join(n), b"partial").unwrap();
    }
    let facts = inspect_dir(td.path(), &amadmin()).unwrap();
    assert_eq!(facts.stale_temps.len(), 2);
    let c = install_dir(td.path(), &amadmin(), "v", &DirOptions::default()).unwrap();
    assert_eq!(c.removed_temps.len(), 2);
    let names: Vec<_> = snapshot(td.path()).into_keys().collect();
    assert_eq!(
        names,
        vec![".", ".password.other.tmp-1", "password.amadmin"]
    );
}

/// Rerunning an install after a crash, with the same value, still clears the dead run's
/// temps (found by tests/crash.rs when the last kill had left the new value in place).
#[test]
fn dir_unchanged_install_still_cleans_stale_temps() {
    let td = secret_dir();
    install_dir(td.path(), &amadmin(), "v", &DirOptions::default()).unwrap();
    std::fs::write(
        td.path().join(".password.amadmin.previous.tmp-0123"),
        b"partial",
    )
    .unwrap();
    let c = install_dir(td.path(), &amadmin(), "v", &DirOptions::default()).unwrap();
    assert_eq!(c.action, Action::Unchanged);
    assert_eq!(c.removed_temps.len(), 1);
    let names: Vec<_> = snapshot(td.path()).into_keys().collect();
    assert_eq!(names, vec![".", "password.amadmin"]);
    // A dry run never removes anything.
    std::fs::write(td.path().join(".password.amadmin.tmp-4567"), b"partial").unwrap();
    let dry = DirOptions {
        dry_run: true,
        ..DirOptions::default()
    };
    assert!(
        install_dir(td.path(), &amadmin(), "v", &dry)
            .unwrap()
            .removed_temps
            .is_empty()
    );
    assert!(td.path().join(".password.amadmin.tmp-4567").exists());
}

#[test]
fn dir_read_back_tolerates_one_newline() {
    let td = secret_dir();
    let id = amadmin();
    assert!(read_dir_value(td.path(), &id).unwrap().is_none());
    std::fs::write(td.path().join("password.amadmin"), b"value\n").unwrap();
    let v = read_dir_value(td.path(), &id).unwrap().unwrap();
    assert!(v.trailing_newline() && v.matches("value") && !v.matches("value\n"));
    assert_eq!(v.value().value().expose_secret(), "value");
    std::fs::write(td.path().join("password.amadmin"), b"value\n\n").unwrap();
    let v = read_dir_value(td.path(), &id).unwrap().unwrap();
    assert!(v.matches("value\n"), "only one newline is stripped");
    std::fs::remove_file(td.path().join("password.amadmin")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", td.path().join("password.amadmin")).unwrap();
    assert!(matches!(
        read_dir_value(td.path(), &id),
        Err(StoreError::Refused {
            why: Refusal::Symlink,
            ..
        })
    ));
    // Installing over a newline-terminated file fixes it.
    std::fs::remove_file(td.path().join("password.amadmin")).unwrap();
    std::fs::write(td.path().join("password.amadmin"), b"value\n").unwrap();
    assert_eq!(
        install_dir(td.path(), &id, "value", &DirOptions::default())
            .unwrap()
            .action,
        Action::Replaced
    );
    assert_eq!(
        std::fs::read(td.path().join("password.amadmin")).unwrap(),
        b"value"
    );
}

#[test]
fn dir_inspect_facts() {
    let td = secret_dir();
    let missing = inspect_dir(&td.path().join("nope"), &amadmin()).unwrap();
    assert_eq!(missing.dir, None);
    let f = inspect_dir(td.path(), &amadmin()).unwrap();
    assert_eq!(
        f.dir.as_ref().map(|d| (d.kind, d.mode)),
        Some((FileKind::Directory, 0o700))
    );
    assert_eq!(
        (f.file.clone(), f.previous.clone(), f.dir_is_symlink),
        (None, None, false)
    );
    install_dir(td.path(), &amadmin(), "v1", &DirOptions::default()).unwrap();
    install_dir(td.path(), &amadmin(), "v22", &DirOptions::default()).unwrap();
    let f = inspect_dir(td.path(), &amadmin()).unwrap();
    let file = f.file.clone().unwrap();
    assert_eq!(
        (file.kind, file.mode, file.len),
        (FileKind::Regular, 0o600, 3)
    );
    assert_eq!(f.previous.as_ref().map(|p| p.len), Some(2));
    assert!(!f.dir_writable_by_others() && !f.file_too_open());
    std::fs::remove_file(td.path().join("password.amadmin")).unwrap();
    std::os::unix::fs::symlink("x", td.path().join("password.amadmin")).unwrap();
    std::fs::set_permissions(td.path(), std::fs::Permissions::from_mode(0o775)).unwrap();
    let f = inspect_dir(td.path(), &amadmin()).unwrap();
    assert_eq!(f.file.as_ref().map(|x| x.kind), Some(FileKind::Symlink));
    assert!(f.dir_writable_by_others());
}

#[test]
fn dir_concurrent_installs_serialise() {
    let td = Arc::new(secret_dir());
    let values: Vec<String> = (0..16)
        .map(|i| format!("{{SSHA-512}}value-{i:02}-{}", "x".repeat(i * 300)))
        .collect();
    let handles: Vec<_> = values
        .iter()
        .cloned()
        .map(|v| {
            let td = Arc::clone(&td);
            std::thread::spawn(move || {
                install_dir(td.path(), &SecretId::amadmin(), &v, &DirOptions::default()).unwrap()
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let got = std::fs::read_to_string(td.path().join("password.amadmin")).unwrap();
    assert!(
        values.contains(&got),
        "final file is exactly one complete value"
    );
    let prev = std::fs::read_to_string(td.path().join("password.amadmin.previous")).unwrap();
    assert!(values.contains(&prev) && prev != got);
    let names: Vec<_> = snapshot(td.path()).into_keys().collect();
    assert_eq!(
        names,
        vec![".", "password.amadmin", "password.amadmin.previous"]
    );
}

// ---------------------------------------------------------------- env file

fn env_edit(input: &str, value: &str) -> String {
    let e = env_file::edit(input.as_bytes(), &amadmin(), value, Path::new("p")).unwrap();
    String::from_utf8(e.content.to_vec()).unwrap()
}

#[test]
fn env_edit_table() {
    let l = "export PASSWORD_AMADMIN='V'\n";
    let cases: &[(&str, String)] = &[
        ("", l.to_owned()),
        ("\n", format!("\n{l}")),
        ("PATH=/bin", format!("PATH=/bin\n{l}")),
        ("PATH=/bin\n", format!("PATH=/bin\n{l}")),
        (
            "a=1\nexport PASSWORD_AMADMIN=old\nb=2\n",
            format!("a=1\n{l}b=2\n"),
        ),
        ("a=1\nPASSWORD_AMADMIN='old'\nb=2", format!("a=1\n{l}b=2")),
        (
            "  export   PASSWORD_AMADMIN=\"old\" # note\n",
            format!("  {l}"),
        ),
        ("\texport PASSWORD_AMADMIN=old", format!("\t{l}")),
        // Duplicates: the first is replaced, later ones (which would win) removed.
        (
            "PASSWORD_AMADMIN=1\nx=2\nexport PASSWORD_AMADMIN=3\nPASSWORD_AMADMIN=4\n",
            format!("{l}x=2\n"),
        ),
        // Other variables, including look-alikes, are untouched.
        (
            "export PASSWORD_AMADMIN2=x\nexport PASSWORD_BOB='y'\n#export PASSWORD_AMADMIN=z\necho PASSWORD_AMADMIN=q\nexportPASSWORD_AMADMIN=r\n",
            format!(
                "export PASSWORD_AMADMIN2=x\nexport PASSWORD_BOB='y'\n#export PASSWORD_AMADMIN=z\necho PASSWORD_AMADMIN=q\nexportPASSWORD_AMADMIN=r\n{l}"
            ),
        ),
        // CRLF lines are kept; our own line is written with LF.
        (
            "a=1\r\nexport PASSWORD_AMADMIN=old\r\nb=2\r\n",
            format!("a=1\r\n{l}b=2\r\n"),
        ),
        ("a=1\r\n", format!("a=1\r\n{l}")),
        // An assignment using expansion is replaced (it is ours to set).
        ("export PASSWORD_AMADMIN=$(cat /secret)\n", l.to_owned()),
        ("\u{fffd}\u{0}bin\n", format!("\u{fffd}\u{0}bin\n{l}")),
    ];
    for (input, want) in cases {
        assert_eq!(&env_edit(input, "V"), want, "input {input:?}");
        // Idempotent: editing the output again changes nothing.
        let again = env_file::edit(want.as_bytes(), &amadmin(), "V", Path::new("p")).unwrap();
        assert!(!again.changed, "idempotent for {input:?}");
    }
    let e = env_file::edit(
        b"PASSWORD_AMADMIN=1\nPASSWORD_AMADMIN=2\n",
        &amadmin(),
        "V",
        Path::new("p"),
    )
    .unwrap();
    assert_eq!(e.removed_duplicates, 1);
}

#[test]
fn env_edit_quotes_and_refusals() {
    assert_eq!(env_edit("", "it's"), "export PASSWORD_AMADMIN='it'\\''s'\n");
    for bad in [
        "export PASSWORD_AMADMIN='unterminated\nrest'\n",
        "PASSWORD_AMADMIN=x; rm -rf /\n",
        "PASSWORD_AMADMIN=x\\\n",
    ] {
        let e = env_file::edit(
            bad.as_bytes(),
            &amadmin(),
            "V",
            Path::new("/home/am/.bash_profile"),
        )
        .err()
        .unwrap();
        assert!(
            matches!(e, StoreError::Malformed { line: 1, .. }),
            "{bad:?}: {e}"
        );
        assert!(e.to_string().starts_with("/home/am/.bash_profile:1: "));
    }
    for bad in ["", "a\nb", "a\rb", "a\0b", "tab\there"] {
        let e = env_file::edit(b"", &amadmin(), bad, Path::new("p"))
            .err()
            .unwrap();
        assert!(matches!(e, StoreError::InvalidValue { .. }), "{bad:?}");
    }
}

#[test]
fn env_read_table() {
    let id = amadmin();
    let p = Path::new("p");
    type Expect = Option<(&'static str, bool, usize)>; // value, exported, line
    let cases: &[(&str, Expect)] = &[
        ("", None),
        (
            "export PASSWORD_AMADMIN='a'\\''b'\n",
            Some(("a'b", true, 1)),
        ),
        ("PASSWORD_AMADMIN=plain\n", Some(("plain", false, 1))),
        (
            "PASSWORD_AMADMIN=1\nexport PASSWORD_AMADMIN=\"two\"\n",
            Some(("two", true, 2)),
        ),
        ("PASSWORD_AMADMIN=crlf\r\n", Some(("crlf\r", false, 1))),
    ];
    for (input, want) in cases {
        let got = env_file::read(input.as_bytes(), &id, p).unwrap();
        match (got, want) {
            (None, None) => {}
            (Some(g), Some((v, exported, line))) => {
                assert_eq!(g.value.value().expose_secret(), *v, "{input:?}");
                assert_eq!((g.exported, g.line), (*exported, *line), "{input:?}");
            }
            _ => panic!("mismatch for {input:?}"),
        }
    }
    let e = env_file::read(b"export PASSWORD_AMADMIN=$X\n", &id, p)
        .err()
        .unwrap();
    assert!(matches!(e, StoreError::Unreadable { line: 1, .. }), "{e}");
}

#[test]
fn env_value_survives_bash() {
    let td = secret_dir();
    let f = td.path().join("bash.profile");
    std::fs::write(&f, "export OTHER=1\n").unwrap();
    for v in [HOSTILE, "{SSHA-512}AbC+/==", "'", "ü"] {
        env_file::apply(&f, &amadmin(), v, &EditOptions::default()).unwrap();
        assert_eq!(bash(r#". "$1"; printf %s "$PASSWORD_AMADMIN""#, &f), v);
        assert_eq!(bash(r#". "$1"; printf %s "$OTHER""#, &f), "1");
        let back = env_file::read_path(&f, &amadmin()).unwrap().unwrap();
        assert!(back.value.matches(v) && back.exported);
    }
    // Exported, i.e. visible to a child process such as the JVM.
    assert_eq!(
        bash(r#". "$1"; sh -c 'printf %s "$PASSWORD_AMADMIN"'"#, &f),
        "ü"
    );
}

#[test]
fn env_apply_modes_owner_idempotence() {
    let td = secret_dir();
    let f = td.path().join("bash.profile");
    let c = env_file::apply(&f, &amadmin(), "v1", &EditOptions::default()).unwrap();
    assert_eq!((c.action, c.mode), (Action::Created, 0o600));
    assert_eq!(mode(&f), 0o600);
    std::fs::write(&f, "# profile\nexport PATH=/x\n").unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
    if root() {
        chown(&f, 1234, 1234);
    }
    let c = env_file::apply(&f, &amadmin(), "v2", &EditOptions::default()).unwrap();
    assert_eq!((c.action, c.mode), (Action::Replaced, 0o640));
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        "# profile\nexport PATH=/x\nexport PASSWORD_AMADMIN='v2'\n"
    );
    assert_eq!(mode(&f), 0o640);
    if root() {
        assert_eq!(owner(&f), (1234, 1234));
    }
    let before = snapshot(td.path());
    let c = env_file::apply(&f, &amadmin(), "v2", &EditOptions::default()).unwrap();
    assert_eq!(c.action, Action::Unchanged);
    assert_eq!(snapshot(td.path()), before);
    let c = env_file::apply(
        &f,
        &amadmin(),
        "v3",
        &EditOptions {
            dry_run: true,
            ..EditOptions::default()
        },
    )
    .unwrap();
    assert_eq!((c.action, c.dry_run), (Action::Replaced, true));
    assert_eq!(snapshot(td.path()), before);
    // Failure part way: nothing changes, no temp file.
    for n in [0, 5, 30] {
        let opts = EditOptions {
            writer: Writer::failing_for_tests(Fault::AfterBytes(n), None),
            ..EditOptions::default()
        };
        env_file::apply(&f, &amadmin(), "v4", &opts).err().unwrap();
        assert_eq!(snapshot(td.path()), before);
    }
}

#[test]
fn env_apply_refuses_symlink_and_missing_dir() {
    let td = secret_dir();
    let real = td.path().join("real");
    std::fs::write(&real, "export A=1\n").unwrap();
    let link = td.path().join("bash.profile");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let e = refused(td.path(), || {
        env_file::apply(&link, &amadmin(), "v", &EditOptions::default())
    });
    assert!(matches!(e.refusal(), Some(Refusal::Symlink)), "{e}");
    assert!(matches!(
        env_file::read_path(&link, &amadmin()),
        Err(StoreError::Refused {
            why: Refusal::Symlink,
            ..
        })
    ));
    let missing = td.path().join("no/profile");
    let e = refused(td.path(), || {
        env_file::apply(&missing, &amadmin(), "v", &EditOptions::default())
    });
    assert!(matches!(e, StoreError::DirMissing { .. }), "{e}");
}

/// Sixteen threads each put their own user's entry into one file at once: every entry must
/// end up there exactly once, with its value. `start`: the file's content before (`None`:
/// no file). Returns the file's content after.
fn concurrent_editors(
    name: &str,
    start: Option<&str>,
    edit: fn(&Path, &SecretId, &str),
    once_with: fn(&[u8], &SecretId, &Path, &str) -> bool,
) -> Vec<u8> {
    let td = Arc::new(secret_dir());
    let f = td.path().join(name);
    if let Some(start) = start {
        std::fs::write(&f, start).unwrap();
    }
    let handles: Vec<_> = (0..16)
        .map(|i| {
            let f = f.clone();
            std::thread::spawn(move || {
                edit(
                    &f,
                    &SecretId::new(&format!("user{i}")).unwrap(),
                    &format!("value-{i}"),
                );
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let content = std::fs::read(&f).unwrap();
    for i in 0..16 {
        let id = SecretId::new(&format!("user{i}")).unwrap();
        assert!(
            once_with(&content, &id, &f, &format!("value-{i}")),
            "user{i}"
        );
    }
    content
}

#[test]
fn env_concurrent_editors_keep_every_line() {
    let content = concurrent_editors(
        "bash.profile",
        Some("# start\n"),
        |f, id, value| {
            env_file::apply(f, id, value, &EditOptions::default()).unwrap();
        },
        |content, id, f, value| {
            let v = env_file::read(content, id, f).unwrap().unwrap();
            v.value.matches(value) && v.assignments == 1
        },
    );
    assert!(content.starts_with(b"# start\n"));
    assert_eq!(content.iter().filter(|&&b| b == b'\n').count(), 17);
}

// ---------------------------------------------------------------- setenv.sh

fn block_for(user: &str, quoted: &str, fmt: &str) -> String {
    format!(
        "# BEGIN amhash password.{user} (managed by amhash; do not edit)\nCATALINA_OPTS=\"$CATALINA_OPTS -Dpassword.{user}={quoted} -Dorg.forgerock.openam.secrets.special.user.passwords.format={fmt}\"\nexport CATALINA_OPTS\n# END amhash password.{user}\n"
    )
}

fn setenv_edit(input: &str, user: &str, value: &str, f: Format) -> Result<String> {
    let id = SecretId::new(user).unwrap();
    setenv::edit(input.as_bytes(), &id, value, f, Path::new("setenv.sh"))
        .map(|e| String::from_utf8(e.content.to_vec()).unwrap())
}

#[test]
fn setenv_block_exact() {
    let b = setenv::block(&amadmin(), "{SSHA-512}ab+/=", Format::Plain).unwrap();
    assert_eq!(
        b.as_str(),
        block_for("amadmin", "'{SSHA-512}ab+/='", "PLAIN")
    );
    let b = setenv::block(&amadmin(), "a'$`\"\\", Format::EncryptedPlain).unwrap();
    assert_eq!(
        b.as_str(),
        block_for("amadmin", r#"'a'\\''\$\`\"\\'"#, "ENCRYPTED_PLAIN")
    );
}

#[test]
fn setenv_edit_table() {
    let mine = block_for("amadmin", "'V'", "PLAIN");
    let old = block_for("amadmin", "'old'", "PLAIN");
    let bob = block_for("bob", "'B'", "PLAIN");
    let cases: Vec<(String, String)> = vec![
        (String::new(), mine.clone()),
        ("JAVA_HOME=/j".into(), format!("JAVA_HOME=/j\n{mine}")),
        ("JAVA_HOME=/j\n".into(), format!("JAVA_HOME=/j\n{mine}")),
        (format!("a=1\n{old}b=2\n"), format!("a=1\n{mine}b=2\n")),
        (format!("a=1\n{old}b=2\n{old}c=3"), format!("a=1\n{mine}b=2\nc=3")),
        (format!("{bob}x\n"), format!("{bob}x\n{mine}")),
        (format!("{bob}{old}{bob}"), format!("{bob}{mine}{bob}")),
        // Our own block with another format is simply replaced.
        (block_for("amadmin", "'old'", "GOOGLE_KMS_ENCRYPTED"), mine.clone()),
        // The doc's own line, with the same format, is fine and kept.
        (
            "export CATALINA_OPTS=\"$CATALINA_OPTS -Dorg.forgerock.openam.secrets.special.user.passwords.format=PLAIN\"\r\n".into(),
            format!("export CATALINA_OPTS=\"$CATALINA_OPTS -Dorg.forgerock.openam.secrets.special.user.passwords.format=PLAIN\"\r\n{mine}"),
        ),
        // A commented-out different format is not a conflict.
        (
            "# -Dorg.forgerock.openam.secrets.special.user.passwords.format=ENCRYPTED_PLAIN\n".into(),
            format!("# -Dorg.forgerock.openam.secrets.special.user.passwords.format=ENCRYPTED_PLAIN\n{mine}"),
        ),
    ];
    for (input, want) in &cases {
        let got = setenv_edit(input, "amadmin", "V", Format::Plain).unwrap();
        assert_eq!(&got, want, "input {input:?}");
        assert_eq!(
            setenv_edit(want, "amadmin", "V", Format::Plain).unwrap(),
            *want,
            "idempotent for {input:?}"
        );
    }
}

#[test]
fn setenv_format_conflicts() {
    let bob = block_for("bob", "'B'", "ENCRYPTED_PLAIN");
    let input = format!("x=1\n{bob}");
    let e = setenv_edit(&input, "amadmin", "V", Format::Plain)
        .err()
        .unwrap();
    match &e {
        StoreError::FormatConflict {
            other_user,
            other_format,
            format,
            ..
        } => {
            assert_eq!(
                (other_user.as_str(), *other_format, *format),
                ("bob", Format::EncryptedPlain, Format::Plain)
            );
        }
        other => panic!("{other}"),
    }
    let msg = e.to_string();
    assert!(
        msg.contains("bob")
            && msg.contains("ENCRYPTED_PLAIN")
            && msg.contains("PLAIN")
            && !msg.contains("'V'"),
        "{msg}"
    );
    assert_eq!(e.fault(), crate::error::Fault::Input);
    assert!(setenv_edit(&input, "amadmin", "V", Format::EncryptedPlain).is_ok());

    let outside = "CATALINA_OPTS=\"$CATALINA_OPTS -Dorg.forgerock.openam.secrets.special.user.passwords.format=GOOGLE_KMS_ENCRYPTED\"\n";
    let e = setenv_edit(&format!("a=1\n{outside}"), "amadmin", "V", Format::Plain)
        .err()
        .unwrap();
    assert!(
        matches!(
            e,
            StoreError::FormatConflictOutside {
                line: 2,
                other_format: Format::GoogleKmsEncrypted,
                ..
            }
        ),
        "{e}"
    );

    // Applying to a file: refused, file byte for byte unchanged.
    let td = secret_dir();
    let f = td.path().join("setenv.sh");
    std::fs::write(&f, &input).unwrap();
    let e = refused(td.path(), || {
        setenv::apply(&f, &amadmin(), "V", Format::Plain, &EditOptions::default())
    });
    assert!(matches!(e, StoreError::FormatConflict { .. }));
}

#[test]
fn setenv_malformed_markers() {
    let b = block_for("amadmin", "'V'", "PLAIN");
    let begin_only = b.lines().take(2).collect::<Vec<_>>().join("\n");
    let end_only = b.lines().skip(3).collect::<Vec<_>>().join("\n");
    let nested = format!("{}\n{b}", b.lines().next().unwrap());
    let mismatched = b.replace("# END amhash password.amadmin", "# END amhash password.bob");
    let bad_user = "# BEGIN amhash password.a/b\n".to_owned();
    for (input, line) in [
        (begin_only, 1),
        (end_only, 1),
        (nested, 2),
        (mismatched, 4),
        (bad_user, 1),
    ] {
        let e = setenv_edit(&input, "amadmin", "V", Format::Plain)
            .err()
            .unwrap();
        assert!(
            matches!(e, StoreError::Malformed { line: l, .. } if l == line),
            "{input:?}: {e}"
        );
        assert_eq!(e.fault(), crate::error::Fault::Input);
    }
    for bad in ["", "a\nb"] {
        assert!(matches!(
            setenv_edit("", "amadmin", bad, Format::Plain),
            Err(StoreError::InvalidValue { .. })
        ));
    }
}

#[test]
fn setenv_survives_catalina_eval() {
    let td = secret_dir();
    let f = td.path().join("setenv.sh");
    std::fs::write(&f, "JAVA_OPTS=-Xmx1g\n").unwrap();
    let script = r#"CATALINA_OPTS=; . "$1"; eval "set -- $CATALINA_OPTS"; printf "%s\n" "$@""#;
    for (v, fmt) in [
        (HOSTILE, Format::Plain),
        ("{SSHA-512}AbC+/==", Format::GoogleKmsEncrypted),
        ("a b", Format::Plain),
    ] {
        setenv::apply(&f, &amadmin(), v, fmt, &EditOptions::default()).unwrap();
        let out = bash(script, &f);
        let args: Vec<&str> = out.strip_suffix('\n').unwrap().split('\n').collect();
        assert_eq!(
            args,
            vec![
                format!("-Dpassword.amadmin={v}"),
                format!("-Dorg.forgerock.openam.secrets.special.user.passwords.format={fmt}")
            ],
            "value {v:?}"
        );
        let back = setenv::read_path(&f, &amadmin()).unwrap().unwrap();
        assert!(back.value.matches(v));
        assert_eq!((back.format, back.line, back.blocks), (fmt, 3, 1));
    }
    // The same with catalina.sh's own eval line shape: "$JAVA_OPTS" "$CATALINA_OPTS" expanded
    // inside the eval'd string.
    let script = r#"CATALINA_OPTS=; . "$1"; eval printf '"%s\n"' "$JAVA_OPTS" "$CATALINA_OPTS""#;
    setenv::apply(
        &f,
        &amadmin(),
        HOSTILE,
        Format::Plain,
        &EditOptions::default(),
    )
    .unwrap();
    let out = bash(script, &f);
    assert!(
        out.lines()
            .any(|l| l == format!("-Dpassword.amadmin={HOSTILE}")),
        "{out}"
    );
    assert!(out.starts_with("-Xmx1g\n"));
}

#[test]
fn setenv_read_table() {
    let id = amadmin();
    let p = Path::new("s");
    assert!(setenv::read(b"", &id, p).unwrap().is_none());
    assert!(
        setenv::read(block_for("bob", "'x'", "PLAIN").as_bytes(), &id, p)
            .unwrap()
            .is_none()
    );
    let two = format!(
        "{}{}",
        block_for("amadmin", "'first'", "PLAIN"),
        block_for("amadmin", "'second'", "PLAIN")
    );
    let v = setenv::read(two.as_bytes(), &id, p).unwrap().unwrap();
    assert!(v.value.matches("second") && v.blocks == 2 && v.line == 6);
    for bad in [
        block_for("amadmin", "$X", "PLAIN"),
        block_for("amadmin", "'x'", "NOPE"),
        block_for("amadmin", "'x'", "PLAIN").replace("CATALINA_OPTS=\"", "JAVA_OPTS=\""),
        block_for("amadmin", "'x", "PLAIN"),
    ] {
        let e = setenv::read(bad.as_bytes(), &id, p).err().unwrap();
        assert!(matches!(e, StoreError::Unreadable { .. }), "{bad:?}: {e}");
    }
}

#[test]
fn setenv_apply_modes_and_symlink() {
    let td = secret_dir();
    let f = td.path().join("setenv.sh");
    let c = setenv::apply(&f, &amadmin(), "v", Format::Plain, &EditOptions::default()).unwrap();
    assert_eq!(
        (c.action, c.mode, mode(&f)),
        (Action::Created, 0o600, 0o600)
    );
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o750)).unwrap();
    if root() {
        chown(&f, 1234, 1234);
    }
    let c = setenv::apply(&f, &amadmin(), "w", Format::Plain, &EditOptions::default()).unwrap();
    assert_eq!((c.action, mode(&f)), (Action::Replaced, 0o750));
    if root() {
        assert_eq!(owner(&f), (1234, 1234));
    }
    let link = td.path().join("link.sh");
    std::os::unix::fs::symlink(&f, &link).unwrap();
    let e = refused(td.path(), || {
        setenv::apply(
            &link,
            &amadmin(),
            "x",
            Format::Plain,
            &EditOptions::default(),
        )
    });
    assert!(matches!(e.refusal(), Some(Refusal::Symlink)));
}

#[test]
fn setenv_concurrent_editors_keep_every_block() {
    let content = concurrent_editors(
        "setenv.sh",
        None,
        |f, id, value| {
            setenv::apply(
                f,
                id,
                value,
                Format::EncryptedPlain,
                &EditOptions::default(),
            )
            .unwrap();
        },
        |content, id, f, value| {
            let v = setenv::read(content, id, f).unwrap().unwrap();
            v.value.matches(value) && v.blocks == 1
        },
    );
    assert_eq!(content.iter().filter(|&&b| b == b'\n').count(), 64);
}

// ---------------------------------------------------------------- property tests

/// File content: arbitrary bytes, or lines built from fragments that hit the editors' paths.
fn content_strategy() -> impl Strategy<Value = Vec<u8>> {
    let line = prop_oneof![
        any::<Vec<u8>>(),
        Just(b"export PASSWORD_AMADMIN='x'".to_vec()),
        Just(b"PASSWORD_AMADMIN=\"a b\"".to_vec()),
        Just(b"PASSWORD_AMADMIN='open".to_vec()),
        Just(b"  export PASSWORD_AMADMIN=$(x)".to_vec()),
        Just(b"# BEGIN amhash password.amadmin (managed by amhash; do not edit)".to_vec()),
        Just(b"# END amhash password.amadmin".to_vec()),
        Just(b"# BEGIN amhash password.bob".to_vec()),
        Just(b"# END amhash password.bob".to_vec()),
        Just(b"CATALINA_OPTS=\"$CATALINA_OPTS -Dorg.forgerock.openam.secrets.special.user.passwords.format=PLAIN\"".to_vec()),
        Just(b"\r".to_vec()),
        Just(Vec::new()),
    ];
    (proptest::collection::vec(line, 0..8), any::<bool>()).prop_map(|(lines, nl)| {
        let mut v = lines.join(&b'\n');
        if nl {
            v.push(b'\n');
        }
        v
    })
}

fn value_strategy() -> impl Strategy<Value = String> {
    prop_oneof!["[ -~]{1,40}", "\\PC{1,20}", "[A-Za-z0-9+/=]{1,60}"]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn prop_env_edit(content in content_strategy(), value in value_strategy()) {
        let id = amadmin();
        let p = Path::new("p");
        if let Ok(e) = env_file::edit(&content, &id, &value, p) {
            let back = env_file::read(&e.content, &id, p).unwrap().unwrap();
            prop_assert!(back.value.matches(&value) && back.exported && back.assignments == 1);
            let again = env_file::edit(&e.content, &id, &value, p).unwrap();
            prop_assert!(!again.changed);
            prop_assert_eq!(&*again.content, &*e.content);
        }
        let _ = env_file::read(&content, &id, p);
    }

    #[test]
    fn prop_setenv_edit(content in content_strategy(), value in value_strategy()) {
        let id = amadmin();
        let p = Path::new("p");
        if let Ok(e) = setenv::edit(&content, &id, &value, Format::Plain, p) {
            let back = setenv::read(&e.content, &id, p).unwrap().unwrap();
            prop_assert!(back.value.matches(&value) && back.format == Format::Plain && back.blocks == 1);
            let again = setenv::edit(&e.content, &id, &value, Format::Plain, p).unwrap();
            prop_assert!(!again.changed);
        }
        let _ = setenv::read(&content, &id, p);
    }

    #[test]
    fn prop_env_edit_preserves_other_lines(lines in proptest::collection::vec("[a-oq-zA-OQ-Z_ =#'\"$]{0,20}", 0..10), value in value_strategy()) {
        // Lines that never assign PASSWORD_AMADMIN are kept byte for byte, in order, and ours is last.
        let content = lines.iter().map(|l| format!("{l}\n")).collect::<String>();
        let e = env_file::edit(content.as_bytes(), &amadmin(), &value, Path::new("p")).unwrap();
        let line = env_file::line(&amadmin(), &value).unwrap();
        let want = format!("{content}{}", line.as_str());
        prop_assert_eq!(&*e.content, want.as_bytes());
    }
}

#[test]
fn edited_mode_table() {
    let root_file = Owner { uid: 0, gid: 0 };
    let am = Owner {
        uid: 4242,
        gid: 4242,
    };
    let am_file = am;
    // (mode, file owner, reader) -> (mode after, "other" can still read)
    type Case = (u32, Owner, Option<Owner>, (u32, bool));
    let cases: &[Case] = &[
        (0o600, am_file, Some(am), (0o600, false)),
        (0o640, root_file, Some(am), (0o640, false)),
        // "other" write always goes.
        (0o666, am_file, Some(am), (0o660, false)),
        (0o602, root_file, None, (0o600, false)),
        // The reader owns it: "other" read goes.
        (0o644, am_file, Some(am), (0o640, false)),
        // No reader given: a non-root owner is the reader.
        (0o755, am_file, None, (0o750, false)),
        // root's file AM reads only through "other": kept, flagged.
        (0o755, root_file, Some(am), (0o755, true)),
        (0o757, root_file, Some(am), (0o755, true)),
        (0o644, root_file, None, (0o644, true)),
        // Group read by AM's primary group: "other" can go.
        (0o644, Owner { uid: 0, gid: 4242 }, Some(am), (0o640, false)),
        // Only execute for others: no read to keep, nothing to flag.
        (0o701, root_file, Some(am), (0o700, false)),
        // Set-id and sticky bits are dropped.
        (0o4755, am_file, None, (0o750, false)),
        // AM is root: it reads anything.
        (0o644, root_file, Some(root_file), (0o640, false)),
        // Group write is left as it was (not ours to widen or narrow), "other" handled alone.
        (0o777, root_file, Some(am), (0o775, true)),
        (0o664, am_file, Some(am), (0o660, false)),
        // The kernel gives an owner the owner bits only, never the group's: AM owning a 0044
        // file is not helped by its group bits, so amhash does not narrow it; it flags it.
        (
            0o044,
            Owner {
                uid: 4242,
                gid: 4242,
            },
            Some(am),
            (0o044, true),
        ),
    ];
    for &(mode, file, reader, want) in cases {
        assert_eq!(
            edited_mode(mode, file, reader),
            want,
            "{mode:o} {file:?} {reader:?}"
        );
    }
}

#[test]
fn edited_file_in_a_directory_others_can_write_is_refused() {
    let td = secret_dir();
    let shared = td.path().join("shared");
    mkdir(&shared, 0o1777);
    let f = shared.join("profile");
    let e = env_file::apply(&f, &amadmin(), "v", &EditOptions::default())
        .err()
        .unwrap();
    assert!(
        matches!(e.refusal(), Some(Refusal::DirWritable { mode: 0o1777, .. })),
        "{e}"
    );
    assert_eq!(e.fault(), crate::error::Fault::Input);
    assert!(!f.exists());
}

#[test]
fn walk_follows_trusted_links_and_refuses_others() {
    let td = secret_dir();
    let real = td.path().join("real");
    std::fs::create_dir_all(real.join("inner")).unwrap();
    // Absolute, relative, chained and `..` links made by this user in its own 0700 dir.
    std::os::unix::fs::symlink(&real, td.path().join("abs")).unwrap();
    std::os::unix::fs::symlink("real", td.path().join("rel")).unwrap();
    std::os::unix::fs::symlink("rel/inner", td.path().join("chain")).unwrap();
    std::os::unix::fs::symlink("..", real.join("inner/up")).unwrap();
    let ino = |p: &Path| std::fs::metadata(p).unwrap().ino();
    for (path, want) in [
        ("abs", &real),
        ("rel", &real),
        ("chain", &real.join("inner")),
        ("chain/up", &real),
        ("real/inner/../inner/up/./inner", &real.join("inner")),
    ] {
        let d = DirHandle::open(&td.path().join(path)).unwrap();
        assert_eq!(d.stat().unwrap().st_ino, ino(want), "{path}");
        assert_eq!(d.path, td.path().join(path));
    }
    // Missing, not a directory, a loop.
    std::fs::write(td.path().join("file"), "x").unwrap();
    std::os::unix::fs::symlink("loop", td.path().join("loop")).unwrap();
    assert!(matches!(
        DirHandle::open(&td.path().join("nope/x")),
        Err(StoreError::DirMissing { .. })
    ));
    assert!(matches!(
        DirHandle::open(&td.path().join("file")),
        Err(StoreError::NotADirectory { .. })
    ));
    let e = DirHandle::open(&td.path().join("loop")).err().unwrap();
    assert!(e.to_string().contains("follow symbolic links"), "{e}");
    if root() {
        // A link owned by another account: refused, naming it and its owner.
        let evil = td.path().join("evil");
        std::os::unix::fs::symlink(&real, &evil).unwrap();
        std::os::unix::fs::lchown(&evil, Some(4242), Some(4242)).unwrap();
        let e = DirHandle::open(&evil.join("inner")).err().unwrap();
        assert!(
            matches!(&e, StoreError::Refused { why: Refusal::UntrustedSymlink { link, .. }, .. } if *link == evil),
            "{e}"
        );
        assert!(e.to_string().contains("owned by uid 4242"), "{e}");
        assert_eq!(e.fault(), crate::error::Fault::Input);
        // root's link in a directory another account owns, or group-writable: refused.
        let theirs = td.path().join("theirs");
        std::fs::create_dir(&theirs).unwrap();
        std::os::unix::fs::symlink(&real, theirs.join("l")).unwrap();
        chown(&theirs, 4242, 4242);
        let e = DirHandle::open(&theirs.join("l")).err().unwrap();
        assert!(
            e.to_string().contains("in a directory owned by uid 4242"),
            "{e}"
        );
        chown(&theirs, 0, 0);
        std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o775)).unwrap();
        let e = DirHandle::open(&theirs.join("l")).err().unwrap();
        assert!(
            e.to_string()
                .contains("that group or others can write (mode 0775)"),
            "{e}"
        );
        // ... unless sticky: then only root or the link's owner can replace it.
        std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o1777)).unwrap();
        DirHandle::open(&theirs.join("l")).unwrap();
        // A plain directory another account owns is walked through (the store directory is
        // normally the AM account's).
        chown(&real, 4242, 4242);
        DirHandle::open(&real.join("inner")).unwrap();
    }
}

#[test]
fn a_held_lock_is_waited_on_then_reported() {
    let td = secret_dir();
    let holder = DirHandle::open(td.path()).unwrap();
    holder.lock(false, &LockWait::default()).unwrap();
    static TOLD: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    fn notice(_: &Path, _: std::time::Duration) {
        TOLD.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    let wait = LockWait {
        timeout: std::time::Duration::from_millis(200),
        on_wait: Some(notice),
    };
    let other = DirHandle::open(td.path()).unwrap();
    let e = other.lock(false, &wait).err().unwrap();
    assert!(matches!(e, StoreError::LockTimeout { .. }), "{e}");
    assert_eq!(e.fault(), crate::error::Fault::Operational);
    assert_eq!(TOLD.load(std::sync::atomic::Ordering::SeqCst), 1);
    // Zero: at once. And free again once the holder is gone.
    let zero = LockWait {
        timeout: std::time::Duration::ZERO,
        on_wait: None,
    };
    assert!(other.lock(true, &zero).is_err());
    drop(holder);
    other.lock(false, &zero).unwrap();
}

#[test]
fn trusted_files_follow_a_kubernetes_style_volume_and_refuse_others() {
    // A secret volume as the kubelet lays it out: `key -> ..data/key`,
    // `..data -> ..2026_11_30_00_00_00.1`, all made by the same (trusted) account.
    let td = secret_dir();
    let vol = td.path().join("vol");
    let stamped = vol.join("..2026_11_30_00_00_00.1");
    std::fs::create_dir_all(&stamped).unwrap();
    std::fs::write(stamped.join("key"), "the-key").unwrap();
    std::os::unix::fs::symlink("..2026_11_30_00_00_00.1", vol.join("..data")).unwrap();
    std::os::unix::fs::symlink("..data/key", vol.join("key")).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut open_trusted_file(&vol.join("key")).unwrap(), &mut text)
        .unwrap();
    assert_eq!(text, "the-key");
    // A directory or a FIFO is not a file to read a secret from.
    assert!(matches!(
        open_trusted_file(&stamped),
        Err(StoreError::NotRegularFile { .. })
    ));
    if root() {
        // The same volume with the link made by another account: refused.
        std::os::unix::fs::lchown(vol.join("..data"), Some(4242), Some(4242)).unwrap();
        let e = open_trusted_file(&vol.join("key")).err().unwrap();
        assert!(
            matches!(e.refusal(), Some(Refusal::UntrustedSymlink { .. })),
            "{e}"
        );
        // A file another account owns decides nothing.
        std::os::unix::fs::lchown(vol.join("..data"), Some(0), Some(0)).unwrap();
        chown(&stamped.join("key"), 4242, 4242);
        let e = open_trusted_file(&vol.join("key")).err().unwrap();
        assert!(matches!(e.refusal(), Some(Refusal::NotYours { .. })), "{e}");
        assert!(e.to_string().contains("uid 4242"), "{e}");
    }
}

#[test]
fn a_search_path_resolves_closed_only_if_no_other_account_can_change_it() {
    let dir = |p: &Path| resolve_closed(p, Closed::Dir);
    let file = |p: &Path| resolve_closed(p, Closed::File);
    assert_eq!(dir(Path::new("/")), Some(PathBuf::from("/")));
    assert_eq!(dir(Path::new("relative/bin")), None);
    assert_eq!(dir(Path::new("/nonexistent-amhash-dir")), None);
    // Anyone may add a program to /tmp, sticky or not; a directory of ours inside it is fine.
    assert_eq!(dir(Path::new("/tmp")), None);
    let td = tempfile::tempdir().unwrap();
    let real_td = std::fs::canonicalize(td.path()).unwrap();
    let bin = td.path().join("bin");
    mkdir(&bin, 0o755);
    std::fs::write(bin.join("az"), "#!/bin/sh\n").unwrap();
    assert_eq!(dir(&bin), Some(real_td.join("bin")));
    assert_eq!(file(&bin.join("az")), Some(real_td.join("bin/az")));
    assert_eq!(file(&bin), None, "a directory is not a program");
    assert_eq!(dir(&bin.join("az")), None, "a program is not a directory");
    assert_eq!(dir(&bin.join("../bin/..")), Some(real_td.clone()));
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o775)).unwrap();
    assert_eq!(dir(&bin), None, "group-writable");
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(bin.join("az"), std::fs::Permissions::from_mode(0o757)).unwrap();
    assert_eq!(file(&bin.join("az")), None, "other-writable program");
    std::fs::set_permissions(bin.join("az"), std::fs::Permissions::from_mode(0o755)).unwrap();
    // Links, relative and absolute, are followed; the answer has none.
    std::os::unix::fs::symlink("bin", td.path().join("rel")).unwrap();
    std::os::unix::fs::symlink(&bin, td.path().join("abs")).unwrap();
    std::os::unix::fs::symlink("../bin/az", bin.join("az-link")).unwrap();
    assert_eq!(dir(&td.path().join("rel")), Some(real_td.join("bin")));
    assert_eq!(dir(&td.path().join("abs")), Some(real_td.join("bin")));
    assert_eq!(file(&bin.join("az-link")), Some(real_td.join("bin/az")));
    if root() {
        // Another account's directory, a directory of root's inside one (that account can
        // rename it away), a link it made, a program it owns, or a link of root's that leads
        // through its tree: all theirs to change, now or later.
        let theirs = td.path().join("theirs");
        mkdir(&theirs, 0o755);
        mkdir(&theirs.join("bin"), 0o755);
        std::fs::write(theirs.join("bin/az"), "#!/bin/sh\n").unwrap();
        chown(&theirs, 4242, 4242);
        assert_eq!(dir(&theirs), None);
        assert_eq!(dir(&theirs.join("bin")), None);
        let link = td.path().join("their-link");
        std::os::unix::fs::symlink(&bin, &link).unwrap();
        std::os::unix::fs::lchown(&link, Some(4242), Some(4242)).unwrap();
        assert_eq!(dir(&link), None);
        std::os::unix::fs::symlink(theirs.join("bin/az"), bin.join("via-theirs")).unwrap();
        assert_eq!(file(&bin.join("via-theirs")), None);
        chown(&bin.join("az"), 4242, 4242);
        assert_eq!(file(&bin.join("az")), None);
        chown(&bin, 4242, 4242);
        assert_eq!(dir(&bin), None);
    }
}
