use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::install::choose_mode;
use super::*;
use crate::store::{Action, Fault, Refusal, Writer, running_as_root};
use crate::test_support::{mode, mode_owner, names_if_any};
use secrecy::ExposeSecret;

fn id() -> SecretId {
    SecretId::amadmin()
}

#[test]
fn unit_names_table() {
    for (given, want) in [
        ("tomcat9", "tomcat9.service"),
        ("tomcat9.service", "tomcat9.service"),
        ("am@blue.service", "am@blue.service"),
        ("am@blue", "am@blue.service"),
        ("a:b_c-d.e", "a:b_c-d.e.service"),
    ] {
        assert_eq!(Unit::new(given).unwrap().name(), want, "{given}");
    }
    for bad in [
        "",
        "-x",
        ".x",
        "a b",
        "a/b",
        "a\\x2db",
        "a%i",
        "x.socket",
        "x.timer",
        ".service",
        "@x.service",
        "x@.service",
        "a@b@c.service",
        &"a".repeat(101),
    ] {
        let e = Unit::new(bad).unwrap_err();
        assert!(matches!(e, StoreError::InvalidUnitName { .. }), "{bad}");
        assert_eq!(crate::error::Error::fault(&e), crate::error::Fault::Input);
    }
    assert_eq!(
        Unit::new("am@blue").unwrap().template().as_deref(),
        Some("am@.service")
    );
    assert_eq!(
        Unit::new("tomcat9").unwrap().credentials_dir(),
        "/run/credentials/tomcat9.service"
    );
}

#[test]
fn drop_in_renders_and_parses_back() {
    let unit = Unit::new("tomcat9").unwrap();
    for credential in [true, false] {
        let r = new_reference(&unit, &id(), credential).unwrap();
        assert!(is_ours(r.name(), &unit, &id()));
        let text = render_drop_in(&unit, &id(), &r);
        assert!(text.starts_with("# Written by amhash"));
        assert!(text.contains("\n[Service]\n"));
        assert_eq!(
            parse_drop_in(text.as_bytes(), &unit, &id()),
            Some(r.clone())
        );
        // Another unit's or user's file is not ours.
        let other = Unit::new("other").unwrap();
        assert_eq!(parse_drop_in(text.as_bytes(), &other, &id()), None);
        let user = SecretId::new("amadmin.x").unwrap();
        assert_eq!(parse_drop_in(text.as_bytes(), &unit, &user), None);
    }
    let r = Reference::Credential("tomcat9.service+password.amadmin+0123456789abcdef".into());
    assert_eq!(
        render_drop_in(&unit, &id(), &r),
        "# Written by amhash: AM's special secret password.amadmin for tomcat9.service. Run amhash install --systemd tomcat9.service again to change it.\n\
         [Service]\n\
         LoadCredentialEncrypted=password.amadmin:/etc/credstore.encrypted/tomcat9.service+password.amadmin+0123456789abcdef\n"
    );
    for name in [
        "tomcat9.service+password.amadmin+0123456789abcde",
        "tomcat9.service+password.amadmin+0123456789abcdeF",
        "tomcat9.service+password.amadmin.x+0123456789abcdef",
        "tomcat9.service+password.amadmin+0123456789abcdef.cred",
    ] {
        assert!(!is_ours(name, &unit, &id()), "{name}");
    }
}

/// A root tree with `etc/` (root-owned, 0755) in a fresh temp dir.
fn tree() -> tempfile::TempDir {
    let td = tempfile::tempdir().unwrap();
    std::fs::set_permissions(td.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::create_dir(td.path().join("etc")).unwrap();
    std::fs::set_permissions(
        td.path().join("etc"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    td
}

fn opts(root: &Path, choice: ModeChoice) -> SystemdOptions {
    SystemdOptions {
        root: root.to_path_buf(),
        choice,
        dry_run: false,
        writer: Writer::default(),
    }
}

/// A fresh [`tree`], the unit `name`, and [`opts`] for `choice` in that tree.
fn fixture(name: &str, choice: ModeChoice) -> (tempfile::TempDir, Unit, SystemdOptions) {
    let td = tree();
    let o = opts(td.path(), choice);
    (td, Unit::new(name).unwrap(), o)
}

/// The drop-in's file name, for a writer that fails on it.
const DROP_IN: Option<&str> = Some("amhash-amadmin.conf");

/// [`opts`] with a writer that fails with `fault` (on the file `name` only, if given).
fn failing(root: &Path, choice: ModeChoice, fault: Fault, name: Option<&str>) -> SystemdOptions {
    SystemdOptions {
        writer: Writer::failing_for_tests(fault, name),
        ..opts(root, choice)
    }
}

/// Root and a usable `systemd-creds` (CI has both): a test that needs them fails without.
fn require_creds() {
    assert!(
        running_as_root() && creds::Tool::find().is_ok(),
        "needs root and systemd-creds 250 or later (apt-get install systemd)"
    );
}

/// A stand-in `systemd-creds` that reports `version` (root's, in a root-owned directory).
fn fake_creds(dir: &Path, version: &str) -> String {
    let path = dir.join("systemd-creds");
    crate::test_support::write_executable(&path, format!("#!/bin/sh\necho '{version}'\n"));
    path.to_str().unwrap().to_owned()
}

#[test]
fn auto_falls_back_where_systemd_creds_is_missing_or_too_old() {
    let td = tempfile::tempdir().unwrap();
    let missing = td.path().join("none").to_str().unwrap().to_owned();
    let old = fake_creds(&td.path().join(""), "systemd 249 (249.11-0ubuntu3)");
    let new_dir = td.path().join("new");
    std::fs::create_dir(&new_dir).unwrap();
    let new = fake_creds(&new_dir, "systemd 252 (252.38-1~deb12u1)");
    for (case, candidate, want_mode, want_reason) in [
        (
            "missing",
            missing.as_str(),
            Mode::EnvFile,
            Some("not installed"),
        ),
        (
            "too old",
            old.as_str(),
            Mode::EnvFile,
            Some("249 is older than 250"),
        ),
        ("usable", new.as_str(), Mode::Credential, None),
    ] {
        let (mode, tool, reason) =
            choose_mode(ModeChoice::Auto, || creds::Tool::find_in(&[candidate])).unwrap();
        assert_eq!(mode, want_mode, "{case}");
        assert_eq!(
            tool.map(|t| t.version()),
            (mode == Mode::Credential).then_some(252),
            "{case}"
        );
        match want_reason {
            Some(want) => assert!(
                reason.as_deref().unwrap_or("").contains(want),
                "{case}: {reason:?}"
            ),
            None => assert_eq!(reason, None, "{case}"),
        }
    }
    // Asked for a credential, a missing or old tool is an error, not a fallback.
    let e = choose_mode(ModeChoice::Credential, || {
        creds::Tool::find_in(&[old.as_str()])
    })
    .unwrap_err();
    assert!(e.to_string().contains("older than 250"), "{e}");
    assert!(matches!(
        choose_mode(ModeChoice::EnvFile, || panic!("env-file needs no tool")).unwrap(),
        (Mode::EnvFile, None, None)
    ));
}

#[test]
fn env_file_mode_installs_reads_back_and_replaces_atomically() {
    let (td, unit, o) = fixture("tomcat9", ModeChoice::EnvFile);
    let root = td.path();
    let first = install(&unit, &id(), "{SSHA-512}one", &o).unwrap();
    assert_eq!(first.action, Action::Created);
    assert_eq!(first.mode, Mode::EnvFile);
    assert_eq!(mode(&first.secret_path), 0o600);
    assert_eq!(mode(&root.join("etc/credstore")), 0o700);
    assert_eq!(mode(&first.drop_in_path), 0o644);
    assert_eq!(
        mode(&root.join("etc/systemd/system/tomcat9.service.d")),
        0o755
    );
    let got = read_value(root, &unit, &id()).unwrap().unwrap();
    assert!(got.value.matches("{SSHA-512}one"));
    // Same value: nothing written.
    let again = install(&unit, &id(), "{SSHA-512}one", &o).unwrap();
    assert_eq!(again.action, Action::Unchanged);
    assert_eq!(again.secret_path, first.secret_path);
    // A failing drop-in write leaves the old pair, and no new file.
    let before = names_if_any(&root.join("etc/credstore"));
    let broken = failing(root, ModeChoice::EnvFile, Fault::BeforeRename, DROP_IN);
    install(&unit, &id(), "{SSHA-512}two", &broken).unwrap_err();
    assert_eq!(names_if_any(&root.join("etc/credstore")), before);
    let got = read_value(root, &unit, &id()).unwrap().unwrap();
    assert!(got.value.matches("{SSHA-512}one"));
    // A failing secret write leaves the old pair too.
    let broken = failing(root, ModeChoice::EnvFile, Fault::AfterBytes(3), None);
    install(&unit, &id(), "{SSHA-512}two", &broken).unwrap_err();
    assert_eq!(names_if_any(&root.join("etc/credstore")), before);
    // The drop-in renamed into place but its directory fsync failing: the error is reported
    // and the new file stays, because the drop-in on disk names it (never a drop-in naming
    // a missing file). The next install is then unchanged and tidies the old file away.
    let broken = failing(root, ModeChoice::EnvFile, Fault::AfterRename, DROP_IN);
    install(&unit, &id(), "{SSHA-512}three", &broken).unwrap_err();
    let got = read_value(root, &unit, &id()).unwrap().unwrap();
    assert!(got.value.matches("{SSHA-512}three"));
    let back = install(&unit, &id(), "{SSHA-512}one", &o).unwrap();
    assert_eq!(back.action, Action::Replaced);
    assert_eq!(
        names_if_any(&root.join("etc/credstore")).len(),
        before.len()
    );
    // A new value: a new file, the drop-in names it, the old one is gone.
    let first = back;
    let second = install(&unit, &id(), "{SSHA-512}two", &o).unwrap();
    assert_eq!(second.action, Action::Replaced);
    assert_ne!(second.secret_path, first.secret_path);
    assert_eq!(second.removed, vec![first.secret_path.clone()]);
    assert!(!first.secret_path.exists());
    let got = read_value(root, &unit, &id()).unwrap().unwrap();
    assert!(got.value.matches("{SSHA-512}two"));
    assert_eq!(got.value.value().expose_secret(), "{SSHA-512}two");
}

#[test]
fn dry_run_creates_nothing() {
    let (td, unit, o) = fixture("tomcat9", ModeChoice::EnvFile);
    let root = td.path();
    let o = SystemdOptions { dry_run: true, ..o };
    let change = install(&unit, &id(), "{SSHA-512}one", &o).unwrap();
    assert_eq!(change.action, Action::Created);
    assert!(!change.created_dirs.is_empty());
    assert!(names_if_any(&root.join("etc")).is_empty());
}

#[test]
fn credential_mode_decrypts_to_the_value_and_switching_modes_cleans_up() {
    require_creds();
    let (td, unit, o) = fixture("am@blue", ModeChoice::Credential);
    let root = td.path();
    let first = install(&unit, &id(), "{SSHA-512}one", &o).unwrap();
    assert_eq!(first.mode, Mode::Credential);
    assert!(first.key.is_some());
    assert_eq!(mode_owner(&first.secret_path), (0o600, 0, 0));
    assert_eq!(mode(&root.join("etc/credstore.encrypted")), 0o700);
    let got = read_value(root, &unit, &id()).unwrap().unwrap();
    assert!(got.value.matches("{SSHA-512}one"));
    assert_eq!(
        install(&unit, &id(), "{SSHA-512}one", &o).unwrap().action,
        Action::Unchanged
    );
    // Failure between the credential and the drop-in: the old pair, no new credential.
    let before = names_if_any(&root.join("etc/credstore.encrypted"));
    let broken = failing(root, ModeChoice::Credential, Fault::BeforeRename, DROP_IN);
    install(&unit, &id(), "{SSHA-512}two", &broken).unwrap_err();
    assert_eq!(names_if_any(&root.join("etc/credstore.encrypted")), before);
    assert!(
        read_value(root, &unit, &id())
            .unwrap()
            .unwrap()
            .value
            .matches("{SSHA-512}one")
    );
    // Switch to the fallback and back: the other kind is removed each time.
    let env = install(
        &unit,
        &id(),
        "{SSHA-512}two",
        &opts(root, ModeChoice::EnvFile),
    )
    .unwrap();
    assert!(names_if_any(&root.join("etc/credstore.encrypted")).is_empty());
    let back = install(&unit, &id(), "{SSHA-512}three", &o).unwrap();
    assert_eq!(back.removed, vec![env.secret_path]);
    assert!(names_if_any(&root.join("etc/credstore")).is_empty());
    let facts = inspect(root, &unit, &id()).unwrap();
    assert_eq!(facts.secret.unwrap().0, back.secret_path);
    assert!(facts.leftovers.is_empty());
}

#[test]
fn a_tree_another_account_owns_or_links_is_refused() {
    if !running_as_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let unit = Unit::new("tomcat9").unwrap();
    // systemd/system owned by 65534.
    let td = tree();
    let root = td.path();
    std::fs::create_dir_all(root.join("etc/systemd/system")).unwrap();
    std::os::unix::fs::chown(root.join("etc/systemd/system"), Some(65534), Some(65534)).unwrap();
    let e = install(&unit, &id(), "v", &opts(root, ModeChoice::EnvFile)).unwrap_err();
    assert!(
        matches!(e.refusal(), Some(Refusal::NotRootOwned { .. })),
        "{e}"
    );
    assert!(e.is_refusal());
    assert!(!root.join("etc/systemd/system/tomcat9.service.d").exists());
    // etc/credstore is a link (to a directory elsewhere).
    let td = tree();
    let root = td.path();
    let elsewhere = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), root.join("etc/credstore")).unwrap();
    let e = install(&unit, &id(), "v", &opts(root, ModeChoice::EnvFile)).unwrap_err();
    assert!(matches!(e.refusal(), Some(Refusal::Symlink)), "{e}");
    assert!(names_if_any(elsewhere.path()).is_empty());
    // A group-writable etc.
    let td = tree();
    std::fs::set_permissions(
        td.path().join("etc"),
        std::fs::Permissions::from_mode(0o775),
    )
    .unwrap();
    let e = install(&unit, &id(), "v", &opts(td.path(), ModeChoice::EnvFile)).unwrap_err();
    assert!(
        matches!(e.refusal(), Some(Refusal::DirWritable { .. })),
        "{e}"
    );
    // No etc at all: not created.
    let td = tempfile::tempdir().unwrap();
    let e = install(&unit, &id(), "v", &opts(td.path(), ModeChoice::EnvFile)).unwrap_err();
    assert!(matches!(e, StoreError::DirMissing { .. }), "{e}");
}

#[test]
fn fallback_refuses_what_an_environment_file_cannot_carry() {
    let (td, unit, o) = fixture("tomcat9", ModeChoice::EnvFile);
    for v in ["a'b", "a\nb"] {
        assert!(matches!(
            install(&unit, &id(), v, &o).unwrap_err(),
            StoreError::InvalidValue { .. }
        ));
    }
    let dashed = SecretId::new("am-admin").unwrap();
    assert!(matches!(
        install(&unit, &dashed, "v", &o).unwrap_err(),
        StoreError::EnvVarNotExportable { .. }
    ));
    assert!(names_if_any(&td.path().join("etc")).is_empty());
}
