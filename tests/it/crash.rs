//! SIGKILL at random moments of `amhash install --dir`: AM's file always holds one complete
//! value (old or new), never a partial or empty one; temp files left by a killed process are
//! never under a name AM reads, are 0600, and the next successful install removes them.
//!
//! The delays are random (seeded, the seed printed; replay with `AMHASH_TEST_SEED=<hex>`),
//! spread over the time a whole install takes on this machine (measured first), so kills land
//! before, during and after the writes. Nothing here asserts a time.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;
use amhash::ssha::SshaHash;
use proptest::prelude::Rng;

const KILLS: usize = 120;

#[test]
fn sigkill_at_random_moments_never_leaves_a_partial_value() {
    let mut rng = seeded_rng("sigkill_at_random_moments_never_leaves_a_partial_value");
    let tmp = Fixture::empty();
    let store = private_dir(tmp.root(), "store");
    let passwords = [strong_canary(), strong_canary()];
    let values = [value_of(&passwords[0]), value_of(&passwords[1])];
    let pw_files = [
        write_file(tmp.root(), "pw0", passwords[0].as_bytes(), 0o600),
        write_file(tmp.root(), "pw1", passwords[1].as_bytes(), 0o600),
    ];
    let install = |i: usize| {
        let mut c = Command::new(AMHASH);
        c.args(["install", "--dir"])
            .arg(&store)
            .arg("--password-file")
            .arg(&pw_files[i % 2])
            .args(["--salt-hex", SALT_HEX])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    };

    // Two complete installs first (so both the value and .previous exist), timed to choose
    // the range of the kill delays.
    let mut took: Vec<Duration> = (0..5)
        .map(|i| {
            let start = Instant::now();
            assert!(install(i).status().unwrap().success());
            start.elapsed()
        })
        .collect();
    took.sort();
    let range_us = u64::try_from(took[2].as_micros()).unwrap().max(1000) * 5 / 4;
    println!("kill delays: 0 to {range_us} us");

    let (mut before, mut after, mut temps_left) = (0usize, 0usize, 0usize);
    for i in 0..KILLS {
        let current = std::fs::read_to_string(store.join("password.amadmin")).unwrap();
        let delay = Duration::from_micros(rng.next_u64() % range_us);
        let mut child = install(i).spawn().unwrap();
        std::thread::sleep(delay);
        // SIGKILL (a no-op error if it already exited).
        let _ = child.kill();
        let status = child.wait().unwrap();

        // password.amadmin: exactly one of the two complete values, and it parses.
        let stored = std::fs::read_to_string(store.join("password.amadmin")).unwrap();
        let k = values
            .iter()
            .position(|v| *v == stored)
            .unwrap_or_else(|| panic!("kill {i} after {delay:?}: partial value {stored:?}"));
        let hash: SshaHash = stored.parse().unwrap();
        assert!(hash.verify(passwords[k].as_bytes()));
        if stored == current {
            before += 1;
        } else {
            after += 1;
        }
        // .previous, when there, is complete too.
        let previous = std::fs::read_to_string(store.join("password.amadmin.previous")).unwrap();
        assert!(
            values.contains(&previous),
            "kill {i}: partial .previous {previous:?}"
        );
        // Nothing else AM could read: only our two names and our temp names.
        for name in names(&store) {
            if name == "password.amadmin" || name == "password.amadmin.previous" {
                continue;
            }
            assert!(
                is_temp_of(&name, "password.amadmin")
                    || is_temp_of(&name, "password.amadmin.previous"),
                "kill {i} ({status:?}): unexpected file {name:?}"
            );
            let mode = std::fs::metadata(store.join(&name)).unwrap().mode() & 0o777;
            assert_eq!(mode, 0o600, "kill {i}: temp {name} has mode {mode:o}");
            temps_left += 1;
        }
    }
    println!(
        "{KILLS} kills: {before} left the old value, {after} the new one; {temps_left} temp files seen left by killed processes"
    );

    // A successful install removes whatever temps the killed ones left.
    let pre = temps(&store);
    let out = install(KILLS)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        names(&store),
        ["password.amadmin", "password.amadmin.previous"],
        "stale temps {pre:?} not cleaned"
    );
}

/// `amhash install --dir STORE --password-file PF`, which must succeed.
fn install_from(store: &Path, pf: &Path) {
    let out = amhash(&["install", "--dir"])
        .arg(store)
        .arg("--password-file")
        .arg(pf)
        .output();
    assert!(out.status.success(), "{}", describe(&out));
}

/// The cleaning itself, made certain: temp files of both names planted as a killed process
/// leaves them are removed by the next install that writes, and files that merely look
/// similar are kept.
#[test]
fn next_install_removes_stale_temps_and_nothing_else() {
    let tmp = Fixture::empty();
    let store = private_dir(tmp.root(), "store");
    for _ in 0..2 {
        let p = strong_canary();
        let pf = write_file(tmp.root(), "pw", p.as_bytes(), 0o600);
        install_from(&store, &pf);
    }
    for _ in 0..2 {
        let stale = [
            format!(".password.amadmin.tmp-{}", hex::encode(os_random(8))),
            format!(
                ".password.amadmin.previous.tmp-{}",
                hex::encode(os_random(8))
            ),
        ];
        for s in &stale {
            write_file(&store, s, b"{SSHA-512}partial", 0o600);
        }
    }
    write_file(
        &store,
        ".password.bob.tmp-0123456789abcdef",
        b"other user",
        0o600,
    );
    write_file(&store, "notes.txt", b"kept", 0o600);
    assert_eq!(temps(&store).len(), 5);
    let pf = write_file(tmp.root(), "pw", strong_canary().as_bytes(), 0o600);
    install_from(&store, &pf);
    assert_eq!(
        names(&store),
        [
            ".password.bob.tmp-0123456789abcdef",
            "notes.txt",
            "password.amadmin",
            "password.amadmin.previous"
        ]
    );
}
