//! Everyday-use surface: completions, man page, README agreeing with `--help`, `--version`,
//! `--json` / `--quiet`, and colour only on a terminal without `NO_COLOR`.

use std::collections::BTreeSet;
use std::process::Command;

use crate::support::*;

/// The long flags a subcommand's `--help` lists.
fn long_flags(command: &[&str]) -> BTreeSet<String> {
    let mut args = command.to_vec();
    args.push("--help");
    let out = run(&args, b"");
    assert!(out.status.success(), "{command:?} --help");
    stdout(&out)
        .split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']')
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(|w| {
            w.trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
                .split('=')
                .next()
                .unwrap()
                .to_string()
        })
        .filter(|w| w.len() > 2)
        .collect()
}

#[test]
fn version_is_the_crate_version() {
    let out = run(&["--version"], b"");
    assert!(out.status.success());
    assert_eq!(
        stdout(&out).trim(),
        format!("amhash {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn completions_for_every_shell_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = run(&["completions", shell], b"");
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        for command in SUBCOMMANDS {
            let last = command.last().unwrap();
            assert!(script.contains(last), "{shell} completion lacks {last}");
        }
        assert!(script.contains("password-file"), "{shell}");
        assert!(script.contains("kms-key"), "{shell}");
    }
    let out = run(&["completions", "tcsh"], b"");
    assert_eq!(out.status.code(), Some(2));
}

/// The bash completion script is valid bash and registers itself for `amhash`.
#[test]
fn bash_completion_loads() {
    let out = run(&["completions", "bash"], b"");
    let dir = Fixture::empty();
    let path = dir.root().join("amhash.bash");
    std::fs::write(&path, &out.stdout).unwrap();
    let check = Command::new("bash")
        .arg("-c")
        .arg(format!(". {} && complete -p amhash", path.display()))
        .output()
        .unwrap();
    assert!(check.status.success(), "{check:?}");
    assert!(String::from_utf8_lossy(&check.stdout).contains("amhash"));
}

#[test]
fn man_page_documents_every_subcommand_and_flag() {
    let out = run(&["man"], b"");
    assert!(out.status.success());
    let page = stdout(&out);
    assert!(
        page.starts_with(".ie") || page.starts_with(".TH"),
        "roff page"
    );
    assert!(page.contains(".TH amhash"));
    for command in SUBCOMMANDS {
        if command.len() == 1 {
            assert!(
                page.contains(&format!("AMHASH {}", command[0].to_uppercase())),
                "man page lacks a section for {command:?}"
            );
        }
        for flag in long_flags(command) {
            if flag == "--help" || flag == "--version" {
                continue;
            }
            // roff escapes '-' as '\-'.
            let escaped = flag.replace('-', "\\-");
            assert!(
                page.contains(&escaped) || page.contains(&flag),
                "man page lacks {flag} of {command:?}"
            );
        }
    }
}

/// README and `--help` agree: every flag of every subcommand is in the README, and every
/// subcommand has a heading.
#[test]
fn readme_documents_every_flag_and_subcommand() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for command in SUBCOMMANDS {
        let heading = format!("`amhash {}", command.join(" "));
        assert!(
            readme.contains(&heading),
            "README has no mention of {heading}`"
        );
        for flag in long_flags(command) {
            if flag == "--help" || flag == "--version" {
                continue;
            }
            assert!(
                readme.contains(&flag),
                "README does not mention {flag} ({command:?})"
            );
        }
    }
    for code in ["| 0 |", "| 1 |", "| 2 |", "| 3 |"] {
        assert!(readme.contains(code), "README exit code table lacks {code}");
    }
    // Every exit code the top-level help lists is the README's.
    let help = stdout(&run(&["--help"], b""));
    assert!(help.contains("Exit codes:"));
}

#[test]
fn json_generate_is_one_object_with_value_and_properties() {
    let out = run(
        &["generate", "--json", "--salt-hex", "00ff"],
        b"Zq7-Tn2_vB9xLk4Wm8Rc3y\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1);
    let object: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(object["value"].as_str().unwrap().starts_with("{SSHA-512}"));
    assert_eq!(object["format"], "PLAIN");
    assert_eq!(
        object["am_properties"]["org.forgerock.openam.secrets.special.user.passwords.format"],
        "PLAIN"
    );
    // The password is not in it.
    assert!(!text.contains("Zq7-Tn2_vB9xLk4Wm8Rc3y"));
}

#[test]
fn json_errors_are_one_object_on_stderr_with_the_exit_code() {
    let cases: &[(&[&str], &[u8], i32)] = &[
        (&["verify", "--json", "--hash", "{SSHA512}x"], b"pw\n", 2),
        (
            &["verify", "--json", "--hash-file", "/nonexistent/x"],
            b"pw\n",
            3,
        ),
        (&["generate", "--json", "--no-such-flag"], b"", 2),
        (&["generate", "--json"], b"\n", 2),
    ];
    for (args, stdin, code) in cases {
        let out = run(args, stdin);
        assert_eq!(out.status.code(), Some(*code), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        let object: serde_json::Value = serde_json::from_str(&err).unwrap();
        assert_eq!(object["error"]["code"], *code);
        assert!(object["error"]["message"].as_str().unwrap().len() > 10);
    }
}

#[test]
fn json_verify_reports_match() {
    let value = "{SSHA-512}FAAAAAAAAAAAAAAAAAAAAAAAAAAAjSSqRIRQ0t41hid6CvguVVR/XChxJUw1jpU8+My3/X0XiwXWz/swJxDAwmBl05CoAceOGj3MW2SKeIm/aqzHdg==";
    for (password, code, matched) in [(&b"forgerock\n"[..], 0, true), (b"nope\n", 1, false)] {
        let out = run(&["verify", "--json", "--hash", value], password);
        assert_eq!(out.status.code(), Some(code));
        let object: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(object["match"], matched);
    }
}

#[test]
fn quiet_prints_only_the_value() {
    let out = run(&["generate", "--quiet"], b"password\n");
    assert!(out.status.success());
    assert_eq!(stdout(&out).lines().count(), 1);
    assert!(stdout(&out).starts_with("{SSHA-512}"));
    // The weak-password warning is a diagnostic: it still goes to stderr.
    assert!(stderr(&out).contains("warning"));
    // verify --quiet prints nothing but the exit code says it.
    let value = stdout(&out);
    let out = run(&["verify", "-q", "--hash", value.trim()], b"password\n");
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
}

/// Colour only on a terminal, never with NO_COLOR; never on a pipe.
#[test]
fn colour_only_on_a_terminal_without_no_color() {
    let out = run(&["verify", "--hash", "x"], b"pw\n");
    assert!(!stderr(&out).contains('\x1b'), "no colour on a pipe");

    let on_tty = |no_color: bool| {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(r#"printf 'pw\n' | "$0" verify --hash x"#)
            .arg(AMHASH);
        if no_color {
            cmd.env("NO_COLOR", "1");
        } else {
            cmd.env_remove("NO_COLOR");
        }
        let mut session = rexpect::session::spawn_command(cmd, Some(10_000)).unwrap();
        session.exp_eof().unwrap()
    };
    assert!(
        on_tty(false).contains("\x1b[31merror\x1b[0m"),
        "colour on a terminal"
    );
    assert!(!on_tty(true).contains('\x1b'), "NO_COLOR disables colour");
}

/// No subcommand has a flag that takes a password or key value itself.
#[test]
fn no_flag_takes_a_secret_value() {
    for command in SUBCOMMANDS {
        for flag in long_flags(command) {
            for forbidden in ["--password", "--secret", "--key-value", "--pass"] {
                assert_ne!(flag, forbidden, "{command:?} has {flag}");
            }
        }
    }
}
